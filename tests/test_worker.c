/* test_worker.c - workers and the engine around them (worker.h, engine.h);
 * runs under ThreadSanitizer in `make test`.
 *
 * Covers engine_create validation (errstr names the field); two pinned
 * workers over 12 partitions, each fed by its own inv_worker_input with
 * pre-built events (duplicates, replays, every event type) in batches of
 * random size, with a done callback that checks every result against a
 * sequential reference, and the final aggregates read back with
 * engine_lookup; pinning to CPUs 0 and 1 checked with sched_getcpu inside the
 * pull; a CPU that does not exist (engine_start fails with errstr and leaves
 * no thread behind, and the engine can start again); engine_stop against
 * inputs that never run dry; and a pull error (-EIO) that stops its worker
 * and is returned by engine_wait and engine_stop.
 *
 * cmocka is not thread-safe, so callbacks on worker threads only count; the
 * main thread asserts after the workers were joined.
 *
 * Environment: INV_TEST_SEED, INV_TEST_SCALE. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
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
#include "test_util.h"

#define ERRSTR_LEN 256
#define TS0        1795428930123LL

static void sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Threads of this process now. */
static int thread_count(void) {
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* True when the calling thread may run on cpu and on no other CPU. */
static bool pinned_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return false;
    return CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set) && sched_getcpu() == cpu;
}

/* True when this process may run on CPUs 0 and 1. */
static bool cpus_0_1_usable(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return false;
    return CPU_ISSET(0, &set) && CPU_ISSET(1, &set);
}

/* --- config validation ----------------------------------------------------- */

static void expect_create_einval(const inv_engine_config *cfg, const char *field) {
    char err[ERRSTR_LEN] = "";
    inv_engine *e = (inv_engine *)(uintptr_t)1;
    assert_int_equal(engine_create(&e, cfg, err, sizeof(err)), -EINVAL);
    assert_ptr_equal(e, (inv_engine *)(uintptr_t)1);
    if (strstr(err, field) == NULL) fail_msg("errstr \"%s\" does not name %s", err, field);
}

static void test_config(void **state) {
    (void)state;
    inv_engine_config cfg;
    engine_config_defaults(&cfg);
    assert_int_equal(cfg.partitions, 12);
    assert_int_equal(cfg.workers, 1);
    assert_true(cfg.dedup_enabled);
    for (int i = 0; i < INV_WORKERS_MAX; i++)
        assert_int_equal(cfg.cpus[i], -1);

    cfg.partitions = 0;
    expect_create_einval(&cfg, "partitions");
    cfg.partitions = -3;
    expect_create_einval(&cfg, "partitions");
    cfg.partitions = INV_PARTITIONS_MAX + 1;
    expect_create_einval(&cfg, "partitions");
    engine_config_defaults(&cfg);
    cfg.workers = 0;
    expect_create_einval(&cfg, "workers");
    cfg.workers = INV_WORKERS_MAX + 1;
    expect_create_einval(&cfg, "workers");
    engine_config_defaults(&cfg);
    cfg.dedup_window_ms = -1;
    expect_create_einval(&cfg, "dedup");

    /* The bounds are valid. */
    engine_config_defaults(&cfg);
    cfg.partitions = INV_PARTITIONS_MAX;
    cfg.workers = INV_WORKERS_MAX;
    char err[ERRSTR_LEN] = "";
    inv_engine *e = NULL;
    assert_int_equal(engine_create(&e, &cfg, err, sizeof(err)), 0);
    for (int32_t p = 0; p < INV_PARTITIONS_MAX; p += 97)
        assert_int_equal(engine_worker_of(e, p), (uint32_t)p % INV_WORKERS_MAX);
    engine_destroy(e);

    /* Partition open/close and lookups on a stopped engine. */
    engine_config_defaults(&cfg);
    cfg.partitions = 3;
    cfg.workers = 2;
    cfg.dedup_ids_max = 1024;
    assert_int_equal(engine_create(&e, &cfg, err, sizeof(err)), 0);
    err[0] = '\0';
    assert_int_equal(engine_partition_open(e, 3, err, sizeof(err)), -EINVAL);
    assert_true(strlen(err) > 0);
    assert_int_equal(engine_partition_open(e, -1, err, sizeof(err)), -EINVAL);
    assert_int_equal(engine_partition_open(e, 2, err, sizeof(err)), 0);
    assert_int_equal(engine_partition_open(e, 2, err, sizeof(err)), -EEXIST);
    inv_agg a;
    assert_int_equal(engine_lookup(e, "S", 1, "L", 1, &a), -ENOENT);
    assert_int_equal(engine_lookup(e, "S:1", 3, "L", 1, &a), -EINVAL);
    assert_int_equal(engine_lookup(e, "S", 0, "L", 1, &a), -EINVAL);
    assert_int_equal(engine_lookup(e, "S", 1, "L L", 3, &a), -EINVAL);
    char long_loc[INV_LOCATION_LEN_MAX + 1];
    memset(long_loc, 'x', sizeof(long_loc));
    assert_int_equal(engine_lookup(e, "S", 1, long_loc, sizeof(long_loc), &a), -EINVAL);
    inv_partition_stats st;
    assert_int_equal(engine_partition_stats(e, 0, &st, NULL), -ENOENT);
    assert_int_equal(engine_partition_stats(e, 2, &st, NULL), 0);
    assert_int_equal(engine_partition_stats(e, 3, &st, NULL), -ENOENT);
    assert_int_equal(engine_stop(e), 0); /* not started: nothing to do */
    assert_int_equal(engine_wait(e), 0);
    engine_partition_close(e, 2);
    engine_partition_close(e, 1); /* not open: a no-op */
    engine_destroy(e);
    engine_destroy(NULL);
}

