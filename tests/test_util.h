/* test_util.h - helpers shared by the table, partition and worker tests.
 *
 * - A seeded splitmix64 generator. The seed comes from INV_TEST_SEED (decimal
 *   or 0x-hex) or else from the clock and pid; it is printed once at start and
 *   again by tu_report() when a test failed, so any failure can be replayed.
 * - The test scale: INV_TEST_SCALE (a positive factor, default 1), divided by
 *   2 under ASan and by 4 under TSan so the sanitizer passes stay in budget.
 * - tu_model: an independent model of one key's aggregate, written from the
 *   table of DESIGN.md section 2 (not from engine/apply.c), so tests that
 *   compare the engine against it check the apply rules too.
 *
 * Everything is static inline: each test binary includes this header once.
 * Nothing here is thread-safe except tu_now_ns and the generator on a
 * thread's own state. */
#ifndef INV_TEST_UTIL_H
#define INV_TEST_UTIL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "event.h"
#include "inv_limits.h"

/* A fresh aggregate (agg_init) with the three quantities set: the starting
 * point of most apply tests and of the fuzz target. */
static inline inv_agg tu_agg_with(int64_t on_hand, int64_t reserved, int64_t in_transit) {
    inv_agg a;
    agg_init(&a);
    a.on_hand = on_hand;
    a.reserved = reserved;
    a.in_transit = in_transit;
    return a;
}

#if defined(__SANITIZE_THREAD__)
#define TU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TU_TSAN 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif

#if defined(TU_TSAN)
/* liburcu is not instrumented: rcu_barrier() callocs a completion on the
 * caller's thread and the call_rcu thread frees it, ordered by futexes and
 * atomics TSan cannot see. Ignoring the allocator calls made from inside
 * liburcu hides exactly those reports; every access made by invsync code
 * (including inside RCU callbacks) is still checked. TSan reads this hook
 * at start-up; one definition per test binary (this header is included by
 * one file of each). */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void) {
    return "called_from_lib:liburcu-memb.so\n"
           "called_from_lib:liburcu-common.so\n";
}
#endif

/* --- time ------------------------------------------------------------------ */

static inline int64_t tu_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- seed and generator ---------------------------------------------------- */

static inline uint64_t *tu_seed_slot(void) {
    static uint64_t seed;
    static bool set;
    if (!set) {
        const char *s = getenv("INV_TEST_SEED");
        if (s != NULL && *s != '\0') {
            seed = strtoull(s, NULL, 0);
        } else {
            seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^
                   (uint64_t)tu_now_ns();
        }
        set = true;
        fprintf(stderr, "test seed: INV_TEST_SEED=%" PRIu64 "\n", seed);
    }
    return &seed;
}

/* The run's seed (fixed at the first call). */
static inline uint64_t tu_seed(void) {
    return *tu_seed_slot();
}

/* splitmix64 step. */
static inline uint64_t tu_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A generator state derived from the run's seed and a per-test stream id, so
 * tests do not depend on the order they run in. */
static inline uint64_t tu_rng(uint64_t stream) {
    uint64_t s = tu_seed() ^ (stream * 0xD1B54A32D192ED03ULL);
    (void)tu_rand(&s);
    return s;
}

/* Uniform in [0, n), n > 0 (the modulo bias is irrelevant here). */
static inline uint64_t tu_below(uint64_t *state, uint64_t n) {
    return tu_rand(state) % n;
}

/* Uniform in [lo, hi]. */
static inline int64_t tu_range(uint64_t *state, int64_t lo, int64_t hi) {
    return lo + (int64_t)tu_below(state, (uint64_t)(hi - lo) + 1);
}

/* Prints the seed again after a failed run; returns failures for main. */
static inline int tu_report(int failures) {
    if (failures != 0) {
        fprintf(stderr, "%d test(s) failed; replay with INV_TEST_SEED=%" PRIu64 "\n", failures,
                tu_seed());
    }
    return failures;
}

/* --- scale ----------------------------------------------------------------- */

