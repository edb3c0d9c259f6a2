/* test_partition.c - engine/partition.c on one thread: partition_apply_events.
 *
 * Covers the per-event outcomes of partition.h in their documented order
 * (DUPLICATE, REPLAYED, REJECTED, FAILED, APPLIED) with their exact effect on
 * the aggregate and on the counters; dedup on and off; the replay rebuilding
 * the window; overflow rejects (forced by writing an aggregate near the int64
 * limits through the table of the partition, see test_rejected_overflow);
 * the prefetch pipeline against a sequential reference over batches of every
 * size around INV_PREFETCH_DEPTH, with runs of one key, keys interleaved over
 * several partitions and duplicates inside one batch; and a partition whose
 * 1 MiB arena fills up: FAILED, halted, other partitions unaffected, resume.
 *
 * Environment: INV_TEST_SEED (replay), INV_TEST_SCALE (batch count factor). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "event.h"
#include "inv_limits.h"
#include "partition.h"
#include "rcu.h"
#include "table.h"
#include "test_util.h"

#define ERRSTR_LEN 256
#define TS0        1795428930123LL /* 2026-11-23T10:15:30.123Z */

/* --- helpers --------------------------------------------------------------- */

static inv_partition *part_new(int32_t id, uint64_t arena_bytes, bool dedup, uint32_t ids_max) {
    inv_partition_config cfg = {.id = id,
                                .table = {.arena_bytes = arena_bytes},
                                .dedup_enabled = dedup,
                                .dedup_ids_max = ids_max};
    char err[ERRSTR_LEN] = "";
    inv_partition *p = NULL;
    int rc = partition_create(&p, &cfg, err, sizeof(err));
    if (rc != 0) fprintf(stderr, "partition_create: %d %s\n", rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(p);
    return p;
}

/* Bump allocator for the bytes events point to (they must outlive the batch). */
typedef struct strpool {
    char *mem;
    size_t used;
    size_t cap;
} strpool;

static void strpool_init(strpool *sp, size_t cap) {
    sp->mem = malloc(cap);
    assert_non_null(sp->mem);
    sp->used = 0;
    sp->cap = cap;
}

static const char *strpool_put(strpool *sp, const char *s, size_t len) {
    assert_true(sp->used + len <= sp->cap);
    char *p = sp->mem + sp->used;
    memcpy(p, s, len);
    sp->used += len;
    return p;
}

/* An event; with joined, the Kafka key "sku:loc" is set too (the hot path
 * then hashes the key bytes instead of assembling them). */
static inv_event ev_mk(strpool *sp, const char *id, const char *sku, const char *loc,
                       inv_event_type t, int64_t delta, int64_t offset, int32_t partition,
                       bool joined) {
    size_t sl = strlen(sku), ll = strlen(loc), il = strlen(id);
    const char *key = NULL;
    size_t key_len = 0;
    if (joined) {
        char buf[INV_KEY_LEN_MAX];
        memcpy(buf, sku, sl);
        buf[sl] = ':';
        memcpy(buf + sl + 1, loc, ll);
        key_len = sl + 1 + ll;
        key = strpool_put(sp, buf, key_len);
    }
    inv_event e = tu_event(strpool_put(sp, id, il), il, strpool_put(sp, sku, sl), sl,
                           strpool_put(sp, loc, ll), ll, t, delta, offset,
                           TS0 + (offset > 0 ? offset : 0), partition);
    e.key = key;
    e.key_len = (uint16_t)key_len;
    assert_int_equal(event_validate(&e), INV_OK);
    return e;
}

/* Looks (sku, loc) up in p's table: 0 or -ENOENT. */
static int part_lookup(const inv_partition *p, const char *sku, const char *loc, inv_agg *out) {
    inv_key_buf k;
    table_key_init(&k, sku, strlen(sku), loc, strlen(loc));
    inv_rcu_read_lock();
    int rc = table_lookup(partition_table(p), &k.key, out);
    inv_rcu_read_unlock();
    return rc;
}

/* Applies one event alone and returns its result. */
static inv_result apply1(inv_partition *const *parts, int32_t n, const inv_event *e) {
    inv_result r = {0xff, 0xff};
    partition_apply_events(parts, n, e, 1, &r);
    return r;
}

/* Evaluates r once (it is often an apply1 call). */
#define EXPECT_RESULT(r, o, why)                                                                   \
    do {                                                                                           \
        const inv_result r_once_ = (r);                                                            \
        assert_int_equal(r_once_.outcome, (o));                                                    \
        assert_int_equal(r_once_.reason, (why));                                                   \
    } while (0)

static void expect_stats(const inv_partition *p, uint64_t applied, uint64_t dups, uint64_t replayed,
                         uint64_t rejected, uint64_t failed) {
    inv_partition_stats st;
    partition_get_stats(p, &st);
    assert_int_equal(st.applied, applied);
    assert_int_equal(st.duplicates, dups);
    assert_int_equal(st.replayed, replayed);
    assert_int_equal(st.rejected, rejected);
    assert_int_equal(st.failed, failed);
}

/* --- config ---------------------------------------------------------------- */

static void expect_create_einval(const inv_partition_config *cfg) {
    char err[ERRSTR_LEN] = "";
    inv_partition *p = NULL;
    assert_int_equal(partition_create(&p, cfg, err, sizeof(err)), -EINVAL);
    assert_true(strlen(err) > 0);
    assert_null(p);
}

static void test_create_config(void **state) {
    (void)state;
    inv_partition_config cfg = {.id = -1};
    expect_create_einval(&cfg);
    cfg.id = INV_PARTITIONS_MAX;
    expect_create_einval(&cfg);
    cfg = (inv_partition_config){.id = 3, .table = {.arena_bytes = 4096}};
    expect_create_einval(&cfg);
    cfg = (inv_partition_config){
        .id = 3, .dedup_enabled = true, .dedup_ids_max = INV_DEDUP_IDS_MIN - 1};
    expect_create_einval(&cfg);
    cfg = (inv_partition_config){.id = 3, .dedup_enabled = true, .dedup_window_ms = -5};
    expect_create_einval(&cfg);

    inv_partition *p = part_new(INV_PARTITIONS_MAX - 1, 0, true, 1024);
    assert_int_equal(partition_id(p), INV_PARTITIONS_MAX - 1);
    assert_false(partition_halted(p));
    assert_non_null(partition_table(p));
    assert_int_equal(table_count(partition_table(p)), 0);
    inv_partition *q = part_new(7, 1u << 20, false, 0);
    /* The dedup window is part of the memory of p, not of q. */
    assert_true(partition_memory_bytes(p) >= partition_memory_bytes(q) + 1024 * 16);
    inv_partition_stats st;
    partition_get_stats(p, &st);
    inv_partition_stats zero;
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(&st, &zero, sizeof(st));
    partition_destroy(p);
    partition_destroy(q);
    partition_destroy(NULL);
}

/* --- outcomes -------------------------------------------------------------- */

static void test_outcomes(void **state) {
    (void)state;
    strpool sp;
    strpool_init(&sp, 1 << 16);
    inv_partition *p = part_new(0, 1u << 20, true, 1024);
    inv_partition *parts[1] = {p};
    inv_agg a;
    inv_event e;

    e = ev_mk(&sp, "a", "SKU-1", "L1", INV_EV_RECEIPT, 10, 5, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_APPLIED, INV_OK);
    assert_int_equal(part_lookup(p, "SKU-1", "L1", &a), 0);
    assert_int_equal(a.on_hand, 10);
    assert_int_equal(a.version, 1);
    assert_int_equal(a.offset, 5);
    assert_int_equal(a.last_updated_ms, TS0 + 5);
    const inv_agg after_a = a;

    /* The same eventId again, at a higher offset, with another effect: a duplicate. */
    e = ev_mk(&sp, "a", "SKU-1", "L1", INV_EV_SALE, 3, 6, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_DUPLICATE, INV_OK);
    /* Even for another key: dedup is by eventId within the partition. */
    e = ev_mk(&sp, "a", "SKU-2", "L1", INV_EV_RECEIPT, 3, 7, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_DUPLICATE, INV_OK);
    assert_int_equal(part_lookup(p, "SKU-1", "L1", &a), 0);
    assert_memory_equal(&a, &after_a, sizeof(a)); /* no effect, watermark unchanged */
    assert_int_equal(table_count(partition_table(p)), 1);

    /* New ids at or below the key's watermark: replayed, no effect. */
    e = ev_mk(&sp, "b", "SKU-1", "L1", INV_EV_SALE, 3, 5, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_REPLAYED, INV_OK);
    e = ev_mk(&sp, "c", "SKU-1", "L1", INV_EV_SALE, 3, 0, 0, true);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_REPLAYED, INV_OK);
    assert_int_equal(part_lookup(p, "SKU-1", "L1", &a), 0);
    assert_memory_equal(&a, &after_a, sizeof(a));
    /* A replayed id joined the window: it is a duplicate now, at any offset. */
    e = ev_mk(&sp, "b", "SKU-1", "L1", INV_EV_SALE, 3, 100, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_DUPLICATE, INV_OK);
    e = ev_mk(&sp, "c", "SKU-1", "L1", INV_EV_SALE, 3, 101, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_DUPLICATE, INV_OK);
    assert_int_equal(part_lookup(p, "SKU-1", "L1", &a), 0);
    assert_memory_equal(&a, &after_a, sizeof(a));

    /* Watermark + 1 applies; watermarks are per key (a lower offset applies
     * on another key). */
    e = ev_mk(&sp, "d", "SKU-1", "L1", INV_EV_SALE, -3, 6, 0, true);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_APPLIED, INV_OK);
    e = ev_mk(&sp, "e", "SKU-1", "L2", INV_EV_RECEIPT, 4, 1, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_APPLIED, INV_OK);
    assert_int_equal(part_lookup(p, "SKU-1", "L1", &a), 0);
    assert_int_equal(a.on_hand, 7);
    assert_int_equal(a.version, 2);
    assert_int_equal(a.offset, 6);
    assert_int_equal(part_lookup(p, "SKU-1", "L2", &a), 0);
    assert_int_equal(a.on_hand, 4);
    assert_int_equal(a.offset, 1);
    /* A replay of a new key's first event (offset 0 > watermark -1) applies. */
    e = ev_mk(&sp, "f", "SKU-9", "L9", INV_EV_RESERVATION, 2, 0, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_APPLIED, INV_OK);

    /* Two copies of one id in one batch, adjacent and D apart. */
    inv_event batch[2 + INV_PREFETCH_DEPTH + 1];
    inv_result res[2 + INV_PREFETCH_DEPTH + 1];
    batch[0] = ev_mk(&sp, "g", "SKU-1", "L1", INV_EV_RECEIPT, 1, 10, 0, false);
    batch[1] = ev_mk(&sp, "g", "SKU-1", "L1", INV_EV_RECEIPT, 1, 11, 0, false);
    for (int i = 2; i < 2 + INV_PREFETCH_DEPTH; i++) {
        char id[16];
        snprintf(id, sizeof(id), "h%d", i);
        batch[i] = ev_mk(&sp, id, "SKU-1", "L2", INV_EV_RECEIPT, 1, 10 + i, 0, i % 2);
    }
    batch[2 + INV_PREFETCH_DEPTH] =
        ev_mk(&sp, "h2", "SKU-1", "L2", INV_EV_RECEIPT, 1, 99, 0, false);
    partition_apply_events(parts, 1, batch, 2 + INV_PREFETCH_DEPTH + 1, res);
    EXPECT_RESULT(res[0], INV_OUT_APPLIED, INV_OK);
    EXPECT_RESULT(res[1], INV_OUT_DUPLICATE, INV_OK);
    for (int i = 2; i < 2 + INV_PREFETCH_DEPTH; i++)
        EXPECT_RESULT(res[i], INV_OUT_APPLIED, INV_OK);
    EXPECT_RESULT(res[2 + INV_PREFETCH_DEPTH], INV_OUT_DUPLICATE, INV_OK);
    assert_int_equal(part_lookup(p, "SKU-1", "L1", &a), 0);
    assert_int_equal(a.on_hand, 8);
    assert_int_equal(part_lookup(p, "SKU-1", "L2", &a), 0);
    assert_int_equal(a.on_hand, 4 + INV_PREFETCH_DEPTH);
    assert_int_equal(a.offset, 10 + 2 + INV_PREFETCH_DEPTH - 1);

    /* An empty batch changes nothing. */
    partition_apply_events(parts, 1, batch, 0, res);
    /* applied: a, d, e, f, g, 16 h; duplicates: a x2, b, c, g, h2; replayed: b, c. */
    expect_stats(p, 5 + INV_PREFETCH_DEPTH, 6, 2, 0, 0);
    assert_false(partition_halted(p));
    partition_destroy(p);
    free(sp.mem);
}

