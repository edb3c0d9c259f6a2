/* mock_kafka.c - invsync-mock-kafka: librdkafka's mock cluster as a process of its own.
 *
 * invsyncd can host the mock cluster in-process (DESIGN.md section 5), but then the broker dies
 * with the service. Tests that kill -9 a service and start it again need a broker that outlives
 * it: this program hosts the mock cluster (rdkafka_mock.h) on a dummy producer handle, creates
 * the topics up front (the 2.0.2 mock has no CreateTopics), announces the bootstrap address and
 * serves until SIGTERM or SIGINT. What the mock does not do (no transaction markers, no
 * compaction, no topic configs, about 5 MiB per partition, nothing persisted) is listed in
 * DESIGN.md section 6; tests that need those use the real broker (tests/kafka/kafka-broker.sh).
 *
 * Readiness contract: the bootstrap line on stdout and the --bootstrap-file appear only after
 * every topic exists, so a test that waits for either can connect at once. The file is written
 * to a temporary name and renamed, so a reader never sees half an address; it is removed again
 * on a clean exit, so a leftover file never names a dead cluster of a clean run.
 *
 * Fault injection: SIGUSR1 sets the --fault-broker down (connections closed, none accepted),
 * SIGUSR2 sets it up again. SIGHUP toggles produce failures: on, the next MOCK_PRODUCE_FAULTS
 * Produce requests to any broker fail with TOPIC_AUTHORIZATION_FAILED (permanent: librdkafka
 * does not retry it, the records fail); off, the failures not yet used are cleared. Signals are
 * blocked in every thread (librdkafka's threads inherit the mask of the thread that creates the
 * handle) and taken synchronously by the main loop with sigtimedwait, so nothing runs in a
 * signal handler.
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 when the cluster or the bootstrap file cannot be
 * made, 2 for bad flags. */
#include <errno.h>
#include <limits.h> /* INT_MIN, INT_MAX, PATH_MAX */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "inv_assert.h"
#include "inv_limits.h"
#include "log.h"

#define MOCK_PROG               "invsync-mock-kafka"
#define MOCK_BROKERS_MAX        16
#define MOCK_TOPICS_MAX         64
#define MOCK_TOPIC_NAME_LEN_MAX 249 /* Kafka's limit */
#define MOCK_PARTITIONS_DEFAULT 12  /* DESIGN.md section 1 */
#define MOCK_REPLICATION_MAX    3
#define MOCK_TICK_MS            200 /* longest wait for a signal between polls of the handle */
#define MOCK_ERRSTR_BYTES       512
#define MOCK_PRODUCE_FAULTS     64  /* Produce requests failed by one SIGHUP */
#define MOCK_APIKEY_PRODUCE     0   /* Kafka protocol ApiKey of ProduceRequest */

_Static_assert(MOCK_REPLICATION_MAX <= MOCK_BROKERS_MAX, "replicas need brokers");
_Static_assert(MOCK_PARTITIONS_DEFAULT <= INV_PARTITIONS_MAX, "default within the engine's max");
_Static_assert(MOCK_TICK_MS > 0 && MOCK_TICK_MS < 1000, "tick fits a timespec's nanoseconds");

typedef struct mock_topic {
    char name[MOCK_TOPIC_NAME_LEN_MAX + 1];
    int partitions;
} mock_topic;

typedef struct mock_options {
    int brokers;                /* --brokers, 1..MOCK_BROKERS_MAX */
    int replication_factor;     /* --replication-factor, 1..brokers; default min(brokers, 3) */
    int fault_broker;           /* --fault-broker: id for SIGUSR1/SIGUSR2, or -1 for all */
    const char *bootstrap_file; /* --bootstrap-file, or NULL */
    int topics_count;
    mock_topic topics[MOCK_TOPICS_MAX]; /* --topic, repeatable; the DESIGN.md set by default */
} mock_options;

