/* bench_e2e.c - end-to-end rate of invsyncd against the ceiling of a bare
 * librdkafka consumer on the same topic and broker.
 *
 * For each worker count: a fresh input topic, N pre-produced canonical events
 * (lz4, murmur2 partitioner), then --rounds times (default 1) the pair
 *   ceiling: a bare consumer (assign, no group, no parsing) drains the topic
 *            from the beginning to its end in this process;
 *   invsyncd: build/invsyncd as a child process on that input, with fresh
 *            output topics and group; the clock
 *            starts when every partition is restored (its log says so) and
 *            stops when the group's committed offsets reach the end of every
 *            partition. A commit is stored only after the stock-level records
 *            (and DLQ records) of everything before it are acknowledged, so
 *            this is input-to-acknowledged-output. The commit interval (10
 *            ms here, against invsyncd's 1 s default, so that the commits
 *            mark progress finely; OffsetCommit at 100/s is little work for a
 *            broker) adds at most that much to the time.
 * One line per pair; with more rounds, a line of the medians of each rate and
 * their ratio. The pairs interleave because the ceiling moves from one drain to
 * the next by itself (2.1-2.6 M/s against a real broker on a 2-core VM, both
 * sides on mimalloc), so one pair's ratio says little.
 * Each rate is also given over the middle half of the run alone ("mid"): from
 * the moment a quarter of the input was drained (the bare consumer) or
 * committed (invsyncd) to the moment three quarters were. That is the rate
 * each sustains, without the start (first fetches) and the end: invsyncd's
 * whole-run figure includes one flush interval, one ack and one commit
 * interval after its last event (~50-100 ms, 5-10 % of a 1 s run), which
 * the bare consumer does not have. For invsyncd the two marks are commits
 * seen by polling every 10 ms, and the rate is the committed count between
 * them over the time between them, so the commit cadence does not bias it.
 * Beside the rates, each row says how busy the machine was in each window
 * (CPUs busy on average and the idle share, every process: the broker too),
 * the CPU each side spent per input event, split into its own process ("own":
 * the bench process for the bare consumer, invsyncd for invsyncd) and every
 * other process ("rest": on a real broker, mostly the broker; on the mock,
 * which runs in the bench process, the bare side's "own" includes the mock
 * broker and invsyncd's "rest" is the mock broker), invsyncd's stock-level
 * records per event (from its stats line), and how much of their time in the
 * window the workers waited for input ("starved", from the same line): a
 * window with idle CPU is bound by latency, not by work, and a starved worker
 * by its input (the consumer's fetching), not by its own work.
 * Last, "80% budget/used": the machine CPU per event that every online CPU,
 * fully busy, allows at 80 % of the pair's ceiling (CPUs / (0.8 x bare rate)),
 * and what invsyncd's window used (own + rest). Used above budget means that
 * 80 % cannot be reached on this host at that cost per event, however the work
 * is scheduled.
 * With no --brokers the broker is librdkafka's mock cluster hosted in this
 * process (its threads share the cores with both consumers). The mock keeps
 * about 5 MiB per partition, so its default N is smaller.
 * A real broker is a JVM that compiles its hot paths during the first runs:
 * on a fresh one, one worker read 541k, then 707k, and two rounds later
 * 881k events/s. So against a real broker the first worker count is
 * run --warmup times (default 2) before the measured rows; those rows print
 * as "warmup" and are not results.
 *
 * Figures are printed, never asserted. */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc_name.h"
#include "kafka_topics.h"
#include "partitioner.h"
#include "inv_clock.h"

#define PARTITIONS 12
#define WAIT_MS_MAX 600000

static void die(const char *what, const char *why) {
    fprintf(stderr, "bench-e2e: %s: %s\n", what, why);
    exit(1);
}

/* Monotonic milliseconds. */
static int64_t now_ms(void) {
    return inv_now_ns() / 1000000;
}

/* CPU accounting over a measured window, from /proc (clock ticks). */
typedef struct cpu_mark {
    int64_t t_ms;
    long long busy, total; /* the machine: every CPU, steal excluded from both */
    long long proc;        /* one process (utime + stime), or 0 */
} cpu_mark;

static cpu_mark cpu_mark_now(pid_t pid) {
    cpu_mark m = {.t_ms = now_ms()};
    FILE *f = fopen("/proc/stat", "r");
    long long v[8] = {0};
    if (f != NULL) {
        if (fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
            m.total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6];
            m.busy = m.total - v[3] - v[4];
        }
        fclose(f);
    }
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f != NULL) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
        unsigned long ut = 0, st = 0;
        if (p != NULL && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                                &ut, &st) == 2)
            m.proc = (long long)(ut + st);
    }
    return m;
}