/* Dedup off: a repeated eventId is applied again (only the watermark skips). */
static void test_dedup_off(void **state) {
    (void)state;
    strpool sp;
    strpool_init(&sp, 1 << 16);
    inv_partition *p = part_new(0, 1u << 20, false, 0);
    inv_partition *parts[1] = {p};
    inv_event e = ev_mk(&sp, "same", "S", "L", INV_EV_RECEIPT, 10, 1, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_APPLIED, INV_OK);
    e = ev_mk(&sp, "same", "S", "L", INV_EV_RECEIPT, 10, 2, 0, true);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_APPLIED, INV_OK);
    e = ev_mk(&sp, "same", "S", "L", INV_EV_RECEIPT, 10, 2, 0, false); /* at the watermark */
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_REPLAYED, INV_OK);
    inv_event batch[3] = {
        ev_mk(&sp, "same", "S", "L", INV_EV_SALE, 1, 3, 0, false),
        ev_mk(&sp, "same", "S", "L", INV_EV_SALE, 1, 4, 0, false),
        ev_mk(&sp, "same", "S", "L", INV_EV_SALE, 1, 5, 0, false),
    };
    inv_result res[3];
    partition_apply_events(parts, 1, batch, 3, res);
    for (int i = 0; i < 3; i++)
        EXPECT_RESULT(res[i], INV_OUT_APPLIED, INV_OK);
    inv_agg a;
    assert_int_equal(part_lookup(p, "S", "L", &a), 0);
    assert_int_equal(a.on_hand, 17);
    assert_int_equal(a.version, 5);
    assert_int_equal(a.offset, 5);
    expect_stats(p, 5, 0, 1, 0, 0);
    partition_destroy(p);
    free(sp.mem);
}

