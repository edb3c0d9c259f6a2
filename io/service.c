/* service.c - see service.h.
 *
 * The consumer is the group member; its partitions never deliver to the main
 * queue (each is forwarded to its owner's queue before it is assigned), so
 * the control thread's poll only serves the rebalance callback, errors and
 * statistics. The rebalance callback is where ownership changes hands:
 *   assign: committed offset C (or the partition's low watermark for a new
 *           group), start S = max(low, C - dedup ids) so the window is rebuilt
 *           from the input, forward, queue ASSIGN to the owner, assign at S;
 *   revoke: queue REVOKE to the owners and wait (bounded) for their final
 *           flush and acks, commit the stored offsets synchronously, then
 *           give the partitions up. A lost assignment is dropped without
 *           producing or committing anything: a new owner may already run. */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "embedded_kafka.h"
#include "engine.h"
#include "inv_assert.h"
#include "kafka_topics.h"
#include "kafka_worker.h"
#include "inv_limits.h"
#include "log.h"
#include "rcu.h"
#include "inv_clock.h"

#define STATS_LOG_INTERVAL_MS 10000

typedef struct svc {
    const inv_config *cfg;
    inv_embedded_kafka *embedded;
    rd_kafka_conf_t *base; /* bootstrap + pass-through properties */
    rd_kafka_t *consumer;
    inv_fetch_waker *waker; /* wakes the consumer's fetcher after a drained backlog */
    inv_engine *engine;
    int32_t partitions;
    inv_kworker *workers[INV_WORKERS_MAX];
    uint32_t workers_count;
    bool engine_started;
    int32_t assigned; /* partitions assigned to this member now */
    bool rebalanced;  /* the rebalance callback has run at least once */
    int fatal;        /* set by the rebalance callback on an unrecoverable error */
    bool bootstrap_written;
} svc;

/* --- rebalance (control thread, inside rd_kafka_consumer_poll) -------------- */

static inv_kworker *owner_of(svc *s, int32_t p) {
    return s->workers[engine_worker_of(s->engine, p)];
}

static void forward(svc *s, int32_t p, rd_kafka_queue_t *to) {
    rd_kafka_queue_t *pq = rd_kafka_queue_get_partition(s->consumer, s->cfg->topic_canonical, p);
    inv_assert(pq != NULL);
    rd_kafka_queue_forward(pq, to);
    rd_kafka_queue_destroy(pq);
}

/* Fills each element's offset with its start offset and queues the restores.
 * 0, or -EIO when the committed offsets or watermarks cannot be read. */
static int on_assign(svc *s, rd_kafka_topic_partition_list_t *parts) {
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int tries = 0; tries < INV_KAFKA_RETRIES_MAX; tries++) {
        err = rd_kafka_committed(s->consumer, committed, INV_KAFKA_REQUEST_TIMEOUT_MS);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        log_warn("reading committed offsets: %s; retrying", rd_kafka_err2str(err));
        kafka_retry_pause();
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("reading committed offsets: %s", rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(committed);
        return -EIO;
    }
    int rc = 0;
    for (int i = 0; i < parts->cnt && rc == 0; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int32_t p = tp->partition;
        if (strcmp(tp->topic, s->cfg->topic_canonical) != 0 || p < 0 || p >= s->partitions) {
            log_error("assigned %s [%d], which this service does not consume", tp->topic, p);
            rc = -EIO;
            break;
        }
        int64_t lo = 0, hi = 0;
        err = kafka_watermarks(s->consumer, tp->topic, p, &lo, &hi);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            log_error("partition %d: watermarks: %s", p, rd_kafka_err2str(err));
            rc = -EIO;
            break;
        }
        int64_t c = committed->elems[i].offset;
        int64_t resume = c >= 0 ? c : lo;
        if (resume < lo) {
            log_warn("partition %d: committed offset %" PRId64 " is below the log start %" PRId64
                     " (retention deleted unprocessed input); resuming at %" PRId64,
                     p, resume, lo, lo);
            resume = lo;
        }
        if (resume > hi) resume = hi;
        int64_t back = s->cfg->dedup_ids_max;
        int64_t start = resume - back > lo ? resume - back : lo;
        forward(s, p, kworker_queue(owner_of(s, p)));
        if (kworker_assign(owner_of(s, p), p, resume, start) != 0) {
            log_error("partition %d: worker command queue full", p);
            rc = -EIO;
            break;
        }
        tp->offset = start;
        s->assigned++;
        char cs[32];
        if (c >= 0) snprintf(cs, sizeof(cs), "%" PRId64, c);
        else snprintf(cs, sizeof(cs), "none");
        log_info("partition %d assigned: committed offset %s, log [%" PRId64 ", %" PRId64
                 "), replaying the dedup window from %" PRId64,
                 p, cs, lo, hi, start);
    }
    rd_kafka_topic_partition_list_destroy(committed);
    return rc;
}

