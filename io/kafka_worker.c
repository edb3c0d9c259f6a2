/* kafka_worker.c - see kafka_worker.h for the contract.
 *
 * Per owned partition the worker keeps a ring of flush epochs. The last entry
 * is always the open epoch: every record produced (stock level or DLQ) counts
 * in it. Closing it (end of a flush) records the input position reached, the
 * offset of the next message to consume. Once every record of the oldest
 * closed epochs is acknowledged their position is stored for commit, in order.
 *
 * Acknowledgements are counted off the worker thread: the producer runs with
 * delivery.report.only.error, so a successful record sends no report back to
 * the worker (no report op to queue, serve, match and free: that was about an
 * eighth of the worker's instructions). Instead an on_acknowledgement
 * interceptor, on the producer's broker thread, decrements the atomic counter
 * of the epoch the record was counted in, found from the record's opaque tag
 * (partition << 48 | epoch sequence number; the epoch's slot in the ring is
 * its sequence number mod INV_FLUSH_EPOCHS_MAX, the same from the tag's 48 bits
 * since 2^48 is a multiple of it). Only a success decrements: a failed record
 * keeps its epoch incomplete for ever, and its report (failures are
 * still reported) breaks the partition on the worker thread. The worker reads
 * the counters whenever it serves its producer. Epoch sequence numbers never
 * restart, so a report of a partition's earlier ownership cannot touch the
 * current one, and a slot is reused only once every record counted in it is
 * resolved.
 *
 * Records of p still in the producer when p is lost or revoked without its
 * acks are not forgotten: kw_acks.inflight counts p's unresolved records of every
 * ownership (the interceptor takes off successes, the failure report
 * failures), and a later ASSIGN of p waits for it to reach zero before it
 * reads the changelog and scans the DLQ. Otherwise a late DLQ record of the
 * earlier ownership would land after the scan, miss it, and be written a
 * second time by the replay (and a late stock level would be read back by
 * nobody). A new owner in another process cannot wait for them: see the
 * "zombie" note in io/README.md.
 *
 * A failed delivery (after librdkafka's own retries; message.timeout.ms is 0,
 * so only a permanent error fails) or a FAILED apply "breaks" the partition:
 * it is paused, nothing of it is produced or stored any more, and the next
 * owner (after a restart or rebalance) replays from its last commit. Nothing is
 * skipped. */
#include "kafka_worker.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "config.h"
#include "inv_assert.h"
#include "json_event.h"
#include "kafka_topics.h"
#include "inv_limits.h"
#include "log.h"
#include "partitioner.h"
#include "reason.h"
#include "stock_json.h"
#include "inv_clock.h"

#define SCRATCH_BYTES ((size_t)INV_BATCH_EVENTS_MAX * INV_MESSAGE_BYTES_MAX)
#define TAG_SEQ_BITS 48
#define TAG_SEQ_MASK ((UINT64_C(1) << TAG_SEQ_BITS) - 1)
_Static_assert(INV_PARTITIONS_MAX <= (1 << (64 - TAG_SEQ_BITS)), "partition fits the tag");
_Static_assert(((UINT64_C(1) << TAG_SEQ_BITS) % INV_FLUSH_EPOCHS_MAX) == 0,
               "a tag's sequence bits give the same ring slot as the whole sequence number");

typedef struct kw_epoch {
    int64_t position; /* input offset to commit once acked; -1 while open */
} kw_epoch;

/* Partition p's acknowledgement counters, shared with the producer's broker
 * threads (kw_on_ack); atomics. Kept apart from kw_part, which the worker
 * resets whole between ownerships while late acks of the old one may still
 * come in. */
typedef struct kw_acks {
    uint32_t inflight; /* records of p, any ownership, not yet acknowledged or reported failed */
    uint32_t pending[INV_FLUSH_EPOCHS_MAX]; /* per epoch slot: records not yet acknowledged */
} kw_acks;

typedef struct kw_part {
    bool active;           /* restored and consuming */
    bool broken;           /* stopped; see the file comment */
    int64_t next_offset;   /* the next input offset to process */
    int64_t resume_offset; /* committed offset at assignment: below it, nothing is new */
    int64_t closed_position; /* position of the newest closed epoch */
    kw_epoch epochs[INV_FLUSH_EPOCHS_MAX]; /* epoch seq is in slot seq % INV_FLUSH_EPOCHS_MAX */
    uint32_t ep_count;    /* epochs in the ring, >= 1 while active */
    uint64_t ep_seq_head; /* sequence number of the oldest epoch */
    int64_t *dlq_done;     /* sorted source offsets >= resume_offset already in the DLQ */
    size_t dlq_done_count;
    uint64_t seq_next; /* first epoch number of the next ownership: tags never repeat */
    int fenced;        /* atomic, set by the control thread: given up, produce nothing more */
} kw_part;

/* Worker thread. A fresh kw_part for p's next ownership, keeping the only
 * state that outlives one: the epoch numbering (seq_next, so delivery
 * reports of the old ownership cannot match the new one; the count of p's
 * unresolved records lives in kw_acks). Both resets (assign, revoke) go
 * through here, so a field that must survive an ownership is kept in one
 * place. */
static kw_part part_next_ownership(uint64_t seq_next) {
    return (kw_part){.seq_next = seq_next};
}

typedef enum kw_cmd_kind { KW_CMD_ASSIGN = 1, KW_CMD_REVOKE, KW_CMD_LOST } kw_cmd_kind;

typedef struct kw_cmd {
    kw_cmd_kind kind;
    int32_t partition;
    int64_t resume_offset;
    int64_t start_offset;
} kw_cmd;

struct inv_kworker {
    inv_kworker_params prm;
    char *topic_canonical, *topic_stock_levels, *topic_dlq; /* owned copies */
    rd_kafka_queue_t *queue;
    rd_kafka_t *producer;
    rd_kafka_t *restorer; /* assign-only consumer for changelog and DLQ reads */
    rd_kafka_topic_t *rkt_stock, *rkt_dlq;
    kw_part *parts; /* [prm.partitions] */
    kw_acks *acks;  /* [prm.partitions], shared with the producer's threads */

    /* Commands, control thread -> worker. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    kw_cmd cmds[INV_WORKER_CMDS_MAX];
    uint32_t cmd_head, cmd_count;
    uint64_t cmds_posted, cmds_done; /* under lock */
    int cmd_pending;                 /* atomic hint: cmd_count > 0 */
    int finishing;                   /* atomic */
    int dead;                        /* atomic: the input returned an error */

