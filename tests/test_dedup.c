/* test_dedup.c - unit tests of engine/dedup.c, the per-partition eventId window.
 *
 * Covers the contract of dedup.h: fingerprints, both expiry rules at their
 * exact boundaries (including int64 extremes and out-of-order times), clear,
 * the counters, the fixed memory bound (formula and process RSS), a
 * randomized comparison against a plain reference model, false positives
 * over millions of distinct ids, and backward-shift deletion in a tiny table
 * with forced collisions.
 *
 * Environment: INV_TEST_SEED fixes the random seed (printed at start and in
 * every failure message); INV_TEST_SCALE (a factor, default 1) scales the
 * 10M-id false-positive run for slow machines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "dedup.h"
#include "inv_limits.h"

static uint64_t test_seed; /* set once in main */

/* splitmix64: the test's random generator and fingerprint mixer. */
static uint64_t test_mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static uint64_t test_rand(uint64_t *state) {
    *state += 0x9E3779B97F4A7C15ULL;
    return test_mix(*state);
}

/* A nonzero fingerprint for key k (distinct k give distinct values but for a
 * 2^-64 chance). */
static uint64_t test_key_fp(uint64_t k) {
    uint64_t fp = test_mix(k);
    return fp == 0 ? 1 : fp;
}

/* The fingerprint of the eventId "<prefix>-<n>" (n in decimal; formatted by
 * hand because snprintf would dominate the 10M-id runs). */
static uint64_t test_evt_fp(const char *prefix, uint32_t n) {
    char buf[64];
    size_t len = strlen(prefix);
    assert_true(len + 12 < sizeof(buf));
    memcpy(buf, prefix, len);
    buf[len++] = '-';
    char digits[10];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    while (nd > 0) buf[len++] = digits[--nd];
    return dedup_fingerprint(buf, len);
}

static double test_scale(void) {
    const char *s = getenv("INV_TEST_SCALE");
    if (s != NULL && *s != '\0') {
        double v = strtod(s, NULL);
        if (v > 0) return v;
    }
    return 1.0; /* 10M ids take ~3 s plain and ~9 s under ASan+UBSan here */
}

static size_t test_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    unsigned long size_pages = 0, resident_pages = 0;
    assert_int_equal(fscanf(f, "%lu %lu", &size_pages, &resident_pages), 2);
    fclose(f);
    return (size_t)resident_pages * (size_t)sysconf(_SC_PAGESIZE);
}

static inv_dedup *test_create(uint32_t ids_max, int64_t window_ms) {
    inv_dedup *d = NULL;
    assert_int_equal(dedup_create(&d, ids_max, window_ms), 0);
    assert_non_null(d);
    return d;
}

static void test_expect_stats(const inv_dedup *d, uint64_t ids, uint64_t inserted,
                              uint64_t expired, uint64_t evicted, int64_t newest_ms) {
    inv_dedup_stats st;
    dedup_get_stats(d, &st);
    assert_int_equal(st.ids, ids);
    assert_int_equal(st.inserted, inserted);
    assert_int_equal(st.expired_by_time, expired);
    assert_int_equal(st.evicted_by_count, evicted);
    assert_true(st.newest_time_ms == newest_ms);
}

/* ---- arguments, fingerprints, basics ---------------------------------- */

static void test_create_rejects_bad_arguments(void **state) {
    (void)state;
    inv_dedup *d = (inv_dedup *)&d; /* must be reset to NULL on failure */
    assert_int_equal(dedup_create(&d, INV_DEDUP_IDS_MIN - 1, 1000), -EINVAL);
    assert_null(d);
    assert_int_equal(dedup_create(&d, INV_DEDUP_IDS_MAX + 1, 1000), -EINVAL);
    assert_int_equal(dedup_create(&d, 0, 1000), -EINVAL);
    assert_int_equal(dedup_create(&d, 1024, 0), -EINVAL);
    assert_int_equal(dedup_create(&d, 1024, -1), -EINVAL);
    assert_int_equal(dedup_create(&d, 1024, INT64_MIN), -EINVAL);
    assert_null(d);
    assert_int_equal(dedup_memory_bytes_for(INV_DEDUP_IDS_MIN - 1), 0);
    assert_int_equal(dedup_memory_bytes_for(INV_DEDUP_IDS_MAX + 1), 0);
    dedup_destroy(NULL);

    d = test_create(INV_DEDUP_IDS_MIN, 1);
    dedup_destroy(d);
    d = test_create(INV_DEDUP_IDS_MIN, INT64_MAX);
    test_expect_stats(d, 0, 0, 0, 0, INT64_MIN);
    dedup_destroy(d);
}