/* --- two workers against a sequential reference ---------------------------- */

#define W_PARTS   12
#define W_WORKERS 2
#define W_KEYS    600
#define W_RECENT  32

typedef struct w_key {
    char sku[16];
    char loc[16];
    char joined[40]; /* "sku:loc", the Kafka key */
    int32_t partition;
    inv_agg agg; /* apply_event, one event at a time */
    tu_model m;
} w_key;

typedef struct w_ev {
    char id[24];
    uint32_t key;
    int64_t offset;
    int64_t delta;
    int64_t ts;
    uint8_t type;
    bool joined;
    inv_result want;
} w_ev;

typedef struct w_input {
    uint32_t index;
    int cpu; /* pinned CPU, or -1 */
    const w_key *keys;
    w_ev **evs; /* this worker's events, in order */
    uint32_t n;
    uint32_t pos;
    uint32_t batch_start, batch_n;
    uint64_t rng;
    /* counted on the worker thread, read after join */
    uint64_t pulls, empty_pulls, sent, done_events, done_calls, mismatches, wrong_cpu, bad_done;
} w_input;

static int w_pull(void *ctx, inv_event *events, size_t max, int timeout_ms) {
    w_input *in = ctx;
    in->pulls++;
    if (in->cpu >= 0 && !pinned_to(in->cpu)) in->wrong_cpu++;
    if (timeout_ms != INV_WORKER_PULL_TIMEOUT_MS || max < 1 || max > INV_BATCH_EVENTS_MAX)
        in->bad_done++;
    if (in->pos == in->n) return -ECANCELED;
    if (tu_below(&in->rng, 20) == 0) { /* nothing came within the timeout */
        in->empty_pulls++;
        return 0;
    }
    size_t want = tu_below(&in->rng, 3) == 0 ? max : 1 + tu_below(&in->rng, max);
    size_t n = 0;
    for (; n < want && in->pos < in->n; n++, in->pos++) {
        const w_ev *we = in->evs[in->pos];
        const w_key *k = &in->keys[we->key];
        events[n] = tu_event(we->id, strlen(we->id), k->sku, strlen(k->sku), k->loc, strlen(k->loc),
                             (inv_event_type)we->type, we->delta, we->offset, we->ts, k->partition);
        if (we->joined) {
            events[n].key = k->joined;
            events[n].key_len = (uint16_t)strlen(k->joined);
        }
    }
    in->batch_start = in->pos - (uint32_t)n;
    in->batch_n = (uint32_t)n;
    in->sent += n;
    return (int)n;
}