/* The topics of DESIGN.md section 1, created when no --topic is given. */
static const char *const mock_default_topics[] = {
    "inventory.events.raw.warehouse", "inventory.events.raw.store",
    "inventory.events.raw.ecommerce", "inventory.events.canonical",
    "inventory.stock-levels",         "inventory.events.dlq",
};
#define MOCK_DEFAULT_TOPICS_COUNT (sizeof(mock_default_topics) / sizeof(mock_default_topics[0]))
_Static_assert(MOCK_DEFAULT_TOPICS_COUNT <= MOCK_TOPICS_MAX, "defaults fit the topic table");

/* main, for --help and bad flags. Prints the usage text to out. */
static void mock_usage(FILE *out) {
    fprintf(out,
            "usage: " MOCK_PROG " [options]\n"
            "Hosts librdkafka's mock Kafka cluster until SIGTERM or SIGINT.\n"
            "  --brokers N               brokers in the cluster, 1..%d (default 1)\n"
            "  --topic NAME:PARTITIONS   create this topic (repeatable); without any, the\n"
            "                            invsync topics with %d partitions each\n"
            "  --replication-factor N    replicas per partition, 1..brokers (default min(N, 3))\n"
            "  --bootstrap-file PATH     write HOST:PORT[,...] there (atomically) once the topics\n"
            "                            exist; removed again on exit\n"
            "  --fault-broker ID         broker that SIGUSR1 sets down and SIGUSR2 up (default 1;\n"
            "                            -1: all)\n"
            "  -h, --help                this text\n"
            "Prints \"mock Kafka bootstrap: HOST:PORT[,...]\" on stdout when ready.\n",
            MOCK_BROKERS_MAX, MOCK_PARTITIONS_DEFAULT);
}

/* mock_parse_args and mock_parse_topic. Parses a whole decimal s into [min, max]: 0 and *out
 * set, or -1 (empty, trailing characters, out of range). */
static int mock_parse_int(const char *s, long min, long max, int *out) {
    inv_assert(s != NULL);
    inv_assert(min <= max && min >= INT_MIN && max <= INT_MAX);
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE || v < min || v > max) return -1;
    *out = (int)v;
    return 0;
}

/* mock_parse_topic. True when name[0..len) is a legal Kafka topic name: 1..249 bytes of
 * [A-Za-z0-9._-], and neither "." nor "..". */
