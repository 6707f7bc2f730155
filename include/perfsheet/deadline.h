/* deadline.h - the per-file time limit of a batch. The pipeline arms a deadline on the
 * thread that processes a file; the long loops of the readers and of extraction ask
 * ps_deadline_passed() now and then and give up with PS_ERR_UNSUPPORTED ("处理超时") rather
 * than stall the batch. Thread-local: each worker has its own. */
#ifndef PERFSHEET_DEADLINE_H
#define PERFSHEET_DEADLINE_H

#include <stdbool.h>

/* Arms a deadline `seconds` from now on this thread (0 or less: none). */
void ps_deadline_arm(double seconds);
void ps_deadline_disarm(void);
/* True once the armed deadline has passed. Cheap: reads the clock every 256th call. */
bool ps_deadline_passed(void);
/* The limit armed on this thread, in seconds (0: none), for messages. */
double ps_deadline_seconds(void);

#endif
