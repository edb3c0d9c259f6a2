/* partition.c - partition state and the batched apply pipeline.
 *
 * The pipeline is "group prefetching": events are taken INV_PREFETCH_DEPTH at
 * a time; pass 1 hashes each key and eventId straight from the event bytes
 * and prefetches the first index slot and the dedup slot; pass 2 reads the
 * now-cached slots and prefetches the first candidate record; pass 3 applies
 * in order with everything in cache. Order is preserved: pass 3 is the only
 * pass that reads or writes state, and it runs event by event, so two events
 * of one key in a group see each other's effect.
 *
 * Counters are written only by the owner, with relaxed atomic stores, so any
 * thread may read them without tearing. */
#include "partition.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "inv_assert.h"
#include "dedup.h"
#include "inv_limits.h"

struct inv_partition {
    int32_t id;
    bool halted;
    inv_reason halt_reason; /* why it halted: INV_R_TABLE_FULL or INV_R_OUT_OF_MEMORY */
    int64_t replay_below;   /* events with a lower input offset only rebuild the window */
    inv_table *table;
    inv_dedup *dedup; /* NULL when dedup is off */
    inv_partition_stats stats;
};

#define STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

/* Any thread (set-up). See partition.h. */
int partition_create(inv_partition **out, const inv_partition_config *cfg, char *errstr,
                     size_t errstr_len) {
    inv_assert(out != NULL && cfg != NULL);
    inv_assert(errstr != NULL && errstr_len > 0);
    if (cfg->id < 0 || cfg->id >= INV_PARTITIONS_MAX) {
        snprintf(errstr, errstr_len, "partition id %d out of range [0, %d)", cfg->id,
                 INV_PARTITIONS_MAX);
        return -EINVAL;
    }
    inv_partition *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(errstr, errstr_len, "partition %d: out of memory", cfg->id);
        return -ENOMEM;
    }
    p->id = cfg->id;
    int rc = table_create(&p->table, &cfg->table, errstr, errstr_len);
    if (rc != 0) goto fail;
    if (cfg->dedup_enabled) {
        uint32_t ids = cfg->dedup_ids_max ? cfg->dedup_ids_max : INV_DEDUP_IDS_MAX_DEFAULT;
        int64_t win = cfg->dedup_window_ms ? cfg->dedup_window_ms : INV_DEDUP_WINDOW_MS_DEFAULT;
        rc = dedup_create(&p->dedup, ids, win);
        if (rc != 0) {
            snprintf(errstr, errstr_len,
                     "partition %d: dedup window of %u ids / %lld ms: %s", cfg->id, ids,
                     (long long)win, rc == -EINVAL ? "invalid size" : "out of memory");
            goto fail;
        }
    }
    *out = p;
    return 0;
fail:
    partition_destroy(p);
    return rc;
}

/* Any thread once no reader can hold p. See partition.h. */
void partition_destroy(inv_partition *p) {
    if (p == NULL) return;
    table_destroy(p->table);
    dedup_destroy(p->dedup);
    free(p);
}

/* Any thread. See partition.h. */
int32_t partition_id(const inv_partition *p) {
    return p->id;
}

/* Any thread. See partition.h. */
const inv_table *partition_table(const inv_partition *p) {
    return p->table;
}

/* Owning worker. See partition.h. */
void partition_resume(inv_partition *p) {
    inv_assert(p != NULL);
    p->halted = false;
}

/* Owning worker. See partition.h. */
int partition_track_changes(inv_partition *p) {
    inv_assert(p != NULL);
    return table_track_changes(p->table);
}

/* Owning worker. See partition.h. */
uint64_t partition_changes_pending(const inv_partition *p) {
    return table_dirty_count(p->table);
}

/* Owning worker. See partition.h. */
long partition_drain_changes(inv_partition *p, size_t max, table_rec_fn fn, void *ctx) {
    inv_assert(p != NULL && fn != NULL);
    return table_dirty_drain(p->table, max, fn, ctx);
}

/* Owning worker. See partition.h. */
int partition_mark_changed(inv_partition *p, const char *sku, size_t sku_len, const char *loc,
                           size_t loc_len) {
    inv_assert(p != NULL);
    inv_assert(sku_len >= 1 && sku_len <= INV_SKU_LEN_MAX);
    inv_assert(loc_len >= 1 && loc_len <= INV_LOCATION_LEN_MAX);
    inv_key_buf kb;
    const inv_key *k = table_key_init(&kb, sku, sku_len, loc, loc_len);
    inv_ref ref = table_find(p->table, k);
    if (ref == 0) return -ENOENT;
    table_mark_dirty(p->table, ref);
    return 0;
}

