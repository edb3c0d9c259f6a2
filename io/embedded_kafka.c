/* embedded_kafka.c - see embedded_kafka.h. The mock cluster needs a client
 * handle to live in; a producer handle with no bootstrap servers hosts it. */
#include "embedded_kafka.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>

#include "inv_assert.h"

struct inv_embedded_kafka {
    rd_kafka_t *host;
    rd_kafka_mock_cluster_t *cluster;
};

/* Control thread. See embedded_kafka.h. */
int embedded_kafka_start(inv_embedded_kafka **out, uint32_t brokers,
                         const inv_embedded_topic *topics, size_t topics_count, char *errstr,
                         size_t errstr_len) {
    inv_assert(out != NULL && brokers >= 1);
    inv_assert(topics != NULL || topics_count == 0);
    inv_embedded_kafka *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        snprintf(errstr, errstr_len, "embedded Kafka: out of memory");
        return -ENOMEM;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* log_level 3: the host handle has no brokers of its own, which librdkafka
     * would otherwise warn about at start-up. */
    if (rd_kafka_conf_set(conf, "client.id", "invsyncd-embedded-kafka", errstr, errstr_len) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "log_level", "3", errstr, errstr_len) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    k->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_len);
    if (k->host == NULL) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    k->cluster = rd_kafka_mock_cluster_new(k->host, (int)brokers);
    if (k->cluster == NULL) {
        snprintf(errstr, errstr_len, "embedded Kafka: cannot start the mock cluster");
        goto fail;
    }
    int rf = brokers < 3 ? (int)brokers : 3;
    for (size_t i = 0; i < topics_count; i++) {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(k->cluster, topics[i].name,
                                                             topics[i].partitions, rf);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errstr, errstr_len, "embedded Kafka: creating topic %s: %s", topics[i].name,
                     rd_kafka_err2str(err));
            goto fail;
        }
    }
    *out = k;
    return 0;
fail:
    embedded_kafka_stop(k);
    return -EIO;
}

/* Any thread. See embedded_kafka.h. */
const char *embedded_kafka_bootstrap(const inv_embedded_kafka *k) {
    inv_assert(k != NULL && k->cluster != NULL);
    return rd_kafka_mock_cluster_bootstraps(k->cluster);
}

/* Control thread. See embedded_kafka.h. */
void embedded_kafka_stop(inv_embedded_kafka *k) {
    if (k == NULL) return;
    if (k->cluster) rd_kafka_mock_cluster_destroy(k->cluster);
    if (k->host) rd_kafka_destroy(k->host);
    free(k);
}
