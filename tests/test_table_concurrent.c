/* test_table_concurrent.c - one writer and lock-free readers (table.h,
 * engine.h); runs under ThreadSanitizer in `make test`.
 *
 * Table: a writer thread inserts keys into a table that starts at the
 * minimum index size (so it grows many times under the readers), publishes
 * how many keys exist through an atomic counter, and rewrites aggregates
 * (hot keys often) with values that satisfy a checkable invariant: every
 * field derived from the version. Two reader threads look up announced keys,
 * walk SKU chains and scan the whole table, and check that every aggregate
 * they see is whole (no torn read), that a key's version never goes back for
 * a reader, that every announced key is found, that a SKU lists exactly its
 * announced locations newest first and that a scan returns records in
 * insertion order. -EAGAIN (a record rewritten for too long) is retried and
 * counted.
 *
 * Engine: readers call engine_lookup, engine_sku_foreach and
 * engine_partition_stats in a loop while the control thread closes every
 * partition (and reopens one): a reader sees either the full aggregate or
 * -ENOENT, and always -ENOENT once the close returned; engine_destroy then
 * waits for the grace periods (the ASan pass checks nothing leaks and no freed
 * memory is read).
 *
 * Environment: INV_TEST_SEED, INV_TEST_SCALE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "engine.h"
#include "event.h"
#include "inv_limits.h"
#include "partitioner.h"
#include "rcu.h"
#include "table.h"
#include "test_util.h"

#define ERRSTR_LEN 256
#define NSKU       97 /* key i is (sku i % NSKU, location i / NSKU) */
#define HOT_KEYS   16

/* --- the invariant --------------------------------------------------------- */

static inv_agg agg_for_version(uint64_t v) {
    inv_agg a;
    memset(&a, 0, sizeof(a));
    a.on_hand = (int64_t)v * 3;
    a.reserved = (int64_t)v * 2;
    a.in_transit = (int64_t)v;
    a.last_updated_ms = (int64_t)v;
    a.version = v;
    a.offset = (int64_t)v;
    a.oversell_count = (uint32_t)v;
    a.release_excess_count = (uint32_t)(v * 7);
    a.transfer_in_excess_count = (uint32_t)(v ^ 0x5a5a5a5au);
    return a;
}

/* True when a is whole: the fresh aggregate of a just-inserted key, or
 * exactly agg_for_version(a->version) with version >= 1. */
static bool agg_whole(const inv_agg *a) {
    inv_agg want;
    if (a->version == 0) {
        agg_init(&want);
    } else {
        want = agg_for_version(a->version);
    }
    return memcmp(a, &want, sizeof(want)) == 0;
}

/* --- shared state ---------------------------------------------------------- */

typedef struct conc_reader {
    pthread_t thread;
    struct conc *c;
    uint64_t rng;
    uint64_t *last_seen; /* per key: the highest version this reader saw */
    /* results, read by the main thread after join */
    uint64_t lookups, sku_scans, full_scans, records_seen, eagain;
    uint64_t errors;
    char first_error[256];
} conc_reader;

typedef struct conc {
    inv_table *t;
    uint32_t keys_max;
    uint32_t published; /* atomic: keys [0, published) exist and were set once */
    int stop;           /* atomic */
    int64_t run_ns_min, run_ns_max;
    inv_ref *refs;      /* writer only */
    uint64_t *versions; /* writer only (read by main after join) */
    uint64_t rng;
    uint64_t writer_sets, writer_ops;
    int writer_error;
    conc_reader readers[2];
    uint32_t nreaders;
} conc;

static void key_name(uint32_t i, char *sku, size_t sku_cap, char *loc, size_t loc_cap) {
    snprintf(sku, sku_cap, "SKU-%u", i % NSKU);
    snprintf(loc, loc_cap, "L%u", i / NSKU);
}

static void key_make(inv_key_buf *k, uint32_t i) {
    char sku[32], loc[32];
    key_name(i, sku, sizeof(sku), loc, sizeof(loc));
    table_key_init(k, sku, strlen(sku), loc, strlen(loc));
}

