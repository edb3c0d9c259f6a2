/* partition.h - one input partition's state and the apply pipeline.
 *
 * A partition owns its table (aggregates), its dedup window and its
 * counters. partition_apply_events is the hot path: it takes a batch of
 * valid events (of any partitions owned by the calling worker), hashes and
 * prefetches INV_PREFETCH_DEPTH events ahead (index slot, dedup slot, then
 * the candidate record) and applies them in order. It allocates nothing,
 * takes no lock and never leaves the calling thread.
 *
 * Per event, in this order:
 *   partition halted                 -> INV_OUT_FAILED (see below);
 *   offset below the replay bound    -> INV_OUT_REPLAYED, no effect: recovery
 *                                       restored it; its id joins the window;
 *   duplicate eventId in the window  -> INV_OUT_DUPLICATE, no effect;
 *   new key, key space full or no
 *   memory to grow the index         -> INV_OUT_FAILED with INV_R_TABLE_FULL or
 *                                       INV_R_OUT_OF_MEMORY, and every later
 *                                       event of that partition is FAILED too
 *                                       until partition_resume: nothing is
 *                                       skipped, nothing is applied out of order;
 *   offset <= the key's watermark    -> INV_OUT_REPLAYED, no effect (its id
 *                                       joins the window: replay rebuilds it);
 *   effect not representable         -> INV_OUT_REJECTED with the reason;
 *   otherwise                        -> INV_OUT_APPLIED.
 * Only the owning worker calls anything here except where stated. */
#ifndef INV_PARTITION_H
#define INV_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "table.h"

typedef struct inv_partition inv_partition;

typedef enum inv_outcome {
    INV_OUT_APPLIED = 0,
    INV_OUT_DUPLICATE,
    INV_OUT_REPLAYED,
    INV_OUT_REJECTED, /* goes to the DLQ with result.reason */
    INV_OUT_FAILED,   /* not applied; the partition must stop and retry later */
} inv_outcome;

typedef struct inv_result {
    uint8_t outcome; /* inv_outcome */
    uint8_t reason;  /* inv_reason; INV_OK unless REJECTED or FAILED */
} inv_result;

typedef struct inv_partition_config {
    int32_t id;
    inv_table_config table;
    bool dedup_enabled;
    uint32_t dedup_ids_max;  /* 0 = INV_DEDUP_IDS_MAX_DEFAULT */
    int64_t dedup_window_ms; /* 0 = INV_DEDUP_WINDOW_MS_DEFAULT */
} inv_partition_config;

typedef struct inv_partition_stats {
    uint64_t applied;
    uint64_t duplicates;
    uint64_t replayed;
    uint64_t rejected;
    uint64_t failed;
    uint64_t oversells;           /* sum over keys of the anomaly counters' increments */
    uint64_t release_excesses;
    uint64_t transfer_in_excesses;
    uint64_t rejected_by_reason[INV_REASON_COUNT]; /* REJECTED and FAILED, by reason */
} inv_partition_stats;

/* Any thread (set-up). Returns 0, -EINVAL or -ENOMEM with errstr set. */
int partition_create(inv_partition **out, const inv_partition_config *cfg, char *errstr,
                     size_t errstr_len);

/* Any thread once no reader can hold p (after a grace period). NULL allowed. */
void partition_destroy(inv_partition *p);

/* Any thread. The partition number. */
int32_t partition_id(const inv_partition *p);

/* Any thread; readers use it inside a read section. */
const inv_table *partition_table(const inv_partition *p);

/* Owning worker. Applies n (<= INV_BATCH_EVENTS_MAX) valid events in order;
 * events[i].partition selects parts[events[i].partition], which must be a
 * partition of the caller (parts_count bounds the index). Writes one result
 * per event. */
void partition_apply_events(inv_partition *const *parts, int32_t parts_count,
                            const inv_event *events, size_t n, inv_result *results);

/* Owning worker. Turns on change tracking: from now on every APPLIED event
 * puts its key on the partition's change list, once until drained. 0 or
 * -ENOMEM. Off by default (the unit tests and engine benchmark). */
int partition_track_changes(inv_partition *p);

/* Owning worker. Keys changed and not yet drained. */
uint64_t partition_changes_pending(const inv_partition *p);

/* Owning worker. Drains up to max changed keys through fn (their current
 * aggregate); a key stays listed when fn returns non-zero, which stops the
 * drain. Returns how many were drained. See table_dirty_drain. */
long partition_drain_changes(inv_partition *p, size_t max, table_rec_fn fn, void *ctx);

/* Owning worker. Puts (sku, loc) back on the change list, e.g. after a flush
 * took it off but could not hand its record to the producer. 0, or -ENOENT
 * when the key is not in the table. */
int partition_mark_changed(inv_partition *p, const char *sku, size_t sku_len, const char *loc,
                           size_t loc_len);

/* Owning worker. Events with an input offset below offset have their effect
 * in the aggregates already (restored from the changelog): they only rebuild
 * the dedup window. Recovery sets it to the committed offset of the input. */
void partition_set_replay_below(inv_partition *p, int64_t offset);

/* Owning worker. Stores agg as the aggregate of (sku, loc), inserting the key
 * if absent; the key is not marked changed. Recovery from the stock-levels
 * changelog. 0; -EINVAL (bad sku/loc), -ENOSPC (table full), -ENOMEM. */
int partition_restore_key(inv_partition *p, const char *sku, size_t sku_len, const char *loc,
                          size_t loc_len, const inv_agg *agg);

/* Owning worker. Clears the FAILED state after the caller has dealt with it. */
void partition_resume(inv_partition *p);

/* Owning worker. True while the partition refuses events (FAILED). */
bool partition_halted(const inv_partition *p);

/* Any thread: a recent, per-field consistent view of the counters. */
void partition_get_stats(const inv_partition *p, inv_partition_stats *out);

/* Any registered thread. Memory of the table plus the dedup window. */
uint64_t partition_memory_bytes(const inv_partition *p);

#endif
