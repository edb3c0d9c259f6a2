/* embedded_kafka.h - librdkafka's mock cluster as invsyncd's embedded broker.
 *
 * With no --brokers, invsyncd hosts a mock Kafka cluster in its own process
 * (rdkafka_mock.h) and creates the topics on it, so the service runs on a
 * machine with nothing else installed. The mock keeps everything in memory:
 * nothing survives a restart, it has no compaction, and it keeps only about
 * 5 MiB per partition (DESIGN.md section 6). Control thread only. */
#ifndef INV_EMBEDDED_KAFKA_H
#define INV_EMBEDDED_KAFKA_H

#include <stddef.h>
#include <stdint.h>

typedef struct inv_embedded_kafka inv_embedded_kafka;

typedef struct inv_embedded_topic {
    const char *name;
    int32_t partitions;
} inv_embedded_topic;

/* Control thread. Starts a mock cluster of `brokers` brokers on 127.0.0.1 and
 * creates the topics. 0 or -errno with errstr. */
int embedded_kafka_start(inv_embedded_kafka **out, uint32_t brokers,
                         const inv_embedded_topic *topics, size_t topics_count, char *errstr,
                         size_t errstr_len);

/* Any thread while it runs. The bootstrap address list "HOST:PORT,...". */
const char *embedded_kafka_bootstrap(const inv_embedded_kafka *k);

/* Control thread, after every client of it is destroyed. NULL allowed. */
void embedded_kafka_stop(inv_embedded_kafka *k);

#endif