    /* Worker thread only. */
    rd_kafka_message_t *msgs[INV_BATCH_EVENTS_MAX]; /* the batch being applied */
    size_t msgs_count;
    rd_kafka_message_t *ev_msg[INV_BATCH_EVENTS_MAX]; /* message of events[i] */
    char *scratch; /* unescaped strings of the batch (SCRATCH_BYTES, mapped lazily) */
    rd_kafka_message_t *batch; /* [INV_FLUSH_CHUNK_RECORDS] records of one produce call */
    char *batch_values;        /* [INV_FLUSH_CHUNK_RECORDS * INV_STOCK_JSON_BYTES_MAX] */
    int64_t next_flush_ns;
    bool flush_blocked; /* a flush is waiting for producer queue space */
    int fatal;          /* error to return from pull */
    int64_t next_debug_ns;
    size_t queue_high; /* deepest queue seen since the last fetch waker poke */

    inv_kworker_stats stats; /* written by the worker, relaxed atomics */
};

#define STAT_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

/* --- epochs (worker thread) ------------------------------------------------ */

/* Every partition worker w may own: p % W == w's index. */
#define FOR_EACH_OWNED(w, p)                                                                       \
    for (int32_t p = (int32_t)(w)->prm.index; p < (w)->prm.partitions;                             \
         p += (int32_t)engine_worker_count((w)->prm.engine))


static uint32_t epoch_slot(uint64_t seq) {
    return (uint32_t)(seq % INV_FLUSH_EPOCHS_MAX);
}

static kw_epoch *epoch_at(kw_part *ps, uint32_t i) {
    inv_debug_assert(i < ps->ep_count);
    return &ps->epochs[epoch_slot(ps->ep_seq_head + i)];
}

static kw_epoch *epoch_open(kw_part *ps) {
    inv_assert(ps->ep_count >= 1);
    kw_epoch *e = epoch_at(ps, ps->ep_count - 1);
    inv_assert(e->position < 0);
    return e;
}

static uint64_t epoch_open_seq(const kw_part *ps) {
    return ps->ep_seq_head + ps->ep_count - 1;
}

static uint64_t epoch_tag(const inv_kworker *w, const kw_part *ps) {
    int32_t p = (int32_t)(ps - w->parts);
    return ((uint64_t)p << TAG_SEQ_BITS) | (epoch_open_seq(ps) & TAG_SEQ_MASK);
}

/* Worker thread. Records not yet acknowledged in epoch seq of p. */
static uint32_t epoch_pending(const inv_kworker *w, int32_t p, uint64_t seq) {
    return __atomic_load_n(&w->acks[p].pending[epoch_slot(seq)], __ATOMIC_ACQUIRE);
}

/* Worker thread. Counts n more (delta > 0, before producing them) or fewer
 * (delta < 0: the producer refused them) records of p in its open epoch. */
static void acks_expect(inv_kworker *w, kw_part *ps, int32_t p, int32_t delta) {
    kw_acks *a = &w->acks[p];
    uint32_t d = (uint32_t)delta; /* wraps: adding it subtracts -delta */
    __atomic_add_fetch(&a->pending[epoch_slot(epoch_open_seq(ps))], d, __ATOMIC_RELAXED);
    __atomic_add_fetch(&a->inflight, d, __ATOMIC_RELAXED);
}

/* Worker thread. Makes the newest slot of p's ring an empty open epoch. Its
 * counter may hold a failed record of an earlier ownership (never taken off);
 * no late ack can still come for it: a slot is reused in an ownership only
 * once its epoch is fully acknowledged, and an ASSIGN waits for every record
 * of the previous ownership to resolve. */
static void epoch_reset(inv_kworker *w, kw_part *ps, int32_t p) {
    uint64_t seq = epoch_open_seq(ps);
    ps->epochs[epoch_slot(seq)] = (kw_epoch){.position = -1};
    __atomic_store_n(&w->acks[p].pending[epoch_slot(seq)], 0, __ATOMIC_RELAXED);
}

/* Worker thread. Stores the offset of every fully acknowledged closed epoch at
 * the head of the ring, oldest first. */
static void epochs_advance(inv_kworker *w, kw_part *ps, int32_t p) {
    int64_t store = -1;
    for (uint32_t i = 0; i < INV_FLUSH_EPOCHS_MAX && ps->ep_count > 1; i++) {
        kw_epoch *e = epoch_at(ps, 0);
        if (e->position < 0 || epoch_pending(w, p, ps->ep_seq_head) > 0) break;
        store = e->position;
        ps->ep_count--;
        ps->ep_seq_head++;
    }
    if (store < 0 || ps->broken) return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, w->topic_canonical, p)->offset = store;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(w->prm.consumer, l);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("partition %d: storing offset %" PRId64 " for commit: %s", p, store,
                 rd_kafka_err2str(err));
    else
        STAT_ADD(w->stats.commits_stored, 1);
}

/* Worker thread. Closes the open epoch at the current position and opens the
 * next one. The ring must have room (checked by the caller). */
static void epoch_close(inv_kworker *w, kw_part *ps, int32_t p) {
    inv_assert(ps->ep_count < INV_FLUSH_EPOCHS_MAX);
    inv_assert(ps->next_offset >= ps->closed_position);
    epoch_open(ps)->position = ps->next_offset;
    ps->closed_position = ps->next_offset;
    ps->ep_count++;
    epoch_reset(w, ps, p);
    STAT_ADD(w->stats.flushes, 1);
    epochs_advance(w, ps, p);
}

/* Worker thread. Stops partition p for good (this ownership): pauses it so no
 * more of its messages arrive, and never stores an offset for it again. */
static void part_break(inv_kworker *w, kw_part *ps, int32_t p, const char *why) {
    if (ps->broken) return;
    ps->broken = true;
    STAT_ADD(w->stats.partitions_broken, 1);
    log_error("partition %d stopped at offset %" PRId64 ": %s; no offset moves past it, it is "
              "replayed from its last commit after a restart or rebalance",
              p, ps->next_offset, why);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, w->topic_canonical, p);
    (void)rd_kafka_pause_partitions(w->prm.consumer, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Producer's broker threads: the on_acknowledgement interceptor, called for
 * every record once it is acknowledged or has failed for good. A success is
 * taken off its epoch's and its partition's counts; a failure is left counted
 * (its epoch never completes) and reaches kw_dr_cb. Must not block or call
 * librdkafka. Returns 0 always. */
static rd_kafka_resp_err_t kw_on_ack(rd_kafka_t *rk, rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) return RD_KAFKA_RESP_ERR_NO_ERROR;
    inv_kworker *w = opaque;
    uint64_t tag = (uint64_t)(uintptr_t)m->_private;
    int32_t p = (int32_t)(tag >> TAG_SEQ_BITS);
    inv_assert(p >= 0 && p < w->prm.partitions);
    kw_acks *a = &w->acks[p];
    __atomic_sub_fetch(&a->pending[epoch_slot(tag & TAG_SEQ_MASK)], 1, __ATOMIC_RELEASE);
    __atomic_sub_fetch(&a->inflight, 1, __ATOMIC_RELEASE);
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* rd_kafka_new() of the producer (on_new interceptor): installs kw_on_ack.
 * Returns its error code. */
static rd_kafka_resp_err_t kw_on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *opaque,
                                     char *errstr, size_t errstr_size) {
    (void)conf;
    rd_kafka_resp_err_t err =
        rd_kafka_interceptor_add_on_acknowledgement(rk, "invsync-acks", kw_on_ack, opaque);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        snprintf(errstr, errstr_size, "installing the acknowledgement counter: %s",
                 rd_kafka_err2str(err));
    return err;
}