static void w_done(void *ctx, const inv_event *events, const inv_result *results, size_t n) {
    w_input *in = ctx;
    in->done_calls++;
    if (in->cpu >= 0 && !pinned_to(in->cpu)) in->wrong_cpu++;
    if (n != in->batch_n) {
        in->bad_done++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const w_ev *we = in->evs[in->batch_start + i];
        if (events[i].event_id != we->id || events[i].offset != we->offset) in->bad_done++;
        if (results[i].outcome != we->want.outcome || results[i].reason != we->want.reason) {
            if (in->mismatches == 0)
                fprintf(stderr,
                        "worker %u: event %u (%s, offset %" PRId64 "): outcome %d/%d, want %d/%d\n",
                        in->index, in->batch_start + (uint32_t)i, we->id, we->offset,
                        results[i].outcome, results[i].reason, we->want.outcome, we->want.reason);
            in->mismatches++;
        }
    }
    in->done_events += n;
}

typedef struct w_part_ref {
    int64_t next_offset;
    uint32_t next_id;
    uint32_t recent[W_RECENT]; /* indexes into the event array */
    uint32_t recent_n;
    uint32_t keys[W_KEYS];
    uint32_t nkeys;
    inv_partition_stats want;
} w_part_ref;

static void test_two_workers(void **state) {
    (void)state;
    const bool pin = cpus_0_1_usable();
    if (!pin) fprintf(stderr, "CPUs 0 and 1 are not both usable here: running unpinned\n");
    const uint32_t total = (uint32_t)tu_scaled(150000, 20000);
    uint64_t rng = tu_rng(41);
    w_key *keys = calloc(W_KEYS, sizeof(*keys));
    w_ev *evs = calloc(total, sizeof(*evs));
    w_part_ref *pr = calloc(W_PARTS, sizeof(*pr));
    w_ev **lists[W_WORKERS];
    w_input in[W_WORKERS];
    memset(in, 0, sizeof(in));
    assert_true(keys && evs && pr);
    for (int w = 0; w < W_WORKERS; w++) {
        lists[w] = calloc(total, sizeof(w_ev *));
        assert_non_null(lists[w]);
    }
    for (uint32_t i = 0; i < W_KEYS; i++) {
        w_key *k = &keys[i];
        snprintf(k->sku, sizeof(k->sku), "W-%u", i % 41);
        snprintf(k->loc, sizeof(k->loc), "st-%u", i);
        int len = snprintf(k->joined, sizeof(k->joined), "%s:%s", k->sku, k->loc);
        k->partition = partitioner_partition(k->joined, (size_t)len, W_PARTS);
        agg_init(&k->agg);
        tu_model_init(&k->m);
        w_part_ref *p = &pr[k->partition];
        p->keys[p->nkeys++] = i;
    }
    for (int p = 0; p < W_PARTS; p++)
        assert_true(pr[p].nkeys > 0);

    /* Generate every event with its expected result. */
    for (uint32_t e = 0; e < total; e++) {
        int32_t p = (int32_t)tu_below(&rng, W_PARTS);
        w_part_ref *ps = &pr[p];
        w_ev *we = &evs[e];
        we->key = ps->keys[tu_below(&rng, ps->nkeys)];
        w_key *k = &keys[we->key];
        we->type = (uint8_t)tu_rand_type(&rng);
        we->delta = tu_rand_delta(&rng, (inv_event_type)we->type);
        we->joined = tu_below(&rng, 2) == 0;
        uint64_t kind = tu_below(&rng, 100);
        if (kind < 6 && ps->recent_n > 0) { /* a duplicate of a recent id, at a new offset */
            uint32_t span = ps->recent_n < W_RECENT ? ps->recent_n : W_RECENT;
            const w_ev *orig =
                &evs[ps->recent[(ps->recent_n - 1 - tu_below(&rng, span)) % W_RECENT]];
            memcpy(we->id, orig->id, sizeof(we->id));
            we->offset = ps->next_offset++;
            we->want = (inv_result){INV_OUT_DUPLICATE, INV_OK};
            ps->want.duplicates++;
        } else {
            snprintf(we->id, sizeof(we->id), "p%d-%u", p, ps->next_id++);
            ps->recent[ps->recent_n++ % W_RECENT] = e;
            if (kind < 10 && k->agg.offset >= 0) { /* a replay: often exactly at the watermark */
                we->offset = kind < 8 ? k->agg.offset : tu_range(&rng, 0, k->agg.offset);
            } else {
                we->offset = ps->next_offset++;
            }
        }
        we->ts = TS0 + we->offset;
        if (we->want.outcome == INV_OUT_DUPLICATE) {
            /* set above */
        } else if (we->offset <= k->agg.offset) {
            we->want = (inv_result){INV_OUT_REPLAYED, INV_OK};
            ps->want.replayed++;
        } else {
            inv_event ev =
                tu_event(we->id, strlen(we->id), k->sku, strlen(k->sku), k->loc, strlen(k->loc),
                         (inv_event_type)we->type, we->delta, we->offset, we->ts, p);
            assert_int_equal(apply_event(&k->agg, &ev, &k->agg), INV_OK);
            tu_effect eff;
            assert_true(tu_model_apply(&k->m, (inv_event_type)we->type, we->delta, we->offset,
                                       we->ts, &eff));
            we->want = (inv_result){INV_OUT_APPLIED, INV_OK};
            ps->want.applied++;
            ps->want.oversells += eff.oversell;
            ps->want.release_excesses += eff.release_excess;
            ps->want.transfer_in_excesses += eff.transfer_in_excess;
        }
        w_input *wi = &in[p % W_WORKERS];
        lists[p % W_WORKERS][wi->n++] = we;
    }

    inv_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.partitions = W_PARTS;
    cfg.workers = W_WORKERS;
    cfg.dedup_ids_max = 1u << 15;
    if (pin) {
        cfg.cpus[0] = 0;
        cfg.cpus[1] = 1;
    }
    char err[ERRSTR_LEN] = "";
    inv_engine *eng = NULL;
    assert_int_equal(engine_create(&eng, &cfg, err, sizeof(err)), 0);
    for (int32_t p = 0; p < W_PARTS; p++) {
        assert_int_equal(engine_worker_of(eng, p), (uint32_t)p % W_WORKERS);
        assert_int_equal(engine_partition_open(eng, p, err, sizeof(err)), 0);
    }
    inv_worker_input inputs[W_WORKERS];
    for (uint32_t w = 0; w < W_WORKERS; w++) {
        in[w].index = w;
        in[w].cpu = pin ? (int)w : -1;
        in[w].keys = keys;
        in[w].evs = lists[w];
        in[w].rng = tu_rng(42 + w);
        inputs[w] = (inv_worker_input){.pull = w_pull, .done = w_done, .ctx = &in[w]};
    }
    int64_t t0 = tu_now_ns();
    assert_int_equal(engine_start(eng, inputs, err, sizeof(err)), 0);
    assert_int_equal(engine_wait(eng), 0);
    double secs = (double)(tu_now_ns() - t0) / 1e9;

    for (uint32_t w = 0; w < W_WORKERS; w++) {
        inv_worker_stats ws;
        engine_worker_stats(eng, w, &ws);
        fprintf(stderr,
                "worker %u: %" PRIu64 " events in %" PRIu64 " batches (%" PRIu64
                " empty pulls)%s\n",
                w, ws.events, ws.batches, in[w].empty_pulls, pin ? ", pinned" : "");
        assert_int_equal(in[w].pos, in[w].n); /* everything was pulled */
        assert_int_equal(ws.events, in[w].sent);
        assert_int_equal(ws.events, in[w].n);
        assert_int_equal(ws.batches,
                         in[w].pulls - in[w].empty_pulls - 1); /* the last: -ECANCELED */
        assert_int_equal(ws.error, 0);
        assert_true(ws.started_ns > 0 && ws.finished_ns >= ws.started_ns);
        assert_int_equal(in[w].done_events, in[w].n);
        assert_int_equal(in[w].done_calls, ws.batches);
        assert_int_equal(in[w].mismatches, 0);
        assert_int_equal(in[w].bad_done, 0);
        assert_int_equal(in[w].wrong_cpu, 0);
    }
    fprintf(stderr, "%u events through 2 workers in %.2f s\n", total, secs);
    for (int32_t p = 0; p < W_PARTS; p++) {
        inv_partition_stats st;
        uint64_t mem = 0;
        assert_int_equal(engine_partition_stats(eng, p, &st, &mem), 0);
        assert_true(mem > 0);
        assert_int_equal(st.applied, pr[p].want.applied);
        assert_int_equal(st.duplicates, pr[p].want.duplicates);
        assert_int_equal(st.replayed, pr[p].want.replayed);
        assert_int_equal(st.rejected, 0);
        assert_int_equal(st.failed, 0);
        assert_int_equal(st.oversells, pr[p].want.oversells);
        assert_int_equal(st.release_excesses, pr[p].want.release_excesses);
        assert_int_equal(st.transfer_in_excesses, pr[p].want.transfer_in_excesses);
    }
    /* Final aggregates from this (registered) thread. */
    for (uint32_t i = 0; i < W_KEYS; i++) {
        const w_key *k = &keys[i];
        inv_agg a;
        int rc = engine_lookup(eng, k->sku, strlen(k->sku), k->loc, strlen(k->loc), &a);
        if (k->agg.version == 0) {
            assert_int_equal(rc, -ENOENT);
            continue;
        }
        assert_int_equal(rc, 0);
        if (memcmp(&a, &k->agg, sizeof(a)) != 0 || !tu_model_eq(&k->m, &a)) {
            tu_model_print("final aggregate", &k->m, &a);
            fail_msg("key %s/%s", k->sku, k->loc);
        }
    }
    engine_destroy(eng);
    for (int w = 0; w < W_WORKERS; w++)
        free(lists[w]);
    free(keys);
    free(evs);
    free(pr);
}