static bool mock_topic_name_valid(const char *name, size_t len) {
    inv_assert(name != NULL);
    if (len == 0 || len > MOCK_TOPIC_NAME_LEN_MAX) return false;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

/* mock_parse_args, for each --topic. Adds NAME:PARTITIONS from arg to o->topics: 0, or -1 with
 * errstr set (malformed, bad name or count, duplicate, too many topics). */
static int mock_parse_topic(mock_options *o, const char *arg, char *errstr, size_t errstr_size) {
    inv_assert(o != NULL && arg != NULL);
    inv_assert(o->topics_count >= 0 && o->topics_count <= MOCK_TOPICS_MAX);
    const char *colon = strrchr(arg, ':');
    if (colon == NULL) {
        snprintf(errstr, errstr_size, "--topic '%s': expected NAME:PARTITIONS", arg);
        return -1;
    }
    size_t len = (size_t)(colon - arg);
    if (!mock_topic_name_valid(arg, len)) {
        snprintf(errstr, errstr_size,
                 "--topic '%s': the name must be 1..%d characters of [A-Za-z0-9._-]", arg,
                 MOCK_TOPIC_NAME_LEN_MAX);
        return -1;
    }
    int partitions = 0;
    if (mock_parse_int(colon + 1, 1, INV_PARTITIONS_MAX, &partitions) != 0) {
        snprintf(errstr, errstr_size, "--topic '%s': PARTITIONS must be 1..%d", arg,
                 INV_PARTITIONS_MAX);
        return -1;
    }
    for (int i = 0; i < o->topics_count; i++) {
        if (strlen(o->topics[i].name) == len && memcmp(o->topics[i].name, arg, len) == 0) {
            snprintf(errstr, errstr_size, "--topic '%s': topic given twice", arg);
            return -1;
        }
    }
    if (o->topics_count == MOCK_TOPICS_MAX) {
        snprintf(errstr, errstr_size, "--topic: at most %d topics", MOCK_TOPICS_MAX);
        return -1;
    }
    mock_topic *t = &o->topics[o->topics_count++];
    memcpy(t->name, arg, len);
    t->name[len] = '\0';
    t->partitions = partitions;
    return 0;
}

/* mock_parse_args, per flag. Applies "--name value" to o: 0, -1 with errstr set for a bad
 * value, or 1 when name is not a flag of this program. */
static int mock_flag_set(mock_options *o, const char *name, const char *value, char *errstr,
                         size_t errstr_size) {
    inv_assert(o != NULL && name != NULL && value != NULL);
    inv_assert(errstr != NULL && errstr_size > 0);
    if (strcmp(name, "--brokers") == 0) {
        if (mock_parse_int(value, 1, MOCK_BROKERS_MAX, &o->brokers) == 0) return 0;
        snprintf(errstr, errstr_size, "--brokers '%s': must be 1..%d", value, MOCK_BROKERS_MAX);
        return -1;
    }
    if (strcmp(name, "--replication-factor") == 0) {
        if (mock_parse_int(value, 1, MOCK_BROKERS_MAX, &o->replication_factor) == 0) return 0;
        snprintf(errstr, errstr_size, "--replication-factor '%s': must be 1..%d", value,
                 MOCK_BROKERS_MAX);
        return -1;
    }
    if (strcmp(name, "--fault-broker") == 0) {
        int id = 0;
        if (mock_parse_int(value, -1, MOCK_BROKERS_MAX, &id) == 0 && id != 0) {
            o->fault_broker = id;
            return 0;
        }
        snprintf(errstr, errstr_size, "--fault-broker '%s': a broker id 1..%d or -1", value,
                 MOCK_BROKERS_MAX);
        return -1;
    }
    if (strcmp(name, "--topic") == 0) return mock_parse_topic(o, value, errstr, errstr_size);
    if (strcmp(name, "--bootstrap-file") == 0) {
        if (value[0] != '\0') {
            o->bootstrap_file = value;
            return 0;
        }
        snprintf(errstr, errstr_size, "--bootstrap-file: empty path");
        return -1;
    }
    return 1;
}

/* mock_parse_args, after the last flag. Fills in the defaults that depend on other flags and
 * checks the flags against each other: 0, or -1 with errstr set. */
static int mock_options_finish(mock_options *o, char *errstr, size_t errstr_size) {
    inv_assert(o != NULL);
    inv_assert(o->brokers >= 1 && o->brokers <= MOCK_BROKERS_MAX);
    if (o->replication_factor == 0) {
        o->replication_factor =
            o->brokers < MOCK_REPLICATION_MAX ? o->brokers : MOCK_REPLICATION_MAX;
    }
    if (o->replication_factor > o->brokers) {
        snprintf(errstr, errstr_size, "--replication-factor %d: more than the %d broker(s)",
                 o->replication_factor, o->brokers);
        return -1;
    }
    if (o->fault_broker > o->brokers) {
        snprintf(errstr, errstr_size, "--fault-broker %d: there are only %d broker(s)",
                 o->fault_broker, o->brokers);
        return -1;
    }
    if (o->topics_count == 0) {
        for (size_t t = 0; t < MOCK_DEFAULT_TOPICS_COUNT; t++) {
            inv_assert(strlen(mock_default_topics[t]) <= MOCK_TOPIC_NAME_LEN_MAX);
            strcpy(o->topics[t].name, mock_default_topics[t]);
            o->topics[t].partitions = MOCK_PARTITIONS_DEFAULT;
        }
        o->topics_count = (int)MOCK_DEFAULT_TOPICS_COUNT;
    }
    return 0;
}

/* main. Fills o from argv ("--flag value" or "--flag=value"): 0, 1 for --help, or -1 with
 * errstr set. Without any --topic, o gets the topics of DESIGN.md section 1. */
static int mock_parse_args(int argc, char **argv, mock_options *o, char *errstr,
                           size_t errstr_size) {
    inv_assert(argc >= 1 && argv != NULL);
    inv_assert(o != NULL && errstr_size > 0);
    memset(o, 0, sizeof(*o));
    o->brokers = 1;
    o->fault_broker = 1;
    o->replication_factor = 0; /* 0: min(brokers, 3), chosen once brokers is known */
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "-h") == 0 || strcmp(flag, "--help") == 0) return 1;
        char name[32];
        const char *eq = strchr(flag, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - flag) : strlen(flag);
        if (strncmp(flag, "--", 2) != 0 || name_len >= sizeof(name)) {
            snprintf(errstr, errstr_size, "unknown argument '%s'", flag);
            return -1;
        }
        memcpy(name, flag, name_len);
        name[name_len] = '\0';
        const char *value = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[i + 1] : "");
        int rc = mock_flag_set(o, name, value, errstr, errstr_size);
        if (rc == 1) {
            snprintf(errstr, errstr_size, "unknown argument '%s'", flag);
            return -1;
        }
        if (eq == NULL && i + 1 == argc) {
            snprintf(errstr, errstr_size, "%s: missing value", name);
            return -1;
        }
        if (rc != 0) return -1;
        if (eq == NULL) i++; /* the value was the next argument */
    }
    return mock_options_finish(o, errstr, errstr_size);
}