/* --- overflow rejects ------------------------------------------------------ */

/* No sequence of valid events reaches an int64 limit in test time (|q| <=
 * 10^9 needs ~9.2e9 events), and partition.h gives no setter. The partition
 * is the table's only writer, and this thread is the partition's owner, so
 * the test writes the aggregate through the table (partition_table returns a
 * const pointer to a table that is not itself const). */
static void force_agg(inv_partition *p, const char *sku, const char *loc, const inv_agg *a) {
    inv_key_buf k;
    table_key_init(&k, sku, strlen(sku), loc, strlen(loc));
    inv_table *t = (inv_table *)partition_table(p);
    inv_ref ref = table_find(t, &k.key);
    assert_int_not_equal(ref, 0);
    table_agg_set(t, ref, a);
}

typedef struct overflow_case {
    const char *loc;
    int64_t on_hand, reserved, in_transit;
    uint64_t version;
    inv_event_type type;
    int64_t delta;
    inv_reason want;
} overflow_case;

static void test_rejected_overflow(void **state) {
    (void)state;
    static const overflow_case cases[] = {
        {"on-hand-max", INT64_MAX - 5, 0, 0, 1, INV_EV_RECEIPT, 10, INV_R_OVERFLOW_ON_HAND},
        {"on-hand-min", INT64_MIN + 5, 0, 0, 1, INV_EV_SALE, 10, INV_R_OVERFLOW_ON_HAND},
        {"reserved", 0, INT64_MAX - 1, 0, 1, INV_EV_RESERVATION, 5, INV_R_OVERFLOW_RESERVED},
        {"in-transit", 0, 0, INT64_MAX - 2, 1, INV_EV_IN_TRANSIT, 3, INV_R_OVERFLOW_IN_TRANSIT},
        {"available", INT64_MIN + 5, 0, 0, 1, INV_EV_RESERVATION, 10, INV_R_OVERFLOW_AVAILABLE},
        {"version", 0, 0, 0, UINT64_MAX, INV_EV_RECEIPT, 1, INV_R_OVERFLOW_VERSION},
    };
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    strpool sp;
    strpool_init(&sp, 1 << 16);
    inv_partition *p = part_new(0, 1u << 20, true, 1024);
    inv_partition *parts[1] = {p};
    int64_t off = 0;
    for (int i = 0; i < N; i++) { /* create each key with one event */
        char id[16];
        snprintf(id, sizeof(id), "init-%d", i);
        inv_event e = ev_mk(&sp, id, "OVF", cases[i].loc, INV_EV_RECEIPT, 1, ++off, 0, false);
        EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_APPLIED, INV_OK);
    }
    inv_agg forced[N];
    for (int i = 0; i < N; i++) {
        inv_agg a;
        agg_init(&a);
        a.on_hand = cases[i].on_hand;
        a.reserved = cases[i].reserved;
        a.in_transit = cases[i].in_transit;
        a.version = cases[i].version;
        a.offset = 10;
        a.last_updated_ms = TS0;
        force_agg(p, "OVF", cases[i].loc, &a);
        forced[i] = a;
    }
    off = 100;
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof(id), "ovf-%d", i);
        inv_event e = ev_mk(&sp, id, "OVF", cases[i].loc, cases[i].type, cases[i].delta, ++off, 0,
                            i % 2 == 0);
        EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_REJECTED, cases[i].want);
        /* A rejected id is not remembered: sent again, it is rejected again. */
        e.offset = ++off;
        EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_REJECTED, cases[i].want);
        inv_agg a;
        assert_int_equal(part_lookup(p, "OVF", cases[i].loc, &a), 0);
        assert_memory_equal(&a, &forced[i], sizeof(a)); /* unchanged, watermark too */
    }
    assert_false(partition_halted(p)); /* a reject does not stop the partition */
    /* The keys still take events that fit. */
    inv_event e = ev_mk(&sp, "fits", "OVF", "on-hand-max", INV_EV_RECEIPT, 5, ++off, 0, false);
    EXPECT_RESULT(apply1(parts, 1, &e), INV_OUT_APPLIED, INV_OK);
    inv_agg a;
    assert_int_equal(part_lookup(p, "OVF", "on-hand-max", &a), 0);
    assert_int_equal(a.on_hand, INT64_MAX);
    expect_stats(p, N + 1, 0, 0, 2 * N, 0);
    inv_partition_stats st;
    partition_get_stats(p, &st);
    assert_int_equal(st.rejected_by_reason[INV_R_OVERFLOW_ON_HAND], 4);
    assert_int_equal(st.rejected_by_reason[INV_R_OVERFLOW_RESERVED], 2);
    assert_int_equal(st.rejected_by_reason[INV_R_OVERFLOW_IN_TRANSIT], 2);
    assert_int_equal(st.rejected_by_reason[INV_R_OVERFLOW_AVAILABLE], 2);
    assert_int_equal(st.rejected_by_reason[INV_R_OVERFLOW_VERSION], 2);
    assert_int_equal(st.rejected_by_reason[INV_R_TABLE_FULL], 0);
    partition_destroy(p);
    free(sp.mem);
}

