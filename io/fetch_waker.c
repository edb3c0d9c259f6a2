/* fetch_waker.c - the waker thread and its pokes. See fetch_waker.h. */
#include "fetch_waker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_assert.h"
#include "inv_limits.h"
#include "log.h"

#define WORDS (INV_PARTITIONS_MAX / 64)
_Static_assert(INV_PARTITIONS_MAX % 64 == 0, "the partition bitmap has whole words");

struct inv_fetch_waker {
    rd_kafka_t *consumer;
    char *topic;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t pending[WORDS]; /* under lock: partitions for the next request */
    bool any_pending;        /* under lock */
    bool stopping;           /* under lock */
    uint64_t requests;       /* atomic */
};

/* Waker thread. One request to the leaders of the marked partitions. */
static void send_request(inv_fetch_waker *fw, const uint64_t *marked) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(64);
    for (int32_t wi = 0; wi < WORDS; wi++)
        for (uint64_t bits = marked[wi]; bits != 0; bits &= bits - 1) {
            int32_t p = wi * 64 + (int32_t)__builtin_ctzll(bits);
            rd_kafka_topic_partition_list_add(l, fw->topic, p)->offset = RD_KAFKA_OFFSET_END;
        }
    /* The answer (the latest offsets) is not needed: sending the request is
     * what wakes each leader's broker thread. */
    __atomic_fetch_add(&fw->requests, 1, __ATOMIC_RELAXED);
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(fw->consumer, l, INV_FETCH_WAKE_TIMEOUT_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_debug("fetch waker: %d partition(s): %s", l->cnt, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

static void *waker_main(void *arg) {
    inv_fetch_waker *fw = arg;
    uint64_t marked[WORDS];
    pthread_mutex_lock(&fw->lock);
    for (;;) {
        while (!fw->any_pending && !fw->stopping) pthread_cond_wait(&fw->cond, &fw->lock);
        if (fw->stopping) break;
        memcpy(marked, fw->pending, sizeof(marked));
        memset(fw->pending, 0, sizeof(fw->pending));
        fw->any_pending = false;
        pthread_mutex_unlock(&fw->lock);
        send_request(fw, marked);
        pthread_mutex_lock(&fw->lock);
    }
    pthread_mutex_unlock(&fw->lock);
    return NULL;
}

/* Control thread. See fetch_waker.h. */
int fetch_waker_start(inv_fetch_waker **out, rd_kafka_t *consumer, const char *topic,
                      char *errstr, size_t errstr_len) {
    inv_assert(out != NULL && consumer != NULL && topic != NULL);
    *out = NULL;
    inv_fetch_waker *fw = calloc(1, sizeof(*fw));
    if (fw == NULL || (fw->topic = strdup(topic)) == NULL) {
        free(fw);
        snprintf(errstr, errstr_len, "fetch waker: out of memory");
        return -ENOMEM;
    }
    fw->consumer = consumer;
    pthread_mutex_init(&fw->lock, NULL);
    pthread_cond_init(&fw->cond, NULL);
    int rc = pthread_create(&fw->thread, NULL, waker_main, fw);
    if (rc != 0) {
        snprintf(errstr, errstr_len, "fetch waker: thread: %s", strerror(rc));
        pthread_cond_destroy(&fw->cond);
        pthread_mutex_destroy(&fw->lock);
        free(fw->topic);
        free(fw);
        return -rc;
    }
    (void)pthread_setname_np(fw->thread, "inv-fetchwake"); /* a label for top -H */
    *out = fw;
    return 0;
}

/* Any thread. See fetch_waker.h. */
void fetch_waker_poke(inv_fetch_waker *fw, const int32_t *partitions, size_t n) {
    if (fw == NULL || n == 0) return;
    inv_assert(partitions != NULL && n <= INV_PARTITIONS_MAX);
    pthread_mutex_lock(&fw->lock);
    if (!fw->stopping) {
        for (size_t i = 0; i < n; i++) {
            int32_t p = partitions[i];
            inv_assert(p >= 0 && p < INV_PARTITIONS_MAX);
            fw->pending[p / 64] |= 1ull << (p % 64);
        }
        fw->any_pending = true;
        pthread_cond_signal(&fw->cond);
    }
    pthread_mutex_unlock(&fw->lock);
}

/* Any thread. See fetch_waker.h. */
uint64_t fetch_waker_requests(const inv_fetch_waker *fw) {
    return fw == NULL ? 0 : __atomic_load_n(&fw->requests, __ATOMIC_RELAXED);
}

/* Control thread. See fetch_waker.h. */
void fetch_waker_stop(inv_fetch_waker *fw) {
    if (fw == NULL) return;
    pthread_mutex_lock(&fw->lock);
    fw->stopping = true;
    pthread_cond_signal(&fw->cond);
    pthread_mutex_unlock(&fw->lock);
    pthread_join(fw->thread, NULL);
    pthread_cond_destroy(&fw->cond);
    pthread_mutex_destroy(&fw->lock);
    free(fw->topic);
    free(fw);
}
