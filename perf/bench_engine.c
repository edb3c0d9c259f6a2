/* bench_engine.c - apply and lookup rates of the engine alone (make bench-engine).
 *
 * For each key count, worker count and dedup setting it builds a keyspace of
 * SKUs x 50 locations, a "load" stream (one event per key, so every key is
 * inserted) and a "steady" stream of events whose keys follow a Zipf-like
 * law (exponent --zipf, default 0.99; ranks scattered over the keyspace), with
 * a realistic mix of event types, distinct eventIds and increasing offsets.
 * Events are pre-built (the Kafka decoder is measured elsewhere), each with
 * its own bytes (eventId, the "sku:loc" message key, sku, location) laid out
 * as a decoder would leave them; each worker pulls batches of
 * INV_BATCH_EVENTS_MAX from its own pre-split stream. Dedup windows have the
 * default size (INV_DEDUP_IDS_MAX_DEFAULT ids per partition) unless the
 * environment sets BENCH_DEDUP_IDS.
 *
 * Reported per run: events/s and ns/event from the time spent inside the
 * apply pipeline (busy), the wall-clock rate including the pull copy, and
 * memory per key (table bytes accounted by the engine, and the process RSS
 * growth over the load phase, dedup windows excluded). Unless --no-reader is
 * given, a reader thread on the other CPU looks up random keys through
 * engine_lookup while one worker applies the steady stream (in the first
 * dedup setting of each key count).
 *
 * The figures are printed, never asserted: this machine is shared and noisy. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inv_assert.h"
#include "dedup.h"
#include "engine.h"
#include "partitioner.h"
#include "rcu.h"
#include "inv_clock.h"
#include "bench_util.h"

#define PARTITIONS 12
#define LOCATIONS 50
#define LIST_MAX 8

typedef struct keyspace {
    uint32_t keys;
    char (*sku)[16];
    char (*loc)[16];
    uint8_t *sku_len;
    uint8_t *loc_len;
    int32_t *part;
} keyspace;

typedef struct stream {
    inv_event *ev;
    size_t n;
    size_t next;
} stream;

static double rng_unit(uint64_t *s) {
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static long rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f == NULL) return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return rss * sysconf(_SC_PAGESIZE);
}

/* AnonHugePages of this process in bytes (transparent huge pages in use). */
static long thp_bytes(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long kb = 0;
    if (f == NULL) return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

static void keyspace_build(keyspace *ks, uint32_t keys) {
    ks->keys = keys;
    ks->sku = malloc((size_t)keys * 16);
    ks->loc = malloc((size_t)keys * 16);
    ks->sku_len = malloc(keys);
    ks->loc_len = malloc(keys);
    ks->part = malloc((size_t)keys * sizeof(int32_t));
    inv_assert(ks->sku && ks->loc && ks->sku_len && ks->loc_len && ks->part);
    for (uint32_t i = 0; i < keys; i++) {
        ks->sku_len[i] = (uint8_t)snprintf(ks->sku[i], 16, "SKU-%08u", i / LOCATIONS);
        ks->loc_len[i] = (uint8_t)snprintf(ks->loc[i], 16, "store-%03u", i % LOCATIONS);
        char key[40];
        int n = snprintf(key, sizeof(key), "%s:%s", ks->sku[i], ks->loc[i]);
        ks->part[i] = partitioner_partition(key, (size_t)n, PARTITIONS);
    }
}

static void keyspace_free(keyspace *ks) {
    free(ks->sku);
    free(ks->loc);
    free(ks->sku_len);
    free(ks->loc_len);
    free(ks->part);
}

/* A realistic mix: mostly sales and reservations, some receipts and transfers. */
static uint8_t pick_type(uint64_t *rng, int64_t *qty) {
    static const struct { uint8_t type; int pct; } mix[] = {
        {INV_EV_SALE, 35}, {INV_EV_RESERVATION, 15}, {INV_EV_FULFILLMENT, 10},
        {INV_EV_RECEIPT, 12}, {INV_EV_RELEASE, 5}, {INV_EV_RETURN, 5},
        {INV_EV_ADJUSTMENT, 5}, {INV_EV_TRANSFER_OUT, 4}, {INV_EV_IN_TRANSIT, 5},
        {INV_EV_TRANSFER_IN, 4}};
    int r = (int)(rng_next(rng) % 100);
    int64_t q = 1 + (int64_t)(rng_next(rng) % 10);
    for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
        if (r < mix[i].pct) {
            bool neg = mix[i].type == INV_EV_SALE && (rng_next(rng) & 1); /* both conventions */
            if (mix[i].type == INV_EV_ADJUSTMENT && (rng_next(rng) & 1)) neg = true;
            *qty = neg ? -q : q;
            return mix[i].type;
        }
        r -= mix[i].pct;
    }
    *qty = q;
    return INV_EV_RECEIPT;
}

