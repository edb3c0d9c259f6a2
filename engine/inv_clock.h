/* inv_clock.h - the monotonic clock every layer uses for intervals, timeouts
 * and rates (never for event time, which comes from the events). One vDSO
 * call; any thread. */
#ifndef INV_CLOCK_H
#define INV_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Any thread. Monotonic nanoseconds since an arbitrary start. */
static inline int64_t inv_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Any thread. CPU time of the calling thread in nanoseconds (benchmarks: on a
 * shared machine the thread waits for a CPU part of the wall time). */
static inline int64_t inv_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
