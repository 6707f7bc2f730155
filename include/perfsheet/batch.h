/* batch.h - running one job per input file on a fixed pool of threads. Jobs write their
 * results into per-index slots, so the output order never depends on the pool size. */
#ifndef PERFSHEET_BATCH_H
#define PERFSHEET_BATCH_H

#include <stdbool.h>
#include <stddef.h>

typedef void (*ps_job_fn)(size_t index, void *ctx);
typedef void (*ps_progress_fn)(size_t done, size_t total, void *ctx);

/* Runs fn(i, ctx) for i in [0, n) on `jobs` threads (1: in the calling thread). progress, when
 * not NULL, is called from the calling thread about every 200 ms and once at the end.
 * Returns the number of jobs run: fewer than n when ps_batch_request_stop() was called. */
size_t ps_batch_run(size_t n, int jobs, ps_job_fn fn, void *ctx, ps_progress_fn progress, void *pctx);

/* As ps_batch_run, but consume(i, ctx) is called on the calling thread in index order as soon
 * as job i and every job before it are done, and no job runs more than `window` indexes
 * ahead of the next one to consume: results stream out in order while memory holds at most
 * `window` of them: job i starts only after job i - window was consumed, so i % window can
 * name a slot of per-job state. Returns the number of jobs consumed. */
size_t ps_batch_run_ordered(size_t n, int jobs, size_t window, ps_job_fn fn, ps_job_fn consume, void *ctx,
                            ps_progress_fn progress, void *pctx);

/* Asks running batches to start no new job (async-signal-safe). */
void ps_batch_request_stop(void);
bool ps_batch_stop_requested(void);

/* The number of online processors, at least 1. */
int ps_batch_default_jobs(void);

#endif