static int test_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_fingerprint_nonzero_and_deterministic(void **state) {
    (void)state;
    const char *id = "pos-88123:2";
    uint64_t fp = dedup_fingerprint(id, strlen(id));
    assert_true(fp != 0);
    assert_true(fp == dedup_fingerprint("pos-88123:2", 11));
    uint64_t raw = XXH3_64bits(id, strlen(id));
    assert_true(fp == (raw == 0 ? 1 : raw)); /* the documented function */
    assert_true(dedup_fingerprint("", 0) != 0);
    assert_true(dedup_fingerprint(NULL, 0) == dedup_fingerprint("", 0));
    assert_true(dedup_fingerprint("abc", 2) != dedup_fingerprint("abc", 3));

    /* 1M distinct ids: never 0, all distinct (a collision has p ~ 3e-8). */
    enum { N = 1000000 };
    uint64_t *fps = malloc(N * sizeof(*fps));
    assert_non_null(fps);
    for (uint32_t i = 0; i < N; i++) {
        fps[i] = test_evt_fp("evt", i);
        assert_true(fps[i] != 0);
        assert_true(fps[i] == test_evt_fp("evt", i));
    }
    qsort(fps, N, sizeof(*fps), test_cmp_u64);
    for (uint32_t i = 1; i < N; i++) assert_true(fps[i - 1] != fps[i]);
    free(fps);
}

static void test_basic_insert_contains(void **state) {
    (void)state;
    inv_dedup *d = test_create(1024, 1000);
    uint64_t a = dedup_fingerprint("a", 1), b = dedup_fingerprint("b", 1);
    assert_false(dedup_contains(d, a));
    dedup_prefetch(d, a);
    dedup_insert(d, a, 100);
    assert_true(dedup_contains(d, a));
    assert_false(dedup_contains(d, b));
    test_expect_stats(d, 1, 1, 0, 0, 100);
    dedup_insert(d, b, 50); /* older time: newest stays */
    assert_true(dedup_contains(d, a));
    assert_true(dedup_contains(d, b));
    test_expect_stats(d, 2, 2, 0, 0, 100);
    dedup_destroy(d);
}

/* Distinct ids are never reported as duplicates, and every id is found right
 * after its insert, while the window turns over by count many times. */
static void test_distinct_ids_never_duplicates(void **state) {
    (void)state;
    enum { IDS = 1 << 16, N = 200000 };
    inv_dedup *d = test_create(IDS, INT64_MAX);
    for (uint32_t i = 0; i < N; i++) {
        uint64_t fp = test_evt_fp("distinct", i);
        assert_false(dedup_contains(d, fp));
        dedup_insert(d, fp, (int64_t)i);
        assert_true(dedup_contains(d, fp));
    }
    test_expect_stats(d, IDS, N, 0, N - IDS, N - 1);
    dedup_destroy(d);
}

#ifndef INV_DEBUG
/* Release builds: an insert of an fp already held (a caller bug, asserted in
 * INV_DEBUG builds) is ignored and keeps ring and set in step. */
static void test_duplicate_insert_ignored_in_release(void **state) {
    (void)state;
    inv_dedup *d = test_create(16, 1000);
    uint64_t a = test_key_fp(1);
    dedup_insert(d, a, 10);
    dedup_insert(d, a, 20);
    test_expect_stats(d, 1, 1, 0, 0, 20);
    for (uint32_t i = 0; i < 40; i++) dedup_insert(d, test_key_fp(100 + i), 20);
    assert_false(dedup_contains(d, a));
    test_expect_stats(d, 16, 41, 0, 25, 20);
    dedup_destroy(d);
}
#endif

/* ---- expiry ------------------------------------------------------------ */

/* t < newest - window expires; t == newest - window stays. */
static void test_expiry_by_time_boundary(void **state) {
    (void)state;
    inv_dedup *d = test_create(1024, 1000);
    uint64_t a = test_key_fp(1), b = test_key_fp(2), c = test_key_fp(3), e = test_key_fp(5);
    uint64_t dd = test_key_fp(4), f = test_key_fp(6), g = test_key_fp(7);
    dedup_insert(d, a, 0);
    dedup_insert(d, b, 500);
    dedup_insert(d, c, 1000); /* cutoff 0: a (t == cutoff) stays */
    assert_true(dedup_contains(d, a));
    test_expect_stats(d, 3, 3, 0, 0, 1000);
    dedup_insert(d, dd, 1001); /* cutoff 1: a expires */
    assert_false(dedup_contains(d, a));
    assert_true(dedup_contains(d, b) && dedup_contains(d, c) && dedup_contains(d, dd));
    test_expect_stats(d, 3, 4, 1, 0, 1001);
    dedup_insert(d, e, 1500); /* cutoff 500: b stays */
    assert_true(dedup_contains(d, b));
    test_expect_stats(d, 4, 5, 1, 0, 1500);
    dedup_insert(d, f, 1501); /* cutoff 501: b expires */
    assert_false(dedup_contains(d, b));
    test_expect_stats(d, 4, 6, 2, 0, 1501);
    dedup_insert(d, g, 5000); /* cutoff 4000: c, dd, e, f expire */
    assert_false(dedup_contains(d, c) || dedup_contains(d, dd) || dedup_contains(d, e) ||
                 dedup_contains(d, f));
    assert_true(dedup_contains(d, g));
    test_expect_stats(d, 1, 7, 6, 0, 5000);
    dedup_destroy(d);
}

/* Inserting ids_max + k ids evicts exactly the k oldest. */
static void test_expiry_by_count(void **state) {
    (void)state;
    const uint32_t sizes[] = {16, 17, 1000, 1024};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const uint32_t n = sizes[s];
        const uint32_t ks[] = {0, 1, n / 2, n, 3 * n + 7};
        for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
            const uint32_t k = ks[ki];
            inv_dedup *d = test_create(n, INT64_MAX);
            for (uint32_t i = 0; i < n + k; i++) dedup_insert(d, test_key_fp(i), 0);
            for (uint32_t i = 0; i < n + k; i++) {
                assert_int_equal(dedup_contains(d, test_key_fp(i)), i >= k);
            }
            test_expect_stats(d, n, n + k, 0, k, 0);
            dedup_destroy(d);
        }
    }
}