/* --- the pipeline against a sequential reference --------------------------- */

#define PIPE_PARTS  4
#define PIPE_KEYS   5 /* per partition */
#define PIPE_RECENT 64

typedef struct pipe_key {
    char sku[16];
    char loc[16];
    inv_agg agg; /* apply_event one event at a time */
    tu_model m;  /* the independent model */
} pipe_key;

typedef struct pipe_part_ref {
    pipe_key keys[PIPE_KEYS];
    int64_t next_offset;
    uint64_t next_id;
    /* Ids sent recently (to re-send as duplicates). */
    uint64_t recent[PIPE_RECENT];
    uint32_t recent_n;
    inv_partition_stats want;
} pipe_part_ref;

/* Generates one event of partition pi (kind chosen by the caller) and its
 * expected result, updating the reference. */
static void pipe_gen(strpool *sp, pipe_part_ref *pr, int32_t pi, int key, uint64_t *rng,
                     inv_event *ev, inv_result *want) {
    pipe_key *pk = &pr->keys[key];
    char id[32];
    uint64_t kind = tu_below(rng, 100);
    int64_t offset;
    bool dup = false;
    if (kind < 6 && pr->recent_n > 0) { /* an id sent before: a duplicate at a new offset */
        uint32_t span = pr->recent_n < PIPE_RECENT ? pr->recent_n : PIPE_RECENT;
        uint64_t n = pr->recent[(pr->recent_n - 1 - tu_below(rng, span)) % PIPE_RECENT];
        snprintf(id, sizeof(id), "p%d-%" PRIu64, pi, n);
        offset = pr->next_offset++;
        dup = true;
    } else {
        uint64_t n = pr->next_id++;
        snprintf(id, sizeof(id), "p%d-%" PRIu64, pi, n);
        pr->recent[pr->recent_n++ % PIPE_RECENT] = n;
        if (kind < 10 && pk->agg.offset >= 0) { /* a replay: at (often) or below the watermark */
            offset = kind < 8 ? pk->agg.offset : tu_range(rng, 0, pk->agg.offset);
        } else {
            offset = pr->next_offset++;
        }
    }
    inv_event_type t = tu_rand_type(rng);
    int64_t delta = tu_rand_delta(rng, t);
    *ev = ev_mk(sp, id, pk->sku, pk->loc, t, delta, offset, pi, tu_below(rng, 2) == 0);
    if (dup) {
        *want = (inv_result){INV_OUT_DUPLICATE, INV_OK};
        pr->want.duplicates++;
    } else if (offset <= pk->agg.offset) {
        *want = (inv_result){INV_OUT_REPLAYED, INV_OK};
        pr->want.replayed++;
    } else {
        *want = (inv_result){INV_OUT_APPLIED, INV_OK};
        pr->want.applied++;
        assert_int_equal(apply_event(&pk->agg, ev, &pk->agg), INV_OK);
        tu_effect eff;
        assert_true(tu_model_apply(&pk->m, t, delta, offset, ev->timestamp_ms, &eff));
        pr->want.oversells += eff.oversell;
        pr->want.release_excesses += eff.release_excess;
        pr->want.transfer_in_excesses += eff.transfer_in_excess;
    }
}