/* main, before any thread exists. Blocks the signals the main loop takes with sigtimedwait
 * (every later thread inherits the mask) and ignores SIGPIPE; fills set. Returns 0 or -1. */
static int mock_signals_block(sigset_t *set) {
    inv_assert(set != NULL);
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGHUP);
    inv_assert(sigismember(set, SIGTERM) == 1);
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) return -1;
    return pthread_sigmask(SIG_BLOCK, set, NULL) == 0 ? 0 : -1;
}

/* main. Creates the dummy producer handle and, on it, the mock cluster with its topics. Returns
 * 0 with *rk_out and *cluster_out set (owned by the caller, destroyed by mock_cluster_stop), or
 * -1 with errstr set and nothing left behind. */
static int mock_cluster_start(const mock_options *o, rd_kafka_t **rk_out,
                              rd_kafka_mock_cluster_t **cluster_out, char *errstr,
                              size_t errstr_size) {
    inv_assert(o != NULL && rk_out != NULL && cluster_out != NULL);
    inv_assert(o->brokers >= 1 && o->topics_count >= 1);
    const char *step = "rd_kafka_conf_set";
    rd_kafka_mock_cluster_t *cluster = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only carries the cluster's bookkeeping and never connects anywhere. The mock
     * brokers log through it: warnings and errors are kept, notices are not (one of them is
     * "No bootstrap.servers configured", true and irrelevant here). */
    if (rd_kafka_conf_set(conf, "client.id", MOCK_PROG, errstr, errstr_size) != RD_KAFKA_CONF_OK)
        goto fail;
    /* INVSYNC_MOCK_DEBUG=mock,protocol (say) turns librdkafka's debug contexts on, for
     * diagnosing what the mock brokers did in a failed test. */
    const char *debug = getenv("INVSYNC_MOCK_DEBUG");
    if (rd_kafka_conf_set(conf, "log_level", debug != NULL ? "7" : "4", errstr, errstr_size) !=
        RD_KAFKA_CONF_OK)
        goto fail;
    if (debug != NULL && rd_kafka_conf_set(conf, "debug", debug, errstr, errstr_size) !=
                             RD_KAFKA_CONF_OK)
        goto fail;
    step = "rd_kafka_new";
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (rk == NULL) goto fail; /* conf still ours */
    conf = NULL;               /* owned by rk now */
    step = "rd_kafka_mock_cluster_new";
    cluster = rd_kafka_mock_cluster_new(rk, o->brokers);
    if (cluster == NULL) {
        snprintf(errstr, errstr_size, "could not create %d mock broker(s)", o->brokers);
        goto fail;
    }
    step = "rd_kafka_mock_topic_create";
    for (int i = 0; i < o->topics_count; i++) {
        const mock_topic *t = &o->topics[i];
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(cluster, t->name, t->partitions, o->replication_factor);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errstr, errstr_size, "topic %s: %s", t->name, rd_kafka_err2str(err));
            goto fail;
        }
    }
    *rk_out = rk;
    *cluster_out = cluster;
    return 0;