/* Out-of-order times, as dedup.c documents: expiry looks at the head only. */
static void test_out_of_order_times(void **state) {
    (void)state;
    inv_dedup *d = test_create(64, 1000);
    uint64_t fp[16];
    for (uint32_t i = 0; i < 16; i++) fp[i] = test_key_fp(1000 + i);
    enum { A, B, C, D, F, G, H, I, J, K };

    dedup_insert(d, fp[A], 5000);
    dedup_insert(d, fp[B], 100); /* already outside the window: still remembered */
    assert_true(dedup_contains(d, fp[B]));
    test_expect_stats(d, 2, 2, 0, 0, 5000); /* newest never goes back */
    dedup_insert(d, fp[C], 5001);           /* cutoff 4001: head A in window, B waits */
    assert_true(dedup_contains(d, fp[A]) && dedup_contains(d, fp[B]));
    test_expect_stats(d, 3, 3, 0, 0, 5001);
    dedup_insert(d, fp[D], 6001); /* cutoff 5001: A and B expire, C (== cutoff) stays */
    assert_false(dedup_contains(d, fp[A]) || dedup_contains(d, fp[B]));
    assert_true(dedup_contains(d, fp[C]) && dedup_contains(d, fp[D]));
    test_expect_stats(d, 2, 4, 2, 0, 6001);
    dedup_insert(d, fp[F], 3000); /* late and old: held behind C and D */
    dedup_insert(d, fp[G], 7002); /* cutoff 6002: C, D, then F expire */
    assert_false(dedup_contains(d, fp[C]) || dedup_contains(d, fp[D]) ||
                 dedup_contains(d, fp[F]));
    test_expect_stats(d, 1, 6, 5, 0, 7002);
    /* An out-of-window id behind a head still inside the window waits for it. */
    dedup_insert(d, fp[H], 7500);
    dedup_insert(d, fp[I], 100);
    dedup_insert(d, fp[J], 8003); /* cutoff 7003: G expires, H stays, so I stays too */
    assert_false(dedup_contains(d, fp[G]));
    assert_true(dedup_contains(d, fp[H]) && dedup_contains(d, fp[I]));
    test_expect_stats(d, 3, 9, 6, 0, 8003);
    dedup_insert(d, fp[K], 8501); /* cutoff 7501: H and I expire, J stays */
    assert_false(dedup_contains(d, fp[H]) || dedup_contains(d, fp[I]));
    assert_true(dedup_contains(d, fp[J]) && dedup_contains(d, fp[K]));
    test_expect_stats(d, 2, 10, 8, 0, 8501);
    dedup_destroy(d);

    /* Decreasing times: nothing expires by time, the count bound holds. */
    d = test_create(16, 1000000);
    for (uint32_t i = 0; i < 40; i++) dedup_insert(d, test_key_fp(i), 1000 - (int64_t)i);
    for (uint32_t i = 0; i < 40; i++) assert_int_equal(dedup_contains(d, test_key_fp(i)), i >= 24);
    test_expect_stats(d, 16, 40, 0, 24, 1000);
    dedup_destroy(d);
}

/* newest - window never overflows, at either end of int64. */
static void test_extreme_times(void **state) {
    (void)state;
    uint64_t a = test_key_fp(1), b = test_key_fp(2), c = test_key_fp(3), e = test_key_fp(4);

    inv_dedup *d = test_create(64, INT64_MAX);
    dedup_insert(d, a, INT64_MIN);
    dedup_insert(d, b, INT64_MAX); /* cutoff 0: a expires */
    assert_false(dedup_contains(d, a));
    dedup_insert(d, c, -1); /* outside, held behind b */
    assert_true(dedup_contains(d, b) && dedup_contains(d, c));
    test_expect_stats(d, 2, 3, 1, 0, INT64_MAX);
    dedup_destroy(d);

    d = test_create(64, 1);
    dedup_insert(d, a, INT64_MIN);
    dedup_insert(d, b, INT64_MIN);     /* cutoff below INT64_MIN: nothing expires */
    dedup_insert(d, c, INT64_MIN + 1); /* cutoff INT64_MIN: a, b (== cutoff) stay */
    test_expect_stats(d, 3, 3, 0, 0, INT64_MIN + 1);
    dedup_insert(d, e, INT64_MIN + 2); /* cutoff INT64_MIN + 1: a, b expire */
    assert_false(dedup_contains(d, a) || dedup_contains(d, b));
    assert_true(dedup_contains(d, c) && dedup_contains(d, e));
    test_expect_stats(d, 2, 4, 2, 0, INT64_MIN + 2);
    dedup_destroy(d);

    d = test_create(64, INT64_MAX);
    dedup_insert(d, a, INT64_MIN);
    dedup_insert(d, b, -1); /* cutoff -1 - INT64_MAX == INT64_MIN: a stays */
    assert_true(dedup_contains(d, a));
    dedup_insert(d, c, 0); /* cutoff INT64_MIN + 1: a expires */
    assert_false(dedup_contains(d, a));
    test_expect_stats(d, 2, 3, 1, 0, 0);
    dedup_destroy(d);
}

