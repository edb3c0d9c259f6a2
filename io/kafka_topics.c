/* kafka_topics.c - see kafka_topics.h. Metadata first, CreateTopics for the
 * missing ones (a topic created meanwhile by another instance is fine:
 * TOPIC_ALREADY_EXISTS counts as success), then metadata again for the
 * partition counts. */
#include "kafka_topics.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "inv_assert.h"
#include "inv_limits.h"
#include "log.h"

/* Control thread. See kafka_topics.h. */
int32_t kafka_topic_partitions(rd_kafka_t *rk, const char *topic, char *errstr,
                               size_t errstr_len) {
    inv_assert(rk != NULL && topic != NULL);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rkt == NULL) {
        snprintf(errstr, errstr_len, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        return -EINVAL;
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, INV_KAFKA_REQUEST_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_len, "metadata of topic %s: %s (is the cluster reachable?)", topic,
                 rd_kafka_err2str(err));
        return -EIO;
    }
    int32_t n = 0;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        n = md->topics[0].partition_cnt;
    else if (md->topic_cnt == 1 && md->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        snprintf(errstr, errstr_len, "metadata of topic %s: %s", topic,
                 rd_kafka_err2str(md->topics[0].err));
        rd_kafka_metadata_destroy(md);
        return -EIO;
    }
    rd_kafka_metadata_destroy(md);
    return n;
}

static int broker_count(rd_kafka_t *rk) {
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, NULL, &md, INV_KAFKA_REQUEST_TIMEOUT_MS) != 0) return 1;
    int n = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    return n > 0 ? n : 1;
}

/* Control thread. Creates one topic; 0 or -EIO with errstr. */
static int create_topic(rd_kafka_t *rk, const inv_topic_spec *s, int32_t partitions, int rf,
                        char *errstr, size_t errstr_len) {
    char e[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(s->name, partitions, rf, e, sizeof(e));
    if (nt == NULL) {
        snprintf(errstr, errstr_len, "topic %s: %s", s->name, e);
        return -EINVAL;
    }
    rd_kafka_NewTopic_set_config(nt, "retention.ms", s->retention_ms);
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", s->cleanup_policy);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opt, INV_KAFKA_REQUEST_TIMEOUT_MS, e, sizeof(e));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, INV_KAFKA_REQUEST_TIMEOUT_MS + 5000);
    int rc = 0;
    if (ev == NULL) {
        snprintf(errstr, errstr_len, "creating topic %s: no answer from the cluster", s->name);
        rc = -ETIMEDOUT;
    } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, errstr_len, "creating topic %s: %s", s->name,
                 rd_kafka_event_error_string(ev));
        rc = -EIO;
    } else {
        size_t cnt = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                log_info("created topic %s: %d partitions, replication %d, cleanup.policy=%s, "
                         "retention.ms=%s",
                         s->name, partitions, rf, s->cleanup_policy, s->retention_ms);
            } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                snprintf(errstr, errstr_len, "creating topic %s: %s", s->name,
                         rd_kafka_topic_result_error_string(res[i]));
                rc = -EIO;
            }
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* Control thread. See kafka_topics.h. */
int kafka_topics_ensure(rd_kafka_t *rk, const inv_topic_spec *specs, int n, int32_t partitions,
                        int replication_factor, int32_t *counts, char *errstr,
                        size_t errstr_len) {
    inv_assert(rk != NULL && specs != NULL && counts != NULL);
    inv_assert(n > 0 && partitions > 0);
    int rf = replication_factor;
    if (rf < 1) {
        int b = broker_count(rk);
        rf = b < 3 ? b : 3;
    }
    for (int i = 0; i < n; i++) {
        int32_t c = kafka_topic_partitions(rk, specs[i].name, errstr, errstr_len);
        if (c < 0) return c;
        if (c == 0) {
            int rc = create_topic(rk, &specs[i], partitions, rf, errstr, errstr_len);
            if (rc != 0) return rc;
        }
    }
    for (int i = 0; i < n; i++) {
        /* A new topic's metadata can lag its creation briefly: retry a few times. */
        int32_t c = 0;
        for (int tries = 0; tries < 50 && c == 0; tries++) {
            c = kafka_topic_partitions(rk, specs[i].name, errstr, errstr_len);
            if (c < 0) return c;
            if (c == 0) {
                struct timespec ts = {0, 100 * 1000000};
                nanosleep(&ts, NULL); /* shorter than a retry: creation is in progress */
            }
        }
        if (c == 0) {
            snprintf(errstr, errstr_len, "topic %s does not appear after creation", specs[i].name);
            return -EIO;
        }
        counts[i] = c;
    }
    return 0;
}

/* Any thread. See kafka_topics.h. */
void kafka_retry_pause(void) {
    struct timespec ts = {0, INV_KAFKA_RETRY_BACKOFF_MS * 1000000L};
    nanosleep(&ts, NULL);
}

/* Any thread. See kafka_topics.h. */
rd_kafka_resp_err_t kafka_watermarks(rd_kafka_t *rk, const char *topic, int32_t p, int64_t *lo,
                                     int64_t *hi) {
    inv_assert(rk != NULL && topic != NULL && lo != NULL && hi != NULL);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int tries = 0; tries < INV_KAFKA_RETRIES_MAX; tries++) {
        err = rd_kafka_query_watermark_offsets(rk, topic, p, lo, hi, INV_KAFKA_REQUEST_TIMEOUT_MS);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        log_warn("partition %d: watermarks of %s: %s; retrying", p, topic, rd_kafka_err2str(err));
        kafka_retry_pause();
    }
    return err;
}
