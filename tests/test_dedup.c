/* test_dedup.c - unit tests of engine/dedup.c, the per-partition eventId window.
 *
 * Covers the contract of dedup.h: fingerprints; generations (closing by count
 * and by time, leaving whole, oldest first) at their exact boundaries,
 * including int64 extremes and out-of-order times; clear; the counters; the
 * fixed memory bound (formula and process RSS); a randomized comparison
 * against a reference model of the generations, with the window's guarantee
 * (no id lost among the last ids_max - gen_cap inserts inside the time
 * window) checked on the window itself; the bound on live generations;
 * crowded buckets (overflow words and their expiry); fingerprints whose low
 * 16 bits are 0; 16-bit generation tags going round many times (the sweep);
 * false positives over millions of distinct ids.
 *
 * Each of these was seen to fail against a deliberately broken dedup.c (no
 * overflow mark, no sweep or a too slow one, no probe past the home bucket,
 * no low-bit remap, off-by-one closing, deadline, eviction and tag range,
 * floor instead of ceil for span_ms, a stale fast-path bound, an untracked
 * generation time, a sweep clearing live words).
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

/* A nonzero fingerprint for key k (distinct k give fingerprints that differ
 * in their low 48 bits but for a 2^-48 chance per pair). */
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

/* The generation sizes of dedup.h, computed here from its text. */
static uint32_t test_gen_cap(uint32_t ids_max) {
    return (ids_max + INV_DEDUP_GENERATIONS - 1) / INV_DEDUP_GENERATIONS;
}

static int64_t test_span_ms(int64_t window_ms) {
    return (window_ms - 1) / INV_DEDUP_GENERATIONS + 1;
}

/* The bucket count of dedup.h: the smallest power of two b, 7 * b >= 2 * n. */
static uint64_t test_buckets(uint32_t ids_max) {
    uint64_t b = 1;
    while (7 * b < 2 * (uint64_t)ids_max) b <<= 1;
    return b;
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
    const uint32_t gen_cap = test_gen_cap(IDS);
    for (uint32_t i = 0; i < N; i++) {
        uint64_t fp = test_evt_fp("distinct", i);
        assert_false(dedup_contains(d, fp));
        dedup_insert(d, fp, (int64_t)i);
        assert_true(dedup_contains(d, fp));
        /* The guarantee: the last ids_max - gen_cap inserts are all held. */
        if (i >= IDS && (i & 16383) == 0) {
            for (uint32_t j = i + 1 - (IDS - gen_cap); j <= i; j++) {
                assert_true(dedup_contains(d, test_evt_fp("distinct", j)));
            }
        }
    }
    inv_dedup_stats st;
    dedup_get_stats(d, &st);
    assert_true(st.ids <= IDS && st.ids >= IDS - gen_cap + 1);
    assert_int_equal(st.inserted, N);
    assert_int_equal(st.evicted_by_count, N - st.ids);
    assert_int_equal(st.expired_by_time, 0);
    dedup_destroy(d);
}

#ifndef INV_DEBUG
/* Release builds: an insert of an fp already held (a caller bug, asserted in
 * INV_DEBUG builds) is not looked for: a second copy is stored and counted,
 * and leaves with its generation; nothing else changes. */
static void test_duplicate_insert_in_release(void **state) {
    (void)state;
    inv_dedup *d = test_create(16, 1000); /* gen_cap 1: one generation per insert */
    uint64_t a = test_key_fp(1);
    dedup_insert(d, a, 10);
    dedup_insert(d, a, 20);
    assert_true(dedup_contains(d, a));
    test_expect_stats(d, 2, 2, 0, 0, 20);
    for (uint32_t i = 0; i < 15; i++) dedup_insert(d, test_key_fp(100 + i), 20);
    assert_true(dedup_contains(d, a)); /* the first copy left, the second is held */
    test_expect_stats(d, 16, 17, 0, 1, 20);
    dedup_insert(d, test_key_fp(200), 20);
    assert_false(dedup_contains(d, a));
    for (uint32_t i = 0; i < 15; i++) assert_true(dedup_contains(d, test_key_fp(100 + i)));
    test_expect_stats(d, 16, 18, 0, 2, 20);
    dedup_destroy(d);
}
#endif

/* ---- generations and expiry ------------------------------------------- */

/* With 1024 ids and a 1000 ms window (gen_cap 16, span 16 ms), ids far apart
 * in time are in their own generations: t < newest - window expires, t ==
 * newest - window stays. */
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
    dedup_insert(d, dd, 1001); /* cutoff 1: a expires; dd joins c's generation */
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

/* A generation closes after span_ms of newest time and leaves whole: an id
 * is held until its generation's newest time leaves the window, up to
 * span_ms - 1 after its own time does. window 6400: span 100. */