/* Owning worker. See partition.h. */
void partition_set_replay_below(inv_partition *p, int64_t offset) {
    inv_assert(p != NULL);
    inv_assert(offset >= 0);
    p->replay_below = offset;
}

/* Owning worker. See partition.h. */
int partition_restore_key(inv_partition *p, const char *sku, size_t sku_len, const char *loc,
                          size_t loc_len, const inv_agg *agg) {
    inv_assert(p != NULL && agg != NULL);
    if (sku_len < 1 || sku_len > INV_SKU_LEN_MAX || loc_len < 1 || loc_len > INV_LOCATION_LEN_MAX ||
        !event_id_chars_ok(sku, sku_len) || !event_id_chars_ok(loc, loc_len))
        return -EINVAL;
    inv_key_buf kb;
    const inv_key *k = table_key_init(&kb, sku, sku_len, loc, loc_len);
    inv_ref ref = table_find(p->table, k);
    if (ref == 0) {
        int rc = table_insert(p->table, k, &ref);
        if (rc != 0) return rc;
    }
    table_agg_set(p->table, ref, agg);
    return 0;
}

/* Owning worker. See partition.h. */
bool partition_halted(const inv_partition *p) {
    return p->halted;
}

static inline void result_set(inv_result *r, inv_outcome o, inv_reason why) {
    r->outcome = (uint8_t)o;
    r->reason = (uint8_t)why;
}

/* Counts the anomaly counters' increments between before and after. */
static inline void count_anomalies(inv_partition *p, const inv_agg *before, const inv_agg *after) {
    if (after->oversell_count != before->oversell_count) STAT_ADD(p->stats.oversells, 1);
    if (after->release_excess_count != before->release_excess_count)
        STAT_ADD(p->stats.release_excesses, 1);
    if (after->transfer_in_excess_count != before->transfer_in_excess_count)
        STAT_ADD(p->stats.transfer_in_excesses, 1);
}

static inline void reject(inv_partition *p, inv_result *res, inv_outcome o, inv_reason why) {
    result_set(res, o, why);
    if (o == INV_OUT_FAILED) {
        p->halted = true;
        STAT_ADD(p->stats.failed, 1);
    } else {
        STAT_ADD(p->stats.rejected, 1);
    }
    STAT_ADD(p->stats.rejected_by_reason[why], 1);
}

/* Owning worker. Pass 3 for one event: every state change happens here.
 * Forced inline (as is pipe_hash) into the pipeline's one loop. */
__attribute__((always_inline)) static inline void apply_one(inv_partition *p,
                                                            const inv_event *ev, const inv_key *k,
                                                            uint64_t fp, inv_ref hint,
                                                            inv_result *res) {
    if (p->halted) {
        reject(p, res, INV_OUT_FAILED, p->halt_reason);
        return;
    }
    if (ev->offset >= 0 && ev->offset < p->replay_below) { /* recovery: effect already restored */
        if (p->dedup != NULL && !dedup_contains(p->dedup, fp))
            dedup_insert(p->dedup, fp, ev->timestamp_ms);
        result_set(res, INV_OUT_REPLAYED, INV_OK);
        STAT_ADD(p->stats.replayed, 1);
        return;
    }
    if (p->dedup != NULL && dedup_contains(p->dedup, fp)) {
        result_set(res, INV_OUT_DUPLICATE, INV_OK);
        STAT_ADD(p->stats.duplicates, 1);
        return;
    }
    inv_ref ref = table_find_hinted(p->table, k, hint);
    if (ref == 0) {
        int rc = table_insert(p->table, k, &ref);
        if (rc != 0) {
            p->halt_reason = rc == -ENOSPC ? INV_R_TABLE_FULL : INV_R_OUT_OF_MEMORY;
            reject(p, res, INV_OUT_FAILED, p->halt_reason);
            return;
        }
    }
    const inv_agg *cur = table_agg_view(p->table, ref);
    if (ev->offset >= 0 && ev->offset <= cur->offset) {
        if (p->dedup != NULL) dedup_insert(p->dedup, fp, ev->timestamp_ms);
        result_set(res, INV_OUT_REPLAYED, INV_OK);
        STAT_ADD(p->stats.replayed, 1);
        return;
    }
    inv_agg next;
    inv_reason why = apply_event(cur, ev, &next);
    if (why != INV_OK) {
        reject(p, res, INV_OUT_REJECTED, why);
        return;
    }
    count_anomalies(p, cur, &next); /* before the set: cur is a view of the record */
    table_agg_set(p->table, ref, &next);
    table_mark_dirty(p->table, ref); /* no-op unless changes are tracked */
    if (p->dedup != NULL) dedup_insert(p->dedup, fp, ev->timestamp_ms);
    result_set(res, INV_OUT_APPLIED, INV_OK);
    STAT_ADD(p->stats.applied, 1);
}

