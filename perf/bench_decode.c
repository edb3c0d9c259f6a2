/* bench_decode.c - decode rate of canonical event messages (make build/bench-decode).
 *
 * Builds --events realistic canonical events up front (not timed): the ten
 * types in a retail mix (sales dominate), both quantity sign conventions,
 * 1000 SKUs x 50 stores, ISO timestamps with milliseconds (a few as epoch
 * milliseconds), POS/WMS/ECOM sources and correlation ids; --escape-pct of
 * them carry a JSON escape or non-ASCII text in eventId or correlationId.
 * The messages sit back to back in one buffer, as a Kafka fetch would hold
 * them, and the bench decodes them all with json_event_decode, --rounds
 * times, one thread. It prints the best and the median round as events/s,
 * ns/event and MB/s, then the same for the stock-level value (encode, and
 * decode), with the command line used. Each figure comes twice: from wall
 * time, and from the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which on a
 * shared machine leaves out the time spent waiting for a CPU. Figures are printed, never asserted:
 * this machine is shared and noisy. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "inv_assert.h"
#include "json_event.h"
#include "partition.h"
#include "partitioner.h"
#include "inv_limits.h"
#include "stock_json.h"
#include "timestamp.h"
#include "inv_clock.h"
#include "bench_util.h"

#define ROUNDS_MAX 64

typedef struct corpus {
    char *bytes;
    size_t *off;
    size_t *len;
    size_t n;
    size_t total;
} corpus;

/* Wall and CPU nanoseconds of each round. */
typedef struct timing {
    int64_t wall[ROUNDS_MAX];
    int64_t cpu[ROUNDS_MAX];
} timing;

static double parse_count(const char *s, const char *what) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 1e9) {
        fprintf(stderr, "bench-decode: bad %s: %s\n", what, s);
        exit(2);
    }
    return v;
}

/* Keys of the corpus: SKU-(k / 50) at store-(k % 50) for k < corpus_keys, drawn
 * uniformly or, with --zipf=S, by a Zipf law of exponent S whose ranks are scattered
 * over the keys (as bench_engine does: hot SKUs are not neighbours). */
static uint64_t corpus_keys = 50000;
static double corpus_zipf = 0;
static size_t pipeline_batch = INV_BATCH_EVENTS_MAX; /* --batch=N: events per apply call */
/* --ts-step-ms=N: event time between consecutive events. At the default 37 ms a
 * corpus of 4M events spans 41 h, so in its second half the 24 h dedup window
 * expires one id per insert: the production steady state of a full window. */
static int64_t ts_step_ms = 37;
static double *zipf_cdf; /* [corpus_keys], built once when corpus_zipf > 0 */

static uint64_t pick_key(uint64_t r) {
    if (corpus_zipf <= 0) return r % corpus_keys;
    double u = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
    uint64_t lo = 0, hi = corpus_keys - 1;
    while (lo < hi) { /* first rank whose cumulative weight exceeds u */
        uint64_t mid = lo + (hi - lo) / 2;
        if (zipf_cdf[mid] <= u) lo = mid + 1;
        else hi = mid;
    }
    return (lo * 2654435761u) % corpus_keys; /* a bijection when gcd(multiplier, keys) = 1 */
}

static void zipf_init(void) {
    zipf_cdf = malloc(corpus_keys * sizeof(double));
    if (zipf_cdf == NULL) exit(1);
    double sum = 0;
    for (uint64_t i = 0; i < corpus_keys; i++) sum += 1.0 / pow((double)(i + 1), corpus_zipf);
    double acc = 0;
    for (uint64_t i = 0; i < corpus_keys; i++) {
        acc += 1.0 / pow((double)(i + 1), corpus_zipf) / sum;
        zipf_cdf[i] = acc;
    }
    zipf_cdf[corpus_keys - 1] = 1.0;
}