static void test_generation_by_time(void **state) {
    (void)state;
    inv_dedup *d = test_create(1 << 16, 6400);
    assert_int_equal(test_span_ms(6400), 100);
    for (uint32_t i = 0; i < 100; i++) dedup_insert(d, test_key_fp(i), i); /* one generation */
    dedup_insert(d, test_key_fp(100), 100);                             /* opens the next */
    /* Generation 0 has newest time 99: it leaves once newest > 6499, id 0
     * (t = 0) stays 99 ms longer than its own rule (newest > 6400) says. */
    dedup_insert(d, test_key_fp(1000), 6499);
    for (uint32_t i = 0; i <= 100; i++) assert_true(dedup_contains(d, test_key_fp(i)));
    test_expect_stats(d, 102, 102, 0, 0, 6499);
    dedup_insert(d, test_key_fp(1001), 6500);
    for (uint32_t i = 0; i < 100; i++) assert_false(dedup_contains(d, test_key_fp(i)));
    assert_true(dedup_contains(d, test_key_fp(100)));
    test_expect_stats(d, 3, 103, 100, 0, 6500);
    /* The current generation never expires: ids inserted with times far
     * outside the window are held while it is current. */
    dedup_insert(d, test_key_fp(2000), 0);
    dedup_insert(d, test_key_fp(2001), INT64_MIN);
    assert_true(dedup_contains(d, test_key_fp(2000)) && dedup_contains(d, test_key_fp(2001)));
    test_expect_stats(d, 5, 105, 100, 0, 6500);
    /* ...and leave with it. 6600 closes it (its newest time, 6500, is in the
     * window) and expires id 100's generation (cutoff 200). */
    dedup_insert(d, test_key_fp(2002), 6600);
    assert_true(dedup_contains(d, test_key_fp(2000)));
    assert_false(dedup_contains(d, test_key_fp(100)));
    test_expect_stats(d, 5, 106, 101, 0, 6600);
    dedup_insert(d, test_key_fp(2003), 12901); /* cutoff 6501: 2000's generation expires */
    assert_false(dedup_contains(d, test_key_fp(100)) || dedup_contains(d, test_key_fp(2000)) ||
                 dedup_contains(d, test_key_fp(2001)));
    assert_true(dedup_contains(d, test_key_fp(2002)) && dedup_contains(d, test_key_fp(2003)));
    test_expect_stats(d, 2, 107, 105, 0, 12901);
    dedup_destroy(d);
}

/* Inserting n + k ids with one time: generations of gen_cap ids leave whole,
 * oldest first, whenever one more id would exceed n. For n <= 64 (gen_cap 1)
 * that is exactly the k oldest. */
static void test_expiry_by_count(void **state) {
    (void)state;
    const uint32_t sizes[] = {16, 17, 64, 65, 1000, 1024};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const uint32_t n = sizes[s];
        const uint32_t cap = test_gen_cap(n);
        const uint32_t ks[] = {0, 1, cap, cap + 1, n / 2, n, 3 * n + 7};
        for (size_t ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
            const uint32_t k = ks[ki];
            inv_dedup *d = test_create(n, INT64_MAX);
            uint32_t first = 0; /* the first id still held */
            for (uint32_t i = 0; i < n + k; i++) {
                /* Every closed generation is full: ids [g * cap, (g + 1) * cap). */
                if (i - first == n) first += cap;
                dedup_insert(d, test_key_fp(i), 0);
            }
            for (uint32_t i = 0; i < n + k; i++) {
                assert_int_equal(dedup_contains(d, test_key_fp(i)), i >= first);
            }
            test_expect_stats(d, n + k - first, n + k, 0, first, 0);
            if (k > 0) assert_true(n + k - first >= n - cap + 1);
            if (cap == 1) assert_int_equal(first, k);
            dedup_destroy(d);
        }
    }
}

/* Out-of-order times with 64 ids (gen_cap 1, each id its own generation):
 * expiry looks at the oldest generation only, as dedup.h documents. */
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
    dedup_insert(d, fp[C], 5001);           /* cutoff 4001: oldest A in window, B waits */
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
    /* An out-of-window id behind a generation still inside the window waits for it. */
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

/* newest - window never overflows, at either end of int64 (gen_cap 1). */
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

    /* A generation opened near INT64_MAX never closes by time (the closing
     * time would overflow), only by count. window 6400: span 100. */
    d = test_create(1024, 6400);
    for (uint32_t i = 0; i < 16; i++) dedup_insert(d, test_key_fp(i), INT64_MAX - 50);
    dedup_insert(d, test_key_fp(100), INT64_MAX); /* 50 < span: same generation, now full */
    dedup_insert(d, test_key_fp(101), INT64_MAX);
    test_expect_stats(d, 18, 18, 0, 0, INT64_MAX);
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

    /* Clear in the middle of a generation, with several generations live. */
    d = test_create(1024, 1000);
    for (uint32_t i = 0; i < 100; i++) dedup_insert(d, test_key_fp(i), 0);
    dedup_clear(d);
    test_expect_stats(d, 0, 100, 0, 0, INT64_MIN);
    for (uint32_t i = 0; i < 100; i++) assert_false(dedup_contains(d, test_key_fp(i)));
    for (uint32_t i = 0; i < 2000; i++) dedup_insert(d, test_key_fp(500 + i), 5);
    for (uint32_t i = 0; i < 2000; i++) {
        assert_int_equal(dedup_contains(d, test_key_fp(500 + i)), i >= 976); /* 61 x 16 evicted */
    }
    test_expect_stats(d, 1024, 2100, 0, 976, 5);
    dedup_destroy(d);
}

/* Counters add up: inserted == ids + expired_by_time + evicted_by_count
 * (without a clear, which drops ids uncounted), under both rules. */
static void test_stats(void **state) {
    (void)state;
    const uint32_t sizes[] = {INV_DEDUP_IDS_MIN, 1000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const uint32_t n = sizes[s];
        inv_dedup *d = test_create(n, 100 * (int64_t)n / 16);
        test_expect_stats(d, 0, 0, 0, 0, INT64_MIN);
        uint64_t state_rng = 42;
        int64_t t = 200;
        for (uint32_t i = 0; i < 100000; i++) {
            /* 4096 inserts ~2 per ms (the count bound rules), then 4096 ~1 per
             * 9.5 ms (the time window rules), and so on. */
            t += (int64_t)(test_rand(&state_rng) % (((i >> 12) & 1) ? 20 : 2));
            dedup_insert(d, test_key_fp(1000 + i), t);
            inv_dedup_stats st;
            dedup_get_stats(d, &st);
            assert_int_equal(st.inserted, st.ids + st.expired_by_time + st.evicted_by_count);
            assert_true(st.ids >= 1 && st.ids <= n);
            assert_true(st.newest_time_ms == t);
        }
        inv_dedup_stats st;
        dedup_get_stats(d, &st);
        assert_true(st.expired_by_time > 1000 && st.evicted_by_count > 1000); /* both rules ran */
        dedup_destroy(d);
    }
}

