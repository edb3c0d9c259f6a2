/* table.h - one partition's aggregates: an open-addressed table with one
 * writer and lock-free readers.
 *
 * Layout. Records (key bytes + aggregate) are appended to an arena reserved
 * once with mmap and never moved or freed while the table lives, so a record
 * reference (inv_ref, 8-byte units from the arena base) stays valid forever
 * and needs no malloc per key. An index of 8-byte slots (hash tag << 32 |
 * ref) finds records by key with linear probing; a second index of the same
 * shape maps a SKU to the newest record of that SKU, and records of one SKU
 * are chained, so "every location of a SKU" costs one probe plus the chain.
 *
 * Concurrency. Only the owning worker writes. Readers on any thread run
 * inside inv_rcu_read_lock(): the index pointers are published with release
 * stores and old indexes retired through RCU after a grow; a record's key
 * and SKU link are written before the record is published and never change;
 * its aggregate is guarded by a per-record sequence counter, so a reader
 * retries instead of returning a torn aggregate. Readers never block the
 * writer.
 *
 * Keys are never deleted: a partition's table is dropped as a whole (revoke,
 * restore). */
#ifndef INV_TABLE_H
#define INV_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apply.h"
#include "inv_limits.h"

typedef struct inv_table inv_table;

/* A record reference: 8-byte units from the arena base; 0 means none. */
typedef uint32_t inv_ref;

/* A key: the bytes "sku:loc" (as in the Kafka message key) and their hash.
 * The bytes belong to the caller: on the hot path they are the event's own
 * (table_key_init_joined, no copy); other callers assemble them into an
 * inv_key_buf (table_key_init). 24 bytes, so the apply pipeline keeps a
 * batch's keys in a few cache lines. */
typedef struct inv_key {
    uint64_t hash;      /* XXH3-64 of the key bytes */
    const char *bytes;  /* "sku:loc", len bytes, not NUL-terminated */
    uint16_t len;       /* sku_len + 1 + loc_len */
    uint16_t lens;      /* sku_len | loc_len << 8, as a record stores them (one compare) */
    uint8_t sku_len;
} inv_key;

/* A key with room for its bytes, for callers that have the SKU and location
 * apart. key.bytes points into buf: initialize it in place with
 * table_key_init and do not copy it. */
typedef struct inv_key_buf {
    inv_key key;
    char buf[INV_KEY_LEN_MAX];
} inv_key_buf;

/* Any thread. The key bytes "sku:loc" of k (len bytes). */
static inline const char *table_key_bytes(const inv_key *k) {
    return k->bytes;
}

typedef struct inv_table_config {
    uint64_t arena_bytes;   /* virtual reservation for records; 0 = INV_TABLE_ARENA_BYTES_DEFAULT */
    uint32_t keys_expected; /* pre-size the indexes for this many keys; 0 = minimum */
} inv_table_config;

typedef struct inv_table_stats {
    uint64_t keys;
    uint64_t skus;
    uint64_t index_slots;
    uint64_t sku_index_slots;
    uint64_t arena_bytes_used;
    uint64_t memory_bytes; /* arena used + both indexes + the struct */
    uint64_t grows;        /* index grows so far (both indexes) */
} inv_table_stats;

/* Any thread. Fills kb for (sku, loc) by assembling "sku:loc" into kb->buf
 * and hashing it; returns &kb->key. Lengths must be within inv_limits.h. */
const inv_key *table_key_init(inv_key_buf *kb, const char *sku, size_t sku_len, const char *loc,
                              size_t loc_len);

/* Any thread. Fills k from bytes = "sku:loc" (len bytes, the sku is the first
 * sku_len), which stay owned by the caller and must outlive k: one hash over
 * the input bytes, no copy. The hot path's key. */
void table_key_init_joined(inv_key *k, const char *bytes, size_t len, size_t sku_len);

/* Any thread (set-up). Creates an empty table. Returns 0, or -EINVAL (bad
 * config, errstr says which field) or -ENOMEM (errstr says what failed). */
int table_create(inv_table **out, const inv_table_config *cfg, char *errstr, size_t errstr_len);

/* Any thread, once no reader can hold t: after a grace period or when no
 * reader thread exists. NULL is allowed. */
void table_destroy(inv_table *t);

/* --- Owning worker only ------------------------------------------------- */

/* Starts loading the index slot a lookup of hash will probe first. */
void table_prefetch_slot(const inv_table *t, uint64_t hash);

/* Starts loading every cache line of the record ref points to, assuming its
 * key is key_len bytes long (the key being looked up). */
void table_prefetch_record(const inv_table *t, inv_ref ref, size_t key_len);