fail:
    log_error("mock cluster: %s failed: %s", step, errstr);
    if (cluster != NULL) rd_kafka_mock_cluster_destroy(cluster);
    if (rk != NULL) rd_kafka_destroy(rk);
    if (conf != NULL) rd_kafka_conf_destroy(conf);
    return -1;
}

/* main, after the loop or a failed start. Destroys the cluster, then the handle it lives on. */
static void mock_cluster_stop(rd_kafka_t *rk, rd_kafka_mock_cluster_t *cluster) {
    inv_assert(rk != NULL);
    inv_assert(cluster != NULL);
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
}

/* main. Writes "bootstrap\n" to path through path.tmp.PID and rename(2), so a reader sees no
 * file or the whole address. No fsync: the file means nothing after a machine crash (the mock
 * keeps nothing). Returns 0, or -1 with errstr naming the step, and no temporary file left. */
static int mock_bootstrap_write(const char *path, const char *bootstrap, char *errstr,
                                size_t errstr_size) {
    inv_assert(path != NULL && bootstrap != NULL);
    inv_assert(bootstrap[0] != '\0');
    char tmp[PATH_MAX];
    const char *step = "path";
    FILE *f = NULL;
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        goto fail;
    }
    step = "open";
    f = fopen(tmp, "w");
    if (f == NULL) goto fail;
    step = "write";
    if (fprintf(f, "%s\n", bootstrap) < 0) goto fail;
    step = "close";
    int rc = fclose(f);
    f = NULL;
    if (rc != 0) goto fail;
    step = "rename";
    if (rename(tmp, path) != 0) goto fail;
    return 0;
fail:;
    int saved = errno;
    if (f != NULL) fclose(f);
    if (strcmp(step, "path") != 0) unlink(tmp);
    snprintf(errstr, errstr_size, "--bootstrap-file %s: %s failed: %s", path, step,
             strerror(saved));
    errno = saved;
    return -1;
}

/* mock_serve. Sets broker_id (-1: every broker) down (SIGUSR1) or up (SIGUSR2); logs the
 * result. A failure is logged and the cluster serves on unchanged. */
static void mock_fault_apply(rd_kafka_mock_cluster_t *cluster, int broker_id, bool down) {
    inv_assert(cluster != NULL);
    inv_assert(broker_id == -1 || broker_id >= 1);
    char which[32];
    if (broker_id == -1) {
        snprintf(which, sizeof(which), "every broker");
    } else {
        snprintf(which, sizeof(which), "broker %d", broker_id);
    }
    rd_kafka_resp_err_t err = down ? rd_kafka_mock_broker_set_down(cluster, broker_id)
                                   : rd_kafka_mock_broker_set_up(cluster, broker_id);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("mock cluster: setting %s %s failed: %s", which, down ? "down" : "up",
                  rd_kafka_err2str(err));
        return;
    }
    log_info("mock cluster: %s %s", which, down ? "down" : "up");
}

/* mock_serve. Turns produce failures on (the next MOCK_PRODUCE_FAULTS Produce requests fail
 * for good) or off (the unused ones are cleared); logs it. */