/* ---- memory ------------------------------------------------------------ */

/* Formula: dedup_memory_bytes_for(n) = sizeof(struct inv_dedup)
 *   + round_up(64 * buckets, page size), buckets = the smallest power of two
 * b with 7 b >= 2 n. So 32 bytes per id plus the struct for a power-of-two n
 * >= 128, 18.3 for n = 7 * 2^(k-1) (a full power of two of buckets), 36.6 for
 * one more, and at least one page for the smallest windows. */
static void test_memory_formula(void **state) {
    (void)state;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t struct_bytes_max = 4096;
    const uint32_t sizes[] = {16, 17, 100, 128, 1000, 1024, 4096, 65535, 65536, 65537, 1u << 20};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const uint32_t n = sizes[s];
        const size_t set_bytes = 64 * test_buckets(n);
        const size_t mapped = (set_bytes + page - 1) / page * page;
        const size_t bytes = dedup_memory_bytes_for(n);
        assert_true(bytes > mapped && bytes <= mapped + struct_bytes_max);
        inv_dedup *d = test_create(n, 1000);
        assert_int_equal(dedup_memory_bytes(d), bytes);
        dedup_destroy(d);
    }
    const size_t struct_bytes = dedup_memory_bytes_for(1024) - 32 * 1024;
    assert_true(struct_bytes > 0 && struct_bytes <= struct_bytes_max);
    for (unsigned k = 7; k <= 28; k++) { /* powers of two: exactly 32 bytes/id + struct */
        const uint32_t n = 1u << k;
        assert_int_equal(dedup_memory_bytes_for(n), 32 * (size_t)n + struct_bytes);
    }
    for (unsigned k = 7; k < 27; k++) { /* 3.5 ids per bucket: the best and the worst case */
        const uint32_t n = 7u << (k - 1);
        assert_int_equal(dedup_memory_bytes_for(n), 64 * ((size_t)1 << k) + struct_bytes);
        assert_true(dedup_memory_bytes_for(n) * 1000 <= 18286 * (size_t)n + 1000 * struct_bytes);
        assert_int_equal(dedup_memory_bytes_for(n + 1), 128 * ((size_t)1 << k) + struct_bytes);
        assert_true(dedup_memory_bytes_for(n + 1) <= 37 * (size_t)n + struct_bytes);
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

/* ---- the reference model ----------------------------------------------- */

/* The reference: the rules of dedup.h written independently and plainly.
 * Live ids in a FIFO array with their generation number; per-generation id
 * count and newest time in arrays indexed by generation number modulo
 * TEST_GENS (asserted never to wrap onto a live one); linear search; the
 * overflow-free comparisons as unsigned distances. It also tracks the most
 * generations ever live, to check the ring bound dedup.c proves. */
enum { TEST_GENS = 4096 };

typedef struct test_model {
    uint32_t ids_max, gen_cap;
    int64_t window_ms, span_ms;
    uint64_t *fp;   /* live ids in insertion order, ids_max entries */
    uint64_t *gen;  /* their generation numbers */
    uint32_t head, count;
    uint64_t oldest_gen, cur_gen; /* live generations: oldest_gen..cur_gen */
    int64_t cur_open_ms;          /* newest time when the current generation opened */
    uint32_t gen_ids[TEST_GENS];
    int64_t gen_newest_ms[TEST_GENS];
    int64_t newest_ms;
    uint64_t inserted, expired, evicted;
    uint64_t live_gens_max;
} test_model;

static void test_model_init(test_model *m, uint32_t ids_max, int64_t window_ms) {
    memset(m, 0, sizeof(*m));
    m->ids_max = ids_max;
    m->gen_cap = test_gen_cap(ids_max);
    m->window_ms = window_ms;
    m->span_ms = test_span_ms(window_ms);
    m->fp = malloc(ids_max * sizeof(*m->fp));
    m->gen = malloc(ids_max * sizeof(*m->gen));
    assert_true(m->fp != NULL && m->gen != NULL);
    m->newest_ms = INT64_MIN;
    m->gen_newest_ms[0] = INT64_MIN;
}

static void test_model_free(test_model *m) {
    free(m->fp);
    free(m->gen);
}

static uint64_t test_model_at(const test_model *m, uint32_t i) {
    return m->fp[(m->head + i) % m->ids_max];
}

static bool test_model_contains(const test_model *m, uint64_t fp) {
    for (uint32_t i = 0; i < m->count; i++) {
        if (test_model_at(m, i) == fp) return true;
    }
    return false;
}

/* True when t < newest - window, i.e. newest - t > window. */
static bool test_model_too_old(int64_t newest_ms, int64_t window_ms, int64_t t) {
    if (t >= newest_ms) return false;
    return (uint64_t)newest_ms - (uint64_t)t > (uint64_t)window_ms;
}

/* Drops the oldest generation and its ids (they are at the head). */
static uint32_t test_model_drop_oldest(test_model *m) {
    assert_true(m->oldest_gen < m->cur_gen);
    uint32_t n = 0;
    while (m->count > 0 && m->gen[m->head] == m->oldest_gen) {
        m->head = (m->head + 1) % m->ids_max;
        m->count--;
        n++;
    }
    assert_int_equal(n, m->gen_ids[m->oldest_gen % TEST_GENS]);
    m->oldest_gen++;
    return n;
}

static void test_model_insert(test_model *m, uint64_t fp, int64_t t) {
    if (t > m->newest_ms) m->newest_ms = t;
    uint32_t *cur_ids = &m->gen_ids[m->cur_gen % TEST_GENS];
    if (*cur_ids == 0) {
        m->cur_open_ms = m->newest_ms; /* an empty window: this id opens it */
        m->gen_newest_ms[m->cur_gen % TEST_GENS] = INT64_MIN;
    } else if (*cur_ids == m->gen_cap ||
               (uint64_t)m->newest_ms - (uint64_t)m->cur_open_ms >= (uint64_t)m->span_ms) {
        m->cur_gen++;
        assert_true(m->cur_gen - m->oldest_gen < TEST_GENS);
        m->gen_ids[m->cur_gen % TEST_GENS] = 0;
        m->gen_newest_ms[m->cur_gen % TEST_GENS] = INT64_MIN;
        m->cur_open_ms = m->newest_ms;
    }
    if (m->cur_gen - m->oldest_gen + 1 > m->live_gens_max) {
        m->live_gens_max = m->cur_gen - m->oldest_gen + 1;
    }
    while (m->oldest_gen < m->cur_gen &&
           test_model_too_old(m->newest_ms, m->window_ms,
                              m->gen_newest_ms[m->oldest_gen % TEST_GENS])) {
        m->expired += test_model_drop_oldest(m);
    }
    if (m->count == m->ids_max) m->evicted += test_model_drop_oldest(m);
    const uint32_t tail = (m->head + m->count) % m->ids_max;
    m->fp[tail] = fp;
    m->gen[tail] = m->cur_gen;
    m->count++;
    m->inserted++;
    m->gen_ids[m->cur_gen % TEST_GENS]++;
    int64_t *newest = &m->gen_newest_ms[m->cur_gen % TEST_GENS];
    if (t > *newest) *newest = t;
}

static void test_model_clear(test_model *m) {
    m->head = m->count = 0;
    m->cur_gen++;
    m->oldest_gen = m->cur_gen;
    m->gen_ids[m->cur_gen % TEST_GENS] = 0;
    m->gen_newest_ms[m->cur_gen % TEST_GENS] = INT64_MIN;
    m->newest_ms = INT64_MIN;
}

/* The guarantee of dedup.h, checked on the window itself (not the model):
 * the last ids_max - gen_cap ids inserted since the clear, those with a time
 * >= newest - window, are all held. recent[] holds the last ids_max inserts
 * (fp, time), recent_n of them since the clear, ending at recent_end. */
typedef struct test_recent {
    uint64_t *fp;
    int64_t *time_ms;
    uint32_t size, end, n;
} test_recent;

static void test_recent_push(test_recent *r, uint64_t fp, int64_t t) {
    r->fp[r->end] = fp;
    r->time_ms[r->end] = t;
    r->end = (r->end + 1) % r->size;
    if (r->n < r->size) r->n++;
}

/* Returns the first recent id the window lost, or 0. */
static uint64_t test_recent_check(const test_recent *r, const inv_dedup *d, uint32_t gen_cap,
                                  int64_t window_ms) {
    inv_dedup_stats st;
    dedup_get_stats(d, &st);
    const uint32_t guaranteed = r->size - gen_cap;
    for (uint32_t i = 1; i <= guaranteed && i <= r->n; i++) {
        const uint32_t k = (r->end + r->size - i) % r->size;
        if (test_model_too_old(st.newest_time_ms, window_ms, r->time_ms[k])) continue;
        if (!dedup_contains(d, r->fp[k])) return r->fp[k];
    }
    return 0;
}

enum test_time_mode { TEST_TIME_ORDERED, TEST_TIME_PHASED, TEST_TIME_RANDOM, TEST_TIME_EXTREME };

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
        if (x % 1000 < 3) { /* (tested first: x % 1000 < 3 implies x % 100 < 5) */
            *clock_ms += (int64_t)((x >> 8) % (uint64_t)(2 * window_ms + 1));
        } else if (x % 100 < 5) {
            return *clock_ms - (int64_t)((x >> 8) % (uint64_t)(2 * window_ms + 1));
        }
        return *clock_ms;
    case TEST_TIME_PHASED: /* no jumps; 8 windows of fast steps, then 8 of slow ones */
        *clock_ms += (int64_t)(x % ((*clock_ms / (8 * window_ms)) % 2 ? 9 : 2));
        if (x % 100 < 2) return *clock_ms - (int64_t)((x >> 8) % (uint64_t)(2 * window_ms + 1));
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

/* Stats and every held id of the model against the window. */
static void test_model_compare_all(const test_model *m, const inv_dedup *d, size_t r,
                                   uint32_t op) {
    inv_dedup_stats st;
    dedup_get_stats(d, &st);
    MODEL_EXPECT(st.ids == m->count, "stats.ids");
    MODEL_EXPECT(st.inserted == m->inserted, "stats.inserted");
    MODEL_EXPECT(st.expired_by_time == m->expired, "stats.expired_by_time");
    MODEL_EXPECT(st.evicted_by_count == m->evicted, "stats.evicted_by_count");
    MODEL_EXPECT(st.newest_time_ms == m->newest_ms, "stats.newest_time_ms");
    for (uint32_t i = 0; i < m->count; i++) {
        MODEL_EXPECT(dedup_contains(d, test_model_at(m, i)), "held id");
    }
}

static void test_model_random(void **state) {
    (void)state;
    /* ORDERED rounds with window << ids_max are ruled by time, with window >>
     * ids_max by count (late events and jumps still expire some by time).
     * PHASED ones (~1 insert per ms, then ~1 per 8 ms) by each in turn. */
    const test_round rounds[] = {
        {16, 50, TEST_TIME_ORDERED, 150000, true, true},
        {17, 1000, TEST_TIME_ORDERED, 150000, true, true},
        {100, 200, TEST_TIME_RANDOM, 150000, true, true},
        {130, 500, TEST_TIME_ORDERED, 150000, true, true},
        {1000, 100, TEST_TIME_ORDERED, 150000, true, false},
        {1000, 1000000, TEST_TIME_ORDERED, 150000, true, true},
        {2000, 8000, TEST_TIME_ORDERED, 150000, true, false},
        {2000, 4000, TEST_TIME_PHASED, 150000, true, true},
        {600, 1000, TEST_TIME_PHASED, 150000, true, true},
        {257, 500, TEST_TIME_RANDOM, 100000, true, true},
        {64, INT64_MAX, TEST_TIME_EXTREME, 60000, true, true},
        {640, 1, TEST_TIME_EXTREME, 60000, true, true},
        {40, 0, TEST_TIME_EXTREME, 60000, false, true},
        {333, 0, TEST_TIME_EXTREME, 60000, false, true},
    };
    uint64_t rng = test_seed;
    uint64_t ops_total = 0;
    for (size_t r = 0; r < sizeof(rounds) / sizeof(rounds[0]); r++) {
        const test_round *rd = &rounds[r];
        int64_t window_ms = rd->window_ms;
        if (window_ms == 0) { /* any magnitude from 1 to 2^63 - 1 */
            window_ms = (int64_t)(test_rand(&rng) >> (1 + test_rand(&rng) % 63)) + 1;
        }
        test_model *m = malloc(sizeof(*m));
        assert_non_null(m);
        test_model_init(m, rd->ids_max, window_ms);
        test_recent rec = {.size = rd->ids_max};
        rec.fp = malloc(rd->ids_max * sizeof(*rec.fp));
        rec.time_ms = malloc(rd->ids_max * sizeof(*rec.time_ms));
        assert_true(rec.fp != NULL && rec.time_ms != NULL);
        inv_dedup *d = test_create(rd->ids_max, window_ms);
        const uint64_t universe = 3 * (uint64_t)rd->ids_max + 5;
        const uint64_t salt = test_rand(&rng);
        int64_t clock_ms = (int64_t)(test_rand(&rng) % 1000000);
        const uint32_t check_every = rd->ids_max <= 300 ? 1 : 64; /* the guarantee: O(ids_max) */
        uint32_t op = 0;
        for (op = 0; op < rd->ops; op++) {
            const uint64_t x = test_rand(&rng);
            const uint64_t fp = test_key_fp(salt + (x >> 16) % universe);
            const bool expect = test_model_contains(m, fp);
            MODEL_EXPECT(dedup_contains(d, fp) == expect, "contains");
            if (x % 100 < 25) continue; /* a lookup only */
            if (x % 20000 == 99) {      /* rare: clear */
                dedup_clear(d);
                test_model_clear(m);
                rec.n = 0;
                continue;
            }
            if (expect) continue; /* a duplicate: the caller skips the insert */
            const int64_t t = test_model_time(&rng, rd->mode, &clock_ms, window_ms);
            dedup_prefetch(d, fp);
            dedup_insert(d, fp, t);
            test_model_insert(m, fp, t);
            test_recent_push(&rec, fp, t);
            MODEL_EXPECT(dedup_contains(d, fp), "contains after insert");
            if (op % check_every == 0) {
                MODEL_EXPECT(test_recent_check(&rec, d, m->gen_cap, window_ms) == 0,
                             "an id inside the guaranteed window is lost");
            }
            if ((op & 1023) == 0 || op + 1 == rd->ops) test_model_compare_all(m, d, r, op);
        }
        ops_total += op;
        /* The rules ran that the round was meant to exercise. */
        MODEL_EXPECT(!rd->expect_expired || m->expired > 0, "time expiry exercised");
        MODEL_EXPECT(!rd->expect_evicted || m->evicted > 0, "count eviction exercised");
        MODEL_EXPECT(m->live_gens_max <= 2 * INV_DEDUP_GENERATIONS + 3, "live generation bound");
        dedup_destroy(d);
        test_model_free(m);
        free(m);
        free(rec.fp);
        free(rec.time_ms);
    }
    assert_true(ops_total >= 1000000);
}

/* The bound on live generations (2G + 3, dedup.c) approached: G generations
 * closed by time, each one id one span apart, stay in the window while
 * full generations at the newest time pile up behind them. The window agrees
 * with the model throughout (it never needs its ring-overflow eviction). */
static void test_generation_ring_bound(void **state) {
    (void)state;
    const uint32_t n = 6400;        /* gen_cap 100 */
    const int64_t window_ms = 6400; /* span 100 */
    test_model *m = malloc(sizeof(*m));
    assert_non_null(m);
    test_model_init(m, n, window_ms);
    inv_dedup *d = test_create(n, window_ms);
    uint64_t key = 0;
    for (uint32_t round = 0; round < 3; round++) {
        const int64_t base = (int64_t)round * 100000;
        for (int64_t g = 0; g < INV_DEDUP_GENERATIONS; g++) { /* time-closed, one id each */
            dedup_insert(d, test_key_fp(key), base + g * 100);
            test_model_insert(m, test_key_fp(key++), base + g * 100);
        }
        for (uint32_t i = 0; i < n; i++) { /* full generations at the window's edge */
            dedup_insert(d, test_key_fp(key), base + INV_DEDUP_GENERATIONS * 100);
            test_model_insert(m, test_key_fp(key++), base + INV_DEDUP_GENERATIONS * 100);
        }
        test_model_compare_all(m, d, round, 0);
    }
    print_message("dedup: at most %" PRIu64 " generations live (bound %d, ring %d)\n",
                  m->live_gens_max, 2 * INV_DEDUP_GENERATIONS + 3,
                  INV_DEDUP_GENERATIONS_LIVE_MAX);
    assert_true(m->live_gens_max >= 2 * INV_DEDUP_GENERATIONS);
    assert_true(m->live_gens_max <= 2 * INV_DEDUP_GENERATIONS + 3);
    dedup_destroy(d);
    test_model_free(m);
    free(m);
}

/* ---- crowded buckets --------------------------------------------------- */

/* The home bucket of dedup.c mirrored (the top bits of fp * 2^64 / golden
 * ratio), only to crowd ids: if dedup.c changes it, these tests still check
 * correctness, with less targeted crowds. */
static unsigned test_bucket_bits(uint32_t ids_max) {
    return (unsigned)__builtin_ctzll(test_buckets(ids_max));
}

static uint64_t test_fp_in_bucket(uint64_t *rng, uint64_t bucket, unsigned bucket_bits) {
    for (uint32_t n = 0; n < 1000000; n++) { /* p = 2^-bucket_bits per try */
        const uint64_t fp = test_rand(rng);
        if (fp != 0 && ((fp * 0x9E3779B97F4A7C15ULL) >> (64 - bucket_bits)) == bucket) return fp;
    }
    fail_msg("no fingerprint in bucket %" PRIu64 " (seed=%" PRIu64 ")", bucket, test_seed);
    return 0;
}

/* Ids crowded onto 1-3 neighbouring home buckets (starting at every bucket,
 * so also wrapping past the last one): most inserts find their home full of
 * live ids and go on, marking overflow words; those words then expire with
 * their generations while the crowd turns over, under both rules and clears.
 * Every answer is compared with the reference model, and every held id is
 * looked up after every insert. */
static void test_crowded_buckets_model(void **state) {
    (void)state;
    uint64_t rng = test_seed ^ 0xC7;
    const struct {
        uint32_t ids_max;
        int64_t window_ms;
    } cfgs[] = {{16, 40}, {64, 100}, {64, INT64_MAX}, {256, 300}, {1000, 640}};
    for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
        const uint32_t cap = cfgs[c].ids_max;
        const unsigned bits = test_bucket_bits(cap);
        const uint64_t buckets = 1ULL << bits;
        /* A crowd of 1000 ids on 3 buckets makes chains of ~140 buckets: few
         * trials, and the held ids checked after every 8th insert only. */
        const uint32_t trials = cap <= 64 ? 24 : cap <= 256 ? 8 : 2;
        const uint32_t check_every = cap <= 256 ? 1 : 8;
        for (uint32_t trial = 0; trial < trials; trial++) {
            const uint64_t base = (buckets - 1 + trial) % buckets; /* starts at the last one */
            const uint64_t spread = 1 + trial % 3;
            enum { POOL = 3000 };
            uint64_t pool[POOL];
            const uint32_t pool_n = 3 * cap < POOL ? 3 * cap : POOL;
            for (uint32_t i = 0; i < pool_n; i++) {
                pool[i] = test_fp_in_bucket(&rng, (base + test_rand(&rng) % spread) % buckets,
                                            bits);
            }
            test_model *m = malloc(sizeof(*m));
            assert_non_null(m);
            test_model_init(m, cap, cfgs[c].window_ms);
            inv_dedup *d = test_create(cap, cfgs[c].window_ms);
            int64_t clock_ms = 0;
            for (uint32_t op = 0; op < 12 * cap; op++) {
                const uint64_t x = test_rand(&rng);
                const uint64_t fp = pool[x % pool_n];
                const bool expect = test_model_contains(m, fp);
                if (dedup_contains(d, fp) != expect) {
                    fail_msg("cfg %zu trial %" PRIu32 " op %" PRIu32 ": contains %d, model %d"
                             " (seed=%" PRIu64 ")", c, trial, op, !expect, expect, test_seed);
                }
                if (x % 4000 == 7) { /* rare: clear */
                    dedup_clear(d);
                    test_model_clear(m);
                    continue;
                }
                if (expect) continue;
                clock_ms += (int64_t)((x >> 32) % 3);
                dedup_insert(d, fp, clock_ms);
                test_model_insert(m, fp, clock_ms);
                for (uint32_t i = 0; op % check_every == 0 && i < m->count; i++) {
                    if (!dedup_contains(d, test_model_at(m, i))) {
                        fail_msg("cfg %zu trial %" PRIu32 " op %" PRIu32 ": held id lost"
                                 " (seed=%" PRIu64 ")", c, trial, op, test_seed);
                    }
                }
            }
            inv_dedup_stats st;
            dedup_get_stats(d, &st);
            assert_int_equal(st.ids, m->count);
            assert_int_equal(st.expired_by_time, m->expired);
            assert_int_equal(st.evicted_by_count, m->evicted);
            dedup_destroy(d);
            test_model_free(m);
            free(m);
        }
    }
}