static void test_pipeline_order(void **state) {
    (void)state;
    static const size_t sizes[] = {1,
                                   2,
                                   INV_PREFETCH_DEPTH - 1,
                                   INV_PREFETCH_DEPTH,
                                   INV_PREFETCH_DEPTH + 1,
                                   2 * INV_PREFETCH_DEPTH - 1,
                                   2 * INV_PREFETCH_DEPTH,
                                   2 * INV_PREFETCH_DEPTH + 1,
                                   3 * INV_PREFETCH_DEPTH + 1,
                                   4 * INV_PREFETCH_DEPTH + 3,
                                   100,
                                   INV_BATCH_EVENTS_MAX - 1,
                                   INV_BATCH_EVENTS_MAX};
    const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
    const uint64_t batches = tu_scaled(1500, 200);
    uint64_t rng = tu_rng(11);
    /* Room for every id of a partition (~128 per batch on average), so the
     * window never evicts by count and every re-sent id is a duplicate. */
    const uint32_t ids_max =
        batches * 192 > INV_DEDUP_IDS_MAX ? INV_DEDUP_IDS_MAX : (uint32_t)(batches * 192);
    inv_partition *parts[PIPE_PARTS];
    pipe_part_ref *ref = calloc(PIPE_PARTS, sizeof(*ref));
    assert_non_null(ref);
    for (int32_t p = 0; p < PIPE_PARTS; p++) {
        parts[p] = part_new(p, 0, true, ids_max);
        for (int k = 0; k < PIPE_KEYS; k++) {
            /* Some SKUs and locations repeat across partitions and keys. */
            snprintf(ref[p].keys[k].sku, sizeof(ref[p].keys[k].sku), "SKU-%d",
                     (p * PIPE_KEYS + k) % 7);
            snprintf(ref[p].keys[k].loc, sizeof(ref[p].keys[k].loc), "L%d.%d", p, k);
            agg_init(&ref[p].keys[k].agg);
            tu_model_init(&ref[p].keys[k].m);
        }
    }
    strpool sp;
    inv_event *evs = calloc(INV_BATCH_EVENTS_MAX, sizeof(*evs));
    inv_result *res = calloc(INV_BATCH_EVENTS_MAX, sizeof(*res));
    inv_result *want = calloc(INV_BATCH_EVENTS_MAX, sizeof(*want));
    assert_true(evs && res && want);
    uint64_t total = 0;
    for (uint64_t b = 0; b < batches; b++) {
        strpool_init(&sp, INV_BATCH_EVENTS_MAX * 256);
        size_t n = b < nsizes ? sizes[b]
                              : (tu_below(&rng, 3) == 0 ? sizes[tu_below(&rng, nsizes)]
                                                        : 1 + tu_below(&rng, INV_BATCH_EVENTS_MAX));
        size_t i = 0;
        uint64_t pattern = tu_below(&rng, 3);
        while (i < n) {
            int32_t p = (int32_t)tu_below(&rng, PIPE_PARTS);
            int k = (int)tu_below(&rng, PIPE_KEYS);
            /* pattern 0: long runs of one key; 1: alternate over every
             * partition; 2: short random runs. */
            size_t run = pattern == 0   ? 1 + tu_below(&rng, 80)
                         : pattern == 1 ? 1
                                        : 1 + tu_below(&rng, 4);
            for (size_t r = 0; r < run && i < n; r++, i++) {
                if (pattern == 1) {
                    p = (int32_t)(i % PIPE_PARTS);
                    k = (int)((i / PIPE_PARTS) % 2);
                }
                pipe_gen(&sp, &ref[p], p, k, &rng, &evs[i], &want[i]);
            }
        }
        memset(res, 0xff, n * sizeof(*res));
        partition_apply_events(parts, PIPE_PARTS, evs, n, res);
        for (size_t j = 0; j < n; j++) {
            if (res[j].outcome != want[j].outcome || res[j].reason != want[j].reason) {
                fprintf(stderr,
                        "batch %" PRIu64 " (n=%zu) event %zu (partition %d, offset %" PRId64
                        "): outcome %d/%d, want %d/%d; INV_TEST_SEED=%" PRIu64 "\n",
                        b, n, j, evs[j].partition, evs[j].offset, res[j].outcome, res[j].reason,
                        want[j].outcome, want[j].reason, tu_seed());
                fail();
            }
        }
        for (int32_t p = 0; p < PIPE_PARTS; p++) {
            for (int k = 0; k < PIPE_KEYS; k++) {
                const pipe_key *pk = &ref[p].keys[k];
                inv_agg a;
                int rc = part_lookup(parts[p], pk->sku, pk->loc, &a);
                if (pk->agg.version == 0 && pk->agg.offset < 0) {
                    /* never touched, or only by non-applied events */
                    if (rc == 0) assert_memory_equal(&a, &pk->agg, sizeof(a));
                    continue;
                }
                assert_int_equal(rc, 0);
                if (memcmp(&a, &pk->agg, sizeof(a)) != 0 || !tu_model_eq(&pk->m, &a)) {
                    tu_model_print("pipeline aggregate", &pk->m, &a);
                    fprintf(stderr, "batch %" PRIu64 " partition %d key %d\n", b, p, k);
                    fail();
                }
            }
        }
        total += n;
        free(sp.mem);
    }
    for (int32_t p = 0; p < PIPE_PARTS; p++) {
        inv_partition_stats st;
        partition_get_stats(parts[p], &st);
        assert_int_equal(st.applied, ref[p].want.applied);
        assert_int_equal(st.duplicates, ref[p].want.duplicates);
        assert_int_equal(st.replayed, ref[p].want.replayed);
        assert_int_equal(st.rejected, 0);
        assert_int_equal(st.failed, 0);
        assert_int_equal(st.oversells, ref[p].want.oversells);
        assert_int_equal(st.release_excesses, ref[p].want.release_excesses);
        assert_int_equal(st.transfer_in_excesses, ref[p].want.transfer_in_excesses);
        assert_true(ref[p].want.duplicates > 0 && ref[p].want.replayed > 0);
        assert_true(ref[p].want.oversells > 0 && ref[p].want.release_excesses > 0 &&
                    ref[p].want.transfer_in_excesses > 0);
        assert_true(ref[p].next_id < ids_max); /* the window never evicted by count */
        assert_int_equal(table_count(partition_table(parts[p])), PIPE_KEYS);
        partition_destroy(parts[p]);
    }
    fprintf(stderr, "pipeline: %" PRIu64 " batches, %" PRIu64 " events\n", batches, total);
    free(evs);
    free(res);
    free(want);
    free(ref);
}