/* --- generators for the stop and error tests -------------------------------- */

typedef struct gen_input {
    uint32_t index;
    int32_t partitions;
    uint32_t workers;
    int64_t limit_batches; /* -1: never run dry; else -ECANCELED after this many */
    int64_t fail_after;    /* -1: never; else return fail_rc after this many batches */
    int fail_rc;
    char ids[INV_BATCH_EVENTS_MAX][24];
    uint64_t next;
    int64_t offset;
    /* read by the main thread while the worker runs: atomics */
    uint64_t batches;
    uint64_t events;
    int cpu_seen;
    int cpu_want;       /* -1: not pinned */
    uint64_t wrong_cpu; /* pulls not pinned to cpu_want */
} gen_input;

static int gen_pull(void *ctx, inv_event *events, size_t max, int timeout_ms) {
    (void)timeout_ms;
    gen_input *g = ctx;
    __atomic_store_n(&g->cpu_seen, sched_getcpu(), __ATOMIC_RELAXED);
    if (g->cpu_want >= 0 && !pinned_to(g->cpu_want)) g->wrong_cpu++;
    uint64_t b = __atomic_load_n(&g->batches, __ATOMIC_RELAXED);
    if (g->fail_after >= 0 && b >= (uint64_t)g->fail_after) return g->fail_rc;
    if (g->limit_batches >= 0 && b >= (uint64_t)g->limit_batches) return -ECANCELED;
    static const char *const skus[] = {"G-1", "G-2", "G-3"};
    static const char *const locs[] = {"a", "b", "c", "d", "e"};
    for (size_t i = 0; i < max; i++) {
        /* The partitions of this worker are index, index + workers, ... */
        uint64_t owned = (uint64_t)(g->partitions - 1 - (int32_t)g->index) / g->workers + 1;
        int32_t p = (int32_t)(g->index + g->workers * (g->next % owned));
        int len = snprintf(g->ids[i], sizeof(g->ids[i]), "g%u-%" PRIu64, g->index, g->next);
        const char *sku = skus[g->next % 3], *loc = locs[g->next % 5];
        events[i] = tu_event(g->ids[i], (size_t)len, sku, strlen(sku), loc, strlen(loc),
                             INV_EV_RECEIPT, 1, ++g->offset, TS0, p);
        g->next++;
    }
    __atomic_store_n(&g->batches, b + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&g->events, __atomic_load_n(&g->events, __ATOMIC_RELAXED) + max,
                     __ATOMIC_RELAXED);
    return (int)max;
}