/* Producer's delivery report, on the worker thread (it polls its producer).
 * Only failures are reported (delivery.report.only.error): the record's
 * partition stops, unless the record is of an earlier ownership of it. */
static void kw_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    inv_kworker *w = opaque;
    inv_assert(m->err != RD_KAFKA_RESP_ERR_NO_ERROR);
    uint64_t tag = (uint64_t)(uintptr_t)m->_private;
    int32_t p = (int32_t)(tag >> TAG_SEQ_BITS);
    uint64_t seq = tag & TAG_SEQ_MASK;
    inv_assert(p >= 0 && p < w->prm.partitions);
    kw_part *ps = &w->parts[p];
    inv_assert(__atomic_load_n(&w->acks[p].inflight, __ATOMIC_RELAXED) > 0);
    __atomic_sub_fetch(&w->acks[p].inflight, 1, __ATOMIC_RELEASE);
    STAT_ADD(w->stats.delivery_failures, 1);
    if (!ps->active || seq < ps->ep_seq_head || seq >= ps->ep_seq_head + ps->ep_count) {
        log_warn("partition %d: a record of its earlier ownership failed: %s", p,
                 rd_kafka_err2str(m->err));
        return;
    }
    char why[256];
    snprintf(why, sizeof(why), "delivery to %s failed: %s", rd_kafka_topic_name(m->rkt),
             rd_kafka_err2str(m->err));
    part_break(w, ps, p, why);
}

/* Worker thread. Serves the producer's reports (failures) for up to
 * timeout_ms, then stores the positions of the epochs acknowledged since. */
static void serve_producer(inv_kworker *w, int timeout_ms) {
    rd_kafka_poll(w->producer, timeout_ms);
    FOR_EACH_OWNED(w, p)
        if (w->parts[p].active) epochs_advance(w, &w->parts[p], p);
}

/* --- producing (worker thread) ---------------------------------------------- */

typedef struct flush_ctx {
    inv_kworker *w;
    size_t n; /* records collected in w->batch */
} flush_ctx;

/* table_rec_fn: encodes one changed key into the next slot of the worker's
 * produce batch. Always 0: the drain's max is the batch's room. */
static int collect_stock(const char *sku, size_t sku_len, const char *loc, size_t loc_len,
                         const inv_agg *agg, void *ctx) {
    flush_ctx *fc = ctx;
    inv_kworker *w = fc->w;
    inv_assert(fc->n < INV_FLUSH_CHUNK_RECORDS);
    inv_assert(loc == sku + sku_len + 1); /* the record stores "sku:loc" contiguously */
    char *val = w->batch_values + fc->n * INV_STOCK_JSON_BYTES_MAX;
    size_t n = stock_json_encode(val, INV_STOCK_JSON_BYTES_MAX, sku, sku_len, loc, loc_len, agg);
    /* The key points into the record arena, which never moves while p is open. */
    w->batch[fc->n] = (rd_kafka_message_t){.payload = val, .len = n, .key = (void *)sku,
                                           .key_len = sku_len + 1 + loc_len};
    fc->n++;
    return 0;
}

/* Worker thread. Hands the n collected records of p to the producer in one
 * call (one lock and one clock read for all, instead of one per record), all
 * counted in the open epoch. A record the producer refused goes back on the
 * change list. Returns 0, 1 when the queue was full, -1 when p broke. */
static int produce_batch(inv_kworker *w, kw_part *ps, int32_t p, size_t n) {
    inv_partition *part = engine_partition(w->prm.engine, p);
    uint64_t tag = epoch_tag(w, ps);
    for (size_t i = 0; i < n; i++) w->batch[i]._private = (void *)(uintptr_t)tag;
    acks_expect(w, ps, p, (int32_t)n); /* before: an ack may come before the call returns */
    int ok = rd_kafka_produce_batch(w->rkt_stock, p, RD_KAFKA_MSG_F_COPY, w->batch, (int)n);
    inv_assert(ok >= 0 && (size_t)ok <= n);
    if ((size_t)ok < n) acks_expect(w, ps, p, -(int32_t)(n - (size_t)ok));
    STAT_ADD(w->stats.stock_records, (uint64_t)ok);
    if ((size_t)ok == n) return 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = &w->batch[i];
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        const char *key = m->key;
        size_t sku_len = (size_t)((const char *)memchr(key, ':', m->key_len) - key);
        int e = partition_mark_changed(part, key, sku_len, key + sku_len + 1,
                                       m->key_len - sku_len - 1);
        inv_assert(e == 0); /* the key was just drained from this table */
        if (m->err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            if (rc == 0) rc = 1;
        } else if (rc >= 0) {
            char why[256];
            snprintf(why, sizeof(why), "producing to %s: %s", w->topic_stock_levels,
                     rd_kafka_err2str(m->err));
            part_break(w, ps, p, why);
            rc = -1;
        }
    }
    return rc;
}

/* Worker thread. Flushes partition p: produces its changed keys and closes the
 * epoch. Returns true when done, false when it must continue later (producer
 * queue full, or too many epochs in flight). */
static bool flush_partition(inv_kworker *w, int32_t p) {
    kw_part *ps = &w->parts[p];
    if (!ps->active || ps->broken || __atomic_load_n(&ps->fenced, __ATOMIC_ACQUIRE)) return true;
    if (ps->ep_count >= INV_FLUSH_EPOCHS_MAX) return false; /* wait for acks */
    inv_partition *part = engine_partition(w->prm.engine, p);
    inv_assert(part != NULL);
    for (uint32_t i = 0; partition_changes_pending(part) > 0; i++) {
        inv_assert(i <= INV_TABLE_KEYS_MAX / INV_FLUSH_CHUNK_RECORDS + 1);
        flush_ctx fc = {.w = w, .n = 0};
        long n = partition_drain_changes(part, INV_FLUSH_CHUNK_RECORDS, collect_stock, &fc);
        inv_assert(n >= 0 && (size_t)n == fc.n);
        int rc = produce_batch(w, ps, p, fc.n);
        rd_kafka_poll(w->producer, 0);
        if (rc < 0 || ps->broken) return true;
        if (rc > 0) return false; /* queue full: the rest stays listed */
    }
    if (ps->next_offset > ps->closed_position) epoch_close(w, ps, p);
    return true;
}

/* Worker thread. Flushes every owned partition when the interval is up or a
 * flush is still in progress. Sets flush_blocked while one cannot finish. */