static void mock_produce_faults(rd_kafka_mock_cluster_t *cluster, bool on) {
    inv_assert(cluster != NULL);
    rd_kafka_mock_clear_request_errors(cluster, MOCK_APIKEY_PRODUCE);
    if (on) {
        rd_kafka_resp_err_t errs[MOCK_PRODUCE_FAULTS];
        for (size_t i = 0; i < MOCK_PRODUCE_FAULTS; i++)
            errs[i] = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
        rd_kafka_mock_push_request_errors_array(cluster, MOCK_APIKEY_PRODUCE, MOCK_PRODUCE_FAULTS,
                                                errs);
    }
    log_info("mock cluster: produce failures %s", on ? "on (the next Produce requests fail)"
                                                     : "off");
}

/* main. Serves until SIGTERM or SIGINT: takes the blocked signals synchronously and polls the
 * handle between them. Returns 0 on a stop signal, -1 if sigtimedwait fails. */
static int mock_serve(rd_kafka_t *rk, rd_kafka_mock_cluster_t *cluster, const sigset_t *set,
                      int fault_broker) {
    inv_assert(rk != NULL && cluster != NULL && set != NULL);
    inv_assert(fault_broker == -1 || fault_broker >= 1);
    const struct timespec tick = {.tv_sec = 0, .tv_nsec = MOCK_TICK_MS * 1000000L};
    bool faults_on = false;
    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                log_error("mock cluster: sigtimedwait: %s", strerror(errno));
                return -1;
            }
            rd_kafka_poll(rk, 0); /* serves the handle's events (logs, errors); none expected */
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("mock cluster: %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return 0;
        }
        if (sig == SIGHUP) {
            faults_on = !faults_on;
            mock_produce_faults(cluster, faults_on);
            continue;
        }
        inv_assert(sig == SIGUSR1 || sig == SIGUSR2);
        mock_fault_apply(cluster, fault_broker, sig == SIGUSR1);
    }
}

/* The program: parse flags, block signals, start the cluster, announce it, serve, tear down. */
int main(int argc, char **argv) {
    static mock_options opts; /* static: the topic table is ~16 KiB */
    char errstr[MOCK_ERRSTR_BYTES] = "";
    int rc = mock_parse_args(argc, argv, &opts, errstr, sizeof(errstr));
    if (rc == 1) {
        mock_usage(stdout);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, MOCK_PROG ": %s\n", errstr);
        mock_usage(stderr);
        return 2;
    }
    sigset_t set;
    if (mock_signals_block(&set) != 0) {
        fprintf(stderr, MOCK_PROG ": cannot block signals: %s\n", strerror(errno));
        return 1;
    }
    rd_kafka_t *rk = NULL;
    rd_kafka_mock_cluster_t *cluster = NULL;
    if (mock_cluster_start(&opts, &rk, &cluster, errstr, sizeof(errstr)) != 0) return 1;
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
    inv_assert(bootstrap != NULL && bootstrap[0] != '\0');
    if (opts.bootstrap_file != NULL &&
        mock_bootstrap_write(opts.bootstrap_file, bootstrap, errstr, sizeof(errstr)) != 0) {
        log_error("mock cluster: %s", errstr);
        mock_cluster_stop(rk, cluster);
        return 1;
    }
    log_info("mock cluster: %d broker(s), %d topic(s), fault broker %d (SIGUSR1 down, SIGUSR2 "
             "up, SIGHUP produce failures on/off)",
             opts.brokers, opts.topics_count, opts.fault_broker);
    printf("mock Kafka bootstrap: %s\n", bootstrap);
    if (fflush(stdout) != 0) log_warn("mock cluster: stdout: %s", strerror(errno));
    rc = mock_serve(rk, cluster, &set, opts.fault_broker);
    if (opts.bootstrap_file != NULL && unlink(opts.bootstrap_file) != 0 && errno != ENOENT)
        log_warn("mock cluster: removing %s: %s", opts.bootstrap_file, strerror(errno));
    mock_cluster_stop(rk, cluster);
    cluster = NULL;
    rk = NULL;
    return rc == 0 ? 0 : 1;
}
