/* test_table.c - single-threaded tests of engine/table.c (the contract of table.h).
 *
 * Covers: create/destroy and config validation; insert, find, agg_get/set,
 * lookup, count and stats; keys that differ only in where sku ends and the
 * location begins; maximum-length keys; the SKU index (exactly a SKU's
 * locations, newest first, SKUs that are prefixes of others, early stop);
 * insertion-order iteration; index growth from the minimum to 200k keys and
 * pre-sizing; a full arena (-ENOSPC) with everything before still intact.
 *
 * Then a model-based randomized test: millions of random operations on the
 * table and on a trivially simple reference (a dense sku x location map over
 * pools of random strings, and per-key aggregates computed by tu_model from
 * the rules of DESIGN.md section 2), compared per operation on the touched
 * key and in full every batch of operations.
 *
 * Environment: INV_TEST_SEED (replay), INV_TEST_SCALE (op count factor). */
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
#include "inv_limits.h"
#include "rcu.h"
#include "table.h"
#include "test_util.h"

#define ERRSTR_LEN 256

/* --- helpers --------------------------------------------------------------- */

static void key_of(inv_key_buf *k, const char *sku, const char *loc) {
    table_key_init(k, sku, strlen(sku), loc, strlen(loc));
}

static inv_table *table_new(uint64_t arena_bytes, uint32_t keys_expected) {
    inv_table_config cfg = {.arena_bytes = arena_bytes, .keys_expected = keys_expected};
    char err[ERRSTR_LEN] = "";
    inv_table *t = NULL;
    int rc = table_create(&t, &cfg, err, sizeof(err));
    if (rc != 0) fprintf(stderr, "table_create: %d %s\n", rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(t);
    return t;
}

/* table_lookup inside a read section. */
static int lookup(const inv_table *t, const inv_key *k, inv_agg *out) {
    inv_rcu_read_lock();
    int rc = table_lookup(t, k, out);
    inv_rcu_read_unlock();
    return rc;
}

/* An aggregate whose every field is derived from n (distinct per n). */
static inv_agg agg_pattern(uint64_t n) {
    inv_agg a;
    agg_init(&a);
    a.on_hand = (int64_t)n * 7 - 1000;
    a.reserved = (int64_t)n * 3;
    a.in_transit = (int64_t)n * 5 + 1;
    a.last_updated_ms = (int64_t)n * 11 + 17;
    a.version = n + 1;
    a.offset = (int64_t)n * 13;
    a.oversell_count = (uint32_t)n;
    a.release_excess_count = (uint32_t)(n * 2);
    a.transfer_in_excess_count = (uint32_t)(n * 3);
    return a;
}

static void assert_agg_fresh(const inv_agg *a) {
    inv_agg fresh;
    agg_init(&fresh);
    assert_memory_equal(a, &fresh, sizeof(fresh));
}

/* Collects what table_sku_foreach visits. */
#define SEEN_MAX 64
typedef struct seen_locs {
    size_t n;
    size_t stop_after; /* 0 = never stop */
    char loc[SEEN_MAX][INV_LOCATION_LEN_MAX + 1];
    inv_agg agg[SEEN_MAX];
} seen_locs;

static int collect_loc(const char *loc, size_t loc_len, const inv_agg *agg, void *ctx) {
    seen_locs *s = ctx;
    assert_true(s->n < SEEN_MAX);
    assert_true(loc_len >= 1 && loc_len <= INV_LOCATION_LEN_MAX);
    memcpy(s->loc[s->n], loc, loc_len);
    s->loc[s->n][loc_len] = '\0';
    s->agg[s->n] = *agg;
    s->n++;
    return s->stop_after != 0 && s->n >= s->stop_after;
}

/* Visits sku's locations into *s (cleared first); returns table_sku_foreach's value. */
static long sku_locs(const inv_table *t, const char *sku, seen_locs *s) {
    size_t stop = s->stop_after;
    memset(s, 0, sizeof(*s));
    s->stop_after = stop;
    inv_key_buf k;
    key_of(&k, sku, "ignored-location");
    inv_rcu_read_lock();
    long n = table_sku_foreach(t, &k.key, collect_loc, s);
    inv_rcu_read_unlock();
    return n;
}

/* --- config and basics ----------------------------------------------------- */

static void expect_einval(uint64_t arena_bytes, uint32_t keys_expected) {
    inv_table_config cfg = {.arena_bytes = arena_bytes, .keys_expected = keys_expected};
    char err[ERRSTR_LEN] = "";
    inv_table *t = (inv_table *)(uintptr_t)1; /* must not be written on failure */
    assert_int_equal(table_create(&t, &cfg, err, sizeof(err)), -EINVAL);
    assert_true(strlen(err) > 0);
    assert_ptr_equal(t, (inv_table *)(uintptr_t)1);
}

static void test_create_config(void **state) {
    (void)state;
    expect_einval((1u << 20) - 1, 0);
    expect_einval(4096, 0);
    expect_einval(1, 0);
    expect_einval(INV_TABLE_ARENA_BYTES_MAX + 1, 0);
    expect_einval(INV_TABLE_ARENA_BYTES_MAX + 8, 0);
    expect_einval(UINT64_MAX, 0);
    expect_einval(0, INV_TABLE_KEYS_MAX + 1);
    expect_einval(0, UINT32_MAX);
    /* The bounds themselves are valid, and 0 means the default arena. */
    table_destroy(table_new(1u << 20, 0));
    table_destroy(table_new(INV_TABLE_ARENA_BYTES_MAX, 0));
    table_destroy(table_new(0, 0));
    table_destroy(table_new(0, 100000));
    table_destroy(NULL);
}

static void test_basic(void **state) {
    (void)state;
    inv_table *t = table_new(0, 0);
    inv_table_stats st;
    table_get_stats(t, &st);
    assert_int_equal(st.keys, 0);
    assert_int_equal(st.skus, 0);
    assert_int_equal(st.grows, 0);
    assert_true(st.index_slots >= INV_TABLE_SLOTS_MIN);
    assert_true(st.sku_index_slots >= INV_TABLE_SLOTS_MIN);
    assert_int_equal(st.index_slots & (st.index_slots - 1), 0);
    assert_int_equal(st.sku_index_slots & (st.sku_index_slots - 1), 0);
    assert_true(st.memory_bytes >= st.arena_bytes_used + 8 * (st.index_slots + st.sku_index_slots));
    uint64_t used0 = st.arena_bytes_used;
    assert_int_equal(table_count(t), 0);

    inv_key_buf k1, k2, k3;
    key_of(&k1, "SKU-1", "store-1");
    key_of(&k2, "SKU-1", "store-2");
    key_of(&k3, "SKU-2", "store-1");
    inv_agg a;
    assert_int_equal(table_find(t, &k1.key), 0);
    assert_int_equal(lookup(t, &k1.key, &a), -ENOENT);
    seen_locs seen = {0};
    assert_int_equal(sku_locs(t, "SKU-1", &seen), 0);

    inv_ref r1 = 0, r2 = 0, r3 = 0;
    assert_int_equal(table_insert(t, &k1.key, &r1), 0);
    assert_int_not_equal(r1, 0);
    assert_int_equal(table_find(t, &k1.key), r1);
    assert_int_equal(table_find(t, &k2.key), 0);
    assert_int_equal(table_count(t), 1);
    table_agg_get(t, r1, &a);
    assert_agg_fresh(&a);
    assert_int_equal(lookup(t, &k1.key, &a), 0);
    assert_agg_fresh(&a);
    assert_int_equal(lookup(t, &k2.key, &a), -ENOENT);

    inv_agg want1 = agg_pattern(41);
    table_agg_set(t, r1, &want1);
    table_agg_get(t, r1, &a);
    assert_memory_equal(&a, &want1, sizeof(a));
    assert_int_equal(lookup(t, &k1.key, &a), 0);
    assert_memory_equal(&a, &want1, sizeof(a));

    assert_int_equal(table_insert(t, &k2.key, &r2), 0);
    assert_int_equal(table_insert(t, &k3.key, &r3), 0);
    assert_true(r2 != 0 && r3 != 0 && r1 != r2 && r2 != r3 && r1 != r3);
    assert_int_equal(table_find(t, &k1.key), r1);
    assert_int_equal(table_find(t, &k2.key), r2);
    assert_int_equal(table_find(t, &k3.key), r3);
    inv_agg want3 = agg_pattern(3);
    table_agg_set(t, r3, &want3);
    /* Setting k3 changed neither k1 nor the fresh k2. */
    assert_int_equal(lookup(t, &k1.key, &a), 0);
    assert_memory_equal(&a, &want1, sizeof(a));
    assert_int_equal(lookup(t, &k2.key, &a), 0);
    assert_agg_fresh(&a);
    assert_int_equal(lookup(t, &k3.key, &a), 0);
    assert_memory_equal(&a, &want3, sizeof(a));
    /* Overwrite many times: the last one wins. */
    for (uint64_t i = 0; i < 1000; i++) {
        inv_agg x = agg_pattern(i);
        table_agg_set(t, r2, &x);
    }
    inv_agg want2 = agg_pattern(999);
    assert_int_equal(lookup(t, &k2.key, &a), 0);
    assert_memory_equal(&a, &want2, sizeof(a));

    assert_int_equal(table_count(t), 3);
    table_get_stats(t, &st);
    assert_int_equal(st.keys, 3);
    assert_int_equal(st.skus, 2);
    assert_int_equal(st.grows, 0);
    assert_true(st.arena_bytes_used > used0);
    assert_true(st.arena_bytes_used - used0 >= 3 * (sizeof(inv_agg) + 12));
    assert_true(st.memory_bytes >= st.arena_bytes_used + 8 * (st.index_slots + st.sku_index_slots));

    assert_int_equal(sku_locs(t, "SKU-1", &seen), 2);
    assert_string_equal(seen.loc[0], "store-2"); /* newest first */
    assert_string_equal(seen.loc[1], "store-1");
    assert_memory_equal(&seen.agg[0], &want2, sizeof(inv_agg));
    assert_memory_equal(&seen.agg[1], &want1, sizeof(inv_agg));
    assert_int_equal(sku_locs(t, "SKU-2", &seen), 1);
    assert_string_equal(seen.loc[0], "store-1");
    assert_memory_equal(&seen.agg[0], &want3, sizeof(inv_agg));
    assert_int_equal(sku_locs(t, "SKU-3", &seen), 0);
    table_destroy(t);
}

/* "AB"+"C" and "A"+"BC" (and the like) are different keys. */
static void test_split_keys(void **state) {
    (void)state;
    inv_table *t = table_new(0, 0);
    static const char *const pairs[][2] = {
        {"AB", "C"}, {"A", "BC"}, {"ABC", "D"}, {"AB", "CD"}, {"A", "BCD"}, {"ABCD", "E"},
    };
    const size_t n = sizeof(pairs) / sizeof(pairs[0]);
    inv_ref refs[sizeof(pairs) / sizeof(pairs[0])];
    for (size_t i = 0; i < n; i++) {
        inv_key_buf k;
        key_of(&k, pairs[i][0], pairs[i][1]);
        assert_int_equal(table_find(t, &k.key), 0);
        assert_int_equal(table_insert(t, &k.key, &refs[i]), 0);
        inv_agg a = agg_pattern(i);
        table_agg_set(t, refs[i], &a);
    }
    assert_int_equal(table_count(t), n);
    for (size_t i = 0; i < n; i++) {
        inv_key_buf k;
        key_of(&k, pairs[i][0], pairs[i][1]);
        assert_int_equal(table_find(t, &k.key), refs[i]);
        inv_agg a, want = agg_pattern(i);
        assert_int_equal(lookup(t, &k.key, &a), 0);
        assert_memory_equal(&a, &want, sizeof(a));
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(refs[i], refs[j]);
    }
    /* Keys never inserted with the same bytes concatenated. */
    inv_key_buf k;
    inv_agg a;
    key_of(&k, "ABCDE", "F");
    assert_int_equal(table_find(t, &k.key), 0);
    assert_int_equal(lookup(t, &k.key, &a), -ENOENT);
    key_of(&k, "AB", "CDE");
    assert_int_equal(table_find(t, &k.key), 0);
    seen_locs seen = {0};
    assert_int_equal(sku_locs(t, "A", &seen), 2);
    assert_string_equal(seen.loc[0], "BCD");
    assert_string_equal(seen.loc[1], "BC");
    assert_int_equal(sku_locs(t, "AB", &seen), 2);
    assert_string_equal(seen.loc[0], "CD");
    assert_string_equal(seen.loc[1], "C");
    assert_int_equal(sku_locs(t, "ABC", &seen), 1);
    assert_string_equal(seen.loc[0], "D");
    inv_table_stats st;
    table_get_stats(t, &st);
    assert_int_equal(st.skus, 4);
    table_destroy(t);
}

/* 64-byte sku and 64-byte location, alone and differing in one byte. */
static void test_max_length_keys(void **state) {
    (void)state;
    inv_table *t = table_new(0, 0);
    char sku[4][INV_SKU_LEN_MAX + 1], loc[4][INV_LOCATION_LEN_MAX + 1];
    for (int i = 0; i < 4; i++) {
        memset(sku[i], 'S', INV_SKU_LEN_MAX);
        memset(loc[i], 'L', INV_LOCATION_LEN_MAX);
        sku[i][INV_SKU_LEN_MAX] = loc[i][INV_LOCATION_LEN_MAX] = '\0';
    }
    sku[1][INV_SKU_LEN_MAX - 1] = 'x';      /* last sku byte differs */
    loc[2][INV_LOCATION_LEN_MAX - 1] = 'y'; /* last location byte differs */
    sku[3][0] = '-';                        /* first byte differs */
    loc[3][0] = '.';
    inv_ref refs[5];
    for (int i = 0; i < 4; i++) {
        inv_key_buf k;
        table_key_init(&k, sku[i], INV_SKU_LEN_MAX, loc[i], INV_LOCATION_LEN_MAX);
        assert_int_equal(table_insert(t, &k.key, &refs[i]), 0);
        inv_agg a = agg_pattern((uint64_t)i + 100);
        table_agg_set(t, refs[i], &a);
    }
    /* The shortest key too. */
    inv_key_buf kmin;
    table_key_init(&kmin, "S", 1, "L", 1);
    assert_int_equal(table_insert(t, &kmin.key, &refs[4]), 0);
    /* A 63+64 key sharing the prefix is absent. */
    inv_key_buf k;
    table_key_init(&k, sku[0], INV_SKU_LEN_MAX - 1, loc[0], INV_LOCATION_LEN_MAX);
    assert_int_equal(table_find(t, &k.key), 0);
    table_key_init(&k, sku[0], INV_SKU_LEN_MAX, loc[0], INV_LOCATION_LEN_MAX - 1);
    assert_int_equal(table_find(t, &k.key), 0);
    for (int i = 0; i < 4; i++) {
        table_key_init(&k, sku[i], INV_SKU_LEN_MAX, loc[i], INV_LOCATION_LEN_MAX);
        assert_int_equal(table_find(t, &k.key), refs[i]);
        inv_agg a, want = agg_pattern((uint64_t)i + 100);
        assert_int_equal(lookup(t, &k.key, &a), 0);
        assert_memory_equal(&a, &want, sizeof(a));
    }
    /* sku[0] has loc[0] and loc[2] (sku[2] == sku[0]); newest first. */
    seen_locs seen = {0};
    assert_int_equal(sku_locs(t, sku[0], &seen), 2);
    assert_string_equal(seen.loc[0], loc[2]);
    assert_string_equal(seen.loc[1], loc[0]);
    assert_int_equal(sku_locs(t, sku[1], &seen), 1);
    assert_string_equal(seen.loc[0], loc[1]);
    assert_int_equal(table_count(t), 5);
    table_destroy(t);
}

/* table_sku_foreach: exactly the SKU's locations, newest first, including
 * SKUs that are prefixes of one another; early stop. */
static void test_sku_foreach(void **state) {
    (void)state;
    inv_table *t = table_new(0, 0);
    static const char *const skus[] = {"SKU-1", "SKU-10", "SKU-100", "SKU-1.",
                                       "SKU-",  "S",      "SKU-01"};
    enum { NSKU = sizeof(skus) / sizeof(skus[0]), PER = 9 };
    /* Interleave inserts across SKUs, so chains cross each other in the arena. */
    for (int j = 0; j < PER; j++) {
        for (int s = 0; s < NSKU; s++) {
            if (j > s + 2) continue; /* SKU s gets min(PER, s + 3) locations */
            char loc[32];
            snprintf(loc, sizeof(loc), "loc-%d-%d", s, j);
            inv_key_buf k;
            key_of(&k, skus[s], loc);
            inv_ref r;
            assert_int_equal(table_insert(t, &k.key, &r), 0);
            inv_agg a = agg_pattern((uint64_t)(s * 100 + j));
            table_agg_set(t, r, &a);
        }
    }
    seen_locs seen = {0};
    for (int s = 0; s < NSKU; s++) {
        int want = s + 3 < PER ? s + 3 : PER;
        assert_int_equal(sku_locs(t, skus[s], &seen), want);
        assert_int_equal(seen.n, (size_t)want);
        for (int i = 0; i < want; i++) {
            char loc[32];
            int j = want - 1 - i; /* newest first */
            snprintf(loc, sizeof(loc), "loc-%d-%d", s, j);
            assert_string_equal(seen.loc[i], loc);
            inv_agg a = agg_pattern((uint64_t)(s * 100 + j));
            assert_memory_equal(&seen.agg[i], &a, sizeof(a));
        }
    }
    static const char *const absent[] = {"SKU-2", "SKU-1000", "SK", "SKU-1..", "s", "SKU-001"};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
        assert_int_equal(sku_locs(t, absent[i], &seen), 0);
    /* Early stop: the callback stops at the 2nd location; 2 were visited. */
    seen.stop_after = 2;
    assert_int_equal(sku_locs(t, "SKU-100", &seen), 2);
    assert_int_equal(seen.n, 2);
    seen.stop_after = 1;
    assert_int_equal(sku_locs(t, "S", &seen), 1);
    assert_int_equal(seen.n, 1);
    inv_table_stats st;
    table_get_stats(t, &st);
    assert_int_equal(st.skus, NSKU);
    table_destroy(t);
}

/* table_foreach: every record in insertion order. */
typedef struct foreach_ctx {
    char (*skus)[8];
    char (*locs)[8];
    const uint32_t *order; /* key index inserted i-th */
    size_t n;
    size_t stop_after;
    int bad;
} foreach_ctx;

static int foreach_check(const char *sku, size_t sku_len, const char *loc, size_t loc_len,
                         const inv_agg *agg, void *ctx) {
    foreach_ctx *c = ctx;
    uint32_t key = c->order[c->n];
    inv_agg want = agg_pattern(key);
    if (sku_len != strlen(c->skus[key]) || memcmp(sku, c->skus[key], sku_len) != 0 ||
        loc_len != strlen(c->locs[key]) || memcmp(loc, c->locs[key], loc_len) != 0 ||
        memcmp(agg, &want, sizeof(want)) != 0) {
        fprintf(stderr, "foreach: record %zu is not key %u\n", c->n, key);
        c->bad++;
    }
    c->n++;
    return c->stop_after != 0 && c->n >= c->stop_after;
}

static void test_foreach_order(void **state) {
    (void)state;
    enum { N = 3000 };
    static char skus[N][8], locs[N][8];
    static uint32_t order[N];
    uint64_t rng = tu_rng(1);
    for (uint32_t i = 0; i < N; i++) {
        snprintf(skus[i], sizeof(skus[i]), "s%u", i % 50);
        snprintf(locs[i], sizeof(locs[i]), "l%u", i / 50);
        order[i] = i;
    }
    for (uint32_t i = N - 1; i > 0; i--) { /* Fisher-Yates: a random insertion order */
        uint32_t j = (uint32_t)tu_below(&rng, i + 1);
        uint32_t x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    inv_table *t = table_new(0, 0);
    foreach_ctx c = {.skus = skus, .locs = locs, .order = order};
    inv_rcu_read_lock();
    assert_int_equal(table_foreach(t, foreach_check, &c), 0);
    inv_rcu_read_unlock();
    for (uint32_t i = 0; i < N; i++) {
        inv_key_buf k;
        key_of(&k, skus[order[i]], locs[order[i]]);
        inv_ref r;
        assert_int_equal(table_insert(t, &k.key, &r), 0);
        inv_agg a = agg_pattern(order[i]);
        table_agg_set(t, r, &a);
    }
    inv_rcu_read_lock();
    long n = table_foreach(t, foreach_check, &c);
    inv_rcu_read_unlock();
    assert_int_equal(n, N);
    assert_int_equal(c.n, N);
    assert_int_equal(c.bad, 0);
    /* Early stop after 7 records. */
    foreach_ctx c2 = {.skus = skus, .locs = locs, .order = order, .stop_after = 7};
    inv_rcu_read_lock();
    n = table_foreach(t, foreach_check, &c2);
    inv_rcu_read_unlock();
    assert_int_equal(n, 7);
    assert_int_equal(c2.n, 7);
    assert_int_equal(c2.bad, 0);
    table_destroy(t);
}

/* --- growth and capacity ---------------------------------------------------- */

static void growth_key(char *sku, size_t sku_cap, char *loc, size_t loc_cap, uint32_t i) {
    snprintf(sku, sku_cap, "grow-sku-%u", i % 7919);
    snprintf(loc, loc_cap, "loc-%u", i);
}

static void fill_and_check(inv_table *t, uint32_t n) {
    inv_ref *refs = calloc(n, sizeof(*refs));
    assert_non_null(refs);
    char sku[32], loc[32];
    for (uint32_t i = 0; i < n; i++) {
        growth_key(sku, sizeof(sku), loc, sizeof(loc), i);
        inv_key_buf k;
        key_of(&k, sku, loc);
        assert_int_equal(table_insert(t, &k.key, &refs[i]), 0);
        inv_agg a = agg_pattern(i);
        table_agg_set(t, refs[i], &a);
        if (i % 4099 == 0) { /* an early key stays findable across grows */
            key_of(&k, "grow-sku-0", "loc-0");
            assert_int_equal(table_find(t, &k.key), refs[0]);
        }
    }
    assert_int_equal(table_count(t), n);
    for (uint32_t i = 0; i < n; i++) {
        growth_key(sku, sizeof(sku), loc, sizeof(loc), i);
        inv_key_buf k;
        key_of(&k, sku, loc);
        assert_int_equal(table_find(t, &k.key), refs[i]);
        inv_agg a, want = agg_pattern(i);
        assert_int_equal(lookup(t, &k.key, &a), 0);
        assert_memory_equal(&a, &want, sizeof(a));
        if (i > 0) assert_true(refs[i] > refs[i - 1]); /* appended: refs grow with insertion */
    }
    /* The SKU index grew too: grow-sku-1 lists all its locations, newest first. */
    seen_locs seen = {0};
    const uint32_t want = (n - 2) / 7919 + 1; /* keys 1, 7920, 15839, ... below n */
    assert_true(want <= SEEN_MAX);
    assert_int_equal(sku_locs(t, "grow-sku-1", &seen), want);
    for (uint32_t i = 0; i < want; i++) {
        growth_key(sku, sizeof(sku), loc, sizeof(loc), 1 + 7919 * (want - 1 - i));
        assert_string_equal(seen.loc[i], loc);
    }
    free(refs);
}

static void test_growth(void **state) {
    (void)state;
    const uint32_t n = 200000;
    inv_table *t = table_new(0, 0);
    inv_table_stats st0, st;
    table_get_stats(t, &st0);
    fill_and_check(t, n);
    table_get_stats(t, &st);
    assert_int_equal(st.keys, n);
    assert_int_equal(st.skus, 7919);
    assert_true(st.grows > 0);
    assert_true(st.index_slots > st0.index_slots);
    assert_int_equal(st.index_slots & (st.index_slots - 1), 0);
    assert_true(st.keys * 100 <= st.index_slots * INV_TABLE_LOAD_PCT_MAX);
    assert_true(st.skus * 100 <= st.sku_index_slots * INV_TABLE_LOAD_PCT_MAX);
    table_destroy(t);
    inv_rcu_barrier(); /* the retired indexes are freed */

    /* Pre-sized for n keys: no grow at all. */
    t = table_new(0, n);
    table_get_stats(t, &st0);
    assert_true(st0.index_slots * INV_TABLE_LOAD_PCT_MAX >= (uint64_t)n * 100);
    fill_and_check(t, n);
    table_get_stats(t, &st);
    assert_int_equal(st.grows, 0);
    assert_int_equal(st.index_slots, st0.index_slots);
    table_destroy(t);
}

/* A 1 MiB arena fills up: -ENOSPC, and everything before is intact. */
static void test_arena_full(void **state) {
    (void)state;
    const uint64_t arena = 1u << 20;
    inv_table *t = table_new(arena, 0);
    uint64_t rng = tu_rng(2);
    enum { CAP = 1 << 16 };
    typedef struct full_key {
        char sku[INV_SKU_LEN_MAX + 1];
        char loc[INV_LOCATION_LEN_MAX + 1];
        inv_ref ref;
    } full_key;
    full_key *keys = calloc(CAP, sizeof(*keys));
    assert_non_null(keys);
    uint32_t n = 0;
    int rc = 0;
    inv_key_buf k;
    for (; n < CAP; n++) {
        full_key *fk = &keys[n];
        /* Unique: the sku starts with the counter; the rest is random bytes. */
        int len = snprintf(fk->sku, sizeof(fk->sku), "%u.", n);
        size_t sku_len = (size_t)tu_range(&rng, len, INV_SKU_LEN_MAX);
        tu_rand_chars(&rng, fk->sku + len, sku_len - (size_t)len);
        size_t loc_len = (size_t)tu_range(&rng, 1, INV_LOCATION_LEN_MAX);
        tu_rand_chars(&rng, fk->loc, loc_len);
        key_of(&k, fk->sku, fk->loc);
        rc = table_insert(t, &k.key, &fk->ref);
        if (rc != 0) break;
        inv_agg a = agg_pattern(n);
        table_agg_set(t, fk->ref, &a);
    }
    assert_int_equal(rc, -ENOSPC);
    /* Records are at most ~200 bytes even with a generous header. */
    assert_true(n >= arena / 512);
    assert_int_equal(table_count(t), n);
    /* The same insert fails again; the table is unchanged. */
    assert_int_equal(table_insert(t, &k.key, &keys[n].ref), -ENOSPC);
    assert_int_equal(table_find(t, &k.key), 0);
    assert_int_equal(table_count(t), n);
    inv_table_stats st;
    table_get_stats(t, &st);
    assert_int_equal(st.keys, n);
    assert_true(st.arena_bytes_used <= arena);
    assert_true(st.grows > 0); /* the index grew on the way (n > 768 keys) */
    for (uint32_t i = 0; i < n; i++) {
        key_of(&k, keys[i].sku, keys[i].loc);
        assert_int_equal(table_find(t, &k.key), keys[i].ref);
        inv_agg a, want = agg_pattern(i);
        assert_int_equal(lookup(t, &k.key, &a), 0);
        assert_memory_equal(&a, &want, sizeof(a));
    }
    /* Still usable for updates. */
    inv_agg upd = agg_pattern(123456);
    table_agg_set(t, keys[0].ref, &upd);
    key_of(&k, keys[0].sku, keys[0].loc);
    inv_agg a;
    assert_int_equal(lookup(t, &k.key, &a), 0);
    assert_memory_equal(&a, &upd, sizeof(a));
    free(keys);
    table_destroy(t);
}

/* --- model-based randomized test ------------------------------------------- */

/* Pools of distinct random strings; a key is (sku id, location id). */
#define POOL_STR_MAX 64
typedef struct str_pool {
    uint32_t n;
    uint32_t cap;
    char (*s)[POOL_STR_MAX];
    uint8_t *len;
    int32_t *hash; /* open addressing over string bytes: pool index or -1 */
    uint32_t hash_mask;
} str_pool;

static uint64_t str_hash(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return h ^ len;
}

/* Index of (s, len) in the pool, or -1. */
static int32_t pool_find(const str_pool *p, const char *s, size_t len) {
    uint32_t i = (uint32_t)str_hash(s, len) & p->hash_mask;
    for (;;) {
        int32_t x = p->hash[i];
        if (x < 0) return -1;
        if (p->len[x] == len && memcmp(p->s[x], s, len) == 0) return x;
        i = (i + 1) & p->hash_mask;
    }
}

static bool pool_add(str_pool *p, const char *s, size_t len) {
    if (p->n == p->cap || len < 1 || len > POOL_STR_MAX || pool_find(p, s, len) >= 0) return false;
    memcpy(p->s[p->n], s, len);
    p->len[p->n] = (uint8_t)len;
    uint32_t i = (uint32_t)str_hash(s, len) & p->hash_mask;
    while (p->hash[i] >= 0)
        i = (i + 1) & p->hash_mask;
    p->hash[i] = (int32_t)p->n;
    p->n++;
    return true;
}

/* cap distinct strings of random length 1..64; about a fifth are a prefix or
 * an extension of an earlier one, so prefix SKUs are common. */
static void pool_init(str_pool *p, uint32_t cap, uint64_t *rng) {
    memset(p, 0, sizeof(*p));
    p->cap = cap;
    p->s = calloc(cap, sizeof(*p->s));
    p->len = calloc(cap, 1);
    uint32_t slots = 1;
    while (slots < 4 * cap)
        slots <<= 1;
    p->hash = malloc(slots * sizeof(int32_t));
    assert_true(p->s != NULL && p->len != NULL && p->hash != NULL);
    memset(p->hash, 0xff, slots * sizeof(int32_t));
    p->hash_mask = slots - 1;
    char buf[POOL_STR_MAX];
    while (p->n < cap) {
        size_t len;
        uint64_t kind = tu_below(rng, 10);
        if (p->n > 0 && kind < 1) { /* a prefix of an earlier string */
            uint32_t j = (uint32_t)tu_below(rng, p->n);
            if (p->len[j] < 2) continue;
            len = (size_t)tu_range(rng, 1, p->len[j] - 1);
            memcpy(buf, p->s[j], len);
        } else if (p->n > 0 && kind < 2) { /* an extension of an earlier string */
            uint32_t j = (uint32_t)tu_below(rng, p->n);
            if (p->len[j] >= POOL_STR_MAX) continue;
            len = (size_t)tu_range(rng, p->len[j] + 1,
                                   p->len[j] + 2 > POOL_STR_MAX ? POOL_STR_MAX : p->len[j] + 2);
            memcpy(buf, p->s[j], p->len[j]);
            tu_rand_chars(rng, buf + p->len[j], len - p->len[j]);
        } else {
            /* Mostly short strings (as real ids), sometimes up to 64. */
            len = tu_below(rng, 4) == 0 ? (size_t)tu_range(rng, 1, POOL_STR_MAX)
                                        : (size_t)tu_range(rng, 1, 16);
            tu_rand_chars(rng, buf, len);
        }
        (void)pool_add(p, buf, len);
    }
}

static void pool_free(str_pool *p) {
    free(p->s);
    free(p->len);
    free(p->hash);
}

typedef struct ref_rec {
    uint32_t sku;
    uint32_t loc;
    int32_t prev_same_sku; /* older record of the same SKU, or -1 */
    inv_ref ref;
    tu_model m;
} ref_rec;

typedef struct model_ref {
    str_pool skus, locs;
    int32_t *dense;     /* skus.n x locs.n: record index or -1 */
    int32_t *sku_head;  /* newest record of each SKU, or -1 */
    uint32_t *sku_keys; /* records per SKU */
    ref_rec *recs;      /* insertion order */
    uint32_t n;
    uint32_t cap;
    uint32_t skus_used;
} model_ref;

/* Context of the full-check callbacks. */
typedef struct scan_ctx {
    const model_ref *r;
    int32_t next; /* sku_foreach: the record expected next; foreach: its index */
    long seen;
    int bad;
} scan_ctx;

static int scan_sku_cb(const char *loc, size_t loc_len, const inv_agg *agg, void *ctx) {
    scan_ctx *c = ctx;
    c->seen++;
    if (c->next < 0) {
        c->bad++;
        return 1;
    }
    const ref_rec *rr = &c->r->recs[c->next];
    const str_pool *lp = &c->r->locs;
    if (loc_len != lp->len[rr->loc] || memcmp(loc, lp->s[rr->loc], loc_len) != 0 ||
        !tu_model_eq(&rr->m, agg)) {
        fprintf(stderr, "sku_foreach: visit %ld is not record %d\n", c->seen, c->next);
        tu_model_print("sku_foreach aggregate", &rr->m, agg);
        c->bad++;
        return 1;
    }
    c->next = rr->prev_same_sku;
    return 0;
}

static int scan_all_cb(const char *sku, size_t sku_len, const char *loc, size_t loc_len,
                       const inv_agg *agg, void *ctx) {
    scan_ctx *c = ctx;
    c->seen++;
    if ((uint32_t)c->next >= c->r->n) {
        c->bad++;
        return 1;
    }
    const ref_rec *rr = &c->r->recs[c->next];
    const str_pool *sp = &c->r->skus, *lp = &c->r->locs;
    if (sku_len != sp->len[rr->sku] || memcmp(sku, sp->s[rr->sku], sku_len) != 0 ||
        loc_len != lp->len[rr->loc] || memcmp(loc, lp->s[rr->loc], loc_len) != 0 ||
        !tu_model_eq(&rr->m, agg)) {
        fprintf(stderr, "foreach: visit %ld is not record %d\n", c->seen, c->next);
        tu_model_print("foreach aggregate", &rr->m, agg);
        c->bad++;
        return 1;
    }
    c->next++;
    return 0;
}

static void ref_key(const model_ref *r, inv_key_buf *k, uint32_t sku, uint32_t loc) {
    table_key_init(k, r->skus.s[sku], r->skus.len[sku], r->locs.s[loc], r->locs.len[loc]);
}

#define MODEL_FAIL(op, ...)                                                                        \
    do {                                                                                           \
        fprintf(stderr, "model test: mismatch at operation %" PRIu64 ": ", (uint64_t)(op));        \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n  replay with INV_TEST_SEED=%" PRIu64 "\n", tu_seed());                 \
        fail();                                                                                    \
    } while (0)

/* Compares the whole table against the reference. Read sections are closed
 * before any failure, so a failing run does not leave one open. */
static void model_full_check(const inv_table *t, const model_ref *r, uint64_t op) {
    if (table_count(t) != r->n)
        MODEL_FAIL(op, "table_count %" PRIu64 " != %u", table_count(t), r->n);
    inv_table_stats st;
    table_get_stats(t, &st);
    if (st.keys != r->n || st.skus != r->skus_used)
        MODEL_FAIL(op, "stats keys %" PRIu64 " skus %" PRIu64 ", want %u %u", st.keys, st.skus,
                   r->n, r->skus_used);
    for (uint32_t i = 0; i < r->n; i++) {
        const ref_rec *rr = &r->recs[i];
        inv_key_buf k;
        ref_key(r, &k, rr->sku, rr->loc);
        inv_agg a;
        memset(&a, 0, sizeof(a));
        int rc = lookup(t, &k.key, &a);
        if (rc != 0 || !tu_model_eq(&rr->m, &a)) {
            tu_model_print("lookup", &rr->m, &a);
            MODEL_FAIL(op, "table_lookup of record %u: rc %d", i, rc);
        }
        if (table_find(t, &k.key) != rr->ref) MODEL_FAIL(op, "table_find of record %u", i);
    }
    for (uint32_t s = 0; s < r->skus.n; s++) {
        if (r->sku_head[s] < 0) continue;
        inv_key_buf k;
        table_key_init(&k, r->skus.s[s], r->skus.len[s], "x", 1);
        scan_ctx c = {.r = r, .next = r->sku_head[s]};
        inv_rcu_read_lock();
        long n = table_sku_foreach(t, &k.key, scan_sku_cb, &c);
        inv_rcu_read_unlock();
        if (n != (long)r->sku_keys[s] || c.bad != 0 || c.next != -1)
            MODEL_FAIL(op, "table_sku_foreach of sku %u: %ld visited, want %u (bad %d)", s, n,
                       r->sku_keys[s], c.bad);
    }
    scan_ctx c = {.r = r, .next = 0};
    inv_rcu_read_lock();
    long n = table_foreach(t, scan_all_cb, &c);
    inv_rcu_read_unlock();
    if (n != (long)r->n || c.bad != 0)
        MODEL_FAIL(op, "table_foreach: %ld visited, want %u", n, r->n);
}

static void model_insert(inv_table *t, model_ref *r, uint64_t *rng, uint64_t op) {
    uint32_t s = (uint32_t)tu_below(rng, r->skus.n);
    uint32_t l = (uint32_t)tu_below(rng, r->locs.n);
    int32_t *slot = &r->dense[(size_t)s * r->locs.n + l];
    inv_key_buf k;
    ref_key(r, &k, s, l);
    if (*slot >= 0) { /* present: find must agree */
        if (table_find(t, &k.key) != r->recs[*slot].ref) MODEL_FAIL(op, "find of a present key");
        return;
    }
    if (r->n == r->cap) return;
    if (table_find(t, &k.key) != 0) MODEL_FAIL(op, "find of an absent key returned a record");
    ref_rec *rr = &r->recs[r->n];
    int rc = table_insert(t, &k.key, &rr->ref);
    if (rc != 0 || rr->ref == 0) MODEL_FAIL(op, "table_insert: %d", rc);
    rr->sku = s;
    rr->loc = l;
    rr->prev_same_sku = r->sku_head[s];
    tu_model_init(&rr->m);
    if (r->sku_keys[s] == 0) r->skus_used++;
    r->sku_keys[s]++;
    r->sku_head[s] = (int32_t)r->n;
    *slot = (int32_t)r->n;
    r->n++;
    inv_agg a;
    table_agg_get(t, rr->ref, &a);
    if (!tu_model_eq(&rr->m, &a)) MODEL_FAIL(op, "a new key's aggregate is not fresh");
}

static void model_event(inv_table *t, model_ref *r, uint64_t *rng, uint64_t op, int64_t *offset) {
    if (r->n == 0) return;
    ref_rec *rr = &r->recs[tu_below(rng, r->n)];
    inv_event_type type = tu_rand_type(rng);
    int64_t delta = tu_rand_delta(rng, type);
    /* Event times mostly advance, sometimes go back (last_updated is a max). */
    int64_t ts = 1795428930123LL + (int64_t)op * 10 - tu_range(rng, 0, 100000);
    *offset += 1 + (int64_t)tu_below(rng, 3);
    inv_event ev = tu_event("id", 2, r->skus.s[rr->sku], r->skus.len[rr->sku], r->locs.s[rr->loc],
                            r->locs.len[rr->loc], type, delta, *offset, ts, 0);
    if (event_validate(&ev) != INV_OK) MODEL_FAIL(op, "generated an invalid event");
    inv_agg cur, next;
    table_agg_get(t, rr->ref, &cur);
    inv_reason why = apply_event(&cur, &ev, &next);
    if (why != INV_OK) MODEL_FAIL(op, "apply_event: reason %d", (int)why);
    table_agg_set(t, rr->ref, &next);
    if (!tu_model_apply(&rr->m, type, delta, *offset, ts, NULL)) MODEL_FAIL(op, "model overflow");
    inv_agg got;
    table_agg_get(t, rr->ref, &got);
    if (!tu_model_eq(&rr->m, &got)) {
        tu_model_print("after apply", &rr->m, &got);
        MODEL_FAIL(op, "%s %" PRId64 " on record %td", event_type_name(type), delta, rr - r->recs);
    }
}

/* Lookup of a key the reference says is absent: an unused pool pair, a
 * shifted split of a present key, or a fresh random string. */
static void model_absent(inv_table *t, model_ref *r, uint64_t *rng, uint64_t op) {
    char sku[POOL_STR_MAX + 1], loc[POOL_STR_MAX + 1];
    size_t sku_len, loc_len;
    uint64_t kind = tu_below(rng, 3);
    if (kind == 0 || r->n == 0) {
        uint32_t s = (uint32_t)tu_below(rng, r->skus.n), l = (uint32_t)tu_below(rng, r->locs.n);
        if (r->dense[(size_t)s * r->locs.n + l] >= 0) return;
        sku_len = r->skus.len[s];
        loc_len = r->locs.len[l];
        memcpy(sku, r->skus.s[s], sku_len);
        memcpy(loc, r->locs.s[l], loc_len);
    } else if (kind == 1) { /* move the split point of a present key by one byte */
        const ref_rec *rr = &r->recs[tu_below(rng, r->n)];
        char all[2 * POOL_STR_MAX];
        size_t sl = r->skus.len[rr->sku], ll = r->locs.len[rr->loc];
        memcpy(all, r->skus.s[rr->sku], sl);
        memcpy(all + sl, r->locs.s[rr->loc], ll);
        sku_len = tu_below(rng, 2) ? sl + 1 : sl - 1;
        if (sku_len < 1 || sku_len > POOL_STR_MAX || sl + ll - sku_len < 1 ||
            sl + ll - sku_len > POOL_STR_MAX)
            return;
        loc_len = sl + ll - sku_len;
        memcpy(sku, all, sku_len);
        memcpy(loc, all + sku_len, loc_len);
    } else {
        sku_len = (size_t)tu_range(rng, 1, POOL_STR_MAX);
        loc_len = (size_t)tu_range(rng, 1, POOL_STR_MAX);
        tu_rand_chars(rng, sku, sku_len);
        tu_rand_chars(rng, loc, loc_len);
    }
    int32_t s = pool_find(&r->skus, sku, sku_len), l = pool_find(&r->locs, loc, loc_len);
    bool present = s >= 0 && l >= 0 && r->dense[(size_t)s * r->locs.n + (uint32_t)l] >= 0;
    inv_key_buf k;
    table_key_init(&k, sku, sku_len, loc, loc_len);
    inv_agg a;
    int rc = lookup(t, &k.key, &a);
    if (present) {
        if (rc != 0) MODEL_FAIL(op, "lookup of a present key: %d", rc);
        return;
    }
    if (table_find(t, &k.key) != 0 || rc != -ENOENT)
        MODEL_FAIL(op, "absent key %.*s/%.*s found (lookup %d)", (int)sku_len, sku, (int)loc_len,
                   loc, rc);
    if (s < 0) { /* a SKU with no key at all has no location */
        scan_ctx c = {.r = r, .next = -1};
        inv_rcu_read_lock();
        long n = table_sku_foreach(t, &k.key, scan_sku_cb, &c);
        inv_rcu_read_unlock();
        if (n != 0) MODEL_FAIL(op, "sku_foreach of an unknown SKU visited %ld", n);
    }
}

static void test_model_random(void **state) {
    (void)state;
    const uint64_t ops = tu_scaled(2000000, 200000);
    const uint64_t batch = 10000;
    uint64_t rng = tu_rng(3);
    model_ref r;
    memset(&r, 0, sizeof(r));
    pool_init(&r.skus, 3000, &rng);
    pool_init(&r.locs, 200, &rng);
    r.cap = (uint32_t)(ops / 16 + 16);
    r.recs = calloc(r.cap, sizeof(*r.recs));
    r.dense = malloc((size_t)r.skus.n * r.locs.n * sizeof(int32_t));
    r.sku_head = malloc(r.skus.n * sizeof(int32_t));
    r.sku_keys = calloc(r.skus.n, sizeof(uint32_t));
    assert_true(r.recs && r.dense && r.sku_head && r.sku_keys);
    memset(r.dense, 0xff, (size_t)r.skus.n * r.locs.n * sizeof(int32_t));
    memset(r.sku_head, 0xff, r.skus.n * sizeof(int32_t));

    inv_table *t = table_new(0, 0);
    int64_t offset = 0;
    int64_t t0 = tu_now_ns();
    uint64_t counts[4] = {0};
    for (uint64_t op = 0; op < ops; op++) {
        uint64_t x = tu_below(&rng, 100);
        if (x < 6) {
            model_insert(t, &r, &rng, op);
            counts[0]++;
        } else if (x < 86) {
            model_event(t, &r, &rng, op, &offset);
            counts[1]++;
        } else if (x < 96) {
            model_absent(t, &r, &rng, op);
            counts[2]++;
        } else if (r.n > 0) { /* lookup of a present key */
            const ref_rec *rr = &r.recs[tu_below(&rng, r.n)];
            inv_key_buf k;
            ref_key(&r, &k, rr->sku, rr->loc);
            inv_agg a;
            memset(&a, 0, sizeof(a));
            if (lookup(t, &k.key, &a) != 0 || !tu_model_eq(&rr->m, &a)) {
                tu_model_print("lookup", &rr->m, &a);
                MODEL_FAIL(op, "lookup of record %td", rr - r.recs);
            }
            counts[3]++;
        }
        if ((op + 1) % batch == 0 || op + 1 == ops) model_full_check(t, &r, op);
    }
    inv_table_stats st;
    table_get_stats(t, &st);
    fprintf(stderr,
            "model test: %" PRIu64 " ops (%" PRIu64 " insert, %" PRIu64 " event, %" PRIu64
            " absent, %" PRIu64 " lookup), %u keys, %u skus, %" PRIu64 " grows, %.2f s\n",
            ops, counts[0], counts[1], counts[2], counts[3], r.n, r.skus_used, st.grows,
            (double)(tu_now_ns() - t0) / 1e9);
    assert_true(r.n > 1000);
    assert_true(st.grows > 0);
    table_destroy(t);
    inv_rcu_barrier();
    free(r.recs);
    free(r.dense);
    free(r.sku_head);
    free(r.sku_keys);
    pool_free(&r.skus);
    pool_free(&r.locs);
}

int main(void) {
    inv_rcu_register_thread();
    (void)tu_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_config), cmocka_unit_test(test_basic),
        cmocka_unit_test(test_split_keys),    cmocka_unit_test(test_max_length_keys),
        cmocka_unit_test(test_sku_foreach),   cmocka_unit_test(test_foreach_order),
        cmocka_unit_test(test_growth),        cmocka_unit_test(test_arena_full),
        cmocka_unit_test(test_model_random),
    };
    int failures = cmocka_run_group_tests(tests, NULL, NULL);
    inv_rcu_barrier();
    inv_rcu_unregister_thread();
    return tu_report(failures);
}