/* ---- clear and stats --------------------------------------------------- */

static void test_clear(void **state) {
    (void)state;
    inv_dedup *d = test_create(64, 1000);
    dedup_clear(d); /* on an empty window */
    test_expect_stats(d, 0, 0, 0, 0, INT64_MIN);
    for (uint32_t i = 0; i < 80; i++) dedup_insert(d, test_key_fp(i), 1000000 + i);
    test_expect_stats(d, 64, 80, 0, 16, 1000079);
    dedup_clear(d); /* drops ids, keeps counters, forgets the newest time */
    test_expect_stats(d, 0, 80, 0, 16, INT64_MIN);
    for (uint32_t i = 0; i < 80; i++) assert_false(dedup_contains(d, test_key_fp(i)));
    /* Old times are not expired against the time seen before the clear. */
    for (uint32_t i = 0; i < 10; i++) dedup_insert(d, test_key_fp(i), i);
    for (uint32_t i = 0; i < 10; i++) assert_true(dedup_contains(d, test_key_fp(i)));
    test_expect_stats(d, 10, 90, 0, 16, 9);
    for (uint32_t i = 10; i < 200; i++) dedup_insert(d, test_key_fp(i), 9);
    test_expect_stats(d, 64, 280, 0, 16 + 136, 9);
    for (uint32_t i = 0; i < 200; i++) {
        assert_int_equal(dedup_contains(d, test_key_fp(i)), i >= 136);
    }
    dedup_destroy(d);
}

/* Counters add up: inserted == ids + expired_by_time + evicted_by_count
 * (without a clear, which drops ids uncounted). */
static void test_stats(void **state) {
    (void)state;
    inv_dedup *d = test_create(INV_DEDUP_IDS_MIN, 100);
    test_expect_stats(d, 0, 0, 0, 0, INT64_MIN);
    for (uint32_t i = 0; i < 18; i++) dedup_insert(d, test_key_fp(i), i);
    test_expect_stats(d, 16, 18, 0, 2, 17);
    dedup_insert(d, test_key_fp(100), 200); /* cutoff 100: all 16 expire first */
    test_expect_stats(d, 1, 19, 16, 2, 200);
    uint64_t state_rng = 42;
    int64_t t = 200;
    for (uint32_t i = 0; i < 100000; i++) {
        t += (int64_t)(test_rand(&state_rng) % 20);
        dedup_insert(d, test_key_fp(1000 + i), t);
        inv_dedup_stats st;
        dedup_get_stats(d, &st);
        assert_int_equal(st.inserted, st.ids + st.expired_by_time + st.evicted_by_count);
        assert_true(st.ids >= 1 && st.ids <= INV_DEDUP_IDS_MIN);
        assert_true(st.newest_time_ms == t);
    }
    inv_dedup_stats st;
    dedup_get_stats(d, &st);
    assert_true(st.expired_by_time > 1000 && st.evicted_by_count > 1000); /* both rules ran */
    dedup_destroy(d);
}

/* ---- memory ------------------------------------------------------------ */

static uint64_t test_pow2_at_least(uint64_t x) {
    uint64_t p = 1;
    while (p < x) p <<= 1;
    return p;
}

/* Formula: dedup_memory_bytes_for(n) = sizeof(struct inv_dedup)
 *   + round_up(16 * n + 8 * pow2_at_least(2 * n), page size)
 * (ring of 16-byte entries, set of 8-byte slots at load <= 1/2, one mapping).
 * So 32 bytes per id plus the struct for a power-of-two n >= 128 (<= 33 bytes
 * per id), up to 48 bytes per id just above a power of two (n = 2^k + 1), and
 * at least one page for the smallest windows. */
static void test_memory_formula(void **state) {
    (void)state;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t struct_bytes_max = 256;
    const uint32_t sizes[] = {16, 17, 100, 128, 1000, 1024, 4096, 65535, 65536, 65537, 1u << 20};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const uint32_t n = sizes[s];
        const size_t arrays = 16 * (size_t)n + 8 * test_pow2_at_least(2 * (uint64_t)n);
        const size_t mapped = (arrays + page - 1) / page * page;
        const size_t bytes = dedup_memory_bytes_for(n);
        assert_true(bytes > mapped && bytes <= mapped + struct_bytes_max);
        inv_dedup *d = test_create(n, 1000);
        assert_int_equal(dedup_memory_bytes(d), bytes);
        dedup_destroy(d);
    }
    const size_t struct_bytes = dedup_memory_bytes_for(1024) - 32 * 1024;
    for (unsigned k = 7; k <= 28; k++) { /* powers of two: exactly 32 bytes/id + struct */
        const uint32_t n = 1u << k;
        assert_int_equal(dedup_memory_bytes_for(n), 32 * (size_t)n + struct_bytes);
        assert_true(dedup_memory_bytes_for(n) <= 33 * (size_t)n);
    }
    for (unsigned k = 4; k < 28; k++) { /* just above: the worst case, 48 bytes/id */
        const uint32_t n = (1u << k) + 1;
        assert_true(dedup_memory_bytes_for(n) <= 48 * (size_t)n + page + struct_bytes);
    }
}