/* --- a full partition: FAILED, halted, resume ----------------------------- */

static void full_key(char *sku, char *loc, uint32_t i) {
    /* 64 + 64 bytes: the arena fills in a few thousand keys. */
    snprintf(sku, INV_SKU_LEN_MAX + 1, "%064u", i);
    snprintf(loc, INV_LOCATION_LEN_MAX + 1, "loc-%060u", i);
}

static void test_failed_halted(void **state) {
    (void)state;
    strpool sp;
    strpool_init(&sp, 64u << 20);
    inv_partition *parts[3] = {part_new(0, 1u << 20, true, 1u << 16),
                               part_new(1, 0, true, 1u << 16), NULL};
    inv_partition *full = parts[0], *other = parts[1];
    inv_event evs[INV_BATCH_EVENTS_MAX];
    inv_result res[INV_BATCH_EVENTS_MAX];
    char sku[INV_SKU_LEN_MAX + 1], loc[INV_LOCATION_LEN_MAX + 1], id[32];
    uint32_t next_key = 0, applied_full = 0, applied_other = 0;
    int64_t off_full = 0, off_other = 0;
    int64_t other_on_hand = 0;
    bool failed = false;
    uint32_t failed_at_key = 0, failed_count = 0;
    uint32_t twice[200], ntwice = 0; /* keys whose second event (the SALE) applied */
    /* Batches alternate a new key of partition 0 with a RECEIPT on one key of
     * partition 1, until partition 0's arena is full. */
    for (int b = 0; b < 200 && !failed; b++) {
        size_t n = 0;
        uint32_t first_key = next_key;
        while (n + 3 < INV_BATCH_EVENTS_MAX) {
            full_key(sku, loc, next_key);
            snprintf(id, sizeof(id), "full-%u", next_key);
            evs[n++] = ev_mk(&sp, id, sku, loc, INV_EV_RECEIPT, 1 + next_key % 5, ++off_full, 0,
                             next_key % 2);
            next_key++;
            snprintf(id, sizeof(id), "other-%" PRId64, off_other + 1);
            evs[n++] = ev_mk(&sp, id, "OTHER", "L", INV_EV_RECEIPT, 2, ++off_other, 1, false);
        }
        /* Also an event on an existing key of partition 0 (the batch's first). */
        full_key(sku, loc, first_key);
        snprintf(id, sizeof(id), "again-%u", first_key);
        evs[n++] = ev_mk(&sp, id, sku, loc, INV_EV_SALE, 1, ++off_full, 0, false);
        partition_apply_events(parts, 2, evs, n, res);
        if (res[n - 1].outcome == INV_OUT_APPLIED) twice[ntwice++] = first_key;
        for (size_t i = 0; i < n; i++) {
            if (evs[i].partition == 1) {
                EXPECT_RESULT(res[i], INV_OUT_APPLIED, INV_OK);
                applied_other++;
                other_on_hand += 2;
                continue;
            }
            if (!failed && res[i].outcome == INV_OUT_FAILED) {
                failed = true;
                failed_at_key = first_key + (uint32_t)(i / 2);
                assert_int_equal(i % 2, 0); /* a new key's event, not the existing one */
            }
            if (failed) {
                EXPECT_RESULT(res[i], INV_OUT_FAILED, INV_R_TABLE_FULL);
                failed_count++;
            } else {
                EXPECT_RESULT(res[i], INV_OUT_APPLIED, INV_OK);
                applied_full++;
            }
        }
    }
    assert_true(failed);
    assert_true(partition_halted(full));
    assert_false(partition_halted(other));
    assert_true(failed_at_key >= (1u << 20) / 512);
    assert_int_equal(table_count(partition_table(full)), failed_at_key);
    expect_stats(full, applied_full, 0, 0, 0, failed_count);
    expect_stats(other, applied_other, 0, 0, 0, 0);
    /* Nothing after the failure was applied: every key holds its RECEIPT,
     * and the SALE only where its batch had no failure. */
    assert_int_equal(applied_full, failed_at_key + ntwice);
    inv_agg a;
    for (uint32_t k = 0, j = 0; k < failed_at_key; k++) {
        full_key(sku, loc, k);
        assert_int_equal(part_lookup(full, sku, loc, &a), 0);
        bool sale = j < ntwice && twice[j] == k;
        j += sale;
        assert_int_equal(a.version, sale ? 2 : 1);
        assert_int_equal(a.on_hand, (int64_t)(1 + k % 5) - (sale ? 1 : 0));
    }
    full_key(sku, loc, failed_at_key);
    assert_int_equal(part_lookup(full, sku, loc, &a), -ENOENT);

    /* Halted: a later batch on existing keys, even a duplicate id, FAILs;
     * partition 1 in the same batch applies. */
    size_t n = 0;
    full_key(sku, loc, 0);
    inv_agg key0_before;
    assert_int_equal(part_lookup(full, sku, loc, &key0_before), 0);
    evs[n++] = ev_mk(&sp, "late-1", sku, loc, INV_EV_RECEIPT, 7, ++off_full, 0, false);
    evs[n++] = ev_mk(&sp, "late-other", "OTHER", "L", INV_EV_RECEIPT, 2, ++off_other, 1, false);
    evs[n++] = ev_mk(&sp, "full-0", sku, loc, INV_EV_RECEIPT, 7, ++off_full, 0, true);
    partition_apply_events(parts, 2, evs, n, res);
    EXPECT_RESULT(res[0], INV_OUT_FAILED, INV_R_TABLE_FULL);
    EXPECT_RESULT(res[1], INV_OUT_APPLIED, INV_OK);
    EXPECT_RESULT(res[2], INV_OUT_FAILED, INV_R_TABLE_FULL);
    failed_count += 2;
    applied_other++;
    other_on_hand += 2;
    assert_int_equal(part_lookup(full, sku, loc, &a), 0);
    assert_memory_equal(&a, &key0_before, sizeof(a));
    expect_stats(full, applied_full, 0, 0, 0, failed_count);
    assert_int_equal(part_lookup(other, "OTHER", "L", &a), 0);
    assert_int_equal(a.on_hand, other_on_hand);

    /* Resume: events on existing keys apply again; the id that FAILED was not
     * remembered, so it applies now; a duplicate is a duplicate again; a new
     * key still does not fit and halts the partition again. */
    partition_resume(full);
    assert_false(partition_halted(full));
    n = 0;
    evs[n++] = ev_mk(&sp, "late-1", sku, loc, INV_EV_RECEIPT, 7, ++off_full, 0, false);
    evs[n++] = ev_mk(&sp, "full-0", sku, loc, INV_EV_RECEIPT, 7, ++off_full, 0, false);
    full_key(sku, loc, failed_at_key);
    evs[n++] = ev_mk(&sp, "new-after-resume", sku, loc, INV_EV_RECEIPT, 1, ++off_full, 0, false);
    full_key(sku, loc, 1);
    evs[n++] = ev_mk(&sp, "late-2", sku, loc, INV_EV_RECEIPT, 1, ++off_full, 0, false);
    partition_apply_events(parts, 2, evs, n, res);
    EXPECT_RESULT(res[0], INV_OUT_APPLIED, INV_OK);
    EXPECT_RESULT(res[1], INV_OUT_DUPLICATE, INV_OK);
    EXPECT_RESULT(res[2], INV_OUT_FAILED, INV_R_TABLE_FULL);
    EXPECT_RESULT(res[3], INV_OUT_FAILED, INV_R_TABLE_FULL);
    assert_true(partition_halted(full));
    full_key(sku, loc, 0);
    assert_int_equal(part_lookup(full, sku, loc, &a), 0);
    assert_int_equal(a.on_hand, key0_before.on_hand + 7);
    assert_int_equal(a.version, key0_before.version + 1);
    expect_stats(full, applied_full + 1, 1, 0, 0, failed_count + 2);
    assert_int_equal(table_count(partition_table(full)), failed_at_key);
    partition_destroy(full);
    partition_destroy(other);
    free(sp.mem);
}