static void flush_due(inv_kworker *w) {
    int64_t now = inv_now_ns();
    if (!w->flush_blocked && now < w->next_flush_ns) return;
    bool all = true;
    FOR_EACH_OWNED(w, p)
        if (!flush_partition(w, p)) all = false;
    w->flush_blocked = !all;
    if (all) w->next_flush_ns = now + (int64_t)w->prm.flush_interval_ms * 1000000;
}

/* Worker thread. True when source offset off of a partition was already sent
 * to the DLQ before this ownership (so it is not sent again). */
static bool dlq_already(const kw_part *ps, int64_t off) {
    if (off < ps->resume_offset) return true; /* processed and committed before */
    size_t lo = 0, hi = ps->dlq_done_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ps->dlq_done[mid] < off) lo = mid + 1;
        else hi = mid;
    }
    return lo < ps->dlq_done_count && ps->dlq_done[lo] == off;
}

/* Worker thread. Writes rejected message m to the DLQ with the reason headers,
 * counted in the open epoch, waiting for queue space (backpressure). Returns
 * 0, or -1 when the partition broke. */
static int dlq_send(inv_kworker *w, kw_part *ps, const rd_kafka_message_t *m, inv_reason why) {
    int32_t p = m->partition;
    if (dlq_already(ps, m->offset)) {
        STAT_ADD(w->stats.dlq_skipped, 1);
        return 0;
    }
    char part_s[16], off_s[24];
    snprintf(part_s, sizeof(part_s), "%" PRId32, p);
    snprintf(off_s, sizeof(off_s), "%" PRId64, m->offset);
    int64_t deadline = inv_now_ns() + (int64_t)INV_PRODUCE_RETRY_MS_MAX * 1000000;
    for (;;) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(6);
        rd_kafka_header_add(h, "invsync.reason", -1, inv_reason_name(why), -1);
        rd_kafka_header_add(h, "invsync.reason.text", -1, inv_reason_text(why), -1);
        rd_kafka_header_add(h, "invsync.source.topic", -1, w->topic_canonical, -1);
        rd_kafka_header_add(h, "invsync.source.partition", -1, part_s, -1);
        rd_kafka_header_add(h, "invsync.source.offset", -1, off_s, -1);
        rd_kafka_header_add(h, "invsync.version", -1, INV_VERSION, -1);
        uint64_t tag = epoch_tag(w, ps);
        acks_expect(w, ps, p, 1); /* before: an ack may come before the call returns */
        rd_kafka_resp_err_t err = rd_kafka_producev(
            w->producer, RD_KAFKA_V_RKT(w->rkt_dlq), RD_KAFKA_V_PARTITION(p),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(m->key, m->key_len),
            RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)tag), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) { /* h is the producer's now */
            STAT_ADD(w->stats.dlq_records, 1);
            return 0;
        }
        acks_expect(w, ps, p, -1);
        rd_kafka_headers_destroy(h);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || inv_now_ns() > deadline) {
            char msg[256];
            snprintf(msg, sizeof(msg), "writing offset %" PRId64 " to the DLQ %s: %s", m->offset,
                     w->topic_dlq, rd_kafka_err2str(err));
            part_break(w, ps, p, msg);
            return -1;
        }
        serve_producer(w, 10); /* queue full: wait for deliveries (no report wakes it) */
    }
}

/* --- recovery (worker thread) ------------------------------------------------ */

/* Reads [from, to) of topic/partition with the restorer, calling fn per
 * message (in batches). Returns 0, fn's error, or -EIO with the reason logged. */
typedef int (*read_fn)(inv_kworker *w, const rd_kafka_message_t *m, void *ctx);

static int read_range(inv_kworker *w, const char *topic, int32_t p, int64_t from, int64_t to,
                      read_fn fn, void *ctx) {
    if (from >= to) return 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = from;
    rd_kafka_resp_err_t err = rd_kafka_assign(w->restorer, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("partition %d: reading %s: %s", p, topic, rd_kafka_err2str(err));
        return -EIO;
    }
    int rc = 0;
    int64_t idle_since = inv_now_ns();
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(w->restorer);
    rd_kafka_message_t *batch[INV_BATCH_EVENTS_MAX];
    for (bool end = false; !end && rc == 0;) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, batch, INV_BATCH_EVENTS_MAX);
        if (n <= 0) {
            if (inv_now_ns() - idle_since > (int64_t)INV_RESTORE_IDLE_TIMEOUT_MS * 1000000) {
                log_error("partition %d: reading %s stalled at [%" PRId64 ", %" PRId64 ")", p,
                          topic, from, to);
                rc = -EIO;
            }
            continue;
        }
        idle_since = inv_now_ns();
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = batch[i];
            if (end || rc != 0) {
            } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                end = true; /* compaction or markers may leave no record at to - 1 */
            } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                log_warn("partition %d: reading %s: %s", p, topic, rd_kafka_message_errstr(m));
            } else {
                if (m->offset < to) rc = fn(w, m, ctx);
                if (m->offset >= to - 1) end = true;
            }
            rd_kafka_message_destroy(m);
        }
    }
    rd_kafka_queue_destroy(q);
    (void)rd_kafka_assign(w->restorer, NULL);
    return rc;
}

typedef struct restore_ctx {
    inv_partition *part;
    int32_t p;
    uint64_t keys, skipped;
} restore_ctx;

static int restore_one(inv_kworker *w, const rd_kafka_message_t *m, void *ctx) {
    (void)w;
    restore_ctx *rc = ctx;
    inv_stock_record r;
    char err[160];
    if (m->payload == NULL) return 0; /* a tombstone: invsync never deletes keys */
    if (stock_json_decode(m->payload, m->len, &r, err, sizeof(err)) != 0 ||
        m->key_len != r.sku_len + 1 + r.location_id_len ||
        memcmp(m->key, r.sku, r.sku_len) != 0 || ((const char *)m->key)[r.sku_len] != ':' ||
        memcmp((const char *)m->key + r.sku_len + 1, r.location_id, r.location_id_len) != 0) {
        if (rc->skipped++ < 10)
            log_warn("partition %d: changelog record at offset %" PRId64
                     " is not a stock level of its key (%s); skipped",
                     rc->p, m->offset, err);
        return 0;
    }
    int e = partition_restore_key(rc->part, r.sku, r.sku_len, r.location_id, r.location_id_len,
                                  &r.agg);
    if (e != 0) {
        log_error("partition %d: restoring key %.*s:%.*s: %s", rc->p, (int)r.sku_len, r.sku,
                  (int)r.location_id_len, r.location_id, strerror(-e));
        return -EIO;
    }
    rc->keys++;
    return 0;
}

typedef struct dlq_scan_ctx {
    int32_t p;
    int64_t resume;
    int64_t *found;
    size_t count, cap;
    bool reached; /* saw a record older than resume: the scan can stop */
} dlq_scan_ctx;