/* Millions of inserts on a full window, through both expiry rules: the
 * window's memory and the process RSS do not grow. */
static void test_memory_fixed_under_churn(void **state) {
    (void)state;
    const uint32_t n = 1u << 18;
    const size_t rss_created_before = test_rss_bytes();
    inv_dedup *d = test_create(n, 10000);
    const size_t bytes = dedup_memory_bytes(d);
    /* Pages are faulted in at create: the hot path never grows RSS. */
    assert_true(test_rss_bytes() - rss_created_before >= bytes / 10 * 9);

    uint64_t key = 0;
    int64_t t = 0;
    for (uint32_t i = 0; i < 2 * n; i++) { /* warm up: fill and turn over once */
        if ((i & 31) == 0) t++;
        dedup_insert(d, test_key_fp(key++), t);
    }
    const size_t rss_before = test_rss_bytes();
    const uint32_t rounds = 4000000;
    for (uint32_t i = 0; i < rounds; i++) {
        /* 1M inserts at 32 ids/ms (the count bound rules), then 1M at 4 ids/ms
         * (the time window of 10 s = 40000 ids rules), and so on. */
        const uint32_t per_ms_mask = ((i >> 20) & 1) ? 3 : 31;
        if ((i & per_ms_mask) == 0) t++;
        dedup_insert(d, test_key_fp(key++), t);
    }
    const size_t rss_after = test_rss_bytes();
    assert_int_equal(dedup_memory_bytes(d), bytes);
    inv_dedup_stats st;
    dedup_get_stats(d, &st);
    assert_true(st.expired_by_time > 1000000 && st.evicted_by_count > 1000000);
    assert_true(st.ids <= n);
    if (rss_after > rss_before) assert_true(rss_after - rss_before < (1u << 20));
    dedup_destroy(d);
}

/* ---- randomized model test --------------------------------------------- */

/* The reference: a plain FIFO array, linear search, the same rules as
 * dedup.h and dedup.c document, written independently (the overflow-free
 * cutoff as an unsigned distance instead of a guarded subtraction). */
typedef struct test_model {
    uint64_t *fp;
    int64_t *time_ms;
    uint32_t cap, head, count;
    int64_t window_ms, newest_ms;
    uint64_t inserted, expired, evicted;
} test_model;

static bool test_model_contains(const test_model *m, uint64_t fp) {
    for (uint32_t i = 0; i < m->count; i++) {
        if (m->fp[(m->head + i) % m->cap] == fp) return true;
    }
    return false;
}

static void test_model_pop(test_model *m) {
    m->head = (m->head + 1) % m->cap;
    m->count--;
}

/* True when t < newest - window, i.e. newest - t > window. */
static bool test_model_too_old(const test_model *m, int64_t t) {
    if (t >= m->newest_ms) return false;
    return (uint64_t)m->newest_ms - (uint64_t)t > (uint64_t)m->window_ms;
}

static void test_model_insert(test_model *m, uint64_t fp, int64_t t) {
    if (t > m->newest_ms) m->newest_ms = t;
    while (m->count > 0 && test_model_too_old(m, m->time_ms[m->head])) {
        test_model_pop(m);
        m->expired++;
    }
    if (m->count == m->cap) {
        test_model_pop(m);
        m->evicted++;
    }
    uint32_t tail = (m->head + m->count) % m->cap;
    m->fp[tail] = fp;
    m->time_ms[tail] = t;
    m->count++;
    m->inserted++;
}

enum test_time_mode { TEST_TIME_ORDERED, TEST_TIME_RANDOM, TEST_TIME_EXTREME };

typedef struct test_round {
    uint32_t ids_max;
    int64_t window_ms; /* 0: random per seed */
    enum test_time_mode mode;
    uint32_t ops;
    bool expect_expired; /* the round must exercise time expiry */
    bool expect_evicted; /* and count eviction */
} test_round;

#define MODEL_EXPECT(cond, what)                                                                 \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fail_msg("model mismatch: %s (seed=%" PRIu64 " round=%zu op=%" PRIu32                \
                     "; rerun with INV_TEST_SEED=%" PRIu64 ")",                                  \
                     what, test_seed, r, op, test_seed);                                         \
        }                                                                                        \
    } while (0)