/* One message for event i into out; returns its length. */
static size_t make_event(char *out, size_t cap, uint64_t i, uint64_t *rng, unsigned escape_pct) {
    static const char *const types[] = {"SALE",        "SALE",       "SALE",         "SALE",
                                        "RETURN",      "RECEIPT",    "RESERVATION",  "RELEASE",
                                        "FULFILLMENT", "ADJUSTMENT", "TRANSFER_OUT", "TRANSFER_IN",
                                        "IN_TRANSIT"};
    static const char *const sources[] = {"POS", "WMS", "ECOM"};
    uint64_t r = rng_next(rng);
    const char *type = types[r % (sizeof(types) / sizeof(types[0]))];
    const char *src = sources[(r >> 8) % 3];
    int q = (int)((r >> 16) % 12) + 1;
    if (strcmp(type, "ADJUSTMENT") == 0 || (r >> 24) % 3 == 0) q = -q; /* both conventions */
    bool esc = (r >> 32) % 100 < escape_pct;
    char ts[INV_TIMESTAMP_ISO_LEN + 1];
    int64_t ms = 1795428930123LL + (int64_t)i * ts_step_ms;
    timestamp_format_iso(ms, ts);
    ts[INV_TIMESTAMP_ISO_LEN] = '\0';
    int n;
    if ((r >> 40) % 50 == 0) { /* epoch milliseconds, no correlation id */
        n = snprintf(out, cap,
                     "{\"eventId\":\"%s-%" PRIu64 ":%u\",\"eventType\":\"%s\",\"sku\":\"SKU-%06u\","
                     "\"locationId\":\"store-%03u\",\"quantityDelta\":%d,\"sourceSystem\":\"%s\","
                     "\"timestamp\":%" PRId64 "}",
                     src, i / 3, (unsigned)(i % 3), type, (unsigned)(pick_key(r * 0x9E3779B97F4A7C15ull) / 50),
                     (unsigned)(pick_key(r * 0x9E3779B97F4A7C15ull) % 50), q, src, ms);
    } else {
        n = snprintf(out, cap,
                     "{\"eventId\":\"%s-%" PRIu64 ":%u\",\"eventType\":\"%s\",\"sku\":\"SKU-%06u\","
                     "\"locationId\":\"store-%03u\",\"quantityDelta\":%d,\"sourceSystem\":\"%s\","
                     "\"timestamp\":\"%s\",\"correlationId\":\"%s-%" PRIu64 "%s\"}",
                     src, i / 3, (unsigned)(i % 3), type, (unsigned)(pick_key(r * 0x9E3779B97F4A7C15ull) / 50),
                     (unsigned)(pick_key(r * 0x9E3779B97F4A7C15ull) % 50), q, src, ts, esc ? "caf\\u00e9" : "basket", i / 3,
                     esc ? "\\/\\u00e9t\xc3\xa9" : "");
    }
    inv_assert(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

static corpus build_corpus(size_t n, unsigned escape_pct) {
    corpus c = {.n = n};
    size_t cap = n * 320 + 1;
    c.bytes = malloc(cap);
    c.off = malloc(n * sizeof(size_t));
    c.len = malloc(n * sizeof(size_t));
    if (c.bytes == NULL || c.off == NULL || c.len == NULL) {
        fprintf(stderr, "bench-decode: out of memory for %zu events\n", n);
        exit(1);
    }
    uint64_t rng = 42;
    for (size_t i = 0; i < n; i++) {
        c.off[i] = c.total;
        c.len[i] = make_event(c.bytes + c.total, cap - c.total, i, &rng, escape_pct);
        c.total += c.len[i];
    }
    return c;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Prints best and median of rounds timings (ns) over n items of total bytes. */
static void report_one(const char *what, const char *clock, int64_t *ns, int rounds, size_t n,
                       size_t bytes) {
    qsort(ns, (size_t)rounds, sizeof(ns[0]), cmp_i64);
    double best = (double)ns[0], med = (double)ns[rounds / 2];
    printf("%-13s %-4s best %6.2f M/s %7.1f ns/op %6.1f MB/s | median %6.2f M/s %7.1f ns/op\n",
           what, clock, (double)n / best * 1e3, best / (double)n, (double)bytes / best * 1e3,
           (double)n / med * 1e3, med / (double)n);
}

static void report(const char *what, timing *t, int rounds, size_t n, size_t bytes) {
    report_one(what, "wall", t->wall, rounds, n, bytes);
    report_one(what, "cpu", t->cpu, rounds, n, bytes);
}

/* Decodes the whole corpus once per round; returns a checksum. */
static uint64_t bench_events(const corpus *c, int rounds, timing *t, size_t *bad) {
    static char scratch[INV_MESSAGE_BYTES_MAX];
    uint64_t sum = 0;
    *bad = 0;
    for (int r = 0; r < rounds; r++) {
        int64_t t0 = inv_now_ns(), c0 = inv_thread_cpu_ns();
        for (size_t i = 0; i < c->n; i++) {
            inv_event ev;
            ev.key = NULL;
            size_t used;
            inv_reason why =
                json_event_decode(c->bytes + c->off[i], c->len[i], scratch, &used, &ev);
            *bad += why != INV_OK;
            sum += (uint64_t)ev.timestamp_ms + ev.sku_len + (uint64_t)ev.quantity_delta + ev.type;
        }
        t->wall[r] = inv_now_ns() - t0;
        t->cpu[r] = inv_thread_cpu_ns() - c0;
    }
    return sum;
}

/* Decode + dedup + apply, as a worker runs them: batches of INV_BATCH_EVENTS_MAX
 * messages decoded (with their Kafka key "sku:loc", which the engine hashes)
 * into events of 12 partitions, then partition_apply_events with dedup on.
 * Every eventId is distinct; returns events/s of CPU time over the second half. */
static double bench_pipeline(const corpus *c, size_t *bad) {
    enum { PARTS = 12 };
    inv_partition *parts[PARTS];
    for (int p = 0; p < PARTS; p++) {
        inv_partition_config pc = {.id = p, .dedup_enabled = true};
        char err[256];
        if (partition_create(&parts[p], &pc, err, sizeof(err)) != 0) {
            fprintf(stderr, "bench-decode: %s\n", err);
            exit(1);
        }
    }
    static char scratch[(size_t)INV_BATCH_EVENTS_MAX * 512];
    static inv_event evs[INV_BATCH_EVENTS_MAX];
    static inv_result res[INV_BATCH_EVENTS_MAX];
    /* The Kafka key of every message, as a producer would have set it ("sku:loc" of the
     * payload), built before the clock starts. */
    char *keys = malloc(c->n * 32);
    uint8_t *key_len = malloc(c->n);
    if (keys == NULL || key_len == NULL) exit(1);
    for (size_t i = 0; i < c->n; i++) {
        const char *msg = c->bytes + c->off[i];
        const char *s = strstr(msg, "\"sku\":\"") + 7, *l = strstr(msg, "\"locationId\":\"") + 14;
        int kl = snprintf(keys + i * 32, 32, "%.*s:%.*s", (int)(strchr(s, '"') - s), s,
                          (int)(strchr(l, '"') - l), l);
        inv_assert(kl > 0 && kl < 32);
        key_len[i] = (uint8_t)kl;
    }
    *bad = 0;
    /* The first half inserts the keys and fills the dedup window (first touches of the
     * arena, index grows); the clock runs over the second half: the steady state. */
    size_t half = c->n / 2;
    int64_t c0 = 0, apply_ns = 0;
    for (size_t i = 0; i < c->n;) {
        if (c0 == 0 && i >= half) c0 = inv_thread_cpu_ns();
        size_t n = 0, used_total = 0;
        for (; n < pipeline_batch && i < c->n; i++) {
            inv_event *ev = &evs[n];
            ev->key = keys + i * 32;
            ev->key_len = key_len[i];
            ev->partition = partitioner_partition(ev->key, ev->key_len, PARTS);
            ev->offset = (int64_t)i;
            size_t used = 0;
            if (json_event_decode(c->bytes + c->off[i], c->len[i], scratch + used_total, &used,
                                  ev) != INV_OK) {
                (*bad)++;
                continue;
            }
            used_total += used;
            n++;
        }
        int64_t a0 = c0 ? inv_thread_cpu_ns() : 0;
        partition_apply_events(parts, PARTS, evs, n, res);
        if (c0) apply_ns += inv_thread_cpu_ns() - a0;
    }
    int64_t ns = inv_thread_cpu_ns() - c0;
    printf("  of which apply (dedup + table): %.1f ns/event, decode and the rest: %.1f ns/event\n",
           (double)apply_ns / (double)(c->n - half), (double)(ns - apply_ns) / (double)(c->n - half));
    for (int p = 0; p < PARTS; p++) partition_destroy(parts[p]);
    free(keys);
    free(key_len);
    return (double)(c->n - half) / (double)ns * 1e9;
}

/* Encodes then decodes n stock-level values per round. */
static uint64_t bench_stock(size_t n, int rounds, timing *enc, timing *dec, size_t *bytes) {
    char *vals = malloc(n * INV_STOCK_JSON_BYTES_MAX);
    size_t *lens = malloc(n * sizeof(size_t));
    if (vals == NULL || lens == NULL) exit(1);
    char skus[1000][16], locs[50][16]; /* formatted once, outside the timing */
    for (int i = 0; i < 1000; i++)
        snprintf(skus[i], sizeof(skus[i]), "SKU-%06d", i);
    for (int i = 0; i < 50; i++)
        snprintf(locs[i], sizeof(locs[i]), "store-%03d", i);
    uint64_t sum = 0;
    for (int r = 0; r < rounds; r++) {
        int64_t t0 = inv_now_ns(), c0 = inv_thread_cpu_ns();
        *bytes = 0;
        for (size_t i = 0; i < n; i++) {
            inv_agg a;
            agg_init(&a);
            a.on_hand = (int64_t)(i % 1000) - 20;
            a.reserved = (int64_t)(i % 7);
            a.in_transit = (int64_t)(i % 5);
            a.last_updated_ms = 1795428930123LL + (int64_t)i;
            a.version = i + 1;
            a.offset = (int64_t)i * 3;
            lens[i] =
                stock_json_encode(vals + i * INV_STOCK_JSON_BYTES_MAX, INV_STOCK_JSON_BYTES_MAX,
                                  skus[i % 1000], 10, locs[i % 50], 9, &a);
            *bytes += lens[i];
        }
        int64_t t1 = inv_now_ns(), c1 = inv_thread_cpu_ns();
        for (size_t i = 0; i < n; i++) {
            inv_stock_record rec;
            char err[128];
            int rc = stock_json_decode(vals + i * INV_STOCK_JSON_BYTES_MAX, lens[i], &rec, err,
                                       sizeof(err));
            sum += (uint64_t)rc + rec.agg.version;
        }
        enc->wall[r] = t1 - t0;
        enc->cpu[r] = c1 - c0;
        dec->wall[r] = inv_now_ns() - t1;
        dec->cpu[r] = inv_thread_cpu_ns() - c1;
    }
    free(vals);
    free(lens);
    return sum;
}

int main(int argc, char **argv) {
    size_t n = 1000000;
    int rounds = 5;
    unsigned escape_pct = 2;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--events=", 9) == 0) {
            n = (size_t)parse_count(argv[i] + 9, "--events");
        } else if (strncmp(argv[i], "--rounds=", 9) == 0) {
            rounds = (int)parse_count(argv[i] + 9, "--rounds");
        } else if (strncmp(argv[i], "--batch=", 8) == 0) {
            pipeline_batch = (size_t)parse_count(argv[i] + 8, "--batch");
            if (pipeline_batch < 1 || pipeline_batch > INV_BATCH_EVENTS_MAX) {
                fprintf(stderr, "bench-decode: --batch must be 1..%d\n", INV_BATCH_EVENTS_MAX);
                return 2;
            }
        } else if (strncmp(argv[i], "--ts-step-ms=", 13) == 0) {
            ts_step_ms = (int64_t)parse_count(argv[i] + 13, "--ts-step-ms");
        } else if (strncmp(argv[i], "--zipf=", 7) == 0) {
            corpus_zipf = atof(argv[i] + 7);
        } else if (strncmp(argv[i], "--keys=", 7) == 0) {
            corpus_keys = (uint64_t)parse_count(argv[i] + 7, "--keys");
        } else if (strncmp(argv[i], "--escape-pct=", 13) == 0) {
            escape_pct = (unsigned)parse_count(argv[i] + 13, "--escape-pct");
        } else {
            fprintf(stderr, "usage: %s [--events=N] [--rounds=R] [--keys=K] [--zipf=S] [--batch=N] [--ts-step-ms=N] [--escape-pct=P]\n", argv[0]);
            return 2;
        }
    }
    if (corpus_keys < 1 || corpus_keys > 50000000) {
        fprintf(stderr, "bench-decode: --keys must be 1..50000000\n");
        return 2;
    }
    if (n == 0 || rounds < 1 || rounds > ROUNDS_MAX || escape_pct > 100) {
        fprintf(stderr, "bench-decode: need events >= 1, 1 <= rounds <= %d, escape-pct <= 100\n",
                ROUNDS_MAX);
        return 2;
    }
    if (corpus_zipf > 0) {
        if (corpus_keys % 2654435761u == 0) corpus_keys++; /* keep the scatter a bijection */
        zipf_init();
    }
    corpus c = build_corpus(n, escape_pct);
    printf(
        "bench-decode: %zu events, %.1f bytes/event avg, %u%% with escapes, %d rounds, 1 thread\n",
        n, (double)c.total / (double)n, escape_pct, rounds);
    printf("command:");
    for (int i = 0; i < argc; i++)
        printf(" %s", argv[i]);
    printf("\n");
    static timing t, t2;
    size_t bad;
    uint64_t sum = bench_events(&c, rounds, &t, &bad);
    report("event decode", &t, rounds, n, c.total);
    size_t stock_n = n / 4 > 0 ? n / 4 : 1, stock_bytes = 0;
    sum += bench_stock(stock_n, rounds, &t, &t2, &stock_bytes);
    report("stock encode", &t, rounds, stock_n, stock_bytes);
    report("stock decode", &t2, rounds, stock_n, stock_bytes);
    printf("rejected: %zu (expect 0); checksum %" PRIx64 "\n", bad, sum);
    size_t pbad = 0;
    double rate = bench_pipeline(&c, &pbad);
    printf("decode + dedup + apply, %" PRIu64 " keys (%s) in 12 partitions, Kafka keys hashed, "
           "second half of the corpus: "
           "%.2f M events/s of CPU time (%.1f ns/event; %zu rejected, expect 0)\n",
           corpus_keys, corpus_zipf > 0 ? "Zipf" : "uniform", rate / 1e6, 1e9 / rate, pbad);
    free(c.bytes);
    free(c.off);
    free(c.len);
    return 0;
}