/* INV_TEST_SCALE (default 1) divided by the sanitizer slowdown. */
static inline double tu_scale(void) {
    double scale = 1.0;
    const char *s = getenv("INV_TEST_SCALE");
    if (s != NULL && *s != '\0') {
        double v = strtod(s, NULL);
        if (v > 0) scale = v;
    }
#if defined(TU_TSAN)
    scale /= 4;
#elif defined(TU_ASAN)
    scale /= 2;
#endif
    return scale;
}

/* n scaled, at least lo. */
static inline uint64_t tu_scaled(uint64_t n, uint64_t lo) {
    double v = (double)n * tu_scale();
    return v < (double)lo ? lo : (uint64_t)v;
}

static inline bool tu_sanitized(void) {
#if defined(TU_TSAN) || defined(TU_ASAN)
    return true;
#else
    return false;
#endif
}

/* --- keys ------------------------------------------------------------------ */

/* Fills buf with len random bytes of the sku/locationId charset. */
static inline void tu_rand_chars(uint64_t *state, char *buf, size_t len) {
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
    _Static_assert(sizeof(chars) - 1 == 65, "the charset of DESIGN.md section 2");
    for (size_t i = 0; i < len; i++)
        buf[i] = chars[tu_below(state, sizeof(chars) - 1)];
}

/* --- events ---------------------------------------------------------------- */

/* A valid event view; strings must outlive it. */
static inline inv_event tu_event(const char *id, size_t id_len, const char *sku, size_t sku_len,
                                 const char *loc, size_t loc_len, inv_event_type t, int64_t delta,
                                 int64_t offset, int64_t ts_ms, int32_t partition) {
    inv_event e;
    memset(&e, 0, sizeof(e));
    e.event_id = id;
    e.event_id_len = (uint16_t)id_len;
    e.sku = sku;
    e.sku_len = (uint16_t)sku_len;
    e.location_id = loc;
    e.location_id_len = (uint16_t)loc_len;
    e.type = (uint8_t)t;
    e.quantity_delta = delta;
    e.offset = offset;
    e.timestamp_ms = ts_ms;
    e.partition = partition;
    return e;
}

/* A random event type. */
static inline inv_event_type tu_rand_type(uint64_t *state) {
    return (inv_event_type)(1 + tu_below(state, INV_EV_TYPE_COUNT - 1));
}

/* A random valid quantityDelta for type t: mostly small, sometimes up to the
 * 10^9 limit; either sign for every type (both producer conventions), and
 * never 0. */
static inline int64_t tu_rand_delta(uint64_t *state, inv_event_type t) {
    uint64_t r = tu_below(state, 100);
    int64_t q;
    if (r < 70) {
        q = tu_range(state, 1, 100);
    } else if (r < 95) {
        q = tu_range(state, 1, 10000);
    } else if (r < 99) {
        q = tu_range(state, 1, INV_QUANTITY_ABS_MAX);
    } else {
        q = INV_QUANTITY_ABS_MAX;
    }
    (void)t;
    return tu_below(state, 2) ? q : -q;
}

/* --- the reference model of one key (DESIGN.md section 2) ------------------ */

typedef struct tu_model {
    int64_t on_hand;
    int64_t reserved;
    int64_t in_transit;
    int64_t last_updated_ms; /* INT64_MIN before the first event */
    uint64_t version;
    int64_t offset; /* -1 before the first event */
    uint32_t oversells;
    uint32_t release_excesses;
    uint32_t transfer_in_excesses;
} tu_model;

/* What one applied event did, for counters kept by callers. */
typedef struct tu_effect {
    bool oversell;
    bool release_excess;
    bool transfer_in_excess;
} tu_effect;

static inline void tu_model_init(tu_model *m) {
    memset(m, 0, sizeof(*m));
    m->last_updated_ms = INT64_MIN;
    m->offset = -1;
}

/* Applies one valid event by the table of DESIGN.md section 2. Returns false
 * if a field would overflow (tests keep far from it; the caller fails). */