/* Overflow words expire with the generation that wrote them: a lookup stops
 * at an expired one and a later insert reuses the expired slots. 16 ids, 8
 * buckets of 7: the 14 ids homed in bucket 0 fill it and spill into bucket 1;
 * once they expired (by time), a fresh crowd homed in bucket 0 fills it again
 * and every one of them is found, the old ones none. */
static void test_overflow_expiry(void **state) {
    (void)state;
    uint64_t rng = test_seed ^ 0x0F;
    const unsigned bits = test_bucket_bits(16);
    assert_int_equal(bits, 3);
    inv_dedup *d = test_create(16, 10);
    uint64_t old_ids[14], new_ids[14];
    for (uint32_t i = 0; i < 14; i++) old_ids[i] = test_fp_in_bucket(&rng, 0, bits);
    for (uint32_t i = 0; i < 14; i++) new_ids[i] = test_fp_in_bucket(&rng, 0, bits);
    for (uint32_t round = 0; round < 50; round++) {
        const int64_t t0 = (int64_t)round * 1000;
        uint64_t *in = (round & 1) ? new_ids : old_ids, *out = (round & 1) ? old_ids : new_ids;
        for (uint32_t i = 0; i < 14; i++) {
            assert_false(dedup_contains(d, in[i]));
            dedup_insert(d, in[i], t0);
        }
        for (uint32_t i = 0; i < 14; i++) {
            assert_true(dedup_contains(d, in[i]));
            assert_false(dedup_contains(d, out[i]));
        }
        dedup_insert(d, test_fp_in_bucket(&rng, 4, bits), t0 + 11); /* all 14 expire */
        for (uint32_t i = 0; i < 14; i++) assert_false(dedup_contains(d, in[i]));
        inv_dedup_stats st;
        dedup_get_stats(d, &st);
        assert_int_equal(st.ids, 1);
    }
    dedup_destroy(d);
}