static void on_revoke(svc *s, rd_kafka_topic_partition_list_t *parts, bool lost) {
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p < 0 || p >= s->partitions) continue;
        if (kworker_revoke(owner_of(s, p), p, lost) != 0)
            log_error("partition %d: worker command queue full; dropping it uncommitted", p);
    }
    for (uint32_t w = 0; w < s->workers_count; w++) {
        int rc = kworker_wait(s->workers[w], INV_REVOKE_TIMEOUT_MS + 5000);
        if (rc == 0) continue;
        /* Fence what this worker had to give up: whatever it has not flushed yet is
         * replayed by the next owner from the last commit, and nothing it writes
         * later can land after the next owner's records. */
        log_warn("worker %u did not finish its revoked partitions (%s); fencing them", w,
                 strerror(-rc));
        for (int i = 0; i < parts->cnt; i++) {
            int32_t p = parts->elems[i].partition;
            if (p >= 0 && p < s->partitions && engine_worker_of(s->engine, p) == w)
                kworker_fence(s->workers[w], p);
        }
    }
    if (!lost) {
        rd_kafka_resp_err_t err = rd_kafka_commit(s->consumer, NULL, 0 /* sync */);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
            log_warn("commit on revoke: %s (the next owner replays a little more)",
                     rd_kafka_err2str(err));
    }
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p < 0 || p >= s->partitions) continue;
        forward(s, p, NULL);
        s->assigned--;
    }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    svc *s = opaque;
    s->rebalanced = true;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (on_assign(s, parts) != 0) {
            s->fatal = 1;
            return; /* the service stops; nothing is consumed */
        }
        if (coop) e = rd_kafka_incremental_assign(rk, parts);
        else aerr = rd_kafka_assign(rk, parts);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        bool lost = rd_kafka_assignment_lost(rk);
        on_revoke(s, parts, lost);
        if (coop) e = rd_kafka_incremental_unassign(rk, parts);
        else aerr = rd_kafka_assign(rk, NULL);
    } else {
        log_error("rebalance: %s", rd_kafka_err2str(err));
        on_revoke(s, parts, true);
        aerr = rd_kafka_assign(rk, NULL);
    }
    if (e != NULL) {
        log_error("rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        s->fatal = 1;
    } else if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("rebalance: %s", rd_kafka_err2str(aerr));
        s->fatal = 1;
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk;
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) log_error("kafka: fatal: %s", reason);
    else log_warn("kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/* --- start-up (control thread) ------------------------------------------------ */

static int make_base_conf(svc *s, const char *brokers, char *errstr, size_t errstr_len) {
    s->base = rd_kafka_conf_new();
    if (rd_kafka_conf_set(s->base, "bootstrap.servers", brokers, errstr, errstr_len) !=
        RD_KAFKA_CONF_OK)
        return -EINVAL;
    rd_kafka_conf_set_error_cb(s->base, error_cb);
    return 0;
}

static int start_kafka(svc *s, const char **brokers, char *errstr, size_t errstr_len) {
    const inv_config *c = s->cfg;
    *brokers = c->brokers;
    if (c->brokers[0] != '\0') return 0;
    inv_embedded_topic topics[] = {{c->topic_canonical, c->partitions},
                                   {c->topic_stock_levels, c->partitions},
                                   {c->topic_dlq, c->partitions}};
    int rc = embedded_kafka_start(&s->embedded, c->embedded_brokers, topics, 3, errstr,
                                  errstr_len);
    if (rc != 0) return rc;
    *brokers = embedded_kafka_bootstrap(s->embedded);
    printf("embedded Kafka bootstrap: %s\n", *brokers);
    fflush(stdout);
    log_warn("embedded Kafka (librdkafka mock cluster) at %s: it keeps everything in memory and "
             "NOTHING survives a restart of invsyncd; use --brokers for a real cluster",
             *brokers);
    return 0;
}

static int check_topics(svc *s, char *errstr, size_t errstr_len) {
    const inv_config *c = s->cfg;
    inv_topic_spec specs[] = {
        {c->topic_canonical, "2592000000", "delete"},   /* 30 days */
        {c->topic_stock_levels, "-1", "compact"},       /* infinite, compacted */
        {c->topic_dlq, "2592000000", "delete"},
    };
    int32_t counts[3] = {0};
    char cid[64];
    snprintf(cid, sizeof(cid), "invsyncd-admin");
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(s->base);
    if (rd_kafka_conf_set(conf, "client.id", cid, errstr, errstr_len) != RD_KAFKA_CONF_OK ||
        config_kafka_apply(s->cfg, conf, errstr, errstr_len) != 0) {
        rd_kafka_conf_destroy(conf);
        return -EINVAL;
    }
    rd_kafka_t *admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_len);
    if (admin == NULL) {
        rd_kafka_conf_destroy(conf);
        return -EINVAL;
    }
    int rc = kafka_topics_ensure(admin, specs, 3, c->partitions, c->replication_factor, counts,
                                 errstr, errstr_len);
    rd_kafka_destroy(admin);
    if (rc != 0) return rc;
    if (counts[1] != counts[0] || counts[2] != counts[0]) {
        snprintf(errstr, errstr_len,
                 "partition counts differ: %s has %d, %s has %d, %s has %d; stock levels and the "
                 "DLQ must have exactly as many partitions as the canonical topic (partition p of "
                 "each holds the keys of canonical partition p). Recreate or extend the topics "
                 "so the counts agree",
                 c->topic_canonical, counts[0], c->topic_stock_levels, counts[1], c->topic_dlq,
                 counts[2]);
        return -EINVAL;
    }
    if (counts[0] > INV_PARTITIONS_MAX) {
        snprintf(errstr, errstr_len, "%s has %d partitions; at most %d are supported",
                 c->topic_canonical, counts[0], INV_PARTITIONS_MAX);
        return -EINVAL;
    }
    s->partitions = counts[0];
    log_info("topics ready: %s, %s, %s with %d partitions each", c->topic_canonical,
             c->topic_stock_levels, c->topic_dlq, s->partitions);
    return 0;
}

