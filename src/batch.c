/* batch.c - a fixed pool of threads taking job indexes from an atomic counter. */
#include "perfsheet/batch.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

void ps_batch_request_stop(void)
{
    stop_flag = 1;
}
bool ps_batch_stop_requested(void)
{
    return stop_flag != 0;
}

int ps_batch_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

typedef struct pool {
    size_t n;
    ps_job_fn fn;
    void *ctx;
    atomic_size_t next;
    atomic_size_t done;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        if (stop_flag)
            break;
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            break;
        p->fn(i, p->ctx);
        atomic_fetch_add(&p->done, 1);
    }
    return NULL;
}

size_t ps_batch_run(size_t n, int jobs, ps_job_fn fn, void *ctx, ps_progress_fn progress, void *pctx)
{
    pool p = {.n = n, .fn = fn, .ctx = ctx};
    atomic_init(&p.next, 0);
    atomic_init(&p.done, 0);
    if (jobs < 1)
        jobs = 1;
    if ((size_t)jobs > n)
        jobs = n ? (int)n : 1;
    pthread_t *threads = jobs > 1 ? calloc((size_t)jobs, sizeof *threads) : NULL;
    int started = 0;
    if (threads) {
        for (int t = 0; t < jobs; t++) {
            if (pthread_create(&threads[t], NULL, worker, &p) != 0)
                break;
            started++;
        }
    }
    if (started == 0) {
        /* one thread: run here, reporting progress between jobs */
        struct timespec last = {0}, now;
        for (;;) {
            if (stop_flag)
                break;
            size_t i = atomic_fetch_add(&p.next, 1);
            if (i >= n)
                break;
            fn(i, ctx);
            atomic_fetch_add(&p.done, 1);
            if (progress) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >= 200) {
                    progress(atomic_load(&p.done), n, pctx);
                    last = now;
                }
            }
        }
    } else {
        /* with a progress line to draw, wake up now and then; otherwise just wait */
        while (progress && atomic_load(&p.done) < n && !stop_flag) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
            progress(atomic_load(&p.done), n, pctx);
        }
        for (int t = 0; t < started; t++)
            pthread_join(threads[t], NULL);
    }
    free(threads);
    size_t done = atomic_load(&p.done);
    if (progress)
        progress(done, n, pctx);
    return done;
}

typedef struct ordered {
    size_t n, window;
    ps_job_fn fn;
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a job finished, or one was consumed */
    size_t next_job;        /* next index to hand out */
    size_t next_consume;    /* next index to consume */
    unsigned char *ready;   /* ready[i]: job i is done */
    int running;            /* workers still in their loop */
} ordered;

static void *ordered_worker(void *arg)
{
    ordered *o = arg;
    pthread_mutex_lock(&o->lock);
    for (;;) {
        while (!stop_flag && o->next_job < o->n && o->next_job >= o->next_consume + o->window)
            pthread_cond_wait(&o->changed, &o->lock);
        if (stop_flag || o->next_job >= o->n)
            break;
        size_t i = o->next_job++;
        pthread_mutex_unlock(&o->lock);
        o->fn(i, o->ctx);
        pthread_mutex_lock(&o->lock);
        o->ready[i] = 1;
        pthread_cond_broadcast(&o->changed);
    }
    o->running--;
    pthread_cond_broadcast(&o->changed);
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

size_t ps_batch_run_ordered(size_t n, int jobs, size_t window, ps_job_fn fn, ps_job_fn consume, void *ctx,
                            ps_progress_fn progress, void *pctx)
{
    if (window < 1)
        window = 1;
    if (jobs < 1)
        jobs = 1;
    size_t consumed = 0;
    struct timespec last = {0}, now;
    if (jobs == 1 || n < 2) {
        for (; consumed < n && !stop_flag; consumed++) {
            fn(consumed, ctx);
            consume(consumed, ctx);
            if (progress) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >= 200) {
                    progress(consumed + 1, n, pctx);
                    last = now;
                }
            }
        }
        if (progress)
            progress(consumed, n, pctx);
        return consumed;
    }
    ordered o = {.n = n, .window = window, .fn = fn, .ctx = ctx};
    o.ready = calloc(n, 1);
    pthread_t *threads = calloc((size_t)jobs, sizeof *threads);
    if (!o.ready || !threads) {
        free(o.ready);
        free(threads);
        return ps_batch_run_ordered(n, 1, window, fn, consume, ctx, progress, pctx);
    }
    pthread_mutex_init(&o.lock, NULL);
    pthread_cond_init(&o.changed, NULL);
    /* workers decrement `running` as they leave, maybe before the last one is created:
     * count them in first, under the lock, and the ones that never started out again */
    pthread_mutex_lock(&o.lock);
    o.running = jobs;
    pthread_mutex_unlock(&o.lock);
    int started = 0;
    for (int t = 0; t < jobs; t++)
        if (pthread_create(&threads[started], NULL, ordered_worker, &o) == 0)
            started++;
    pthread_mutex_lock(&o.lock);
    o.running -= jobs - started;
    pthread_cond_broadcast(&o.changed);
    while (o.next_consume < n) {
        while (!o.ready[o.next_consume] && o.running > 0)
            pthread_cond_wait(&o.changed, &o.lock);
        if (!o.ready[o.next_consume])
            break; /* stopped: workers left, this job never ran */
        size_t i = o.next_consume;
        pthread_mutex_unlock(&o.lock);
        consume(i, ctx);
        consumed++;
        if (progress) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 >= 200) {
                progress(consumed, n, pctx);
                last = now;
            }
        }
        pthread_mutex_lock(&o.lock);
        o.next_consume++;
        pthread_cond_broadcast(&o.changed);
    }
    pthread_mutex_unlock(&o.lock);
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    /* jobs that finished after a stop but were never consumed: consume them too, in order,
     * so that the caller frees what they made (they are contiguous from next_consume) */
    for (size_t i = o.next_consume; i < n && o.ready[i]; i++) {
        consume(i, ctx);
        consumed++;
    }
    pthread_mutex_destroy(&o.lock);
    pthread_cond_destroy(&o.changed);
    free(o.ready);
    free(threads);
    if (progress)
        progress(consumed, n, pctx);
    return consumed;
}