/* Fingerprints whose low 16 bits are 0 are stored with the low bit set (a
 * slot's low 16 bits = 0 means empty): crowd 7 of them and 7 others into one
 * bucket and its neighbour, and every one stays found while more arrive. */
static void test_zero_low_bits(void **state) {
    (void)state;
    uint64_t rng = test_seed ^ 0x2E;
    inv_dedup *d = test_create(64, INT64_MAX); /* 32 buckets: 5 bits */
    uint64_t fps[14];
    for (uint32_t i = 0; i < 14; i++) {
        for (;;) {
            const uint64_t fp = test_fp_in_bucket(&rng, 9, 5);
            if (i < 7 && (fp & 0xFFFF) != 0) {
                const uint64_t z = fp & ~0xFFFFULL; /* same home? only top bits decide mostly */
                if (z != 0 && ((z * 0x9E3779B97F4A7C15ULL) >> 59) == 9) {
                    fps[i] = z;
                    break;
                }
                continue;
            }
            fps[i] = fp;
            break;
        }
    }
    for (uint32_t i = 0; i < 14; i++) {
        assert_false(dedup_contains(d, fps[i]));
        dedup_insert(d, fps[i], 0);
        for (uint32_t j = 0; j <= i; j++) assert_true(dedup_contains(d, fps[j]));
    }
    test_expect_stats(d, 14, 14, 0, 0, 0);
    dedup_destroy(d);
}