static int64_t test_model_time(uint64_t *rng, enum test_time_mode mode, int64_t *clock_ms,
                               int64_t window_ms) {
    uint64_t x = test_rand(rng);
    switch (mode) {
    case TEST_TIME_ORDERED: /* mostly increasing, some late events, some jumps */
        *clock_ms += (int64_t)(x % 3);
        if (x % 100 < 5) return *clock_ms - (int64_t)((x >> 8) % (uint64_t)(2 * window_ms + 1));
        if (x % 1000 < 3) *clock_ms += (int64_t)((x >> 8) % (uint64_t)(2 * window_ms + 1));
        return *clock_ms;
    case TEST_TIME_RANDOM: /* any order within a few windows */
        return *clock_ms + (int64_t)((x >> 8) % (uint64_t)(3 * window_ms + 1));
    case TEST_TIME_EXTREME: {
        const int64_t picks[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
        if (x % 4 == 0) return (int64_t)test_rand(rng);
        if (x % 4 == 1) return INT64_MIN + (int64_t)((x >> 8) % 16);
        if (x % 4 == 2) return INT64_MAX - (int64_t)((x >> 8) % 16);
        return picks[(x >> 8) % (sizeof(picks) / sizeof(picks[0]))];
    }
    }
    return 0;
}

static void test_model_random(void **state) {
    (void)state;
    /* ORDERED rounds with window << ids_max are ruled by time, with window >>
     * ids_max by count (late events and jumps still expire some by time). */
    const test_round rounds[] = {
        {16, 50, TEST_TIME_ORDERED, 150000, true, true},
        {17, 1000, TEST_TIME_ORDERED, 150000, true, true},
        {100, 200, TEST_TIME_RANDOM, 150000, true, true},
        {1000, 100, TEST_TIME_ORDERED, 150000, true, false},
        {1000, 1000000, TEST_TIME_ORDERED, 150000, false, true},
        {257, 500, TEST_TIME_RANDOM, 100000, true, true},
        {64, INT64_MAX, TEST_TIME_EXTREME, 60000, true, true},
        {64, 1, TEST_TIME_EXTREME, 60000, true, true},
        {40, 0, TEST_TIME_EXTREME, 60000, false, true},
        {33, 0, TEST_TIME_EXTREME, 60000, false, true},
    };
    uint64_t rng = test_seed;
    uint64_t ops_total = 0;
    for (size_t r = 0; r < sizeof(rounds) / sizeof(rounds[0]); r++) {
        const test_round *rd = &rounds[r];
        int64_t window_ms = rd->window_ms;
        if (window_ms == 0) { /* any magnitude from 1 to 2^63 - 1 */
            window_ms = (int64_t)(test_rand(&rng) >> (1 + test_rand(&rng) % 63)) + 1;
        }
        test_model m = {.cap = rd->ids_max, .window_ms = window_ms, .newest_ms = INT64_MIN};
        m.fp = malloc(m.cap * sizeof(*m.fp));
        m.time_ms = malloc(m.cap * sizeof(*m.time_ms));
        assert_true(m.fp != NULL && m.time_ms != NULL);
        inv_dedup *d = test_create(rd->ids_max, window_ms);
        const uint64_t universe = 3 * (uint64_t)rd->ids_max + 5;
        const uint64_t salt = test_rand(&rng);
        int64_t clock_ms = (int64_t)(test_rand(&rng) % 1000000);
        uint32_t op = 0;
        for (op = 0; op < rd->ops; op++) {
            const uint64_t x = test_rand(&rng);
            const uint64_t fp = test_key_fp(salt + (x >> 16) % universe);
            const bool expect = test_model_contains(&m, fp);
            MODEL_EXPECT(dedup_contains(d, fp) == expect, "contains");
            if (x % 100 < 25) continue; /* a lookup only */
            if (x % 20000 == 99) {      /* rare: clear */
                dedup_clear(d);
                m.head = m.count = 0;
                m.newest_ms = INT64_MIN;
                continue;
            }
            if (expect) continue; /* a duplicate: the caller skips the insert */
            const int64_t t = test_model_time(&rng, rd->mode, &clock_ms, window_ms);
            dedup_prefetch(d, fp);
            dedup_insert(d, fp, t);
            test_model_insert(&m, fp, t);
            MODEL_EXPECT(dedup_contains(d, fp), "contains after insert");
            if ((op & 1023) == 0 || op + 1 == rd->ops) {
                inv_dedup_stats st;
                dedup_get_stats(d, &st);
                MODEL_EXPECT(st.ids == m.count, "stats.ids");
                MODEL_EXPECT(st.inserted == m.inserted, "stats.inserted");
                MODEL_EXPECT(st.expired_by_time == m.expired, "stats.expired_by_time");
                MODEL_EXPECT(st.evicted_by_count == m.evicted, "stats.evicted_by_count");
                MODEL_EXPECT(st.newest_time_ms == m.newest_ms, "stats.newest_time_ms");
                for (uint32_t i = 0; i < m.count; i++) {
                    MODEL_EXPECT(dedup_contains(d, m.fp[(m.head + i) % m.cap]), "held id");
                }
            }
        }
        ops_total += op;
        /* The rules ran that the round was meant to exercise. */
        MODEL_EXPECT(!rd->expect_expired || m.expired > 0, "time expiry exercised");
        MODEL_EXPECT(!rd->expect_evicted || m.evicted > 0, "count eviction exercised");
        dedup_destroy(d);
        free(m.fp);
        free(m.time_ms);
    }
    assert_true(ops_total >= 1000000);
}

/* ---- false positives --------------------------------------------------- */

/* n distinct ids held (no expiry, no eviction), then n other distinct ids
 * queried: 0 false positives expected. Analytic bound: a query is a false
 * positive when its 64-bit fingerprint equals one of the n held ones, p <=
 * n / 2^64 per query (5.4e-13 at n = 10M), so ~5.4e-6 expected over all 10M
 * queries. A failure here means a broken hash or set, not bad luck. */
static void test_no_false_positives(void **state) {
    (void)state;
    enum { BATCH = 16 }; /* fingerprints computed and prefetched a batch ahead */
    uint32_t n = (uint32_t)(10000000 * test_scale());
    if (n < 100000) n = 100000;
    n -= n % BATCH;
    inv_dedup *d = test_create(n, INT64_MAX);
    uint64_t fps[BATCH], others[BATCH];
    for (uint32_t i = 0; i < n; i += BATCH) {
        for (uint32_t b = 0; b < BATCH; b++) {
            fps[b] = test_evt_fp("evt", i + b);
            dedup_prefetch(d, fps[b]);
        }
        for (uint32_t b = 0; b < BATCH; b++) {
            assert_false(dedup_contains(d, fps[b])); /* distinct: never a duplicate */
            dedup_insert(d, fps[b], (int64_t)(i + b));
        }
    }
    test_expect_stats(d, n, n, 0, 0, (int64_t)n - 1);
    uint64_t false_positives = 0, false_negatives = 0;
    for (uint32_t i = 0; i < n; i += BATCH) {
        for (uint32_t b = 0; b < BATCH; b++) {
            fps[b] = test_evt_fp("evt", i + b);
            others[b] = test_evt_fp("evt", n + i + b);
            dedup_prefetch(d, fps[b]);
            dedup_prefetch(d, others[b]);
        }
        for (uint32_t b = 0; b < BATCH; b++) {
            false_positives += dedup_contains(d, others[b]);
            false_negatives += !dedup_contains(d, fps[b]);
        }
    }
    print_message("dedup false positives: %" PRIu64 " of %" PRIu32 " queries over %" PRIu32
                  " ids\n",
                  false_positives, n, n);
    assert_int_equal(false_positives, 0);
    assert_int_equal(false_negatives, 0);
    dedup_destroy(d);
}

/* ---- backward-shift deletion ------------------------------------------- */

/* The home slot formula of dedup.c for a 32-slot set (ids_max 16). Mirrored
 * here only to force collisions: if dedup.c changes it, this test still checks
 * correctness, just with less targeted clusters. (dedup.c groups slots in
 * buckets of 8 with home bucket = TEST_HOME_32(fp) >> 3, so neighbouring homes
 * here land in one or two neighbouring buckets and overflow them.) */
#define TEST_HOME_32(fp) (((fp)*0x9E3779B97F4A7C15ULL) >> 59)

static uint64_t test_fp_with_home(uint64_t *rng, uint64_t home) {
    for (uint32_t n = 0; n < 100000; n++) { /* p = 1/32 per try */
        const uint64_t fp = test_rand(rng);
        if (fp != 0 && TEST_HOME_32(fp) == home) return fp;
    }
    fail_msg("no fingerprint with home %" PRIu64 " (seed=%" PRIu64 ")", home, test_seed);
    return 0;
}

/* Clusters of up to 16 ids on 1-3 neighbouring home slots (wrapping around
 * the end of the table), deleted one by one in FIFO order from every position
 * of the cluster: after each deletion every remaining id is still found. */
static void test_backward_shift_deletion(void **state) {
    (void)state;
    uint64_t rng = test_seed ^ 0xB5;
    inv_dedup *d = test_create(16, INT64_MAX);
    for (uint32_t trial = 0; trial < 3000; trial++) {
        dedup_clear(d);
        const uint64_t base = trial % 32; /* every start, including 29..31 (wrapping) */
        const uint64_t spread = 1 + trial % 3;
        uint64_t fps[48];
        for (uint32_t i = 0; i < 48; i++) {
            const uint64_t x = test_rand(&rng);
            const uint64_t home = (x % 5 == 0) ? x % 32 : (base + (x >> 8) % spread) % 32;
            fps[i] = test_fp_with_home(&rng, home);
            for (uint32_t j = 0; j < i; j++) {
                if (fps[j] == fps[i]) fail_msg("duplicate random fp (seed=%" PRIu64 ")", test_seed);
            }
        }
        for (uint32_t i = 0; i < 48; i++) {
            dedup_insert(d, fps[i], 0);
            for (uint32_t j = 0; j <= i; j++) {
                if (dedup_contains(d, fps[j]) != (j + 16 > i)) {
                    fail_msg("trial %" PRIu32 " insert %" PRIu32 ": id %" PRIu32
                             " %s (seed=%" PRIu64 ")",
                             trial, i, j, j + 16 > i ? "lost" : "not deleted", test_seed);
                }
            }
        }
    }
    dedup_destroy(d);

    /* Time expiry removes runs of several ids from a cluster in one insert. */
    d = test_create(16, 10);
    for (uint32_t trial = 0; trial < 2000; trial++) {
        dedup_clear(d);
        const uint64_t base = trial % 32;
        uint64_t fps[16];
        for (uint32_t i = 0; i < 16; i++) {
            fps[i] = test_fp_with_home(&rng, (base + test_rand(&rng) % 2) % 32);
        }
        const uint32_t old = 1 + trial % 14; /* ids 0..old-1 at t=0, the rest at t=10 */
        for (uint32_t i = 0; i < 15; i++) dedup_insert(d, fps[i], i < old ? 0 : 10);
        dedup_insert(d, fps[15], 11); /* cutoff 1: ids 0..old-1 expire together */
        for (uint32_t i = 0; i < 16; i++) assert_int_equal(dedup_contains(d, fps[i]), i >= old);
    }
    dedup_destroy(d);
}

/* The home bucket of dedup.c (buckets of 8 slots, set_slots = 2 * ids_max for
 * a power of two ids_max) mirrored, like TEST_HOME_32, only to crowd ids. */
static uint64_t test_fp_in_bucket(uint64_t *rng, uint64_t bucket, unsigned bucket_bits) {
    for (uint32_t n = 0; n < 1000000; n++) { /* p = 2^-bucket_bits per try */
        const uint64_t fp = test_rand(rng);
        if (fp != 0 && ((fp * 0x9E3779B97F4A7C15ULL) >> (64 - bucket_bits)) == bucket) return fp;
    }
    fail_msg("no fingerprint in bucket %" PRIu64 " (seed=%" PRIu64 ")", bucket, test_seed);
    return 0;
}

/* Regression test for the bucketed set: ids crowded onto 1-3 neighbouring
 * home buckets (wrapping past the last one), so nearly every insert overflows
 * a full bucket and nearly every pop shifts ids back across buckets, under
 * both expiry rules; every answer is compared with the reference model. */
static void test_crowded_buckets_model(void **state) {
    (void)state;
    uint64_t rng = test_seed ^ 0xC7;
    const struct {
        uint32_t ids_max;
        unsigned bucket_bits; /* log2(2 * ids_max / 8) */
        int64_t window_ms;
    } cfgs[] = {{16, 2, 40}, {64, 4, 100}, {64, 4, INT64_MAX}, {256, 6, 300}};
    for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
        const uint32_t cap = cfgs[c].ids_max;
        const uint64_t buckets = 1ULL << cfgs[c].bucket_bits;
        for (uint32_t trial = 0; trial < 40; trial++) {
            const uint64_t base = (buckets - 1 + trial) % buckets; /* starts at the last one */
            const uint64_t spread = 1 + trial % 3;
            enum { POOL = 1024 };
            uint64_t pool[POOL];
            const uint32_t pool_n = 3 * cap < POOL ? 3 * cap : POOL;
            for (uint32_t i = 0; i < pool_n; i++) {
                pool[i] = test_fp_in_bucket(&rng, (base + test_rand(&rng) % spread) % buckets,
                                            cfgs[c].bucket_bits);
            }
            test_model m = {.cap = cap, .window_ms = cfgs[c].window_ms, .newest_ms = INT64_MIN};
            m.fp = malloc(cap * sizeof(*m.fp));
            m.time_ms = malloc(cap * sizeof(*m.time_ms));
            assert_true(m.fp != NULL && m.time_ms != NULL);
            inv_dedup *d = test_create(cap, cfgs[c].window_ms);
            int64_t clock_ms = 0;
            for (uint32_t op = 0; op < 20 * cap; op++) {
                const uint64_t fp = pool[test_rand(&rng) % pool_n];
                const bool expect = test_model_contains(&m, fp);
                if (dedup_contains(d, fp) != expect) {
                    fail_msg("cfg %zu trial %" PRIu32 " op %" PRIu32 ": contains %d, model %d"
                             " (seed=%" PRIu64 ")", c, trial, op, !expect, expect, test_seed);
                }
                if (expect) continue;
                clock_ms += (int64_t)(test_rand(&rng) % 3);
                dedup_insert(d, fp, clock_ms);
                test_model_insert(&m, fp, clock_ms);
                for (uint32_t i = 0; i < m.count; i++) {
                    if (!dedup_contains(d, m.fp[(m.head + i) % m.cap])) {
                        fail_msg("cfg %zu trial %" PRIu32 " op %" PRIu32 ": held id lost"
                                 " (seed=%" PRIu64 ")", c, trial, op, test_seed);
                    }
                }
            }
            inv_dedup_stats st;
            dedup_get_stats(d, &st);
            assert_int_equal(st.ids, m.count);
            assert_int_equal(st.expired_by_time, m.expired);
            assert_int_equal(st.evicted_by_count, m.evicted);
            dedup_destroy(d);
            free(m.fp);
            free(m.time_ms);
        }
    }
}

int main(void) {
    const char *s = getenv("INV_TEST_SEED");
    if (s != NULL && *s != '\0') {
        test_seed = strtoull(s, NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        test_seed = test_mix((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
                    (uint64_t)getpid();
    }
    printf("test_dedup: seed=%" PRIu64 " (INV_TEST_SEED to repeat), scale=%.2f\n", test_seed,
           test_scale());
    fflush(stdout);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_arguments),
        cmocka_unit_test(test_fingerprint_nonzero_and_deterministic),
        cmocka_unit_test(test_basic_insert_contains),
        cmocka_unit_test(test_distinct_ids_never_duplicates),
#ifndef INV_DEBUG
        cmocka_unit_test(test_duplicate_insert_ignored_in_release),
#endif
        cmocka_unit_test(test_expiry_by_time_boundary),
        cmocka_unit_test(test_expiry_by_count),
        cmocka_unit_test(test_out_of_order_times),
        cmocka_unit_test(test_extreme_times),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_memory_formula),
        cmocka_unit_test(test_memory_fixed_under_churn),
        cmocka_unit_test(test_model_random),
        cmocka_unit_test(test_no_false_positives),
        cmocka_unit_test(test_backward_shift_deletion),
        cmocka_unit_test(test_crowded_buckets_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
