/* test_partitioner.c - Kafka murmur2 and partition choice (engine/partitioner.c).
 *
 * Three kinds of evidence that invsync picks the same partition as Java and
 * librdkafka producers:
 *   1. published test vectors of Kafka's own Java implementation and of
 *      librdkafka's unit test (cited at each table);
 *   2. alignment independence: a key hashes the same at every start offset;
 *   3. a differential check against the installed librdkafka: 100k random
 *      keys (random bytes, random lengths 0..300, random alignment, plus
 *      realistic "sku:location" keys) for 1, 7, 12 and 1024 partitions,
 *      against rd_kafka_msg_partitioner_murmur2 and, since producers are
 *      configured with partitioner=murmur2_random, its _random variant too
 *      (identical for non-NULL keys). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "partitioner.h"

typedef struct hash_vector {
    const char *key; /* NULL: the NULL key of length 0 */
    int32_t hash;    /* as Java's int */
} hash_vector;

/* Kafka clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java,
 * testMurmur2 (apache/kafka), expected values of Utils.murmur2. */
static const hash_vector kafka_utils_test_vectors[] = {
    {"21", -973932308},
    {"foobar", -790332482},
    {"a-little-bit-long-string", -985981536},
    {"a-little-bit-longer-string", -1486304829},
    {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
    {"abc", 479470107},
};

/* Values of Kafka's Utils.murmur2 for "1".."12345", as quoted (with a link to
 * Kafka's Utils.java) in akka/akka Murmur2Spec.scala; "1234" agrees with
 * librdkafka's 0x9fc97b14 below. Covers every tail length 1-3 and one word. */
static const hash_vector kafka_short_vectors[] = {
    {"1", -1993445489}, {"12", 126087238}, {"123", -267702483},
    {"1234", -1614185708}, {"12345", -1188365604},
};

/* librdkafka src/rdmurmur2.c, unittest_murmur2 (confluentinc/librdkafka),
 * "java_murmur2_results": including the unaligned starts of "1234" and of
 * "PreAmbleWillBeRemoved,ThePrePartThatIs", the empty key and the NULL key. */
static const hash_vector librdkafka_unittest_vectors[] = {
    {"kafka", (int32_t)0xd067cf64},
    {"giberish123456789", (int32_t)0x8f552b0c},
    {"1234", (int32_t)0x9fc97b14},
    {"234", (int32_t)0xe7c009ca},
    {"34", (int32_t)0x873930da},
    {"4", (int32_t)0x5a4b5ca1},
    {"PreAmbleWillBeRemoved,ThePrePartThatIs", (int32_t)0x78424f1c},
    {"reAmbleWillBeRemoved,ThePrePartThatIs", (int32_t)0x4a62b377},
    {"eAmbleWillBeRemoved,ThePrePartThatIs", (int32_t)0xe0e4e09e},
    {"AmbleWillBeRemoved,ThePrePartThatIs", (int32_t)0x62b8b43f},
    {"", (int32_t)0x106e08d9},
    {NULL, (int32_t)0x106e08d9},
};

static void check_vectors(const hash_vector *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t len = v[i].key ? strlen(v[i].key) : 0;
        uint32_t got = partitioner_murmur2(v[i].key, len);
        if ((int32_t)got != v[i].hash) {
            fprintf(stderr, "murmur2(\"%s\") = %d, want %d\n", v[i].key ? v[i].key : "(null)",
                    (int32_t)got, v[i].hash);
        }
        assert_int_equal((int32_t)got, v[i].hash);
    }
}

static void test_murmur2_kafka_utils_test(void **state) {
    (void)state;
    check_vectors(kafka_utils_test_vectors,
                  sizeof(kafka_utils_test_vectors) / sizeof(kafka_utils_test_vectors[0]));
}

static void test_murmur2_kafka_short_keys(void **state) {
    (void)state;
    check_vectors(kafka_short_vectors,
                  sizeof(kafka_short_vectors) / sizeof(kafka_short_vectors[0]));
}

static void test_murmur2_librdkafka_unittest(void **state) {
    (void)state;
    check_vectors(librdkafka_unittest_vectors,
                  sizeof(librdkafka_unittest_vectors) / sizeof(librdkafka_unittest_vectors[0]));
}

/* Partitions computed by hand from the published hashes above:
 * (hash & 0x7fffffff) % n. */
