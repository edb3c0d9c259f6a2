/* dedup.h - the per-partition eventId window.
 *
 * Remembers the fingerprints of the eventIds applied in a partition, so that
 * a duplicate eventId within the window changes nothing. The window is
 * bounded twice: by event time (ids older than window_ms behind the newest
 * event time seen expire) and by count (at most ids_max; the oldest is
 * evicted first). Both expiries are counted.
 *
 * A fingerprint is the 64-bit XXH3 of the eventId bytes (0 is remapped to 1).
 * A false positive needs a 64-bit fingerprint to equal one of at most
 * ids_max stored ones: probability <= ids_max / 2^64 per event, 5.4e-13 at
 * 10M ids. Memory is fixed at creation: dedup_memory_bytes() and never grows.
 *
 * Single writer: the partition's owning worker is the only caller of every
 * function here. Nothing allocates after dedup_create. */
#ifndef INV_DEDUP_H
#define INV_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct inv_dedup inv_dedup;

typedef struct inv_dedup_stats {
    uint64_t ids;               /* ids held now */
    uint64_t inserted;          /* ids ever inserted */
    uint64_t expired_by_time;   /* ids dropped because they left the time window */
    uint64_t evicted_by_count;  /* ids dropped because the window was full */
    int64_t newest_time_ms;     /* newest event time inserted; INT64_MIN before any, after clear */
} inv_dedup_stats;

/* Any thread (at set-up). Creates a window holding at most ids_max ids
 * (INV_DEDUP_IDS_MIN..INV_DEDUP_IDS_MAX) for window_ms (> 0) of event time.
 * Returns 0, or -EINVAL for bad arguments, -ENOMEM when memory is short. */
int dedup_create(inv_dedup **out, uint32_t ids_max, int64_t window_ms);

/* Owning worker, or any thread after the owner stopped. NULL is allowed. */
void dedup_destroy(inv_dedup *d);

/* Any thread. The fingerprint of an eventId: never 0. */
uint64_t dedup_fingerprint(const char *event_id, size_t len);

/* Owning worker. Starts loading the memory dedup_contains(d, fp) will touch;
 * call a few events ahead of it. */
void dedup_prefetch(const inv_dedup *d, uint64_t fp);

/* Owning worker. True when fp is in the window. Sees every earlier
 * dedup_insert: a pipeline that prefetches ahead must still call contains for
 * an event only after inserting the events before it (two copies of one
 * eventId can sit in the same batch). */
bool dedup_contains(const inv_dedup *d, uint64_t fp);

/* Owning worker. Adds fp with its event time; first expires ids that fell out
 * of the time window and, when full, evicts the oldest. fp must not be in the
 * window already (asserted in debug builds; release builds ignore such an
 * insert, though it may already have evicted the oldest id).
 *
 * newest_time_ms = max(newest_time_ms, event_time_ms); an id expires when its
 * time < newest_time_ms - window_ms (computed without overflow; equal stays).
 * Expiry looks at the oldest inserted id only, so with out-of-order times it
 * is conservative: an id is never dropped before its rule says so, but an id
 * inserted with a time already outside the window is still held, and an id
 * that fell out of the window behind an older-inserted one still inside it
 * waits for that one to leave. ids_max bounds the count whatever the times. */
void dedup_insert(inv_dedup *d, uint64_t fp, int64_t event_time_ms);

/* Owning worker. Drops every id; counters stay (so inserted no longer equals
 * ids + expired_by_time + evicted_by_count). newest_time_ms returns to
 * INT64_MIN: a cleared window judges new ids like a fresh one. */
void dedup_clear(inv_dedup *d);

/* Owning worker, or any thread when the owner is stopped. */
void dedup_get_stats(const inv_dedup *d, inv_dedup_stats *out);

/* Any thread. Bytes this window holds for its whole life (fixed at create,
 * faulted in by dedup_create so the resident size matches). */
size_t dedup_memory_bytes(const inv_dedup *d);

/* Any thread. The memory dedup_create(ids_max) will take, for sizing:
 * sizeof(struct) + round_up(16 * ids_max + 8 * set_slots, page size), with
 * set_slots the power of two >= 2 * ids_max. That is 32 bytes per id (plus
 * the struct) for a power of two ids_max >= 128, up to 48 just above a power
 * of two. Returns 0 for ids_max outside INV_DEDUP_IDS_MIN..INV_DEDUP_IDS_MAX. */
size_t dedup_memory_bytes_for(uint32_t ids_max);

#endif