static int start_engine_and_workers(svc *s, char *errstr, size_t errstr_len) {
    const inv_config *c = s->cfg;
    inv_engine_config ec;
    engine_config_defaults(&ec);
    ec.partitions = s->partitions;
    ec.workers = c->workers;
    for (uint32_t i = 0; i < c->workers; i++) ec.cpus[i] = c->cpus_count ? c->cpus[i] : -1;
    ec.dedup_enabled = true;
    ec.dedup_ids_max = c->dedup_ids_max;
    ec.dedup_window_ms = c->dedup_window_ms;
    int rc = engine_create(&s->engine, &ec, errstr, errstr_len);
    if (rc != 0) return rc;

    rd_kafka_conf_t *conf = rd_kafka_conf_dup(s->base);
    const char *kv[] = {"client.id", "invsyncd", "group.id", c->group,
                        "partition.assignment.strategy", "cooperative-sticky",
                        "enable.auto.commit", "true", "auto.commit.interval.ms", "1000",
                        "enable.auto.offset.store", "false", "auto.offset.reset", "earliest",
                        "isolation.level", "read_committed", "enable.partition.eof", "false",
                        /* Prefetch deep enough that a worker never waits for the fetcher,
                         * which librdkafka only re-arms on its own timer once a queue
                         * went over these bounds (measured: 2-3x the rate of the
                         * defaults with stock-level output). The bounds apply to each
                         * worker's queue, all its partitions together. */
                        "queued.max.messages.kbytes", "65536", "queued.min.messages", "1000000",
                        "max.partition.fetch.bytes", "4194304", NULL};
    for (size_t i = 0; kv[i] != NULL; i += 2) {
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, errstr_len) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return -EINVAL;
        }
    }
    if (config_kafka_apply(c, conf, errstr, errstr_len) != 0) { /* the operator's win */
        rd_kafka_conf_destroy(conf);
        return -EINVAL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, s);
    s->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_len);
    if (s->consumer == NULL) {
        rd_kafka_conf_destroy(conf);
        return -EINVAL;
    }
    rd_kafka_poll_set_consumer(s->consumer);
    rc = fetch_waker_start(&s->waker, s->consumer, c->topic_canonical, errstr, errstr_len);
    if (rc != 0) return rc;

    inv_worker_input inputs[INV_WORKERS_MAX];
    for (uint32_t i = 0; i < c->workers; i++) {
        inv_kworker_params prm = {.index = i, .engine = s->engine, .consumer = s->consumer,
                                  .waker = s->waker,
                                  .base = s->base, .cfg = c, .topic_canonical = c->topic_canonical,
                                  .topic_stock_levels = c->topic_stock_levels,
                                  .topic_dlq = c->topic_dlq, .partitions = s->partitions,
                                  .flush_interval_ms = c->flush_interval_ms};
        rc = kworker_create(&s->workers[i], &prm, errstr, errstr_len);
        if (rc != 0) return rc;
        s->workers_count++;
        inputs[i] = kworker_input(s->workers[i]);
    }
    rc = engine_start(s->engine, inputs, errstr, errstr_len);
    if (rc != 0) return rc;
    s->engine_started = true;

    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, c->topic_canonical, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(s->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_len, "subscribing to %s: %s", c->topic_canonical,
                 rd_kafka_err2str(err));
        return -EIO;
    }
    log_info("consuming %s as group %s with %u worker(s); stock levels to %s, rejects to %s",
             c->topic_canonical, c->group, c->workers, c->topic_stock_levels, c->topic_dlq);
    return 0;
}

