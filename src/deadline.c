/* deadline.c - thread-local per-file deadline; see deadline.h. */
#include "perfsheet/deadline.h"

#include <time.h>

static _Thread_local struct {
    double seconds;
    struct timespec at;
    unsigned calls;
    bool passed;
} dl;

static void now(struct timespec *t)
{
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, t);
#else
    clock_gettime(CLOCK_MONOTONIC, t);
#endif
}

void ps_deadline_arm(double seconds)
{
    dl.seconds = seconds > 0 ? seconds : 0;
    dl.passed = false;
    dl.calls = 0;
    if (dl.seconds > 0) {
        now(&dl.at);
        long whole = (long)dl.seconds;
        dl.at.tv_sec += whole;
        dl.at.tv_nsec += (long)((dl.seconds - (double)whole) * 1e9);
        if (dl.at.tv_nsec >= 1000000000L) {
            dl.at.tv_sec++;
            dl.at.tv_nsec -= 1000000000L;
        }
    }
}

void ps_deadline_disarm(void)
{
    dl.seconds = 0, dl.passed = false;
}

bool ps_deadline_passed(void)
{
    if (dl.seconds <= 0)
        return false;
    if (dl.passed)
        return true;
    if ((dl.calls++ & 255) != 0)
        return false;
    struct timespec t;
    now(&t);
    dl.passed = t.tv_sec > dl.at.tv_sec || (t.tv_sec == dl.at.tv_sec && t.tv_nsec >= dl.at.tv_nsec);
    return dl.passed;
}

double ps_deadline_seconds(void)
{
    return dl.seconds;
}