static inv_engine *gen_engine(int32_t partitions, uint32_t workers) {
    inv_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.partitions = partitions;
    cfg.workers = workers;
    cfg.dedup_ids_max = 4096;
    char err[ERRSTR_LEN] = "";
    inv_engine *e = NULL;
    assert_int_equal(engine_create(&e, &cfg, err, sizeof(err)), 0);
    for (int32_t p = 0; p < partitions; p++)
        assert_int_equal(engine_partition_open(e, p, err, sizeof(err)), 0);
    return e;
}

static void gen_init(gen_input *g, uint32_t index, int32_t partitions, uint32_t workers) {
    memset(g, 0, sizeof(*g));
    g->index = index;
    g->partitions = partitions;
    g->workers = workers;
    g->limit_batches = -1;
    g->fail_after = -1;
    g->cpu_seen = -1;
    g->cpu_want = -1;
}

/* Two generator inputs, g[0] for worker 0 and g[1] for worker 1 of a
 * 2-worker engine over `partitions` partitions. Free with free(). */
static gen_input *gen_pair(int32_t partitions) {
    gen_input *g = calloc(2, sizeof(*g));
    assert_non_null(g);
    gen_init(&g[0], 0, partitions, 2);
    gen_init(&g[1], 1, partitions, 2);
    return g;
}

