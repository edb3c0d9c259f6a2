/* partitioner.c - Kafka's Java-compatible murmur2 and the partition of a key.
 *
 * This is MurmurHash2 (Austin Appleby) exactly as Kafka's Java client computes
 * it in org.apache.kafka.common.utils.Utils.murmur2: seed 0x9747b28c, the key
 * read as 4-byte little-endian words, the 1-3 tail bytes folded in
 * little-endian order, and the length mixed in as a 32-bit int. Java's
 * DefaultPartitioner (and librdkafka's murmur2 / murmur2_random partitioners,
 * for a non-NULL key) then take toPositive(hash) % partitions, where
 * toPositive is hash & 0x7fffffff. Agreement with librdkafka is checked key by
 * key in tests/test_partitioner.c.
 *
 * Words are loaded with memcpy, never through a cast pointer, so any key
 * alignment is fine and there is no aliasing question; on a big-endian host
 * the word is byte-swapped so the result does not depend on the host. */
#include "partitioner.h"

#include <string.h>

#include "inv_assert.h"

#define PARTITIONER_MURMUR2_SEED 0x9747b28cu
#define PARTITIONER_MURMUR2_M    0x5bd1e995u
#define PARTITIONER_MURMUR2_R    24

/* File-local. The little-endian 32-bit word at p (any alignment). */
static inline uint32_t partitioner_load_le32(const unsigned char *p) {
    uint32_t w;
    memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);
#endif
    return w;
}

/* Any thread. Returns Kafka's murmur2 of the len bytes at key, bit for bit the
 * int Java's Utils.murmur2 returns, as a uint32_t. key may be NULL only when
 * len is 0; len must fit a Java int (a Kafka key never comes close). */
uint32_t partitioner_murmur2(const void *key, size_t len) {
    inv_assert(key != NULL || len == 0);
    inv_assert(len <= (size_t)INT32_MAX);
    const uint32_t m = PARTITIONER_MURMUR2_M;
    const unsigned char *p = key;
    uint32_t h = PARTITIONER_MURMUR2_SEED ^ (uint32_t)len;
    size_t words = len / 4;

    for (size_t i = 0; i < words; i++, p += 4) {
        uint32_t k = partitioner_load_le32(p);
        k *= m;
        k ^= k >> PARTITIONER_MURMUR2_R;
        k *= m;
        h *= m;
        h ^= k;
    }
    /* The 1-3 tail bytes, as Java's fall-through switch on length % 4 folds them. */
    size_t tail = len & 3;
    if (tail == 3) h ^= (uint32_t)p[2] << 16;
    if (tail >= 2) h ^= (uint32_t)p[1] << 8;
    if (tail >= 1) {
        h ^= (uint32_t)p[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

/* Any thread. Returns (murmur2(key) & 0x7fffffff) % partitions, the partition
 * Java's DefaultPartitioner and librdkafka's murmur2 partitioners pick for a
 * non-NULL key. partitions must be > 0 (asserted). */
int32_t partitioner_partition(const void *key, size_t len, int32_t partitions) {
    inv_assert(partitions > 0);
    inv_assert(key != NULL || len == 0);
    uint32_t positive = partitioner_murmur2(key, len) & 0x7fffffffu;
    int32_t part = (int32_t)(positive % (uint32_t)partitions);
    inv_assert(part >= 0 && part < partitions);
    return part;
}