static bool header_str(const rd_kafka_message_t *m, const char *name, char *out, size_t cap) {
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t n;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    if (rd_kafka_header_get_last(h, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    if (v == NULL || n + 1 > cap) return false;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

static int dlq_scan_one(inv_kworker *w, const rd_kafka_message_t *m, void *ctx) {
    dlq_scan_ctx *c = ctx;
    char topic[INV_TOPIC_NAME_MAX + 1], part[16], off[24];
    if (!header_str(m, "invsync.source.topic", topic, sizeof(topic)) ||
        !header_str(m, "invsync.source.partition", part, sizeof(part)) ||
        !header_str(m, "invsync.source.offset", off, sizeof(off)))
        return 0;
    if (strcmp(topic, w->topic_canonical) != 0 || atoi(part) != c->p) return 0;
    int64_t o = strtoll(off, NULL, 10);
    if (o < c->resume) {
        c->reached = true;
        return 0;
    }
    if (c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        int64_t *f = realloc(c->found, cap * sizeof(*f));
        if (f == NULL) return -ENOMEM;
        c->found = f;
        c->cap = cap;
    }
    c->found[c->count++] = o;
    return 0;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Worker thread. Finds the source offsets >= resume already in DLQ partition
 * p (written by an earlier owner that died before committing), reading the
 * DLQ backwards in chunks until a record older than resume shows up. */
static int dlq_scan(inv_kworker *w, int32_t p, kw_part *ps) {
    int64_t lo, hi;
    rd_kafka_resp_err_t err = kafka_watermarks(w->restorer, w->topic_dlq, p, &lo, &hi);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("partition %d: DLQ watermarks: %s", p, rd_kafka_err2str(err));
        return -EIO;
    }
    dlq_scan_ctx c = {.p = p, .resume = ps->resume_offset};
    int64_t to = hi;
    int rc = 0;
    for (uint32_t i = 0; to > lo && !c.reached; i++) {
        if ((uint64_t)i * INV_DLQ_SCAN_CHUNK >= INV_DLQ_SCAN_RECORDS_MAX) {
            log_warn("partition %d: DLQ scan stopped after %u records; rejects of the last "
                     "uncommitted input may appear twice in the DLQ",
                     p, INV_DLQ_SCAN_RECORDS_MAX);
            break;
        }
        int64_t from = to - INV_DLQ_SCAN_CHUNK > lo ? to - INV_DLQ_SCAN_CHUNK : lo;
        rc = read_range(w, w->topic_dlq, p, from, to, dlq_scan_one, &c);
        if (rc != 0) break;
        to = from;
    }
    if (rc != 0) {
        free(c.found);
        return rc;
    }
    qsort(c.found, c.count, sizeof(*c.found), cmp_i64);
    ps->dlq_done = c.found;
    ps->dlq_done_count = c.count;
    return 0;
}

/* Worker thread. Waits until every record of p produced by an earlier
 * ownership is acknowledged or failed (see the file comment), serving the
 * producer's failure reports meanwhile. Returns 0, or -EIO when none has
 * resolved for INV_RESTORE_IDLE_TIMEOUT_MS (the broker is unreachable: the
 * restore could not read anything either). */
static int await_earlier_records(inv_kworker *w, int32_t p) {
    const uint32_t *inflight = &w->acks[p].inflight;
    uint32_t before = __atomic_load_n(inflight, __ATOMIC_ACQUIRE);
    if (before == 0) return 0;
    log_info("partition %d: waiting for %u records of its previous ownership to be "
             "acknowledged before restoring it", p, before);
    int64_t t0 = inv_now_ns(), progress = t0;
    for (uint32_t last = before, now_n; (now_n = __atomic_load_n(inflight, __ATOMIC_ACQUIRE)) > 0;) {
        int64_t now = inv_now_ns();
        if (now_n != last) {
            last = now_n;
            progress = now;
        } else if (now - progress > (int64_t)INV_RESTORE_IDLE_TIMEOUT_MS * 1000000) {
            log_error("partition %d: %u records of its previous ownership not acknowledged "
                      "within %d ms", p, now_n, INV_RESTORE_IDLE_TIMEOUT_MS);
            return -EIO;
        }
        rd_kafka_flush(w->producer, 10); /* sends at once, whatever linger.ms says */
    }
    log_info("partition %d: %u earlier records acknowledged in %.1f ms", p, before,
             (double)(inv_now_ns() - t0) / 1e6);
    return 0;
}

/* Worker thread. ASSIGN: open p, restore it, get ready to consume. Returns 0
 * or -EIO (the service stops: serving p without its state would be wrong). */
static int cmd_assign(inv_kworker *w, const kw_cmd *c) {
    int32_t p = c->partition;
    kw_part *ps = &w->parts[p];
    inv_assert(!ps->active);
    char err[256];
    int64_t t0 = inv_now_ns();
    if (await_earlier_records(w, p) != 0) return -EIO;
    engine_partition_close(w->prm.engine, p); /* a leftover of a failed restore, if any */
    int rc = engine_partition_open(w->prm.engine, p, err, sizeof(err));
    if (rc != 0) {
        log_error("partition %d: %s", p, err);
        return -EIO;
    }
    inv_partition *part = engine_partition(w->prm.engine, p);
    if (partition_track_changes(part) != 0) {
        log_error("partition %d: no memory for the change list", p);
        return -EIO;
    }
    int64_t lo, hi;
    rd_kafka_resp_err_t kerr = kafka_watermarks(w->restorer, w->topic_stock_levels, p, &lo, &hi);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_error("partition %d: changelog watermarks: %s", p, rd_kafka_err2str(kerr));
        return -EIO;
    }
    restore_ctx rctx = {.part = part, .p = p};
    rc = read_range(w, w->topic_stock_levels, p, lo, hi, restore_one, &rctx);
    if (rc == 0) {
        *ps = part_next_ownership(ps->seq_next);
        ps->resume_offset = c->resume_offset;
        rc = dlq_scan(w, p, ps);
    }
    if (rc != 0) return -EIO;
    partition_set_replay_below(part, c->resume_offset);
    ps->next_offset = c->start_offset;
    ps->closed_position = c->resume_offset;
    ps->ep_seq_head = ps->seq_next;
    ps->ep_count = 1;
    epoch_reset(w, ps, p);
    ps->active = true;
    STAT_ADD(w->stats.partitions_active, 1);
    STAT_ADD(w->stats.restored_keys, rctx.keys);
    log_info("partition %d: restored %" PRIu64 " keys from %s [%" PRId64 ", %" PRId64
             ") in %.1f ms; %zu rejects already in the DLQ; consuming from offset %" PRId64
             " (committed %" PRId64 ")",
             p, rctx.keys, w->topic_stock_levels, lo, hi, (double)(inv_now_ns() - t0) / 1e6,
             ps->dlq_done_count, c->start_offset, c->resume_offset);
    return 0;
}

/* Worker thread. REVOKE / LOST: final flush (not when lost), then close p. */
static void cmd_revoke(inv_kworker *w, const kw_cmd *c) {
    int32_t p = c->partition;
    kw_part *ps = &w->parts[p];
    if (!ps->active) return;
    if (c->kind == KW_CMD_REVOKE && !ps->broken && !__atomic_load_n(&ps->fenced, __ATOMIC_ACQUIRE)) {
        int64_t deadline = inv_now_ns() + (int64_t)INV_REVOKE_TIMEOUT_MS * 1000000;
        for (;;) {
            bool flushed = flush_partition(w, p);
            epochs_advance(w, ps, p);
            if (ps->broken ||
                (flushed && ps->ep_count == 1 && epoch_pending(w, p, ps->ep_seq_head) == 0))
                break;
            if (inv_now_ns() > deadline) {
                log_warn("partition %d: final flush not acknowledged within %d ms; the next "
                         "owner replays from the last commit",
                         p, INV_REVOKE_TIMEOUT_MS);
                break;
            }
            rd_kafka_flush(w->producer, 10); /* polls too; sends at once, whatever linger.ms says */
        }
    }
    engine_partition_close(w->prm.engine, p);
    if (ps->broken) STAT_ADD(w->stats.partitions_broken, (uint32_t)-1);
    free(ps->dlq_done);
    *ps = part_next_ownership(ps->ep_seq_head + ps->ep_count); /* inactive */
    __atomic_store_n(&ps->fenced, 0, __ATOMIC_RELEASE); /* the next ownership starts clean */
    STAT_ADD(w->stats.partitions_active, (uint32_t)-1);
    log_info("partition %d: %s", p, c->kind == KW_CMD_LOST ? "lost" : "revoked");
}

/* Worker thread. Carries out the queued commands. Returns 0 or a fatal error. */
static int run_commands(inv_kworker *w) {
    if (!__atomic_load_n(&w->cmd_pending, __ATOMIC_ACQUIRE)) return 0;
    for (uint32_t i = 0; i < INV_WORKER_CMDS_MAX; i++) {
        pthread_mutex_lock(&w->lock);
        if (w->cmd_count == 0) {
            __atomic_store_n(&w->cmd_pending, 0, __ATOMIC_RELEASE);
            pthread_mutex_unlock(&w->lock);
            return 0;
        }
        kw_cmd c = w->cmds[w->cmd_head];
        pthread_mutex_unlock(&w->lock);
        int rc = 0;
        if (c.kind == KW_CMD_ASSIGN) rc = cmd_assign(w, &c);
        else cmd_revoke(w, &c);
        pthread_mutex_lock(&w->lock);
        w->cmd_head = (w->cmd_head + 1) % INV_WORKER_CMDS_MAX;
        w->cmd_count--;
        w->cmds_done++;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        if (rc != 0) return rc;
    }
    return 0;
}

/* --- the input (worker thread) ------------------------------------------------ */

static void release_batch(inv_kworker *w) {
    for (size_t i = 0; i < w->msgs_count; i++) rd_kafka_message_destroy(w->msgs[i]);
    w->msgs_count = 0;
}

/* Takes message m: a valid event goes to events[*ne]; a reject goes to the DLQ. */
static void take_message(inv_kworker *w, rd_kafka_message_t *m, inv_event *events, size_t *ne,
                         size_t *scratch_used) {
    int32_t p = m->partition;
    if (p < 0 || p >= w->prm.partitions) return;
    kw_part *ps = &w->parts[p];
    if (!ps->active || ps->broken || m->offset < ps->next_offset) return; /* stale */
    inv_event *ev = &events[*ne];
    memset(ev, 0, sizeof(*ev));
    ev->partition = p;
    ev->offset = m->offset;
    inv_reason why = INV_OK;
    if (m->key == NULL || m->key_len == 0) why = INV_R_KEY_MISSING;
    else if (m->len > INV_MESSAGE_BYTES_MAX) why = INV_R_MESSAGE_TOO_LARGE;
    else if (partitioner_partition(m->key, m->key_len, w->prm.partitions) != p)
        why = INV_R_PARTITION_MISMATCH;
    else if (m->key_len > INV_KEY_LEN_MAX) why = INV_R_KEY_MISMATCH;
    else {
        ev->key = m->key;
        ev->key_len = (uint16_t)m->key_len;
        size_t used = 0;
        inv_assert(*scratch_used + m->len <= SCRATCH_BYTES);
        why = json_event_decode(m->payload ? m->payload : "", m->len, w->scratch + *scratch_used,
                                &used, ev);
        inv_assert(used <= m->len);
        *scratch_used += used;
    }
    if (why == INV_OK) {
        w->ev_msg[(*ne)++] = m;
        return;
    }
    if (dlq_send(w, ps, m, why) == 0 && m->offset + 1 > ps->next_offset)
        ps->next_offset = m->offset + 1;
}

/* Worker thread. After a backlog deep enough that librdkafka may have stopped
 * fetching (fetch_waker.h), pokes the waker with the owned partitions once
 * the queue runs low, so the next fetch is on its way before it is empty. */
static void poke_fetcher_if_drained(inv_kworker *w) {
    if (w->prm.waker == NULL) return;
    size_t len = rd_kafka_queue_length(w->queue);
    if (len > w->queue_high) w->queue_high = len;
    if (w->queue_high < INV_FETCH_WAKE_HIGH_MSGS || len >= INV_FETCH_WAKE_LOW_MSGS) return;
    int32_t owned[INV_PARTITIONS_MAX];
    size_t n = 0;
    FOR_EACH_OWNED(w, p)
        if (w->parts[p].active && !w->parts[p].broken) owned[n++] = p;
    fetch_waker_poke(w->prm.waker, owned, n);
    w->queue_high = 0;
    STAT_ADD(w->stats.fetch_pokes, 1);
}

static int kw_pull(void *ctx, inv_event *events, size_t max, int timeout_ms) {
    inv_kworker *w = ctx;
    release_batch(w);
    if (w->fatal != 0) return w->fatal;
    int rc = run_commands(w);
    if (rc != 0) goto fail;
    serve_producer(w, 0);
    if (__atomic_load_n(&w->finishing, __ATOMIC_ACQUIRE) &&
        !__atomic_load_n(&w->cmd_pending, __ATOMIC_ACQUIRE))
        return -ECANCELED;
    flush_due(w);
    if (w->flush_blocked) { /* backpressure: no new input until the flush is out */
        STAT_ADD(w->stats.flush_stalls, 1);
        serve_producer(w, 10); /* no report wakes it: successes are not reported */
        return 0;
    }
    /* Rounded up: truncating would poll with timeout 0, a busy loop, for the
     * last millisecond before every flush. */
    int64_t to_flush_ms = (w->next_flush_ns - inv_now_ns() + 999999) / 1000000;
    if (to_flush_ms < timeout_ms) timeout_ms = to_flush_ms < 0 ? 0 : (int)to_flush_ms;
    if (max > INV_BATCH_EVENTS_MAX) max = INV_BATCH_EVENTS_MAX;
    int64_t t0 = inv_now_ns();
    if (log_enabled(INV_LOG_DEBUG) && t0 > w->next_debug_ns) {
        w->next_debug_ns = t0 + 1000000000;
        log_debug("worker %u: %" PRIu64 " messages, %" PRIu64 " stock records, %.3f s waiting, "
                  "%d in the producer queue",
                  w->prm.index, w->stats.messages, w->stats.stock_records,
                  (double)w->stats.consume_wait_ns / 1e9, rd_kafka_outq_len(w->producer));
    }
    poke_fetcher_if_drained(w);
    ssize_t n = rd_kafka_consume_batch_queue(w->queue, timeout_ms, w->msgs, max);
    if (w->stats.partitions_active > 0) /* starved, not merely unassigned */
        STAT_ADD(w->stats.consume_wait_ns, (uint64_t)(inv_now_ns() - t0));
    if (n <= 0) {
        STAT_ADD(w->stats.polls_empty, 1);
        return 0;
    }
    w->msgs_count = (size_t)n;
    STAT_ADD(w->stats.messages, (uint64_t)n);
    rc = run_commands(w); /* an assignment posted before these messages were fetched */
    if (rc != 0) goto fail;
    size_t ne = 0, scratch_used = 0;
    for (size_t i = 0; i < (size_t)n; i++) {
        rd_kafka_message_t *m = w->msgs[i];
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn("consumer: %s", rd_kafka_message_errstr(m));
            continue;
        }
        take_message(w, m, events, &ne, &scratch_used);
    }
    return (int)ne;
fail:
    w->fatal = rc;
    __atomic_store_n(&w->dead, 1, __ATOMIC_RELEASE);
    pthread_mutex_lock(&w->lock);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return rc;
}

static void kw_done(void *ctx, const inv_event *events, const inv_result *results, size_t n) {
    inv_kworker *w = ctx;
    for (size_t i = 0; i < n; i++) {
        int32_t p = events[i].partition;
        kw_part *ps = &w->parts[p];
        if (ps->broken) continue;
        int64_t off = events[i].offset;
        switch ((inv_outcome)results[i].outcome) {
        case INV_OUT_APPLIED:
        case INV_OUT_DUPLICATE:
        case INV_OUT_REPLAYED:
            break;
        case INV_OUT_REJECTED:
            if (dlq_send(w, ps, w->ev_msg[i], (inv_reason)results[i].reason) != 0) continue;
            break;
        case INV_OUT_FAILED: {
            char why[160];
            snprintf(why, sizeof(why), "event at offset %" PRId64 " cannot be applied: %s", off,
                     inv_reason_text((inv_reason)results[i].reason));
            part_break(w, ps, p, why);
            continue;
        }
        }
        if (off + 1 > ps->next_offset) ps->next_offset = off + 1;
    }
}

/* --- set-up (control thread) ------------------------------------------------ */

/* Control thread. A client from base, invsync's settings kv (NULL-ended
 * name/value pairs) and then the operator's pass-through properties, which
 * win (config.c refuses the ones exactly-once depends on). */
static rd_kafka_t *new_client(const rd_kafka_conf_t *base, const inv_config *cfg,
                              rd_kafka_type_t type,
                              const char *const *kv, void *opaque,
                              void (*dr)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                              char *errstr, size_t errstr_len) {
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(base);
    for (size_t i = 0; kv[i] != NULL; i += 2) {
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, errstr_len) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (config_kafka_apply(cfg, conf, errstr, errstr_len) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, opaque);
    if (dr != NULL) { /* a producer: failures to dr, successes counted by kw_on_ack */
        rd_kafka_conf_set_dr_msg_cb(conf, dr);
        rd_kafka_resp_err_t err = rd_kafka_conf_interceptor_add_on_new(conf, "invsync-acks",
                                                                      kw_on_new, opaque);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errstr, errstr_len, "producer interceptor: %s", rd_kafka_err2str(err));
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, errstr_len);
    if (rk == NULL) rd_kafka_conf_destroy(conf); /* on success conf is rk's */
    return rk;
}