static inline bool tu_model_apply(tu_model *m, inv_event_type t, int64_t delta, int64_t offset,
                                  int64_t ts_ms, tu_effect *eff) {
    tu_effect e = {false, false, false};
    if (eff != NULL) *eff = e;
    const int64_t q = t == INV_EV_ADJUSTMENT ? delta : (delta < 0 ? -delta : delta);
    /* __int128 keeps the model free of overflow; results are range-checked. */
    __int128 on_hand = m->on_hand, reserved = m->reserved, in_transit = m->in_transit;
    const __int128 avail_before = on_hand - reserved;
    switch (t) {
    case INV_EV_RECEIPT:
    case INV_EV_RETURN:
        on_hand += q;
        break;
    case INV_EV_TRANSFER_OUT:
    case INV_EV_SALE:
        on_hand -= q;
        break;
    case INV_EV_IN_TRANSIT:
        in_transit += q;
        break;
    case INV_EV_TRANSFER_IN:
        on_hand += q;
        if (q > in_transit) {
            e.transfer_in_excess = true;
            in_transit = 0;
        } else {
            in_transit -= q;
        }
        break;
    case INV_EV_ADJUSTMENT:
        on_hand += q;
        break;
    case INV_EV_RESERVATION:
        reserved += q;
        break;
    case INV_EV_RELEASE:
    case INV_EV_FULFILLMENT:
        if (t == INV_EV_FULFILLMENT) on_hand -= q;
        if (q > reserved) {
            e.release_excess = true;
            reserved = 0;
        } else {
            reserved -= q;
        }
        break;
    default:
        return false;
    }
    const __int128 avail_after = on_hand - reserved;
    if (on_hand > INT64_MAX || on_hand < INT64_MIN || reserved > INT64_MAX ||
        in_transit > INT64_MAX || avail_after > INT64_MAX || avail_after < INT64_MIN) {
        return false;
    }
    e.oversell = avail_after < 0 && avail_after < avail_before;
    m->on_hand = (int64_t)on_hand;
    m->reserved = (int64_t)reserved;
    m->in_transit = (int64_t)in_transit;
    m->version++;
    m->offset = offset;
    if (ts_ms > m->last_updated_ms) m->last_updated_ms = ts_ms;
    if (e.oversell) m->oversells++;
    if (e.release_excess) m->release_excesses++;
    if (e.transfer_in_excess) m->transfer_in_excesses++;
    if (eff != NULL) *eff = e;
    return true;
}

/* True when every field of a equals the model (and the pad word is 0). */
static inline bool tu_model_eq(const tu_model *m, const inv_agg *a) {
    return a->on_hand == m->on_hand && a->reserved == m->reserved &&
           a->in_transit == m->in_transit && a->last_updated_ms == m->last_updated_ms &&
           a->version == m->version && a->offset == m->offset &&
           a->oversell_count == m->oversells && a->release_excess_count == m->release_excesses &&
           a->transfer_in_excess_count == m->transfer_in_excesses && a->reserved0 == 0;
}

/* Prints both sides of a mismatch. */
static inline void tu_model_print(const char *what, const tu_model *m, const inv_agg *a) {
    fprintf(stderr,
            "%s:\n  model: onHand=%" PRId64 " reserved=%" PRId64 " inTransit=%" PRId64
            " last=%" PRId64 " version=%" PRIu64 " offset=%" PRId64 " anomalies=%u/%u/%u\n",
            what, m->on_hand, m->reserved, m->in_transit, m->last_updated_ms, m->version, m->offset,
            m->oversells, m->release_excesses, m->transfer_in_excesses);
    if (a != NULL) {
        fprintf(stderr,
                "  table: onHand=%" PRId64 " reserved=%" PRId64 " inTransit=%" PRId64
                " last=%" PRId64 " version=%" PRIu64 " offset=%" PRId64 " anomalies=%u/%u/%u"
                " pad=%u\n",
                a->on_hand, a->reserved, a->in_transit, a->last_updated_ms, a->version, a->offset,
                a->oversell_count, a->release_excess_count, a->transfer_in_excess_count,
                a->reserved0);
    }
    fprintf(stderr, "  replay with INV_TEST_SEED=%" PRIu64 "\n", tu_seed());
}

#endif
