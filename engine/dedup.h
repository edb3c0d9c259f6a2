/* dedup.h - the per-partition eventId window.
 *
 * Remembers the fingerprints of the eventIds applied in a partition, so that
 * a duplicate eventId within the window changes nothing. Ids are kept in
 * generations of consecutive inserts and leave a whole generation at a time,
 * oldest first, never one by one (dedup.c explains why: no random memory
 * access beyond the id's own bucket). A generation holds at most gen_cap =
 * ceil(ids_max / INV_DEDUP_GENERATIONS) ids and spans less than span_ms =
 * ceil(window_ms / INV_DEDUP_GENERATIONS) of newest_time_ms.
 *
 * The window is bounded twice, both expiries counted in ids:
 *   - by event time: a generation expires once its newest event time is <
 *     newest_time_ms - window_ms (newest_time_ms = the largest event time
 *     inserted; computed without overflow; equal stays);
 *   - by count: it never holds more than ids_max ids; an insert into a full
 *     window first evicts the oldest generation.
 *
 * What it always holds (after any dedup_insert, ids inserted since the last
 * dedup_clear): every id that is among the last ids_max - gen_cap inserts
 * and whose event time is >= newest_time_ms - window_ms. What it may hold
 * longer: an id leaves with its generation, so by time up to span_ms - 1
 * later than its own time says with times in insertion order; with times out
 * of order, as long as the newest time of its generation and of every older
 * generation says (an id inserted with a time already outside the window is
 * held with its generation). Once the count bound has bitten it holds at least
 * ids_max - gen_cap + 1 ids (unless time expired more).
 *
 * False positives. A fingerprint is the 64-bit XXH3 of the eventId bytes (0
 * remapped to 1). The window stores 48 bits of it (the low 48, low 16 bits 0
 * made 1) and looks it up only in the buckets of its probe path (its home
 * bucket, a function of the whole fingerprint, and the next ones only while
 * an insert of a live generation went past), comparing with the live ids
 * stored there. A lookup of an id not
 * held answers true only if one of those c stored 48-bit values equals its
 * own; the home bucket index uses b = log2(buckets) bits, and the 48 stored
 * bits are independent of them while b <= 16 and share b - 16 of them beyond
 * (a 64-bit fingerprint has only 64 bits): P(false positive per lookup) <=
 * E[c] * 2^-min(48, 64 - b), E[c] the mean number of live ids on the probe
 * path. Measured on full windows: E[c] = 2.02 at 2 ids per bucket (any
 * power-of-two ids_max), 2.45 at 10M ids, 4.25 at the maximum load (3.5 per
 * bucket). So at 10M ids (b = 22): 2.45 * 2^-42 = 5.6e-13 per lookup, below
 * the 1e-12 required; at 1Mi ids (b = 19): 2.02 * 2^-45 = 5.7e-14; at 65536
 * (b = 15): 2.02 * 2^-48 = 7.2e-15. Beyond b = 16 this is ids_max / 2^64
 * times a small factor: what any design keeping a 64-bit fingerprint gets.
 *
 * Memory is fixed at creation (dedup_memory_bytes) and never grows. Single
 * writer: the partition's owning worker is the only caller of every function
 * here. Nothing allocates after dedup_create. */
#ifndef INV_DEDUP_H
#define INV_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct inv_dedup inv_dedup;

typedef struct inv_dedup_stats {
    uint64_t ids;               /* ids held now (in live generations) */
    uint64_t inserted;          /* ids ever inserted */
    uint64_t expired_by_time;   /* ids dropped because their generation left the time window */
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

/* Owning worker. Starts loading the memory dedup_contains(d, fp) and
 * dedup_insert(d, fp, ...) will touch (one cache line, almost always); call a
 * few events ahead of them. */
void dedup_prefetch(const inv_dedup *d, uint64_t fp);

/* Owning worker. True when fp is in the window (or, with the probability
 * above, a different fingerprint stored there shares its bits). Sees every
 * earlier dedup_insert: a pipeline that prefetches ahead must still call
 * contains for an event only after inserting the events before it (two copies
 * of one eventId can sit in the same batch). */
bool dedup_contains(const inv_dedup *d, uint64_t fp);

/* Owning worker. Adds fp with its event time to the current generation;
 * first closes that generation when it is full or spans span_ms, expires the
 * generations that left the time window and, when the window is full, evicts
 * the oldest one (see above). The id just inserted is always held afterwards.
 * fp must not be in the window already: asserted in debug builds; release
 * builds do not look and store a second copy, which counts twice in ids and
 * stays until the newer copy's generation leaves. */
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
 * sizeof(struct) + round_up(64 * buckets, page size), with buckets the
 * smallest power of two such that 7 * buckets >= 2 * ids_max (64-byte buckets
 * of 7 ids, at most half of them live). Per id: 32 bytes for a power-of-two
 * ids_max; from 18.3 (ids_max just below 3.5 * 2^k) to 36.6 (just above);
 * at least one page. The struct is about 3.2 KiB (the generation ring).
 * Returns 0 for ids_max outside INV_DEDUP_IDS_MIN..INV_DEDUP_IDS_MAX. */
size_t dedup_memory_bytes_for(uint32_t ids_max);

#endif