/* --- change tracking, restore, replay bound (the Kafka layer's hooks) ------- */

typedef struct drained {
    char keys[64][INV_KEY_LEN_MAX + 1];
    inv_agg aggs[64];
    int n;
    int stop_after; /* return non-zero once n reaches this (a full producer queue) */
} drained;

static int drain_fn(const char *sku, size_t sku_len, const char *loc, size_t loc_len,
                    const inv_agg *agg, void *ctx) {
    drained *d = ctx;
    if (d->stop_after >= 0 && d->n >= d->stop_after) return 1;
    assert_true(d->n < 64);
    snprintf(d->keys[d->n], sizeof(d->keys[0]), "%.*s:%.*s", (int)sku_len, sku, (int)loc_len,
             loc);
    d->aggs[d->n++] = *agg;
    return 0;
}

static bool drained_has(const drained *d, const char *key, int64_t on_hand) {
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->keys[i], key) == 0) return d->aggs[i].on_hand == on_hand;
    return false;
}

static void test_change_tracking(void **state) {
    (void)state;
    inv_partition *p = part_new(0, 1u << 20, true, 1024);
    inv_partition *parts[1] = {p};
    strpool sp;
    strpool_init(&sp, 1 << 16);
    /* Off by default: applying marks nothing. */
    inv_event e0 = ev_mk(&sp, "e0", "S1", "L1", INV_EV_RECEIPT, 5, 0, 0, true);
    EXPECT_RESULT(apply1(parts, 1, &e0), INV_OUT_APPLIED, INV_OK);
    assert_int_equal(partition_changes_pending(p), 0);
    assert_int_equal(partition_track_changes(p), 0);
    assert_int_equal(partition_track_changes(p), 0); /* idempotent */
    /* Two events on one key list it once; its drained aggregate is the latest. */
    inv_event ev[4] = {ev_mk(&sp, "e1", "S1", "L1", INV_EV_RECEIPT, 5, 1, 0, true),
                       ev_mk(&sp, "e2", "S1", "L2", INV_EV_SALE, -1, 2, 0, true),
                       ev_mk(&sp, "e3", "S1", "L1", INV_EV_SALE, 2, 3, 0, true),
                       ev_mk(&sp, "e3", "S1", "L1", INV_EV_SALE, 2, 4, 0, true)}; /* dup */
    inv_result r[4];
    partition_apply_events(parts, 1, ev, 4, r);
    EXPECT_RESULT(r[3], INV_OUT_DUPLICATE, INV_OK);
    assert_int_equal(partition_changes_pending(p), 2);
    /* A stopping callback leaves the rest listed. */
    drained d = {.stop_after = 1};
    assert_int_equal(partition_drain_changes(p, 10, drain_fn, &d), 1);
    assert_int_equal(partition_changes_pending(p), 1);
    d.stop_after = -1;
    assert_int_equal(partition_drain_changes(p, 10, drain_fn, &d), 1);
    assert_int_equal(partition_changes_pending(p), 0);
    assert_int_equal(d.n, 2);
    assert_true(drained_has(&d, "S1:L1", 8));
    assert_true(drained_has(&d, "S1:L2", -1));
    /* Drained keys are listed again by their next change; max bounds a drain. */
    inv_event ev2[3] = {ev_mk(&sp, "e5", "S1", "L1", INV_EV_RECEIPT, 1, 5, 0, true),
                        ev_mk(&sp, "e6", "S2", "L1", INV_EV_RECEIPT, 1, 6, 0, true),
                        ev_mk(&sp, "e7", "S3", "L1", INV_EV_RECEIPT, 1, 7, 0, true)};
    partition_apply_events(parts, 1, ev2, 3, r);
    assert_int_equal(partition_changes_pending(p), 3);
    drained d2 = {.stop_after = -1};
    assert_int_equal(partition_drain_changes(p, 2, drain_fn, &d2), 2);
    assert_int_equal(partition_drain_changes(p, 2, drain_fn, &d2), 1);
    assert_true(drained_has(&d2, "S1:L1", 9));
    /* Duplicates, replays and rejects change nothing and list nothing. */
    inv_event ev3[2] = {ev_mk(&sp, "e5", "S9", "L9", INV_EV_RECEIPT, 1, 8, 0, true),
                        ev_mk(&sp, "e9", "S1", "L1", INV_EV_RECEIPT, 1, 3, 0, true)};
    partition_apply_events(parts, 1, ev3, 2, r);
    EXPECT_RESULT(r[0], INV_OUT_DUPLICATE, INV_OK);
    EXPECT_RESULT(r[1], INV_OUT_REPLAYED, INV_OK);
    assert_int_equal(partition_changes_pending(p), 0);
    /* A drained key the producer refused goes back on the list, once; an
     * unknown key is -ENOENT. */
    assert_int_equal(partition_mark_changed(p, "S1", 2, "L1", 2), 0);
    assert_int_equal(partition_mark_changed(p, "S1", 2, "L1", 2), 0);
    assert_int_equal(partition_changes_pending(p), 1);
    assert_int_equal(partition_mark_changed(p, "S9", 2, "L9", 2), -ENOENT);
    drained d3 = {.stop_after = -1};
    assert_int_equal(partition_drain_changes(p, 10, drain_fn, &d3), 1);
    assert_true(drained_has(&d3, "S1:L1", 9));
    free(sp.mem);
    partition_destroy(p);
}