/* ---- generation tags going round --------------------------------------- */

/* 16-bit generation tags repeat every 65536 generations: a slot or overflow
 * word left behind by an expired generation would look live again then,
 * unless the sweep cleared it. A 16-id window (8 buckets, gen_cap 1: one
 * generation per insert): 10 ids homed in bucket 3 (7 there, 3 spilled into
 * bucket 4, bucket 3's overflow word set), then > 3 x 65536 ids homed in
 * buckets 0 and 1 only (their overflow reaches bucket 2 at most: 16 live ids
 * never fill 21 slots), so nothing but the sweep writes buckets 3 and 4 again.
 * The first 10 ids must stay gone, in particular when the generation number
 * is 65536 (and 2 x, 3 x) past theirs. */
static void test_tag_wraparound_untouched_buckets(void **state) {
    (void)state;
    uint64_t rng = test_seed ^ 0x3A;
    enum { TAGS = 65536, FIRST = 10 };
    inv_dedup *d = test_create(16, INT64_MAX);
    uint64_t first[FIRST];
    for (uint32_t i = 0; i < FIRST; i++) {
        first[i] = test_fp_in_bucket(&rng, 3, 3);
        dedup_insert(d, first[i], 0);
    }
    for (uint32_t i = 0; i < FIRST; i++) assert_true(dedup_contains(d, first[i]));
    for (uint32_t i = FIRST; i < 3 * TAGS + 64; i++) {
        dedup_insert(d, test_fp_in_bucket(&rng, i & 1, 3), 0);
        if (i < FIRST + 16) continue; /* the first ids are evicted by count by now */
        for (uint32_t k = 0; k < FIRST; k++) {
            if (dedup_contains(d, first[k])) {
                fail_msg("id %" PRIu32 " (generation %" PRIu32 ") found again at generation %"
                         PRIu32 " (seed=%" PRIu64 ")", k, k, i, test_seed);
            }
        }
    }
    test_expect_stats(d, 16, 3 * TAGS + 64, 0, 3 * TAGS + 64 - 16, 0);
    dedup_destroy(d);
}