/* Starts e's two workers on g[0] and g[1]; the start must succeed. */
static void gen_pair_start(inv_engine *e, gen_input *g) {
    inv_worker_input inputs[2] = {{.pull = gen_pull, .ctx = &g[0]},
                                  {.pull = gen_pull, .ctx = &g[1]}};
    char err[ERRSTR_LEN] = "";
    assert_int_equal(engine_start(e, inputs, err, sizeof(err)), 0);
}

/* Sum of applied events over every partition of e. */
static uint64_t applied_total(inv_engine *e, int32_t partitions) {
    uint64_t sum = 0;
    for (int32_t p = 0; p < partitions; p++) {
        inv_partition_stats st;
        assert_int_equal(engine_partition_stats(e, p, &st, NULL), 0);
        sum += st.applied;
    }
    return sum;
}

/* --- pinning ---------------------------------------------------------------- */

static void test_pin_bad_cpu(void **state) {
    (void)state;
    inv_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.partitions = 4;
    cfg.workers = 2;
    cfg.dedup_ids_max = 4096;
    cfg.cpus[0] = cpus_0_1_usable() ? 0 : -1;
    char err[ERRSTR_LEN] = "";
    inv_engine *e = NULL;
    /* Beyond what a cpu_set_t can name: refused by engine_create, naming the field. */
    cfg.cpus[1] = 4095;
    assert_int_equal(engine_create(&e, &cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "cpus[1]"));
    assert_null(e);
    /* Representable but absent on this machine: only pthread_create can tell. */
    cfg.cpus[1] = 1000;
    assert_int_equal(engine_create(&e, &cfg, err, sizeof(err)), 0);
    for (int32_t p = 0; p < 4; p++)
        assert_int_equal(engine_partition_open(e, p, err, sizeof(err)), 0);
    gen_input *g = calloc(2, sizeof(*g));
    assert_non_null(g);
    gen_init(&g[0], 0, 4, 2);
    gen_init(&g[1], 1, 4, 2);
    inv_worker_input inputs[2] = {{.pull = gen_pull, .ctx = &g[0]},
                                  {.pull = gen_pull, .ctx = &g[1]}};
    /* Worker 0 starts, worker 1 cannot: worker 0 must be stopped and joined. */
    int threads_before = thread_count();
    err[0] = '\0';
    int rc = engine_start(e, inputs, err, sizeof(err));
    fprintf(stderr, "engine_start with cpu 1000: %d \"%s\"\n", rc, err);
    assert_true(rc < 0);
    assert_non_null(strstr(err, "1000"));
    assert_int_equal(thread_count(), threads_before);
    /* Nothing pulls any more. */
    uint64_t b0 = __atomic_load_n(&g[0].batches, __ATOMIC_RELAXED);
    sleep_ms(150);
    assert_int_equal(__atomic_load_n(&g[0].batches, __ATOMIC_RELAXED), b0);
    assert_int_equal(__atomic_load_n(&g[1].batches, __ATOMIC_RELAXED), 0);
    assert_int_equal(engine_stop(e), 0); /* not started */
    assert_int_equal(applied_total(e, 4), b0 * INV_BATCH_EVENTS_MAX);
    engine_destroy(e);
    free(g);
}