static inline inv_partition *part_of(inv_partition *const *parts, int32_t parts_count,
                                     const inv_event *ev) {
    inv_assert(ev->partition >= 0 && ev->partition < parts_count);
    inv_partition *p = parts[ev->partition];
    inv_assert(p != NULL); /* the input delivered a partition this worker does not hold */
    return p;
}

/* Per-event state carried from pass 1 to pass 3 (the pipeline's registers). */
typedef struct pipe_slot {
    inv_key key;
    uint64_t fp;
    inv_partition *p;
    inv_ref hint; /* pass 2's candidate record, checked by pass 3 */
} pipe_slot;

/* Pass 1: hash the key and eventId from the event bytes; prefetch the index
 * slot and the dedup slot. An event without a message key (not from Kafka)
 * has its key assembled in kb, which lives as long as the event's slot. */
__attribute__((always_inline)) static inline void pipe_hash(pipe_slot *ps, inv_key_buf *kb,
                                                            inv_partition *const *parts,
                                                            int32_t parts_count,
                                                            const inv_event *ev) {
    inv_debug_assert(event_validate(ev) == INV_OK);
    ps->p = part_of(parts, parts_count, ev);
    if (ev->key != NULL) /* validated equal to sku:loc: hash the input bytes, no copy */
        table_key_init_joined(&ps->key, ev->key, ev->key_len, ev->sku_len);
    else
        ps->key = *table_key_init(kb, ev->sku, ev->sku_len, ev->location_id, ev->location_id_len);
    table_prefetch_slot(ps->p->table, ps->key.hash);
    ps->fp = 0;
    if (ps->p->dedup != NULL) {
        ps->fp = dedup_fingerprint(ev->event_id, ev->event_id_len);
        dedup_prefetch(ps->p->dedup, ps->fp);
    }
}

/* Owning worker. See partition.h.
 *
 * A rolling software pipeline over the batch: at step i, pass 1 runs on
 * event i, pass 2 (read the slot, prefetch the record) on event i - D and
 * pass 3 (apply) on event i - 2D, with D = INV_PREFETCH_DEPTH. So each memory
 * load is issued D events' worth of work before it is needed, which covers
 * the 200-350 ns a random access costs here. */
void partition_apply_events(inv_partition *const *parts, int32_t parts_count,
                            const inv_event *events, size_t n, inv_result *results) {
    inv_assert(parts != NULL && parts_count > 0);
    inv_assert(n <= INV_BATCH_EVENTS_MAX);
    enum { D = INV_PREFETCH_DEPTH, RING = 4 * INV_PREFETCH_DEPTH };
    _Static_assert(RING > 2 * D, "the ring holds every event in flight");
    pipe_slot ring[RING];
    inv_key_buf key_bufs[RING]; /* touched only by events without a message key */
#define PIPE_HASH(i) \
    pipe_hash(&ring[(i) % RING], &key_bufs[(i) % RING], parts, parts_count, &events[i])
#define PIPE_PREFETCH(i) \
    (ring[(i) % RING].hint = table_prefetch_candidate(ring[(i) % RING].p->table, &ring[(i) % RING].key))
#define PIPE_APPLY(i) \
    apply_one(ring[(i) % RING].p, &events[i], &ring[(i) % RING].key, ring[(i) % RING].fp, \
              ring[(i) % RING].hint, &results[i])
    /* One loop, so each stage is inlined once: the range tests are
     * predictable branches, cheaper than the calls three copies would need
     * (measured: a separate steady loop without the tests ran slower). */
    for (size_t i = 0; i < n + 2 * D; i++) {
        if (i < n) PIPE_HASH(i);
        if (i >= D && i - D < n) PIPE_PREFETCH(i - D);
        if (i >= 2 * D) PIPE_APPLY(i - 2 * D);
    }
#undef PIPE_HASH
#undef PIPE_PREFETCH
#undef PIPE_APPLY
}

/* Any thread. See partition.h. */
void partition_get_stats(const inv_partition *p, inv_partition_stats *out) {
    inv_assert(p != NULL && out != NULL);
    const uint64_t *src = (const uint64_t *)&p->stats;
    uint64_t *dst = (uint64_t *)out;
    _Static_assert(sizeof(inv_partition_stats) % sizeof(uint64_t) == 0, "stats are all u64");
    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* Any thread. See partition.h. */
uint64_t partition_memory_bytes(const inv_partition *p) {
    inv_table_stats ts;
    table_get_stats(p->table, &ts);
    return ts.memory_bytes + (p->dedup ? dedup_memory_bytes(p->dedup) : 0) + sizeof(*p);
}
