/* partitioner.h - Kafka's Java-compatible murmur2 partitioner.
 *
 * Producers of canonical events and stock levels use librdkafka's
 * partitioner=murmur2_random, which for a non-empty key equals Java's
 * DefaultPartitioner: toPositive(murmur2(key)) % partitions. invsync computes
 * the same function to find the partition that owns a key (queries) and to
 * reject messages a producer put on the wrong partition. */
#ifndef INV_PARTITIONER_H
#define INV_PARTITIONER_H

#include <stddef.h>
#include <stdint.h>

/* Any thread. Kafka's murmur2 of len bytes (seed 0x9747b28c), as Java's
 * org.apache.kafka.common.utils.Utils.murmur2 returns it. */
uint32_t partitioner_murmur2(const void *key, size_t len);

/* Any thread. The partition, in [0, partitions), Kafka assigns to key.
 * partitions must be > 0. */
int32_t partitioner_partition(const void *key, size_t len, int32_t partitions);

#endif
