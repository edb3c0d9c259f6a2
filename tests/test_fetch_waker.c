/* test_fetch_waker.c - io/fetch_waker against librdkafka's mock cluster.
 *
 * The waker's whole point is a behaviour of librdkafka 2.0.2: a partition
 * whose queue went over queued.max.messages.kbytes is fetched again only when
 * its broker thread wakes, up to about a second after the queue drained.
 * test_poke_resumes_fetching drains such a queue several times and requires
 * the next messages within WAKE_WAIT_MS of a poke each time; without the poke
 * that wait is usually several times longer, so all rounds passing by luck is
 * unlikely (checked by running it with the poke left out). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fetch_waker.h"
#include "inv_clock.h"
#include "inv_limits.h"

#define TOPIC "waker-test"
#define MESSAGES 20000    /* 4 MB: under the mock's ~5 MiB per partition */
#define VALUE_BYTES 200
#define QUEUE_KBYTES 256  /* the consumer's bound: ~1,300 messages */
#define ROUNDS 5
#define WAKE_WAIT_MS 250
#define SETTLE_MS 300 /* no growth for this long: the fetcher has stopped */

typedef struct fixture {
    rd_kafka_t *host; /* holds the mock cluster */
    rd_kafka_mock_cluster_t *mc;
    const char *bootstrap;
} fixture;

static rd_kafka_t *client(rd_kafka_type_t type, const char *bootstrap, const char *const *kv) {
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    /* quiet: the second test takes the broker down on purpose */
    assert_int_equal(rd_kafka_conf_set(c, "log_level", "0", err, sizeof(err)), RD_KAFKA_CONF_OK);
    for (size_t i = 0; kv != NULL && kv[i] != NULL; i += 2)
        assert_int_equal(rd_kafka_conf_set(c, kv[i], kv[i + 1], err, sizeof(err)),
                         RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));
    assert_non_null(rk);
    return rk;
}