/* Control thread. See kafka_worker.h. */
int kworker_create(inv_kworker **out, const inv_kworker_params *prm, char *errstr,
                   size_t errstr_len) {
    inv_assert(out != NULL && prm != NULL && prm->engine != NULL && prm->consumer != NULL);
    inv_assert(prm->partitions > 0 && prm->partitions <= INV_PARTITIONS_MAX);
    inv_kworker *w = calloc(1, sizeof(*w));
    if (w == NULL) goto nomem;
    w->prm = *prm;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->topic_canonical = strdup(prm->topic_canonical);
    w->topic_stock_levels = strdup(prm->topic_stock_levels);
    w->topic_dlq = strdup(prm->topic_dlq);
    w->parts = calloc((size_t)prm->partitions, sizeof(*w->parts));
    w->acks = calloc((size_t)prm->partitions, sizeof(*w->acks));
    w->batch = calloc(INV_FLUSH_CHUNK_RECORDS, sizeof(*w->batch));
    w->batch_values = malloc((size_t)INV_FLUSH_CHUNK_RECORDS * INV_STOCK_JSON_BYTES_MAX);
    w->scratch = mmap(NULL, SCRATCH_BYTES, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w->scratch == MAP_FAILED) w->scratch = NULL;
    if (!w->topic_canonical || !w->topic_stock_levels || !w->topic_dlq || !w->parts || !w->acks ||
        !w->scratch || !w->batch || !w->batch_values)
        goto nomem;
    char id[64];
    snprintf(id, sizeof(id), "invsyncd-worker-%u", prm->index);
    /* Every option exactly-once depends on, set explicitly (config.c refuses
     * them in the pass-through properties). */
    const char *pkv[] = {"client.id", id, "enable.idempotence", "true", "acks", "all",
                         "message.timeout.ms", "0", /* never give up: stop, don't skip */
                         "partitioner", "murmur2_random", "linger.ms", "5",
                         "delivery.report.only.error", "true", /* acks: kw_on_ack */
                         "queue.buffering.max.messages", "1000000", "compression.type", "lz4",
                         NULL};
    w->producer = new_client(prm->base, prm->cfg, RD_KAFKA_PRODUCER, pkv, w, kw_dr_cb, errstr, errstr_len);
    if (w->producer == NULL) goto fail;
    char rid[80];
    snprintf(rid, sizeof(rid), "invsyncd-restore-%u", prm->index);
    const char *ckv[] = {"client.id", rid, "group.id", "invsyncd-restore-unused",
                         "enable.auto.commit", "false", "enable.auto.offset.store", "false",
                         "enable.partition.eof", "true", "auto.offset.reset", "earliest",
                         "isolation.level", "read_committed",
                         "fetch.wait.max.ms", "10", /* reads end at the log end: don't linger */
                         NULL};
    w->restorer = new_client(prm->base, prm->cfg, RD_KAFKA_CONSUMER, ckv, w, NULL, errstr, errstr_len);
    if (w->restorer == NULL) goto fail;
    rd_kafka_poll_set_consumer(w->restorer);
    w->rkt_stock = rd_kafka_topic_new(w->producer, w->topic_stock_levels, NULL);
    w->rkt_dlq = rd_kafka_topic_new(w->producer, w->topic_dlq, NULL);
    w->queue = rd_kafka_queue_new(prm->consumer);
    if (!w->rkt_stock || !w->rkt_dlq || !w->queue) goto nomem;
    w->next_flush_ns = inv_now_ns();
    *out = w;
    return 0;
nomem:
    snprintf(errstr, errstr_len, "worker %u: out of memory", prm->index);
fail:
    kworker_destroy(w);
    return -ENOMEM;
}

