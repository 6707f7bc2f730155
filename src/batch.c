/* batch.c - a fixed pool of threads taking job indexes from an atomic counter. */
#include "perfsheet/batch.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

void batch_request_stop(void) { stop_flag = 1; }
bool batch_stop_requested(void) { return stop_flag != 0; }

int batch_default_jobs(void)
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

size_t batch_run(size_t n, int jobs, ps_job_fn fn, void *ctx, ps_progress_fn progress, void *pctx)
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
        while (atomic_load(&p.done) < n && !stop_flag) {
            struct timespec ts = {0, 50 * 1000000L};
            /* poll; threads finish on their own */
            nanosleep(&ts, NULL);
            if (progress)
                progress(atomic_load(&p.done), n, pctx);
            if (atomic_load(&p.next) >= n + (size_t)started)
                break; /* every worker has taken its last index */
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