static void test_restore_and_replay_below(void **state) {
    (void)state;
    inv_partition *p = part_new(0, 1u << 20, true, 1024);
    inv_partition *parts[1] = {p};
    assert_int_equal(partition_track_changes(p), 0);
    /* Restore: inserted or overwritten, never listed as changed. */
    inv_agg a = tu_agg_with(10, 2, 1);
    a.version = 7;
    a.offset = 40;
    a.last_updated_ms = TS0;
    assert_int_equal(partition_restore_key(p, "S1", 2, "L1", 2, &a), 0);
    a.on_hand = 11;
    assert_int_equal(partition_restore_key(p, "S1", 2, "L1", 2, &a), 0);
    inv_agg got;
    assert_int_equal(part_lookup(p, "S1", "L1", &got), 0);
    assert_int_equal(got.on_hand, 11);
    assert_int_equal(got.offset, 40);
    assert_int_equal(partition_changes_pending(p), 0);
    assert_int_equal(partition_restore_key(p, "S:1", 3, "L1", 2, &a), -EINVAL);
    assert_int_equal(partition_restore_key(p, "", 0, "L1", 2, &a), -EINVAL);
    /* Replay bound 50: offsets below only rebuild the window, even for a key
     * whose watermark (40) is lower; at 50 and above, events apply. */
    partition_set_replay_below(p, 50);
    strpool sp;
    strpool_init(&sp, 1 << 16);
    inv_event ev[4] = {ev_mk(&sp, "x1", "S1", "L1", INV_EV_RECEIPT, 5, 45, 0, true),
                       ev_mk(&sp, "x2", "S2", "L1", INV_EV_RECEIPT, 5, 49, 0, true),
                       ev_mk(&sp, "x1", "S1", "L1", INV_EV_RECEIPT, 5, 50, 0, true),
                       ev_mk(&sp, "x3", "S1", "L1", INV_EV_RECEIPT, 5, 51, 0, true)};
    inv_result r[4];
    partition_apply_events(parts, 1, ev, 4, r);
    EXPECT_RESULT(r[0], INV_OUT_REPLAYED, INV_OK);
    EXPECT_RESULT(r[1], INV_OUT_REPLAYED, INV_OK);
    EXPECT_RESULT(r[2], INV_OUT_DUPLICATE, INV_OK); /* its first copy at 45 rebuilt the window */
    EXPECT_RESULT(r[3], INV_OUT_APPLIED, INV_OK);
    assert_int_equal(part_lookup(p, "S1", "L1", &got), 0);
    assert_int_equal(got.on_hand, 16);
    assert_int_equal(got.version, 8);
    assert_int_equal(got.offset, 51);
    assert_int_equal(part_lookup(p, "S2", "L1", &got), -ENOENT); /* never applied */
    assert_int_equal(partition_changes_pending(p), 1);
    free(sp.mem);
    partition_destroy(p);
}

int main(void) {
    inv_rcu_register_thread();
    (void)tu_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_config),  cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_dedup_off),      cmocka_unit_test(test_rejected_overflow),
        cmocka_unit_test(test_pipeline_order), cmocka_unit_test(test_failed_halted),
        cmocka_unit_test(test_change_tracking), cmocka_unit_test(test_restore_and_replay_below),
    };
    int failures = cmocka_run_group_tests(tests, NULL, NULL);
    inv_rcu_barrier();
    inv_rcu_unregister_thread();
    return tu_report(failures);
}