/* Control thread, worker ended. See kafka_worker.h. */
void kworker_destroy(inv_kworker *w) {
    if (w == NULL) return;
    release_batch(w);
    if (w->queue) rd_kafka_queue_destroy(w->queue);
    if (w->rkt_stock) rd_kafka_topic_destroy(w->rkt_stock);
    if (w->rkt_dlq) rd_kafka_topic_destroy(w->rkt_dlq);
    if (w->producer) {
        if (rd_kafka_flush(w->producer, INV_REVOKE_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
            log_warn("worker %u: producer still had %d records at exit (their input offsets "
                     "were not committed; they are produced again after restart)",
                     w->prm.index, rd_kafka_outq_len(w->producer));
        rd_kafka_destroy(w->producer);
    }
    if (w->restorer) {
        rd_kafka_consumer_close(w->restorer);
        rd_kafka_destroy(w->restorer);
    }
    if (w->parts)
        for (int32_t p = 0; p < w->prm.partitions; p++) free(w->parts[p].dlq_done);
    free(w->parts);
    free(w->acks); /* after rd_kafka_destroy: no broker thread counts any more */
    free(w->batch);
    free(w->batch_values);
    if (w->scratch) munmap(w->scratch, SCRATCH_BYTES);
    free(w->topic_canonical);
    free(w->topic_stock_levels);
    free(w->topic_dlq);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w);
}

/* Control thread. See kafka_worker.h. */
inv_worker_input kworker_input(inv_kworker *w) {
    return (inv_worker_input){.pull = kw_pull, .done = kw_done, .ctx = w};
}

/* Control thread. See kafka_worker.h. */
rd_kafka_queue_t *kworker_queue(inv_kworker *w) {
    return w->queue;
}

static int post(inv_kworker *w, const kw_cmd *c) {
    pthread_mutex_lock(&w->lock);
    if (w->cmd_count == INV_WORKER_CMDS_MAX) {
        pthread_mutex_unlock(&w->lock);
        return -EAGAIN;
    }
    w->cmds[(w->cmd_head + w->cmd_count) % INV_WORKER_CMDS_MAX] = *c;
    w->cmd_count++;
    w->cmds_posted++;
    __atomic_store_n(&w->cmd_pending, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&w->lock);
    rd_kafka_queue_yield(w->queue); /* wake a pull waiting for messages */
    return 0;
}

/* Control thread. See kafka_worker.h. */
int kworker_assign(inv_kworker *w, int32_t p, int64_t resume_offset, int64_t start_offset) {
    inv_assert(p >= 0 && p < w->prm.partitions);
    inv_assert(start_offset >= 0 && start_offset <= resume_offset);
    kw_cmd c = {.kind = KW_CMD_ASSIGN, .partition = p, .resume_offset = resume_offset,
                .start_offset = start_offset};
    return post(w, &c);
}

/* Control thread. See kafka_worker.h. */
int kworker_revoke(inv_kworker *w, int32_t p, bool lost) {
    inv_assert(p >= 0 && p < w->prm.partitions);
    kw_cmd c = {.kind = lost ? KW_CMD_LOST : KW_CMD_REVOKE, .partition = p};
    return post(w, &c);
}

/* Control thread. See kafka_worker.h. */
int kworker_wait(inv_kworker *w, int timeout_ms) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    int rc = 0;
    pthread_mutex_lock(&w->lock);
    while (w->cmds_done < w->cmds_posted) {
        if (__atomic_load_n(&w->dead, __ATOMIC_ACQUIRE)) {
            rc = -EPIPE;
            break;
        }
        if (pthread_cond_timedwait(&w->cond, &w->lock, &dl) == ETIMEDOUT) {
            rc = w->cmds_done < w->cmds_posted ? -ETIMEDOUT : 0;
            break;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return rc;
}

/* Control thread. See kafka_worker.h. */
void kworker_fence(inv_kworker *w, int32_t p) {
    inv_assert(p >= 0 && p < w->prm.partitions);
    __atomic_store_n(&w->parts[p].fenced, 1, __ATOMIC_RELEASE);
    rd_kafka_queue_yield(w->queue);
}

/* Control thread. See kafka_worker.h. */
void kworker_finish(inv_kworker *w) {
    __atomic_store_n(&w->finishing, 1, __ATOMIC_RELEASE);
    rd_kafka_queue_yield(w->queue);
}

/* Any thread. See kafka_worker.h. */
void kworker_get_stats(const inv_kworker *w, inv_kworker_stats *out) {
    const inv_kworker_stats *s = &w->stats;
    out->messages = __atomic_load_n(&s->messages, __ATOMIC_RELAXED);
    out->dlq_records = __atomic_load_n(&s->dlq_records, __ATOMIC_RELAXED);
    out->dlq_skipped = __atomic_load_n(&s->dlq_skipped, __ATOMIC_RELAXED);
    out->stock_records = __atomic_load_n(&s->stock_records, __ATOMIC_RELAXED);
    out->flushes = __atomic_load_n(&s->flushes, __ATOMIC_RELAXED);
    out->delivery_failures = __atomic_load_n(&s->delivery_failures, __ATOMIC_RELAXED);
    out->commits_stored = __atomic_load_n(&s->commits_stored, __ATOMIC_RELAXED);
    out->restored_keys = __atomic_load_n(&s->restored_keys, __ATOMIC_RELAXED);
    out->flush_stalls = __atomic_load_n(&s->flush_stalls, __ATOMIC_RELAXED);
    out->consume_wait_ns = __atomic_load_n(&s->consume_wait_ns, __ATOMIC_RELAXED);
    out->fetch_pokes = __atomic_load_n(&s->fetch_pokes, __ATOMIC_RELAXED);
    out->polls_empty = __atomic_load_n(&s->polls_empty, __ATOMIC_RELAXED);
    out->partitions_active = __atomic_load_n(&s->partitions_active, __ATOMIC_RELAXED);
    out->partitions_broken = __atomic_load_n(&s->partitions_broken, __ATOMIC_RELAXED);
}