/* The same with 65536 buckets (2^17 ids), which the sweep covers at 4
 * buckets per generation: 64 ids homed in buckets 1..64 in generation 0 (all
 * at time 0), then one id per generation (time + span_ms each) for > 3 x
 * 65536 generations; the 64 must stay gone. (A sweep of 1 bucket per
 * generation would visit bucket k at generation k, while they are live, and
 * next at 65536 + k, after their tag came back.) */
static void test_tag_wraparound_large(void **state) {
    (void)state;
    uint64_t rng = test_seed ^ 0x4B;
    enum { TAGS = 65536, FIRST = 64 };
    const uint32_t n = 1u << 17;
    const unsigned bits = test_bucket_bits(n);
    assert_int_equal(bits, 16);
    inv_dedup *d = test_create(n, 6400); /* span 100 ms */
    uint64_t first[FIRST];
    for (uint32_t k = 0; k < FIRST; k++) {
        first[k] = test_fp_in_bucket(&rng, 1 + k, bits);
        dedup_insert(d, first[k], 0);
    }
    for (uint32_t i = 1; i < 3 * TAGS + 200; i++) {
        dedup_insert(d, test_rand(&rng) | 1, (int64_t)i * 100);
        if (i <= INV_DEDUP_GENERATIONS) continue; /* generation 0 expires at time 6401 */
        for (uint32_t k = 0; k < FIRST; k++) {
            if (dedup_contains(d, first[k])) {
                fail_msg("id %" PRIu32 " of generation 0 found again at generation %" PRIu32
                         " (seed=%" PRIu64 ")", k, i, test_seed);
            }
        }
    }
    inv_dedup_stats st;
    dedup_get_stats(d, &st);
    assert_int_equal(st.ids, INV_DEDUP_GENERATIONS + 1);
    assert_int_equal(st.expired_by_time, st.inserted - st.ids);
    dedup_destroy(d);
}