static void test_partition_known_values(void **state) {
    (void)state;
    /* "21": -973932308 & 0x7fffffff = 1173551340. */
    assert_int_equal(partitioner_partition("21", 2, 1), 0);
    assert_int_equal(partitioner_partition("21", 2, 7), 3);
    assert_int_equal(partitioner_partition("21", 2, 12), 0);
    assert_int_equal(partitioner_partition("21", 2, 1024), 236);
    /* "foobar": 1357151166. */
    assert_int_equal(partitioner_partition("foobar", 6, 12), 6);
    assert_int_equal(partitioner_partition("foobar", 6, 1024), 958);
    /* "abc": 479470107, already positive. */
    assert_int_equal(partitioner_partition("abc", 3, 7), 4);
    assert_int_equal(partitioner_partition("abc", 3, 12), 3);
    assert_int_equal(partitioner_partition("abc", 3, 1024), 539);
    /* "kafka": 0xd067cf64 & 0x7fffffff = 1348980580. */
    assert_int_equal(partitioner_partition("kafka", 5, 12), 4);
    assert_int_equal(partitioner_partition("kafka", 5, 1024), 868);
    /* The largest partition count a Java int allows. */
    assert_int_equal(partitioner_partition("abc", 3, INT32_MAX), 479470107);
}

/* The hash must not depend on where the key starts in memory (memcpy loads). */
static void test_murmur2_alignment_independent(void **state) {
    (void)state;
    static const char key[] = "SKU-000123:store-045-and-some-more-bytes";
    const size_t len = sizeof(key) - 1;
    _Alignas(16) unsigned char buf[sizeof(key) + 16];
    uint32_t want = partitioner_murmur2(key, len);
    for (size_t off = 0; off < 16; off++) {
        memcpy(buf + off, key, len);
        assert_int_equal(partitioner_murmur2(buf + off, len), want);
    }
}

/* splitmix64: a fixed-seed generator so a failure reproduces. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define DIFF_KEYS        100000
#define DIFF_KEY_LEN_MAX 300

/* Fills buf with one test key and returns its length: every fourth key is a
 * realistic "SKU-n:store-m", the others random bytes of random length. */
static size_t make_key(uint64_t *rng, unsigned char *buf, size_t cap, size_t i) {
    if (i % 4 == 0) {
        int n = snprintf((char *)buf, cap, "SKU-%06u:store-%03u",
                         (unsigned)(rng_next(rng) % 1000000), (unsigned)(rng_next(rng) % 1000));
        assert_true(n > 0 && (size_t)n < cap);
        return (size_t)n;
    }
    size_t len = (size_t)(rng_next(rng) % (DIFF_KEY_LEN_MAX + 1));
    assert_true(len <= cap);
    for (size_t j = 0; j < len; j++) buf[j] = (unsigned char)rng_next(rng);
    return len;
}

static void test_partition_matches_librdkafka(void **state) {
    (void)state;
    static const int32_t counts[] = {1, 7, 12, 1024};
    unsigned char buf[DIFF_KEY_LEN_MAX + 8];
    uint64_t rng = 0x696e7673796e63ULL; /* "invsync" */
    size_t mismatches = 0;

    for (size_t i = 0; i < DIFF_KEYS; i++) {
        size_t off = (size_t)(rng_next(&rng) % 8); /* random alignment */
        size_t len = make_key(&rng, buf + off, sizeof(buf) - off, i);
        const unsigned char *key = buf + off;
        for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
            int32_t ours = partitioner_partition(key, len, counts[c]);
            int32_t theirs =
                rd_kafka_msg_partitioner_murmur2(NULL, key, len, counts[c], NULL, NULL);
            int32_t theirs_random =
                rd_kafka_msg_partitioner_murmur2_random(NULL, key, len, counts[c], NULL, NULL);
            if (ours != theirs || ours != theirs_random) {
                if (mismatches++ < 5) {
                    fprintf(stderr, "key %zu (len %zu) n=%d: ours %d, librdkafka %d/%d\n", i,
                            len, counts[c], ours, theirs, theirs_random);
                }
            }
            assert_true(ours >= 0 && ours < counts[c]);
        }
    }
    assert_int_equal(mismatches, 0);
}

/* A sanity check on the function as a partitioner: 120k realistic keys over 12
 * partitions land within 5% of the mean on every partition (a broken mask or
 * modulo would pile keys onto a few partitions). */
static void test_partition_spreads_keys(void **state) {
    (void)state;
    enum { KEYS = 120000, PARTS = 12 };
    uint32_t hist[PARTS] = {0};
    char key[64];
    for (unsigned i = 0; i < KEYS; i++) {
        int n = snprintf(key, sizeof(key), "SKU-%06u:store-%03u", i / 100, i % 100);
        assert_true(n > 0 && (size_t)n < sizeof(key));
        hist[partitioner_partition(key, (size_t)n, PARTS)]++;
    }
    for (unsigned p = 0; p < PARTS; p++) {
        assert_in_range(hist[p], KEYS / PARTS * 95 / 100, KEYS / PARTS * 105 / 100);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_murmur2_kafka_utils_test),
        cmocka_unit_test(test_murmur2_kafka_short_keys),
        cmocka_unit_test(test_murmur2_librdkafka_unittest),
        cmocka_unit_test(test_partition_known_values),
        cmocka_unit_test(test_murmur2_alignment_independent),
        cmocka_unit_test(test_partition_matches_librdkafka),
        cmocka_unit_test(test_partition_spreads_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