/* The bytes of one event, inline as in a Kafka message: the decoder's output
 * points into them, so hashing reads sequential memory, not the keyspace. */
typedef struct event_bytes {
    char id[16];
    char key[32]; /* "sku:loc", the Kafka message key */
    char sku[16];
    char loc[16];
} event_bytes;

/* Builds per-worker streams of n events: key i of the load stream when load,
 * else Zipf ranks. Each event's strings are copied into its own bytes[i]. */
static void streams_build(stream *st, uint32_t workers, const keyspace *ks, size_t n, bool load,
                          double zipf, event_bytes *bytes, uint64_t id_base, int64_t *offsets,
                          uint64_t seed) {
    uint64_t rng = seed;
    for (uint32_t w = 0; w < workers; w++) {
        st[w].ev = malloc(n * sizeof(inv_event));
        inv_assert(st[w].ev != NULL);
        st[w].n = 0;
        st[w].next = 0;
    }
    inv_assert(zipf > 0 && zipf != 1.0); /* checked in main */
    double kpow = pow((double)ks->keys, 1.0 - zipf);
    for (size_t i = 0; i < n; i++) {
        uint32_t key;
        if (load) {
            key = (uint32_t)i;
        } else {
            double r = pow((kpow - 1.0) * rng_unit(&rng) + 1.0, 1.0 / (1.0 - zipf));
            uint64_t rank = (uint64_t)r;
            if (rank < 1) rank = 1;
            if (rank > ks->keys) rank = ks->keys;
            key = (uint32_t)(((rank - 1) * 2654435761ull) % ks->keys); /* scatter hot ranks */
        }
        int32_t p = ks->part[key];
        stream *s = &st[(uint32_t)p % workers];
        inv_event *ev = &s->ev[s->n++];
        event_bytes *b = &bytes[i];
        int idn = snprintf(b->id, 16, "ev-%012llu", (unsigned long long)(id_base + i));
        memcpy(b->sku, ks->sku[key], 16);
        memcpy(b->loc, ks->loc[key], 16);
        int keyn = snprintf(b->key, sizeof(b->key), "%s:%s", ks->sku[key], ks->loc[key]);
        *ev = (inv_event){.event_id = b->id, .event_id_len = (uint16_t)idn,
                          .sku = b->sku, .sku_len = ks->sku_len[key],
                          .location_id = b->loc, .location_id_len = ks->loc_len[key],
                          .key = b->key, .key_len = (uint16_t)keyn,
                          .timestamp_ms = 1795000000000LL + (int64_t)(id_base + i),
                          .offset = offsets[p]++, .partition = p};
        ev->type = pick_type(&rng, &ev->quantity_delta);
        inv_debug_assert(event_validate(ev) == INV_OK);
    }
}

static int stream_pull(void *ctx, inv_event *events, size_t max, int timeout_ms) {
    (void)timeout_ms;
    stream *s = ctx;
    if (s->next >= s->n) return -ECANCELED;
    size_t m = s->n - s->next < max ? s->n - s->next : max;
    memcpy(events, s->ev + s->next, m * sizeof(inv_event));
    s->next += m;
    return (int)m;
}

typedef struct run_result {
    double busy_eps[LIST_MAX]; /* per worker */
    double wall_eps_total;
    uint64_t events;
} run_result;

