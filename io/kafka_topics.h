/* kafka_topics.h - the service's topics on a real cluster: create what is
 * missing with the settings of DESIGN.md section 1 (Admin API) and check the
 * partition counts agree (stock-levels and the DLQ are co-partitioned with
 * the canonical topic). Control thread only, at start-up. */
#ifndef INV_KAFKA_TOPICS_H
#define INV_KAFKA_TOPICS_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

typedef struct inv_topic_spec {
    const char *name;
    const char *retention_ms; /* "-1" = infinite */
    const char *cleanup_policy; /* "delete" or "compact" */
} inv_topic_spec;

/* Control thread. Creates each missing topic of specs (partitions each,
 * replication_factor or, when < 1, min(3, brokers)), then reads every topic's
 * partition count into counts[i]. 0, or -errno with errstr (e.g. the cluster
 * cannot be reached within the request timeout, or creation was refused). */
int kafka_topics_ensure(rd_kafka_t *rk, const inv_topic_spec *specs, int n, int32_t partitions,
                        int replication_factor, int32_t *counts, char *errstr,
                        size_t errstr_len);

/* Control thread. The partition count of topic (0 when it does not exist),
 * or -errno with errstr. */
int32_t kafka_topic_partitions(rd_kafka_t *rk, const char *topic, char *errstr,
                               size_t errstr_len);

/* Any thread. The low and high watermarks of topic/p, retrying transient
 * errors (a fresh topic without a leader yet, a leader that moved) up to
 * INV_KAFKA_RETRIES_MAX times INV_KAFKA_RETRY_BACKOFF_MS apart; each retry is
 * logged. Returns the last error (NO_ERROR on success). */
rd_kafka_resp_err_t kafka_watermarks(rd_kafka_t *rk, const char *topic, int32_t p, int64_t *lo,
                                     int64_t *hi);

/* Any thread. Sleeps INV_KAFKA_RETRY_BACKOFF_MS between tries of a request. */
void kafka_retry_pause(void);

#endif