typedef struct cpu_window {
    double secs;
    double machine_cores; /* CPUs busy on average, any process (the broker too) */
    double idle_share;    /* of the machine's CPU time */
    double proc_cores;    /* the one process */
} cpu_window;

static cpu_window cpu_between(cpu_mark a, cpu_mark b) {
    double hz = (double)sysconf(_SC_CLK_TCK);
    cpu_window w = {.secs = (double)(b.t_ms - a.t_ms) / 1000.0};
    if (w.secs <= 0 || b.total <= a.total) return w;
    w.machine_cores = (double)(b.busy - a.busy) / hz / w.secs;
    w.idle_share = 1.0 - (double)(b.busy - a.busy) / (double)(b.total - a.total);
    w.proc_cores = (double)(b.proc - a.proc) / hz / w.secs;
    return w;
}

/* Microseconds of CPU per input event that `cores` (an average over window w)
 * add up to over the n events of the run. The machine's and the process's
 * counters are read a moment apart in 10 ms ticks, so a difference of them
 * near zero can come out slightly negative: shown as 0. */
static double us_per_event(double cores, const cpu_window *w, long n) {
    double us = 1e6 * cores * w->secs / (double)n;
    return us > 0 ? us : 0;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers, const char *const *kv) {
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        die("config", err);
    for (size_t i = 0; kv && kv[i]; i += 2)
        if (rd_kafka_conf_set(c, kv[i], kv[i + 1], err, sizeof(err)) != RD_KAFKA_CONF_OK)
            die(kv[i], err);
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));
    if (rk == NULL) die("client", err);
    return rk;
}

/* Produces n canonical events over keys SKU x location keys, realistic mix. */
static double produce(const char *brokers, const char *topic, long n, long keys) {
    const char *kv[] = {"linger.ms", "50", "batch.num.messages", "10000", "compression.type",
                        "lz4", "partitioner", "murmur2_random", "queue.buffering.max.messages",
                        "2000000", "enable.idempotence", "true", NULL};
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, brokers, kv);
    static const char *const types[] = {"RECEIPT", "SALE", "SALE", "SALE", "RETURN",
                                        "RESERVATION", "FULFILLMENT", "RELEASE", "ADJUSTMENT",
                                        "TRANSFER_OUT"};
    uint64_t rng = 88172645463325252ULL;
    int64_t t0 = now_ms();
    for (long i = 0; i < n; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        long k = (long)(rng % (uint64_t)keys);
        char key[64], val[512];
        int kl = snprintf(key, sizeof(key), "SKU-%06ld:store-%03ld", k / 50, k % 50);
        const char *t = types[(rng >> 20) % 10];
        int vl = snprintf(val, sizeof(val),
                          "{\"eventId\":\"bench-%ld:1\",\"eventType\":\"%s\",\"sku\":\"SKU-%06ld\","
                          "\"locationId\":\"store-%03ld\",\"quantityDelta\":%ld,"
                          "\"sourceSystem\":\"POS\",\"timestamp\":\"2026-11-23T10:%02ld:%02ld.%03ldZ\","
                          "\"correlationId\":\"basket-%ld\"}",
                          i, t, k / 50, k % 50, 1 + (long)((rng >> 40) % 5), (i / 60000) % 60,
                          (i / 1000) % 60, i % 1000, i / 3);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, (size_t)kl),
                RD_KAFKA_V_VALUE(val, (size_t)vl), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(e));
            rd_kafka_poll(p, 10);
        }
        rd_kafka_poll(p, 0);
    }
    if (rd_kafka_flush(p, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) die("produce", "flush timed out");
    double secs = (double)(now_ms() - t0) / 1000.0;
    rd_kafka_destroy(p);
    return (double)n / secs;
}

static void high_watermarks(rd_kafka_t *rk, const char *topic, int64_t *hi) {
    for (int p = 0; p < PARTITIONS; p++) {
        int64_t lo;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p], 10000);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) die("watermarks", rd_kafka_err2str(e));
        if (lo != 0) die("watermarks", "the broker dropped early records (mock size limit?)");
    }
}

/* Progress marks of one run: the first moment (ms) at least a quarter and
 * three quarters of the input were done, and how much was done then. */
typedef struct mid_marks {
    int64_t t_q1, t_q3;
    long n_q1, n_q3;
} mid_marks;