/* 16-bit generation tags repeat every 65536 generations. A slot or overflow
 * word left behind by an expired generation must never look live again: run
 * a 16-id window (gen_cap 1: one generation per insert) through > 200,000
 * generations and check that no id of about 65536 or 131072 generations ago,
 * whose tag now equals a live one, is ever found; compare with the model all
 * along. Twice: ids spread over all 8 buckets, and crowded onto 2 (overflow
 * words too). Then a time-ruled window whose generations close by time. */
static void test_tag_wraparound(void **state) {
    (void)state;
    uint64_t rng = test_seed ^ 0x57;
    enum { GENS = 210000, TAGS = 65536 };
    uint64_t *fps = malloc(GENS * sizeof(*fps));
    assert_non_null(fps);
    for (int crowd = 0; crowd < 3; crowd++) {
        for (uint32_t i = 0; i < GENS; i++) {
            fps[i] = crowd == 1 ? test_fp_in_bucket(&rng, 5 + test_rand(&rng) % 2, 3)
                                : test_rand(&rng) | 1;
        }
        const int64_t window_ms = crowd == 2 ? 64 : INT64_MAX; /* span 1: a generation per ms */
        test_model *m = malloc(sizeof(*m));
        assert_non_null(m);
        test_model_init(m, 16, window_ms);
        inv_dedup *d = test_create(16, window_ms);
        uint64_t resurrected = 0;
        for (uint32_t i = 0; i < GENS; i++) {
            const bool expect = test_model_contains(m, fps[i]);
            if (dedup_contains(d, fps[i]) != expect) {
                fail_msg("crowd %d insert %" PRIu32 ": contains != model (seed=%" PRIu64 ")",
                         crowd, i, test_seed);
            }
            if (expect) continue; /* a random 64-bit repeat: not expected */
            dedup_insert(d, fps[i], (int64_t)i);
            test_model_insert(m, fps[i], (int64_t)i);
            for (uint32_t w = 1; w <= 2; w++) { /* tags equal to live ones, a few to spare */
                for (uint32_t back = w * TAGS - 24; back <= w * TAGS + 24 && back <= i; back++) {
                    const uint64_t old = fps[i - back];
                    resurrected += dedup_contains(d, old) && !test_model_contains(m, old);
                }
            }
            if (resurrected != 0) {
                fail_msg("crowd %d insert %" PRIu32 ": an expired id is found again"
                         " (seed=%" PRIu64 ")", crowd, i, test_seed);
            }
            if ((i & 4095) == 0) test_model_compare_all(m, d, (size_t)crowd, i);
        }
        assert_true(m->cur_gen >= 3ULL * TAGS); /* the tags went round three times */
        dedup_destroy(d);
        test_model_free(m);
        free(m);
    }
    free(fps);
}

/* ---- false positives --------------------------------------------------- */

/* n distinct ids held (no expiry, no eviction), then n other distinct ids
 * queried: 0 false positives expected. Analytic bound (dedup.h): a query is a
 * false positive when its 48 stored bits equal those of a live id on its
 * probe path, p <= E[ids compared] * 2^-min(48, 64 - log2(buckets)) per
 * query: ~5.7e-13 at n = 10M (2^22 buckets, ~2.4 ids compared), so ~6e-6
 * expected over all 10M queries. A failure here means a broken hash or set,
 * not bad luck. Every id is also checked absent before its insert. */
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
        cmocka_unit_test(test_duplicate_insert_in_release),
#endif
        cmocka_unit_test(test_expiry_by_time_boundary),
        cmocka_unit_test(test_generation_by_time),
        cmocka_unit_test(test_expiry_by_count),
        cmocka_unit_test(test_out_of_order_times),
        cmocka_unit_test(test_extreme_times),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_memory_formula),
        cmocka_unit_test(test_memory_fixed_under_churn),
        cmocka_unit_test(test_model_random),
        cmocka_unit_test(test_generation_ring_bound),
        cmocka_unit_test(test_crowded_buckets_model),
        cmocka_unit_test(test_overflow_expiry),
        cmocka_unit_test(test_zero_low_bits),
        cmocka_unit_test(test_tag_wraparound_untouched_buckets),
        cmocka_unit_test(test_tag_wraparound_large),
        cmocka_unit_test(test_tag_wraparound),
        cmocka_unit_test(test_no_false_positives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
