/* worker.h - a pinned worker thread and the input API that feeds it.
 *
 * A worker owns the partitions p with p % workers == its index (DESIGN.md
 * section 4). Its thread pulls a batch of decoded, valid events from its own
 * input, applies them with partition_apply_events, and hands the results back
 * to the same input (which, in the Kafka layer, sends rejects to the DLQ and
 * tracks offsets). Everything runs on the worker's thread: the input's
 * callbacks are the only code besides the engine that runs there, and per
 * event nothing crosses to another thread. */
#ifndef INV_WORKER_H
#define INV_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "partition.h"

/* The pull timeout a worker passes to its input, bounding how long a stop
 * request waits. */
#define INV_WORKER_PULL_TIMEOUT_MS 100

typedef struct inv_worker_input {
    /* Worker thread. Fills at most max valid events, each of a partition the
     * worker owns and has open, and returns how many (0 when none came within
     * timeout_ms). Returns -ECANCELED when the input is finished (the worker
     * ends normally) or another negative errno to stop the worker with it. */
    int (*pull)(void *ctx, inv_event *events, size_t max, int timeout_ms);
    /* Worker thread, optional. Called after each applied batch with the
     * events (still valid) and one result per event. */
    void (*done)(void *ctx, const inv_event *events, const inv_result *results, size_t n);
    void *ctx;
} inv_worker_input;

typedef struct inv_worker_stats {
    uint64_t batches;
    uint64_t events;
    uint64_t busy_ns; /* time spent applying (excludes pull and done) */
    int64_t started_ns;
    int64_t finished_ns; /* 0 while running */
    int error;           /* the negative errno that stopped it, 0 otherwise */
} inv_worker_stats;

#ifndef INV_WORKER_INTERNAL_H
#define INV_WORKER_INTERNAL_H
/* --- Used by engine.c only ------------------------------------------------ */

typedef struct inv_worker inv_worker;

/* Control thread. Starts worker `index` of `workers` on its own thread, pinned
 * to cpu (or not pinned when cpu < 0), applying into the partitions of the
 * slot array `parts` (parts_count long, owned by the engine and outliving the
 * worker). 0, or -errno with errstr set. */
int worker_start(inv_worker **out, uint32_t index, uint32_t workers, int cpu,
                 inv_partition *const *parts, int32_t parts_count, const inv_worker_input *in,
                 char *errstr, size_t errstr_len);

/* Any thread. Asks the worker to stop after its current batch. */
void worker_request_stop(inv_worker *w);

/* Control thread. Waits for the thread to end, copies its final counters to
 * *final (if not NULL), frees w and returns its error (0 when it ended
 * normally). */
int worker_join(inv_worker *w, inv_worker_stats *final);

/* Any thread. A recent view of the counters. */
void worker_get_stats(const inv_worker *w, inv_worker_stats *out);

#endif

#endif