/* Reads the (prefetched) index slots of k and prefetches every line of the
 * first record whose hash tag matches, without comparing keys: pass 2 of the
 * pipeline. A record is 72 bytes plus its key, so it spans 2 or 3 lines; the
 * key compare reads its last bytes, so all of them must be on the way.
 * Returns that candidate (0 if none) for table_find_hinted. */
inv_ref table_prefetch_candidate(const inv_table *t, const inv_key *k);

/* As table_find, but first checks hint (a candidate from
 * table_prefetch_candidate, or 0): when the hint's key equals k it is the
 * answer without a second probe; otherwise a full probe runs. Records never
 * move, so a hint taken earlier in the same batch stays a valid guess. */
inv_ref table_find_hinted(const inv_table *t, const inv_key *k, inv_ref hint);

/* Returns the record of k, or 0 if k is not in the table. */
inv_ref table_find(const inv_table *t, const inv_key *k);

/* Inserts k, absent from the table, with a fresh aggregate (agg_init) and
 * returns its ref in *out. May grow an index (allocates; the old one is
 * retired through RCU). Returns 0, -ENOSPC when the arena or key limit is
 * full, -ENOMEM when a grow cannot get memory (the table stays usable). */
int table_insert(inv_table *t, const inv_key *k, inv_ref *out);

/* Copies the aggregate of ref into *out (no sequence check: the owner is the
 * only writer). */
void table_agg_get(const inv_table *t, inv_ref ref, inv_agg *out);

/* The aggregate of ref read in place, without a copy (the owner is the only
 * writer, so it needs no sequence check). Valid until the next table_agg_set
 * of ref. Its reserved0 overlays the record's key lengths: do not read it. */
const inv_agg *table_agg_view(const inv_table *t, inv_ref ref);

/* Stores *a as the aggregate of ref, visible to readers atomically. */
void table_agg_set(inv_table *t, inv_ref ref, const inv_agg *a);

/* A record's key and aggregate, for table_dirty_drain and table_foreach.
 * Return 0 to go on, non-zero to stop. */
typedef int (*table_rec_fn)(const char *sku, size_t sku_len, const char *loc, size_t loc_len,
                            const inv_agg *agg, void *ctx);

/* Change tracking: a flush writes out the records changed since the last one.
 * table_track_changes maps the dirty list (virtual memory for one ref per
 * key the arena can hold; only used pages cost memory). Returns 0 or -ENOMEM.
 * Without it, table_mark_dirty does nothing. */
int table_track_changes(inv_table *t);
/* Puts ref on the dirty list unless it is already there (O(1), no allocation). */
void table_mark_dirty(inv_table *t, inv_ref ref);
/* Records on the dirty list. */
uint64_t table_dirty_count(const inv_table *t);
/* Takes up to max records off the dirty list, calling fn with each one's key
 * and current aggregate; a record leaves the list only when fn returns 0, so
 * fn returning non-zero (e.g. a full producer queue) stops the drain with that
 * record still listed. Returns the number taken off. */
long table_dirty_drain(inv_table *t, size_t max, table_rec_fn fn, void *ctx);
/* Empties the dirty list (e.g. the changes were restored, not made here). */
void table_dirty_clear(inv_table *t);

/* --- Any thread inside inv_rcu_read_lock() ------------------------------- */

/* Looks k up and copies a consistent aggregate into *out. Returns 0, -ENOENT
 * when absent, -EAGAIN when the record was being rewritten for more than
 * INV_SEQLOCK_RETRIES_MAX tries (the caller may retry). */
int table_lookup(const inv_table *t, const inv_key *k, inv_agg *out);

/* Called once per location of a SKU: its location bytes and a consistent
 * aggregate. Return 0 to go on, non-zero to stop. */
typedef int (*table_loc_fn)(const char *loc, size_t loc_len, const inv_agg *agg, void *ctx);

/* Visits every location of the SKU of k (k->loc is ignored), newest first.
 * Returns the number visited, or -EAGAIN as table_lookup. */
long table_sku_foreach(const inv_table *t, const inv_key *k, table_loc_fn fn, void *ctx);

/* Visits every record present when the call started, in insertion order.
 * Returns the number visited, or -EAGAIN as table_lookup. */
long table_foreach(const inv_table *t, table_rec_fn fn, void *ctx);

/* Keys in the table now. */
uint64_t table_count(const inv_table *t);

/* Any registered thread (it takes the read lock). Sizes and counters; exact
 * for the owner, a recent view for others. */
void table_get_stats(const inv_table *t, inv_table_stats *out);

#endif