static int setup(void **state) {
    static fixture f;
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "log_level", "3", err, sizeof(err));
    f.host = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
    assert_non_null(f.host);
    f.mc = rd_kafka_mock_cluster_new(f.host, 1);
    assert_non_null(f.mc);
    f.bootstrap = rd_kafka_mock_cluster_bootstraps(f.mc);
    assert_int_equal(rd_kafka_mock_topic_create(f.mc, TOPIC, 1, 1), 0);
    static char value[VALUE_BYTES];
    memset(value, 'x', sizeof(value));
    const char *kv[] = {"linger.ms", "20", "batch.num.messages", "500", NULL};
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, f.bootstrap, kv);
    for (int i = 0; i < MESSAGES; i++) {
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                                      RD_KAFKA_V_VALUE(value, sizeof(value)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 10);
        assert_int_equal(e, RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    assert_int_equal(rd_kafka_flush(p, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(p);
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    rd_kafka_mock_cluster_destroy(f->mc);
    rd_kafka_destroy(f->host);
    return 0;
}

/* A consumer as invsyncd runs it: partition 0 assigned and forwarded to a
 * queue of its own, bounded by QUEUE_KBYTES. */
static rd_kafka_t *bounded_consumer(const fixture *f, rd_kafka_queue_t **q) {
    char kb[16];
    snprintf(kb, sizeof(kb), "%d", QUEUE_KBYTES);
    const char *kv[] = {"group.id", "waker-test", "enable.auto.commit", "false",
                        "queued.max.messages.kbytes", kb, NULL};
    rd_kafka_t *c = client(RD_KAFKA_CONSUMER, f->bootstrap, kv);
    *q = rd_kafka_queue_new(c);
    rd_kafka_queue_t *pq = rd_kafka_queue_get_partition(c, TOPIC, 0);
    assert_non_null(pq);
    rd_kafka_queue_forward(pq, *q);
    rd_kafka_queue_destroy(pq);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, TOPIC, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(c, l), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
    return c;
}

static int64_t now_ms(void) {
    return inv_now_ns() / 1000000;
}

/* Waits (bounded) until q holds more than the consumer's bound and has not
 * grown for SETTLE_MS: the fetcher has stopped. Returns its length. */
static size_t wait_settled(rd_kafka_queue_t *q) {
    const size_t full = (size_t)QUEUE_KBYTES * 1024 / VALUE_BYTES;
    size_t len = rd_kafka_queue_length(q);
    int64_t since = now_ms(), deadline = since + 10000;
    while (now_ms() < deadline && (len < full || now_ms() - since < SETTLE_MS)) {
        usleep(5000);
        size_t l = rd_kafka_queue_length(q);
        if (l != len) {
            len = l;
            since = now_ms();
        }
    }
    return len;
}

/* Consumes everything q holds now; returns the count. */
static size_t drain(rd_kafka_queue_t *q) {
    size_t got = 0;
    rd_kafka_message_t *batch[512];
    for (int i = 0; i < 100000; i++) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 0, batch, 512);
        if (n <= 0) break;
        for (ssize_t j = 0; j < n; j++) rd_kafka_message_destroy(batch[j]);
        got += (size_t)n;
    }
    return got;
}

static void test_poke_resumes_fetching(void **state) {
    fixture *f = *state;
    rd_kafka_queue_t *q;
    rd_kafka_t *c = bounded_consumer(f, &q);
    inv_fetch_waker *fw;
    char err[256];
    assert_int_equal(fetch_waker_start(&fw, c, TOPIC, err, sizeof(err)), 0);
    const int32_t p0 = 0;
    size_t total = 0;
    for (int round = 0; round < ROUNDS; round++) {
        size_t len = wait_settled(q);
        /* the fetcher filled the queue past its bound, then stopped */
        assert_true(len >= (size_t)QUEUE_KBYTES * 1024 / VALUE_BYTES);
        total += drain(q);
        int64_t t0 = now_ms();
        fetch_waker_poke(fw, &p0, 1);
        while (rd_kafka_queue_length(q) == 0 && now_ms() - t0 < 5000) usleep(1000);
        int64_t waited = now_ms() - t0;
        printf("round %d: drained %zu, next messages %lld ms after the poke\n", round, len,
               (long long)waited);
        assert_true(waited < WAKE_WAIT_MS);
    }
    assert_true(total < MESSAGES); /* every round started from a full, stopped queue */
    assert_true(fetch_waker_requests(fw) >= 1 && fetch_waker_requests(fw) <= ROUNDS);
    fetch_waker_stop(fw);
    drain(q);
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

/* Pokes while a request hangs (the broker is down) merge into one more
 * request, and stop returns within the request's timeout. */
static void test_pokes_merge_and_stop_is_bounded(void **state) {
    fixture *f = *state;
    rd_kafka_queue_t *q;
    rd_kafka_t *c = bounded_consumer(f, &q);
    wait_settled(q);
    inv_fetch_waker *fw;
    char err[256];
    assert_int_equal(fetch_waker_start(&fw, c, TOPIC, err, sizeof(err)), 0);
    assert_int_equal(rd_kafka_mock_broker_set_down(f->mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    const int32_t parts[] = {0};
    for (int i = 0; i < 1000; i++) fetch_waker_poke(fw, parts, 1);
    usleep(100 * 1000);
    for (int i = 0; i < 1000; i++) fetch_waker_poke(fw, parts, 1);
    assert_true(fetch_waker_requests(fw) <= 2); /* one out (hanging), the rest merged */
    int64_t t0 = now_ms();
    fetch_waker_stop(fw);
    assert_true(now_ms() - t0 <= 2 * INV_FETCH_WAKE_TIMEOUT_MS + 500);
    assert_int_equal(rd_kafka_mock_broker_set_up(f->mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    drain(q);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(c);
}

static void test_null(void **state) {
    (void)state;
    const int32_t p = 0;
    fetch_waker_poke(NULL, &p, 1);
    assert_int_equal(fetch_waker_requests(NULL), 0);
    fetch_waker_stop(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null),
        cmocka_unit_test(test_poke_resumes_fetching),
        cmocka_unit_test(test_pokes_merge_and_stop_is_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