/* Writes DATA_DIR/embedded-kafka.bootstrap (temp file + rename) once every
 * assigned partition is restored, so a script waiting for the file can
 * produce at once. */
static void maybe_write_bootstrap(svc *s) {
    if (s->embedded == NULL || s->bootstrap_written || s->assigned <= 0) return;
    uint32_t active = 0;
    for (uint32_t w = 0; w < s->workers_count; w++) {
        inv_kworker_stats ks;
        kworker_get_stats(s->workers[w], &ks);
        active += ks.partitions_active;
    }
    if ((int32_t)active < s->assigned) return;
    char path[PATH_MAX + 64], tmp[PATH_MAX + 80];
    snprintf(path, sizeof(path), "%s/embedded-kafka.bootstrap", s->cfg->data_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%s\n", embedded_kafka_bootstrap(s->embedded)) < 0 ||
        fclose(f) != 0 || rename(tmp, path) != 0) {
        log_error("writing %s: %s", path, strerror(errno));
        unlink(tmp);
    } else {
        log_info("wrote %s", path);
    }
    s->bootstrap_written = true;
}

static void log_stats(svc *s) {
    uint64_t msgs = 0, dlq = 0, stock = 0, skipped = 0, stalls = 0, wait_ns = 0, empty = 0;
    uint64_t pokes = 0, failures = 0;
    uint32_t active = 0, broken = 0;
    for (uint32_t w = 0; w < s->workers_count; w++) {
        inv_kworker_stats ks;
        kworker_get_stats(s->workers[w], &ks);
        msgs += ks.messages;
        dlq += ks.dlq_records;
        skipped += ks.dlq_skipped;
        stock += ks.stock_records;
        stalls += ks.flush_stalls;
        wait_ns += ks.consume_wait_ns;
        empty += ks.polls_empty;
        pokes += ks.fetch_pokes;
        failures += ks.delivery_failures;
        active += ks.partitions_active;
        broken += ks.partitions_broken;
    }
    uint64_t batches = 0, events = 0;
    for (uint32_t i = 0; i < s->workers_count; i++) {
        inv_worker_stats st;
        engine_worker_stats(s->engine, i, &st);
        batches += st.batches;
        events += st.events;
    }
    log_info("stats: %" PRIu64 " messages, %" PRIu64 " events applied in %" PRIu64
             " batches, %" PRIu64 " stock-level records, %" PRIu64
             " DLQ records (%" PRIu64 " already there), %u partitions active, %u stopped; "
             "%" PRIu64 " flush stalls, %.1f s waiting for input, %" PRIu64 " empty polls, "
             "%" PRIu64 " fetcher pokes (%" PRIu64 " requests), %" PRIu64 " failed deliveries",
             msgs, events, batches, stock, dlq, skipped, active, broken, stalls,
             (double)wait_ns / 1e9, empty, pokes, fetch_waker_requests(s->waker), failures);
}