static void run_streams(inv_engine *e, stream *st, uint32_t workers, run_result *rr) {
    inv_worker_input in[INV_WORKERS_MAX];
    for (uint32_t w = 0; w < workers; w++)
        in[w] = (inv_worker_input){.pull = stream_pull, .ctx = &st[w]};
    char err[256];
    int64_t t0 = inv_now_ns();
    if (engine_start(e, in, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    inv_assert(engine_wait(e) == 0);
    int64_t wall = inv_now_ns() - t0;
    rr->events = 0;
    for (uint32_t w = 0; w < workers; w++) {
        inv_worker_stats ws;
        engine_worker_stats(e, w, &ws);
        rr->busy_eps[w] = ws.busy_ns ? (double)ws.events * 1e9 / (double)ws.busy_ns : 0;
        rr->events += ws.events;
    }
    rr->wall_eps_total = (double)rr->events * 1e9 / (double)wall;
}

typedef struct reader_ctx {
    inv_engine *e;
    const keyspace *ks;
    int stop;
    uint64_t lookups;
    uint64_t found;
    int64_t ns;
} reader_ctx;

static void *reader_main(void *arg) {
    reader_ctx *r = arg;
    inv_rcu_register_thread();
    uint64_t rng = 42;
    int64_t t0 = inv_now_ns();
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        for (int i = 0; i < 1000; i++) {
            uint32_t k = (uint32_t)(rng_next(&rng) % r->ks->keys);
            inv_agg a;
            if (engine_lookup(r->e, r->ks->sku[k], r->ks->sku_len[k], r->ks->loc[k],
                              r->ks->loc_len[k], &a) == 0)
                r->found++;
        }
        r->lookups += 1000;
    }
    r->ns = inv_now_ns() - t0;
    inv_rcu_unregister_thread();
    return NULL;
}

static void pin_self(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void bench_one(uint32_t keys, uint32_t workers, bool dedup, size_t events, double zipf,
                      bool reader, int ncpu) {
    keyspace ks;
    keyspace_build(&ks, keys);
    size_t total = keys + events;
    event_bytes *bytes = malloc(total * sizeof(event_bytes));
    inv_assert(bytes != NULL);
    int64_t offsets[PARTITIONS] = {0};
    stream load[LIST_MAX], steady[LIST_MAX];
    streams_build(load, workers, &ks, keys, true, zipf, bytes, 0, offsets, 1);
    streams_build(steady, workers, &ks, events, false, zipf, bytes + keys, keys, offsets, 2);

    inv_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.partitions = PARTITIONS;
    cfg.workers = workers;
    for (uint32_t w = 0; w < workers; w++) cfg.cpus[w] = (int)(w % (uint32_t)ncpu);
    cfg.dedup_enabled = dedup;
    cfg.dedup_ids_max = getenv("BENCH_DEDUP_IDS") ? (uint32_t)atol(getenv("BENCH_DEDUP_IDS")) : 0; /* 0: default */
    cfg.table.keys_expected = 0;
    char err[256];
    inv_engine *e = NULL;
    if (engine_create(&e, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    long rss0 = rss_bytes(); /* before the partitions: their dedup windows are touched at open */
    for (int32_t p = 0; p < PARTITIONS; p++) inv_assert(engine_partition_open(e, p, err, sizeof(err)) == 0);
    run_result lr, sr;
    run_streams(e, load, workers, &lr);
    uint64_t table_bytes = 0, dedup_bytes = 0, nkeys = 0;
    for (int32_t p = 0; p < PARTITIONS; p++) {
        inv_partition_stats ps;
        uint64_t mem;
        inv_assert(engine_partition_stats(e, p, &ps, &mem) == 0);
        inv_rcu_read_lock();
        table_bytes += mem;
        inv_rcu_read_unlock();
        (void)ps;
    }
    long rss1 = rss_bytes();
    long thp1 = thp_bytes();
    reader_ctx rc = {.e = e, .ks = &ks};
    pthread_t rt;
    if (reader) {
        pin_self(ncpu > 1 ? 1 : 0);
        pthread_create(&rt, NULL, reader_main, &rc);
    }
    run_streams(e, steady, workers, &sr);
    if (reader) {
        __atomic_store_n(&rc.stop, 1, __ATOMIC_RELEASE);
        pthread_join(rt, NULL);
    }
    /* Table memory without the dedup windows (their size is fixed by config). */
    if (dedup) {
        size_t per = dedup_memory_bytes_for(cfg.dedup_ids_max ? cfg.dedup_ids_max
                                                              : INV_DEDUP_IDS_MAX_DEFAULT);
        dedup_bytes = per * PARTITIONS;
    }
    nkeys = keys;
    double mem_per_key = (double)(table_bytes - dedup_bytes) / (double)nkeys;
    double steady_busy = 0;
    for (uint32_t w = 0; w < workers; w++) steady_busy += sr.busy_eps[w];
    printf("%9u keys  %u worker%s  dedup %-3s | steady: %6.2f M ev/s per worker (busy) %6.1f ns/ev,"
           " %6.2f M ev/s total wall | load: %5.2f M ev/s | %5.1f B/key table, %5.1f B/key RSS",
           keys, workers, workers > 1 ? "s" : " ", dedup ? "on" : "off",
           steady_busy / workers / 1e6, 1e9 / (steady_busy / workers),
           sr.wall_eps_total / 1e6, lr.wall_eps_total / 1e6, mem_per_key,
           (double)(rss1 - rss0 - (long)dedup_bytes) / (double)nkeys);
    printf(" | THP %ld MiB", thp1 >> 20);
    if (reader)
        printf(" | reader: %.2f M lookups/s, %.0f ns/lookup, hit %.0f%%",
               (double)rc.lookups * 1e3 / (double)rc.ns, (double)rc.ns / (double)rc.lookups,
               100.0 * (double)rc.found / (double)(rc.lookups ? rc.lookups : 1));
    printf("\n");
    fflush(stdout);
    engine_destroy(e);
    for (uint32_t w = 0; w < workers; w++) {
        free(load[w].ev);
        free(steady[w].ev);
    }
    free(bytes);
    keyspace_free(&ks);
}

static int parse_list(const char *s, double *out) {
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (n == LIST_MAX) {
            fprintf(stderr, "bench: at most %d values per list\n", LIST_MAX);
            exit(2);
        }
        if (strcmp(tok, "on") == 0) out[n++] = 1;
        else if (strcmp(tok, "off") == 0) out[n++] = 0;
        else out[n++] = atof(tok);
    }
    return n;
}

int main(int argc, char **argv) {
    double keys[LIST_MAX] = {1e5, 1e6, 1e7}, workers[LIST_MAX] = {1, 2}, dedup[LIST_MAX] = {0, 1};
    int nkeys = 3, nworkers = 2, ndedup = 2;
    size_t events = 20000000;
    double zipf = 0.99;
    bool reader = true;
    static const struct option opts[] = {
        {"keys", 1, 0, 'k'}, {"workers", 1, 0, 'w'}, {"dedup", 1, 0, 'd'},
        {"events", 1, 0, 'e'}, {"zipf", 1, 0, 'z'}, {"no-reader", 0, 0, 'R'}, {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case 'k': nkeys = parse_list(optarg, keys); break;
        case 'w': nworkers = parse_list(optarg, workers); break;
        case 'd': ndedup = parse_list(optarg, dedup); break;
        case 'e': events = (size_t)atof(optarg); break;
        case 'z': zipf = atof(optarg); break;
        case 'R': reader = false; break;
        default:
            fprintf(stderr, "usage: %s [--keys=N,...] [--workers=N,...] [--dedup=off,on] "
                            "[--events=N] [--zipf=S] [--no-reader]\n", argv[0]);
            return 2;
        }
    }
    if (!(zipf > 0) || zipf == 1.0) {
        fprintf(stderr, "bench: --zipf must be > 0 and != 1 (the sampler's closed form)\n");
        return 2;
    }
    for (int w = 0; w < nworkers; w++) {
        if (workers[w] < 1 || workers[w] > LIST_MAX) {
            fprintf(stderr, "bench: --workers values must be 1..%d\n", LIST_MAX);
            return 2;
        }
    }
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench-engine: %zu steady events per run, zipf %.2f, %d partitions, %d CPUs, batch %d,"
           " prefetch depth %d\n", events, zipf, PARTITIONS, ncpu, INV_BATCH_EVENTS_MAX,
           INV_PREFETCH_DEPTH);
    const char *ids_env = getenv("BENCH_DEDUP_IDS");
    printf("dedup window: %s ids per partition%s\n",
           ids_env ? ids_env : "1048576 (default)", ids_env ? " (BENCH_DEDUP_IDS)" : "");
    printf("command: %s%s%s", ids_env ? "BENCH_DEDUP_IDS=" : "", ids_env ? ids_env : "",
           ids_env ? " " : "");
    printf("%s", argv[0]);
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("\n");
    inv_rcu_register_thread();
    for (int k = 0; k < nkeys; k++)
        for (int w = 0; w < nworkers; w++)
            for (int d = 0; d < ndedup; d++)
                bench_one((uint32_t)keys[k], (uint32_t)workers[w], dedup[d] != 0, events, zipf,
                          reader && workers[w] == 1 && d == 0, ncpu);
    inv_rcu_unregister_thread();
    return 0;
}