/* Notes done (of n) at t_ms in m, once per mark. */
static void mid_note(mid_marks *m, long n, long done, int64_t t_ms) {
    if (m->t_q1 == 0 && done >= n / 4) {
        m->t_q1 = t_ms;
        m->n_q1 = done;
    }
    if (m->t_q3 == 0 && done >= n - n / 4) {
        m->t_q3 = t_ms;
        m->n_q3 = done;
    }
}

/* The rate between the marks, or 0 when they are too close to tell. */
static double mid_rate(const mid_marks *m) {
    if (m->t_q1 == 0 || m->t_q3 <= m->t_q1 || m->n_q3 <= m->n_q1) return 0;
    return (double)(m->n_q3 - m->n_q1) / ((double)(m->t_q3 - m->t_q1) / 1000.0);
}

/* What one side of a row measured. */
typedef struct run_figures {
    double rate;    /* whole run, events/s */
    cpu_window cpu; /* over the timed window */
    mid_marks mid;  /* the middle half */
    long records;   /* invsyncd: stock-level records (its stats line), or -1 */
    double wait_s;  /* invsyncd: its workers' waiting for input (stats line), or -1 */
} run_figures;

#define BARE_BATCH 1024 /* messages per consume call of the bare drain */

/* The ceiling: drains the topic from the beginning with a bare consumer. */
static void bare_consume(const char *brokers, const char *topic, long n, run_figures *out) {
    *out = (run_figures){.records = -1, .wait_s = -1};
    const char *kv[] = {"group.id", "bench-bare", "enable.auto.commit", "false",
                        "enable.partition.eof", "false", "queued.max.messages.kbytes", "16384",
                        NULL};
    rd_kafka_t *c = client(RD_KAFKA_CONSUMER, brokers, kv);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(c);
    rd_kafka_message_t *batch[BARE_BATCH];
    long got = 0;
    int64_t t0 = 0, deadline = now_ms() + WAIT_MS_MAX;
    cpu_mark m0 = {0};
    while (got < n && now_ms() < deadline) {
        /* A call returns once it has filled the array or timed out: ask for no
         * more than what is left, or the last call would wait out its timeout
         * after the last message and the drain would read up to 100 ms slow. */
        size_t want = n - got < BARE_BATCH ? (size_t)(n - got) : BARE_BATCH;
        ssize_t k = rd_kafka_consume_batch_queue(q, 100, batch, want);
        for (ssize_t i = 0; i < k; i++) {
            if (batch[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (t0 == 0) {
                    t0 = now_ms();
                    m0 = cpu_mark_now(getpid());
                }
                got++;
            }
            rd_kafka_message_destroy(batch[i]);
        }
        if (k > 0) mid_note(&out->mid, n, got, now_ms());
    }
    double secs = (double)(now_ms() - t0) / 1000.0;
    out->cpu = cpu_between(m0, cpu_mark_now(getpid()));
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    if (got < n) die("bare consumer", "did not see every message");
    out->rate = (double)got / secs;
}

/* Runs invsyncd on the topics; its rate is events/s from "all restored" to
 * "committed offsets at the end of every partition". */
static const char *extra_x[8]; /* --x=NAME=VALUE: passed to invsyncd as -X */
static int extra_x_count;

static void run_invsyncd(const char *invsyncd, const char *brokers, const char *canon,
                         const char *prefix, int workers, long n, const int64_t *hi,
                         run_figures *out) {
    *out = (run_figures){.records = -1, .wait_s = -1};
    char stock[256], dlq[256], group[256], dir[256], wk[16];
    snprintf(stock, sizeof(stock), "%s.stock-levels", prefix);
    snprintf(dlq, sizeof(dlq), "%s.dlq", prefix);
    snprintf(group, sizeof(group), "%s.group", prefix);
    snprintf(dir, sizeof(dir), "/tmp/%s.data", prefix);
    snprintf(wk, sizeof(wk), "%d", workers);
    int pipefd[2];
    if (pipe(pipefd) != 0) die("pipe", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        const char *av[40] = {invsyncd, "--brokers", brokers, "--group", group, "--workers", wk,
                              "--topic-canonical", canon, "--topic-stock-levels", stock,
                              "--topic-dlq", dlq, "--data-dir", dir, "--http", "off", "-X",
                              "auto.commit.interval.ms=10"};
        int ac = 19;
        for (int i = 0; i < extra_x_count; i++) {
            av[ac++] = "-X";
            av[ac++] = extra_x[i];
        }
        av[ac] = NULL;
        execv(invsyncd, (char *const *)av);
        _exit(127);
    }
    close(pipefd[1]);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    const char *kv[] = {"group.id", group, NULL};
    rd_kafka_t *probe = client(RD_KAFKA_CONSUMER, brokers, kv);
    int restored = 0;
    cpu_mark m_ready = {0};
    int64_t t_ready = 0, t_done = 0, deadline = now_ms() + WAIT_MS_MAX;
    char buf[65536];
    size_t used = 0;
    while (t_done == 0 && now_ms() < deadline) {
        ssize_t r = read(pipefd[0], buf + used, sizeof(buf) - 1 - used);
        if (r > 0) {
            used += (size_t)r;
            buf[used] = '\0';
            char *line = buf, *nl;
            while ((nl = strchr(line, '\n')) != NULL) {
                *nl = '\0';
                if (strstr(line, ": restored ")) restored++;
                if (strstr(line, "ERROR")) fprintf(stderr, "invsyncd: %s\n", line);
                line = nl + 1;
            }
            used = strlen(line);
            memmove(buf, line, used);
            if (restored >= PARTITIONS && t_ready == 0) {
                t_ready = now_ms();
                m_ready = cpu_mark_now(pid);
            }
        }
        if (t_ready == 0) {
            usleep(2000);
            continue;
        }
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(PARTITIONS);
        for (int p = 0; p < PARTITIONS; p++) rd_kafka_topic_partition_list_add(l, canon, p);
        if (rd_kafka_committed(probe, l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int at_end = 0;
            long committed = 0; /* the topic starts at offset 0 (high_watermarks checks) */
            for (int p = 0; p < PARTITIONS; p++) {
                at_end += l->elems[p].offset >= hi[p];
                if (l->elems[p].offset > 0) committed += (long)l->elems[p].offset;
            }
            mid_note(&out->mid, n, committed, now_ms());
            if (at_end == PARTITIONS) {
                t_done = now_ms();
                out->cpu = cpu_between(m_ready, cpu_mark_now(pid));
            }
        }
        rd_kafka_topic_partition_list_destroy(l);
        usleep(10000);
    }
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    /* The rest of its log: the stats line it writes on the way out. */
    for (;;) {
        ssize_t r = read(pipefd[0], buf + used, sizeof(buf) - 1 - used);
        if (r > 0) used += (size_t)r;
        buf[used] = '\0';
        const char *at = strstr(buf, " stats: ");
        unsigned long long msgs, evs, batches, recs;
        if (at != NULL && strchr(at, '\n') != NULL) {
            if (sscanf(at, " stats: %llu messages, %llu events applied in %llu batches, %llu",
                       &msgs, &evs, &batches, &recs) == 4)
                out->records = (long)recs;
            const char *ws = strstr(at, " flush stalls, ");
            if (ws == NULL ||
                sscanf(ws, " flush stalls, %lf s waiting for input", &out->wait_s) != 1)
                out->wait_s = -1;
            break;
        }
        char *nl = strrchr(buf, '\n');
        if (nl != NULL) { /* keep only the unfinished line */
            used = strlen(nl + 1);
            memmove(buf, nl + 1, used + 1);
        }
        if (r <= 0 || used >= sizeof(buf) - 1) break;
    }
    close(pipefd[0]);
    rd_kafka_destroy(probe);
    if (t_done == 0) die("invsyncd", "did not commit the whole input in time");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fprintf(stderr, "bench-e2e: invsyncd exit %d\n", st);
    out->rate = (double)n / ((double)(t_done - t_ready) / 1000.0);
}

/* Creates topic prefix.SUFFIX for each of the n_suffixes suffixes, cleanup
 * policies as invsyncd would give them (DESIGN.md section 1). */
#define TOPICS_PER_CALL_MAX 3

static void create_topics(rd_kafka_mock_cluster_t *mc, const char *brokers, const char *prefix,
                          const char *const *suffixes, int n_suffixes) {
    char names[TOPICS_PER_CALL_MAX][256];
    inv_topic_spec specs[TOPICS_PER_CALL_MAX];
    if (n_suffixes > TOPICS_PER_CALL_MAX) die("topics", "too many");
    for (int i = 0; i < n_suffixes; i++) {
        snprintf(names[i], sizeof(names[i]), "%s.%s", prefix, suffixes[i]);
        specs[i] = (inv_topic_spec){names[i], "-1",
                                    strcmp(suffixes[i], "stock-levels") ? "delete" : "compact"};
    }
    if (mc != NULL) {
        for (int i = 0; i < n_suffixes; i++)
            if (rd_kafka_mock_topic_create(mc, names[i], PARTITIONS, 1) != 0)
                die("mock topic", names[i]);
        return;
    }
    int32_t counts[TOPICS_PER_CALL_MAX];
    char err[512];
    rd_kafka_t *admin = client(RD_KAFKA_PRODUCER, brokers, NULL);
    if (kafka_topics_ensure(admin, specs, (size_t)n_suffixes, PARTITIONS, 1, counts, err,
                            sizeof(err)) != 0)
        die("topics", err);
    rd_kafka_destroy(admin);
}

/* Prints one (bare drain, invsyncd) pair's line under label. */
static void print_pair(const char *label, int w, double prod, const run_figures *b,
                       const run_figures *v, long n) {
    double bare_mid = mid_rate(&b->mid), inv_mid = mid_rate(&v->mid);
    /* The workers' time waiting for input, as a share of their time in the window. */
    double starved =
        v->wait_s < 0 || v->cpu.secs <= 0 ? -1.0 : v->wait_s / ((double)w * v->cpu.secs);
    double budget_us = 1e6 * (double)sysconf(_SC_NPROCESSORS_ONLN) / (0.8 * b->rate);
    printf("%-6s %-7d %10.0f %12.0f %12.0f %5.0f%% | %10.0f %10.0f %5.0f%% | %4.2f cores, %3.0f%% "
           "%5.2f %5.2f | %4.2f cores, %3.0f%% %5.2f %5.2f %7.2f %6.0f%% | %5.2f/%.2f\n",
           label, w, prod, b->rate, v->rate, 100.0 * v->rate / b->rate, bare_mid, inv_mid,
           bare_mid > 0 ? 100.0 * inv_mid / bare_mid : 0.0, b->cpu.machine_cores,
           100.0 * b->cpu.idle_share, us_per_event(b->cpu.proc_cores, &b->cpu, n),
           us_per_event(b->cpu.machine_cores - b->cpu.proc_cores, &b->cpu, n),
           v->cpu.machine_cores, 100.0 * v->cpu.idle_share,
           us_per_event(v->cpu.proc_cores, &v->cpu, n),
           us_per_event(v->cpu.machine_cores - v->cpu.proc_cores, &v->cpu, n),
           v->records < 0 ? -1.0 : (double)v->records / (double)n, 100.0 * starved, budget_us,
           us_per_event(v->cpu.machine_cores, &v->cpu, n));
    fflush(stdout);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of the n values at v (sorts them). */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define ROUNDS_MAX 15

/* One row: a fresh input topic with n events produced, then `rounds` pairs
 * of the bare drain and invsyncd with w workers on it (each invsyncd with
 * fresh output topics and group), one line per pair; with more than one
 * round, a line of the medians (each rate's median, and their ratio). */
static void run_row(rd_kafka_mock_cluster_t *mc, const char *brokers, const char *invsyncd,
                    const char *label, int w, long n, long keys, int rounds) {
    char prefix[128];
    static int row;
    snprintf(prefix, sizeof(prefix), "bench-e2e-%d-%ld-%d-w%d", (int)getpid(), (long)time(NULL),
             row++, w);
    static const char *const in_suffix[] = {"canonical"};
    static const char *const out_suffixes[] = {"stock-levels", "dlq"};
    create_topics(mc, brokers, prefix, in_suffix, 1);
    char canon[256];
    snprintf(canon, sizeof(canon), "%s.canonical", prefix);
    double prod = produce(brokers, canon, n, keys);
    int64_t hi[PARTITIONS];
    rd_kafka_t *q = client(RD_KAFKA_PRODUCER, brokers, NULL);
    high_watermarks(q, canon, hi);
    rd_kafka_destroy(q);
    double bare[ROUNDS_MAX], inv[ROUNDS_MAX], bare_mid[ROUNDS_MAX], inv_mid[ROUNDS_MAX];
    int mids = 0;
    for (int r = 0; r < rounds; r++) {
        char out_prefix[160];
        snprintf(out_prefix, sizeof(out_prefix), "%s-r%d", prefix, r);
        create_topics(mc, brokers, out_prefix, out_suffixes, 2);
        run_figures b, v;
        bare_consume(brokers, canon, n, &b);
        run_invsyncd(invsyncd, brokers, canon, out_prefix, w, n, hi, &v);
        print_pair(label, w, prod, &b, &v, n);
        bare[r] = b.rate;
        inv[r] = v.rate;
        double bm = mid_rate(&b.mid), vm = mid_rate(&v.mid);
        if (bm > 0 && vm > 0) {
            bare_mid[mids] = bm;
            inv_mid[mids++] = vm;
        }
    }
    if (rounds < 2) return;
    double mb = median(bare, rounds), mi = median(inv, rounds);
    double mbm = mids ? median(bare_mid, mids) : 0, mim = mids ? median(inv_mid, mids) : 0;
    printf("%-6s %-7d %10s %12.0f %12.0f %5.0f%% | %10.0f %10.0f %5.0f%% | median of %d rounds "
           "(ratio: of the medians)\n",
           "median", w, "", mb, mi, 100.0 * mi / mb, mbm, mim, mbm > 0 ? 100.0 * mim / mbm : 0.0,
           rounds);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *brokers = NULL, *invsyncd = "build/invsyncd", *workers_list = "1,2";
    long n = 0, keys = 100000;
    int warmup = -1; /* -1: 2 rounds on a real broker, none on the mock */
    int rounds = 1;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--brokers=", 10)) brokers = argv[i] + 10;
        else if (!strncmp(argv[i], "--events=", 9)) n = atol(argv[i] + 9);
        else if (!strncmp(argv[i], "--keys=", 7)) keys = atol(argv[i] + 7);
        else if (!strncmp(argv[i], "--workers=", 10)) workers_list = argv[i] + 10;
        else if (!strncmp(argv[i], "--invsyncd=", 11)) invsyncd = argv[i] + 11;
        else if (!strncmp(argv[i], "--warmup=", 9)) warmup = atoi(argv[i] + 9);
        else if (!strncmp(argv[i], "--rounds=", 9) && atoi(argv[i] + 9) >= 1 &&
                 atoi(argv[i] + 9) <= ROUNDS_MAX)
            rounds = atoi(argv[i] + 9);
        else if (!strncmp(argv[i], "--x=", 4) && extra_x_count < 8) extra_x[extra_x_count++] = argv[i] + 4;
        else {
            fprintf(stderr, "usage: bench-e2e [--brokers=HOST:PORT] [--events=N] [--keys=N] "
                            "[--workers=1,2] [--warmup=ROUNDS] [--rounds=1..15] [--invsyncd=PATH] "
                            "[--x=NAME=VALUE (invsyncd -X)]\n");
            return 2;
        }
    }
    rd_kafka_t *host = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;
    if (brokers == NULL || brokers[0] == '\0') {
        char err[256];
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_conf_set(c, "log_level", "3", err, sizeof(err));
        host = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        mc = host ? rd_kafka_mock_cluster_new(host, 1) : NULL;
        if (mc == NULL) die("mock cluster", err);
        brokers = rd_kafka_mock_cluster_bootstraps(mc);
        if (n == 0) n = 300000; /* the mock keeps ~5 MiB per partition */
    }
    if (n == 0) n = 2000000;
    char alloc[64];
    printf("bench-e2e: broker %s (%s), %ld events over %ld keys, %d partitions; bare consumer%s "
           "on %s\n", brokers, mc ? "in-process librdkafka mock cluster" : "real Kafka", n, keys,
           PARTITIONS, mc ? " and mock" : "", alloc_name(alloc, sizeof(alloc)));
    printf("%-6s %-7s %10s %12s %12s %6s | %10s %10s %6s | %-29s | %-29s %7s %7s | %s\n",
           "broker", "workers", "produce/s", "bare drain/s", "invsyncd/s", "ratio", "bare mid/s",
           "inv mid/s", "ratio", "bare: busy, idle, us own/rest", "inv: busy, idle, us own/rest",
           "rec/ev", "starved", "80% budget/used us");
    char wl[64];
    snprintf(wl, sizeof(wl), "%s", workers_list);
    if (warmup < 0) warmup = mc ? 0 : 2;
    int first = atoi(wl);
    for (int i = 0; i < warmup && first > 0; i++)
        run_row(mc, brokers, invsyncd, "warmup", first, n, keys, 1);
    for (char *tok = strtok(wl, ","); tok; tok = strtok(NULL, ","))
        run_row(mc, brokers, invsyncd, mc ? "mock" : "kafka", atoi(tok), n, keys, rounds);
    printf("command: build/bench-e2e");
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("\n");
    if (mc) rd_kafka_mock_cluster_destroy(mc);
    if (host) rd_kafka_destroy(host);
    return 0;
}