/* cpus = {0, 1}: each worker runs on its CPU (checked inside pull). */
static void test_pin_cpus(void **state) {
    (void)state;
    if (!cpus_0_1_usable()) {
        fprintf(stderr, "CPUs 0 and 1 are not both usable here\n");
        skip();
    }
    inv_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.partitions = 4;
    cfg.workers = 2;
    cfg.dedup_ids_max = 4096;
    cfg.cpus[0] = 1; /* crosswise, so "runs where it was pinned" is not a coincidence */
    cfg.cpus[1] = 0;
    char err[ERRSTR_LEN] = "";
    inv_engine *e = NULL;
    assert_int_equal(engine_create(&e, &cfg, err, sizeof(err)), 0);
    for (int32_t p = 0; p < 4; p++)
        assert_int_equal(engine_partition_open(e, p, err, sizeof(err)), 0);
    gen_input *g = calloc(2, sizeof(*g));
    assert_non_null(g);
    for (uint32_t w = 0; w < 2; w++) {
        gen_init(&g[w], w, 4, 2);
        g[w].limit_batches = 20;
        g[w].cpu_want = cfg.cpus[w];
    }
    inv_worker_input inputs[2] = {{.pull = gen_pull, .ctx = &g[0]},
                                  {.pull = gen_pull, .ctx = &g[1]}};
    assert_int_equal(engine_start(e, inputs, err, sizeof(err)), 0);
    assert_int_equal(engine_wait(e), 0);
    assert_int_equal(g[0].cpu_seen, 1);
    assert_int_equal(g[1].cpu_seen, 0);
    assert_int_equal(g[0].wrong_cpu, 0);
    assert_int_equal(g[1].wrong_cpu, 0);
    assert_int_equal(applied_total(e, 4), 2 * 20 * INV_BATCH_EVENTS_MAX);
    engine_destroy(e);
    free(g);
}

/* --- stop and errors -------------------------------------------------------- */

static void test_stop_endless(void **state) {
    (void)state;
    inv_engine *e = gen_engine(6, 2);
    gen_input *g = gen_pair(6);
    gen_pair_start(e, g);
    /* Wait until both workers applied a few batches. */
    for (int i = 0; i < 1000; i++) {
        if (__atomic_load_n(&g[0].batches, __ATOMIC_RELAXED) >= 3 &&
            __atomic_load_n(&g[1].batches, __ATOMIC_RELAXED) >= 3)
            break;
        sleep_ms(10);
    }
    sleep_ms(100);
    int64_t t0 = tu_now_ns();
    assert_int_equal(engine_stop(e), 0);
    double stop_ms = (double)(tu_now_ns() - t0) / 1e6;
    fprintf(stderr, "engine_stop with endless inputs: %.1f ms\n", stop_ms);
    assert_true(stop_ms < 5000);
    uint64_t sent = 0;
    for (uint32_t w = 0; w < 2; w++) {
        inv_worker_stats ws;
        engine_worker_stats(e, w, &ws);
        assert_true(ws.batches >= 3);
        /* Every pulled batch was applied before the worker stopped. */
        assert_int_equal(ws.events, g[w].events);
        assert_int_equal(ws.batches, g[w].batches);
        assert_int_equal(ws.error, 0);
        assert_true(ws.finished_ns >= ws.started_ns);
        sent += g[w].events;
    }
    assert_int_equal(applied_total(e, 6), sent);
    assert_int_equal(engine_stop(e), 0); /* stopped already */
    engine_destroy(e);
    free(g);
}