/* Parses the decimal number after prefix in s (len bytes); -1 if malformed. */
static int64_t parse_num(const char *s, size_t len, const char *prefix) {
    size_t pl = strlen(prefix);
    if (len <= pl || memcmp(s, prefix, pl) != 0 || len - pl > 9) return -1;
    int64_t v = 0;
    for (size_t i = pl; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static void reader_error(conc_reader *r, const char *fmt, uint64_t a, uint64_t b) {
    if (r->errors++ == 0) snprintf(r->first_error, sizeof(r->first_error), fmt, a, b);
}

/* Checks one aggregate of key i seen by reader r. */
static void reader_check(conc_reader *r, uint32_t i, const inv_agg *a) {
    r->records_seen++;
    if (i >= r->c->keys_max) {
        reader_error(r, "key %" PRIu64 " beyond %" PRIu64, i, r->c->keys_max);
        return;
    }
    if (!agg_whole(a))
        reader_error(r, "torn aggregate of key %" PRIu64 " (version %" PRIu64 ")", i, a->version);
    if (a->version < r->last_seen[i])
        reader_error(r, "version of key %" PRIu64 " went back from %" PRIu64, i, r->last_seen[i]);
    else
        r->last_seen[i] = a->version;
}

/* --- writer ---------------------------------------------------------------- */

static void writer_set(conc *c, uint32_t i) {
    c->versions[i]++;
    inv_agg a = agg_for_version(c->versions[i]);
    table_agg_set(c->t, c->refs[i], &a);
    c->writer_sets++;
}

static void *writer_main(void *arg) {
    conc *c = arg;
    inv_rcu_register_thread();
    int64_t t0 = tu_now_ns();
    uint32_t n = 0;
    for (uint64_t op = 0;; op++) {
        int64_t el = tu_now_ns() - t0;
        if (el >= c->run_ns_max || (n == c->keys_max && el >= c->run_ns_min)) break;
        if (n < c->keys_max) {
            inv_key_buf k;
            key_make(&k, n);
            int rc = table_insert(c->t, &k.key, &c->refs[n]);
            if (rc != 0) {
                c->writer_error = rc;
                break;
            }
            writer_set(c, n); /* version 1 before the key is announced */
            n++;
            __atomic_store_n(&c->published, n, __ATOMIC_RELEASE);
        }
        /* Updates: half on a few hot keys (readers meet them mid-write). */
        for (int u = 0; u < 4 && n > 0; u++) {
            uint32_t i = tu_below(&c->rng, 2)
                             ? (uint32_t)tu_below(&c->rng, n < HOT_KEYS ? n : HOT_KEYS)
                             : (uint32_t)tu_below(&c->rng, n);
            writer_set(c, i);
        }
        c->writer_ops = op + 1;
    }
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
    inv_rcu_unregister_thread();
    return NULL;
}

/* --- readers --------------------------------------------------------------- */

static int read_lookup(conc_reader *r, uint32_t i, inv_agg *out) {
    inv_key_buf k;
    key_make(&k, i);
    for (int tries = 0;; tries++) {
        inv_rcu_read_lock();
        int rc = table_lookup(r->c->t, &k.key, out);
        inv_rcu_read_unlock();
        if (rc != -EAGAIN || tries >= 1000) return rc;
        r->eagain++;
    }
}

typedef struct sku_walk {
    conc_reader *r;
    uint32_t sku;
    int64_t prev_loc; /* the location number visited last; -1 before the first */
    bool bad;
} sku_walk;

static int sku_walk_cb(const char *loc, size_t loc_len, const inv_agg *agg, void *ctx) {
    sku_walk *w = ctx;
    int64_t l = parse_num(loc, loc_len, "L");
    /* Newest first: location numbers descend by exactly one down to 0. */
    if (l < 0 || (w->prev_loc >= 0 && l != w->prev_loc - 1)) {
        reader_error(w->r, "sku %" PRIu64 ": location %" PRIu64 " out of order", w->sku,
                     (uint64_t)l);
        w->bad = true;
        return 1;
    }
    w->prev_loc = l;
    reader_check(w->r, (uint32_t)l * NSKU + w->sku, agg);
    return 0;
}

static void reader_sku_scan(conc_reader *r) {
    uint32_t s = (uint32_t)tu_below(&r->rng, NSKU);
    uint32_t c = __atomic_load_n(&r->c->published, __ATOMIC_ACQUIRE);
    uint32_t want_min = c > s ? (c - s + NSKU - 1) / NSKU : 0; /* announced keys of SKU s */
    char sku[32];
    int len = snprintf(sku, sizeof(sku), "SKU-%u", s);
    inv_key_buf k;
    table_key_init(&k, sku, (size_t)len, "x", 1);
    for (int tries = 0; tries < 1000; tries++) {
        sku_walk w = {.r = r, .sku = s, .prev_loc = -1};
        inv_rcu_read_lock();
        long n = table_sku_foreach(r->c->t, &k.key, sku_walk_cb, &w);
        inv_rcu_read_unlock();
        if (n == -EAGAIN) {
            r->eagain++;
            continue;
        }
        r->sku_scans++;
        if (w.bad) return;
        if (n < (long)want_min)
            reader_error(r, "sku %" PRIu64 ": %" PRIu64 " locations", s, (uint64_t)n);
        if (n > 0 && w.prev_loc != 0)
            reader_error(r, "sku %" PRIu64 ": chain ends at %" PRIu64, s, (uint64_t)w.prev_loc);
        return;
    }
}

typedef struct full_walk {
    conc_reader *r;
    uint32_t next;
    bool bad;
} full_walk;

static int full_walk_cb(const char *sku, size_t sku_len, const char *loc, size_t loc_len,
                        const inv_agg *agg, void *ctx) {
    full_walk *w = ctx;
    int64_t s = parse_num(sku, sku_len, "SKU-"), l = parse_num(loc, loc_len, "L");
    if (s < 0 || l < 0 || (uint64_t)l * NSKU + (uint64_t)s != w->next) {
        reader_error(w->r, "scan: record %" PRIu64 " is key %" PRIu64, w->next,
                     (uint64_t)(l * NSKU + s));
        w->bad = true;
        return 1;
    }
    reader_check(w->r, w->next, agg);
    w->next++;
    return 0;
}

static void reader_full_scan(conc_reader *r) {
    uint32_t c = __atomic_load_n(&r->c->published, __ATOMIC_ACQUIRE);
    for (int tries = 0; tries < 1000; tries++) {
        full_walk w = {.r = r};
        inv_rcu_read_lock();
        long n = table_foreach(r->c->t, full_walk_cb, &w);
        inv_rcu_read_unlock();
        if (n == -EAGAIN) {
            r->eagain++;
            continue;
        }
        r->full_scans++;
        if (!w.bad && n < (long)c)
            reader_error(r, "scan saw %" PRIu64 " of %" PRIu64 " keys", (uint64_t)n, c);
        return;
    }
}

static void *reader_main(void *arg) {
    conc_reader *r = arg;
    inv_rcu_register_thread();
    int64_t last_full = tu_now_ns();
    while (!__atomic_load_n(&r->c->stop, __ATOMIC_ACQUIRE) && r->errors == 0) {
        uint64_t x = tu_below(&r->rng, 100);
        if (x < 85) {
            uint32_t c = __atomic_load_n(&r->c->published, __ATOMIC_ACQUIRE);
            if (c == 0) continue;
            /* Half the lookups on the hot keys, being rewritten right now. */
            uint32_t i = tu_below(&r->rng, 2)
                             ? (uint32_t)tu_below(&r->rng, c < HOT_KEYS ? c : HOT_KEYS)
                             : (uint32_t)tu_below(&r->rng, c);
            inv_agg a;
            int rc = read_lookup(r, i, &a);
            r->lookups++;
            if (rc != 0) {
                reader_error(r, "lookup of announced key %" PRIu64 ": %" PRIu64, i,
                             (uint64_t)(int64_t)rc);
                continue;
            }
            if (a.version == 0)
                reader_error(r, "announced key %" PRIu64 " at version %" PRIu64, i, 0);
            reader_check(r, i, &a);
        } else {
            reader_sku_scan(r);
        }
        if (tu_now_ns() - last_full > 50 * 1000000LL) { /* a full scan every 50 ms */
            reader_full_scan(r);
            last_full = tu_now_ns();
        }
    }
    reader_full_scan(r); /* one after the writer is done */
    inv_rcu_unregister_thread();
    return NULL;
}

static void test_table_writer_readers(void **state) {
    (void)state;
    conc *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->keys_max = (uint32_t)tu_scaled(200000, 8000);
    /* Plain: 2 s; sanitizers: 3 s (fewer operations, more time per one). */
    c->run_ns_min = tu_sanitized() ? 3000000000LL : 2000000000LL;
    c->run_ns_max = tu_sanitized() ? 30000000000LL : 5000000000LL;
    c->rng = tu_rng(21);
    c->refs = calloc(c->keys_max, sizeof(*c->refs));
    c->versions = calloc(c->keys_max, sizeof(*c->versions));
    assert_true(c->refs != NULL && c->versions != NULL);
    inv_table_config cfg = {.arena_bytes = 0, .keys_expected = 0};
    char err[ERRSTR_LEN] = "";
    assert_int_equal(table_create(&c->t, &cfg, err, sizeof(err)), 0);
    c->nreaders = 2;
    for (uint32_t i = 0; i < c->nreaders; i++) {
        conc_reader *r = &c->readers[i];
        r->c = c;
        r->rng = tu_rng(22 + i);
        r->last_seen = calloc(c->keys_max, sizeof(uint64_t));
        assert_non_null(r->last_seen);
        assert_int_equal(pthread_create(&r->thread, NULL, reader_main, r), 0);
    }
    pthread_t writer;
    int64_t t0 = tu_now_ns();
    assert_int_equal(pthread_create(&writer, NULL, writer_main, c), 0);
    assert_int_equal(pthread_join(writer, NULL), 0);
    for (uint32_t i = 0; i < c->nreaders; i++)
        assert_int_equal(pthread_join(c->readers[i].thread, NULL), 0);
    double secs = (double)(tu_now_ns() - t0) / 1e9;

    uint32_t n = __atomic_load_n(&c->published, __ATOMIC_ACQUIRE);
    inv_table_stats st;
    table_get_stats(c->t, &st);
    fprintf(stderr, "writer: %u keys, %" PRIu64 " sets, %" PRIu64 " grows in %.2f s\n", n,
            c->writer_sets, st.grows, secs);
    uint64_t errors = 0;
    for (uint32_t i = 0; i < c->nreaders; i++) {
        conc_reader *r = &c->readers[i];
        fprintf(stderr,
                "reader %u: %" PRIu64 " lookups, %" PRIu64 " sku scans, %" PRIu64
                " full scans, %" PRIu64 " aggregates checked, %" PRIu64 " EAGAIN, %" PRIu64
                " errors%s%s\n",
                i, r->lookups, r->sku_scans, r->full_scans, r->records_seen, r->eagain, r->errors,
                r->errors ? ": " : "", r->first_error);
        errors += r->errors;
        assert_true(r->lookups > 100);
        assert_true(r->sku_scans > 10);
        assert_true(r->full_scans >= 1);
    }
    if (errors != 0) fprintf(stderr, "replay with INV_TEST_SEED=%" PRIu64 "\n", tu_seed());
    assert_int_equal(errors, 0);
    assert_int_equal(c->writer_error, 0);
    /* Enough keys to have grown the index several times under the readers. */
    assert_true(n >= 8000);
    assert_true(st.grows >= 4); /* 1024 -> 16384 slots at least */
    assert_int_equal(table_count(c->t), n);
    /* Final state: every key holds the writer's last version. */
    for (uint32_t i = 0; i < n; i++) {
        inv_key_buf k;
        key_make(&k, i);
        inv_agg a;
        inv_rcu_read_lock();
        int rc = table_lookup(c->t, &k.key, &a);
        inv_rcu_read_unlock();
        assert_int_equal(rc, 0);
        inv_agg want = agg_for_version(c->versions[i]);
        assert_memory_equal(&a, &want, sizeof(a));
    }
    table_destroy(c->t);
    inv_rcu_barrier();
    for (uint32_t i = 0; i < c->nreaders; i++)
        free(c->readers[i].last_seen);
    free(c->refs);
    free(c->versions);
    free(c);
}

/* --- engine: close partitions under readers -------------------------------- */

#define ENG_PARTS 4
#define ENG_KEYS  2000

typedef struct eng_key {
    char sku[24];
    char loc[24];
    char id[24];
    int32_t partition;
    int64_t qty;
} eng_key;

typedef struct eng_feed {
    eng_key *keys;
    uint32_t next;
} eng_feed;

static int eng_pull(void *ctx, inv_event *events, size_t max, int timeout_ms) {
    (void)timeout_ms;
    eng_feed *f = ctx;
    if (f->next >= ENG_KEYS) return -ECANCELED;
    size_t n = 0;
    for (; n < max && f->next < ENG_KEYS; n++, f->next++) {
        const eng_key *k = &f->keys[f->next];
        events[n] = tu_event(k->id, strlen(k->id), k->sku, strlen(k->sku), k->loc, strlen(k->loc),
                             INV_EV_RECEIPT, k->qty, f->next, 1795428930123LL, k->partition);
    }
    return (int)n;
}

typedef struct eng_shared {
    inv_engine *e;
    eng_key *keys;
    int closing[ENG_PARTS];   /* atomic: set before engine_partition_close */
    int closed[ENG_PARTS];    /* atomic: set after it returned */
    int reopening[ENG_PARTS]; /* atomic: set before engine_partition_open */
    int stop;                 /* atomic */
} eng_shared;

typedef struct eng_reader {
    pthread_t thread;
    eng_shared *s;
    uint64_t rng;
    uint64_t found, enoent, eagain, errors;
    char first_error[200];
} eng_reader;

static int eng_count_cb(const char *loc, size_t loc_len, const inv_agg *agg, void *ctx) {
    (void)loc;
    (void)loc_len;
    uint64_t *bad = ctx;
    if (agg->version != 1) (*bad)++;
    return 0;
}

static void eng_error(eng_reader *r, const char *what, uint32_t i, int rc) {
    if (r->errors++ == 0)
        snprintf(r->first_error, sizeof(r->first_error), "%s: key %u rc %d", what, i, rc);
}

static void *eng_reader_main(void *arg) {
    eng_reader *r = arg;
    eng_shared *s = r->s;
    inv_rcu_register_thread();
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        uint32_t i = (uint32_t)tu_below(&r->rng, ENG_KEYS);
        const eng_key *k = &s->keys[i];
        int32_t p = k->partition;
        int closed_before = __atomic_load_n(&s->closed[p], __ATOMIC_ACQUIRE);
        inv_agg a;
        int rc;
        do {
            rc = engine_lookup(s->e, k->sku, strlen(k->sku), k->loc, strlen(k->loc), &a);
            if (rc == -EAGAIN) r->eagain++;
        } while (rc == -EAGAIN);
        int closing_after = __atomic_load_n(&s->closing[p], __ATOMIC_ACQUIRE);
        if (rc == 0) {
            r->found++;
            if (closed_before) eng_error(r, "found after close", i, rc);
            if (a.on_hand != k->qty || a.version != 1 || a.offset != (int64_t)i)
                eng_error(r, "wrong aggregate", i, rc);
        } else if (rc == -ENOENT) {
            r->enoent++;
            if (!closing_after) eng_error(r, "ENOENT before close", i, rc);
        } else {
            eng_error(r, "lookup", i, rc);
        }
        if (tu_below(&r->rng, 16) == 0) {
            uint64_t bad = 0;
            long n = engine_sku_foreach(s->e, k->sku, strlen(k->sku), eng_count_cb, &bad);
            if (n < 0 && n != -EAGAIN) eng_error(r, "sku_foreach", i, (int)n);
            if (bad != 0) eng_error(r, "sku_foreach aggregate", i, (int)n);
            inv_partition_stats st;
            uint64_t mem = 0;
            closed_before = __atomic_load_n(&s->closed[p], __ATOMIC_ACQUIRE);
            rc = engine_partition_stats(s->e, p, &st, &mem);
            int reopening = __atomic_load_n(&s->reopening[p], __ATOMIC_ACQUIRE);
            if (rc == 0 && closed_before && !reopening) eng_error(r, "stats after close", i, rc);
            if (rc == 0 && (mem == 0 || st.applied > ENG_KEYS)) eng_error(r, "stats values", i, rc);
            if (rc != 0 && rc != -ENOENT) eng_error(r, "stats", i, rc);
        }
    }
    inv_rcu_unregister_thread();
    return NULL;
}

static void sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_engine_close_under_readers(void **state) {
    (void)state;
    eng_shared s;
    memset(&s, 0, sizeof(s));
    s.keys = calloc(ENG_KEYS, sizeof(eng_key));
    assert_non_null(s.keys);
    uint32_t per_part[ENG_PARTS] = {0};
    for (uint32_t i = 0; i < ENG_KEYS; i++) {
        eng_key *k = &s.keys[i];
        snprintf(k->sku, sizeof(k->sku), "E-%u", i % 37);
        snprintf(k->loc, sizeof(k->loc), "loc-%u", i);
        snprintf(k->id, sizeof(k->id), "e-%u", i);
        char key[64];
        int len = snprintf(key, sizeof(key), "%s:%s", k->sku, k->loc);
        k->partition = partitioner_partition(key, (size_t)len, ENG_PARTS);
        k->qty = 1 + i % 1000;
        per_part[k->partition]++;
    }
    for (int p = 0; p < ENG_PARTS; p++)
        assert_true(per_part[p] > 0);

    inv_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.partitions = ENG_PARTS;
    cfg.workers = 1;
    cfg.dedup_ids_max = 1u << 12;
    char err[ERRSTR_LEN] = "";
    assert_int_equal(engine_create(&s.e, &cfg, err, sizeof(err)), 0);
    for (int p = 0; p < ENG_PARTS; p++)
        assert_int_equal(engine_partition_open(s.e, p, err, sizeof(err)), 0);
    eng_feed feed = {.keys = s.keys};
    inv_worker_input in = {.pull = eng_pull, .ctx = &feed};
    assert_int_equal(engine_start(s.e, &in, err, sizeof(err)), 0);
    assert_int_equal(engine_wait(s.e), 0);
    for (int p = 0; p < ENG_PARTS; p++) {
        inv_partition_stats st;
        assert_int_equal(engine_partition_stats(s.e, p, &st, NULL), 0);
        assert_int_equal(st.applied, per_part[p]);
    }

    eng_reader readers[2];
    memset(readers, 0, sizeof(readers));
    for (int i = 0; i < 2; i++) {
        readers[i].s = &s;
        readers[i].rng = tu_rng(31 + (uint64_t)i);
        assert_int_equal(pthread_create(&readers[i].thread, NULL, eng_reader_main, &readers[i]), 0);
    }
    sleep_ms(100);
    for (int p = 0; p < ENG_PARTS; p++) {
        __atomic_store_n(&s.closing[p], 1, __ATOMIC_RELEASE);
        engine_partition_close(s.e, p);
        __atomic_store_n(&s.closed[p], 1, __ATOMIC_RELEASE);
        engine_partition_close(s.e, p); /* a no-op when not open */
        sleep_ms(30);
    }
    /* Reopen one: empty, published under the readers; its keys stay absent. */
    __atomic_store_n(&s.reopening[1], 1, __ATOMIC_RELEASE);
    assert_int_equal(engine_partition_open(s.e, 1, err, sizeof(err)), 0);
    assert_int_equal(engine_partition_open(s.e, 1, err, sizeof(err)), -EEXIST);
    sleep_ms(50);
    __atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
    uint64_t errors = 0;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(readers[i].thread, NULL), 0);
        fprintf(stderr,
                "engine reader %d: %" PRIu64 " found, %" PRIu64 " ENOENT, %" PRIu64
                " EAGAIN, %" PRIu64 " errors%s%s\n",
                i, readers[i].found, readers[i].enoent, readers[i].eagain, readers[i].errors,
                readers[i].errors ? ": " : "", readers[i].first_error);
        errors += readers[i].errors;
        assert_true(readers[i].found > 0);
        assert_true(readers[i].enoent > 0);
    }
    assert_int_equal(errors, 0);
    inv_partition_stats st;
    assert_int_equal(engine_partition_stats(s.e, 0, &st, NULL), -ENOENT);
    assert_int_equal(engine_partition_stats(s.e, 1, &st, NULL), 0);
    assert_int_equal(st.applied, 0);
    engine_destroy(s.e);
    free(s.keys);
}

int main(void) {
    inv_rcu_register_thread();
    (void)tu_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_writer_readers),
        cmocka_unit_test(test_engine_close_under_readers),
    };
    int failures = cmocka_run_group_tests(tests, NULL, NULL);
    inv_rcu_barrier();
    inv_rcu_unregister_thread();
    return tu_report(failures);
}