static bool worker_failed(svc *s) {
    for (uint32_t i = 0; i < s->workers_count; i++) {
        inv_worker_stats st;
        engine_worker_stats(s->engine, i, &st);
        if (st.error != 0) {
            log_error("worker %u stopped: %s", i, strerror(-st.error));
            return true;
        }
    }
    return false;
}

static int ensure_dir(const char *dir, char *errstr, size_t errstr_len) {
    if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    }
    snprintf(errstr, errstr_len, "--data-dir %.900s: %s", dir,
             errno == EEXIST ? "exists and is not a directory" : strerror(errno));
    return -EINVAL;
}

/* Control thread. Leaves the group (revoking and committing everything),
 * ends the workers and frees it all. Returns the first error. */
static int shutdown_all(svc *s) {
    int rc = 0;
    /* librdkafka 2.0.2's cooperative-sticky assignor asserts when a consumer
     * that was never assigned is closed or destroyed (librdkafka issue 4312,
     * fixed in 2.3.0). Such a consumer owns nothing to flush or commit, so it
     * is left alone: the process exits without destroying it and the group
     * drops the member after its session timeout. */
    bool close_consumer = s->consumer != NULL && s->rebalanced;
    if (close_consumer) {
        log_info("shutting down: final flush and commit of every owned partition");
        rd_kafka_resp_err_t err = rd_kafka_consumer_close(s->consumer);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) log_warn("consumer close: %s", rd_kafka_err2str(err));
    }
    for (uint32_t w = 0; w < s->workers_count; w++) kworker_finish(s->workers[w]);
    if (s->engine_started) {
        int e = engine_wait(s->engine);
        if (e != 0 && e != -ECANCELED) rc = e;
    }
    fetch_waker_stop(s->waker); /* after the workers, its only pokers, ended */
    for (uint32_t w = 0; w < s->workers_count; w++) kworker_destroy(s->workers[w]);
    if (close_consumer) rd_kafka_destroy(s->consumer);
    else if (s->consumer) log_info("stopped before the first assignment: nothing to commit");
    engine_destroy(s->engine);
    if (s->base) rd_kafka_conf_destroy(s->base);
    embedded_kafka_stop(s->embedded);
    return rc;
}

/* Control thread. See service.h. */
int service_run(const inv_config *cfg, volatile int *stop) {
    inv_assert(cfg != NULL && stop != NULL);
    svc s = {.cfg = cfg};
    char err[1024] = "";
    const char *brokers = NULL;
    int rc = ensure_dir(cfg->data_dir, err, sizeof(err));
    if (rc == 0) rc = start_kafka(&s, &brokers, err, sizeof(err));
    if (rc == 0) rc = make_base_conf(&s, brokers, err, sizeof(err));
    if (rc == 0) rc = check_topics(&s, err, sizeof(err));
    if (rc == 0) rc = start_engine_and_workers(&s, err, sizeof(err));
    if (rc != 0) {
        log_error("start-up failed: %s", err);
        shutdown_all(&s);
        return 1;
    }
    if (cfg->http_enabled)
        log_info("HTTP query API (%s:%u) is not part of this build yet; the setting is accepted",
                 cfg->http_host, cfg->http_port);
    int64_t next_stats = (inv_now_ns() / 1000000) + STATS_LOG_INTERVAL_MS;
    int exit_code = 0;
    while (!*stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s.consumer, 100);
        if (m != NULL) {
            if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
                log_warn("consumer: %s", rd_kafka_message_errstr(m));
            else
                log_error("message of unforwarded partition %d at offset %" PRId64 " ignored",
                          m->partition, m->offset);
            rd_kafka_message_destroy(m);
        }
        if (s.fatal || worker_failed(&s)) {
            exit_code = 1;
            break;
        }
        maybe_write_bootstrap(&s);
        if ((inv_now_ns() / 1000000) >= next_stats) {
            log_stats(&s);
            next_stats = (inv_now_ns() / 1000000) + STATS_LOG_INTERVAL_MS;
        }
    }
    if (exit_code == 0) log_info("stop requested");
    log_stats(&s);
    if (shutdown_all(&s) != 0) exit_code = 1;
    log_info("stopped (%s)", exit_code == 0 ? "clean" : "after an error");
    return exit_code;
}