/* Worker 0's pull fails with -EIO after 3 batches; worker 1 runs dry
 * normally: engine_wait returns -EIO. */
static void test_pull_error_wait(void **state) {
    (void)state;
    inv_engine *e = gen_engine(4, 2);
    gen_input *g = gen_pair(4);
    g[0].fail_after = 3;
    g[0].fail_rc = -EIO;
    g[1].limit_batches = 5;
    gen_pair_start(e, g);
    assert_int_equal(engine_wait(e), -EIO);
    inv_worker_stats ws;
    engine_worker_stats(e, 0, &ws);
    assert_int_equal(ws.error, -EIO);
    assert_int_equal(ws.batches, 3);
    assert_int_equal(ws.events, 3 * INV_BATCH_EVENTS_MAX);
    engine_worker_stats(e, 1, &ws);
    assert_int_equal(ws.error, 0);
    assert_int_equal(ws.batches, 5);
    assert_int_equal(applied_total(e, 4), 8 * INV_BATCH_EVENTS_MAX);
    engine_destroy(e);
    free(g);
}

/* Worker 0 fails at once while worker 1 never runs dry: worker 0 ends alone,
 * worker 1 goes on, and engine_stop returns -EIO. */
static void test_pull_error_stop(void **state) {
    (void)state;
    inv_engine *e = gen_engine(4, 2);
    gen_input *g = gen_pair(4);
    g[0].fail_after = 0;
    g[0].fail_rc = -EIO;
    gen_pair_start(e, g);
    inv_worker_stats ws;
    int i = 0;
    for (; i < 1000; i++) {
        engine_worker_stats(e, 0, &ws);
        if (ws.finished_ns != 0) break;
        sleep_ms(5);
    }
    assert_true(i < 1000);
    assert_int_equal(ws.error, -EIO);
    assert_int_equal(ws.events, 0);
    uint64_t b1 = __atomic_load_n(&g[1].batches, __ATOMIC_RELAXED);
    for (i = 0; i < 1000 && __atomic_load_n(&g[1].batches, __ATOMIC_RELAXED) < b1 + 3; i++)
        sleep_ms(5);
    assert_true(__atomic_load_n(&g[1].batches, __ATOMIC_RELAXED) >= b1 + 3); /* worker 1 goes on */
    engine_worker_stats(e, 1, &ws);
    assert_int_equal(ws.finished_ns, 0);
    assert_int_equal(engine_stop(e), -EIO);
    engine_worker_stats(e, 1, &ws);
    assert_int_equal(ws.error, 0);
    assert_int_equal(ws.events, g[1].events);
    assert_int_equal(applied_total(e, 4), g[1].events);
    engine_destroy(e);
    free(g);
}

int main(void) {
    inv_rcu_register_thread();
    (void)tu_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),          cmocka_unit_test(test_two_workers),
        cmocka_unit_test(test_pin_cpus),        cmocka_unit_test(test_pin_bad_cpu),
        cmocka_unit_test(test_stop_endless),    cmocka_unit_test(test_pull_error_wait),
        cmocka_unit_test(test_pull_error_stop),
    };
    int failures = cmocka_run_group_tests(tests, NULL, NULL);
    inv_rcu_barrier();
    inv_rcu_unregister_thread();
    return tu_report(failures);
}
