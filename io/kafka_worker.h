/* kafka_worker.h - one engine worker's Kafka side: its input queue, its
 * producer, and the exactly-once bookkeeping of the partitions it owns.
 *
 * The consumer group's assigned partitions are forwarded, each to the queue
 * of the worker that owns it (p % W), so a worker pulls its own messages from
 * librdkafka on its own thread: decode, check the key and partition, apply
 * (engine), and send rejects to the DLQ. Every flush interval it produces the
 * keys changed since the last flush to the stock-levels partition of the same
 * number, then closes a "flush epoch" at the partition's input position. The
 * input offset of an epoch is stored for commit only when every record of
 * that epoch and of all earlier ones (stock levels and DLQ) is acknowledged,
 * so a committed offset never runs ahead of its effects (DESIGN.md section 3).
 *
 * Recovery of a partition (on every assignment): restore the aggregates from
 * the stock-levels changelog, find the DLQ records already written for input
 * at or after the committed offset (so a reject is never sent twice), and
 * consume from the committed offset minus the dedup window's size with every
 * event below the committed offset only rebuilding the dedup window.
 *
 * Threads: kworker_create/destroy and the command functions are for the
 * control thread (the one running the consumer's rebalance callback); the
 * inv_worker_input callbacks run on the engine worker's thread. Commands reach
 * the worker through a bounded queue checked once per pull. */
#ifndef INV_KAFKA_WORKER_H
#define INV_KAFKA_WORKER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "engine.h"
#include "fetch_waker.h"

typedef struct inv_kworker inv_kworker;

typedef struct inv_kworker_params {
    uint32_t index;               /* engine worker index */
    inv_engine *engine;           /* outlives the kworker */
    rd_kafka_t *consumer;         /* the group consumer; outlives the kworker */
    inv_fetch_waker *waker;       /* NULL: none; outlives the kworker's pulls */
    const rd_kafka_conf_t *base;  /* bootstrap.servers and callbacks (duplicated) */
    const inv_config *cfg;        /* pass-through properties, applied over invsync's defaults */
    const char *topic_canonical;  /* copied */
    const char *topic_stock_levels;
    const char *topic_dlq;
    int32_t partitions;           /* of all three topics (checked equal at start-up) */
    uint32_t flush_interval_ms;
} inv_kworker_params;

typedef struct inv_kworker_stats {
    uint64_t messages;          /* consumed from Kafka */
    uint64_t dlq_records;       /* rejects written to the DLQ */
    uint64_t dlq_skipped;       /* rejects already in the DLQ before a restart */
    uint64_t stock_records;     /* stock-level records produced */
    uint64_t flushes;           /* epochs closed */
    uint64_t delivery_failures; /* records the producer reported failed (each stops a partition,
                                   unless of an earlier ownership) */
    uint64_t commits_stored;    /* offsets stored for commit */
    uint64_t restored_keys;     /* aggregates restored from the changelog */
    uint64_t flush_stalls;      /* pulls that waited for producer queue space or acks */
    uint64_t consume_wait_ns;   /* time spent waiting in the consumer queue while owning a
                                   partition (without one there is nothing to wait for) */
    uint64_t fetch_pokes;       /* fetch waker pokes: the queue drained after a deep backlog */
    uint64_t polls_empty;       /* consumer polls that returned no message (an idle worker
                                   makes about one per flush interval or pull timeout) */
    uint32_t partitions_active; /* assigned and restored */
    uint32_t partitions_broken; /* stopped: a delivery failed or the table is full */
} inv_kworker_stats;

/* Control thread. Creates the worker's queue (on the consumer), producer and
 * restore consumer. 0 or -errno with errstr. */
int kworker_create(inv_kworker **out, const inv_kworker_params *prm, char *errstr,
                   size_t errstr_len);

/* Control thread, after the engine worker has ended. Flushes the producer
 * (bounded) and frees everything. NULL allowed. */
void kworker_destroy(inv_kworker *w);

/* Control thread. The input the engine worker pulls from. */
inv_worker_input kworker_input(inv_kworker *w);

/* Control thread. The queue the owned partitions are forwarded to. */
rd_kafka_queue_t *kworker_queue(inv_kworker *w);

/* Control thread. Queues "restore partition p, then consume it from
 * start_offset; offsets below resume_offset were processed before". Does not
 * wait. Returns 0, or -EAGAIN when the command queue is full. */
int kworker_assign(inv_kworker *w, int32_t p, int64_t resume_offset, int64_t start_offset);

/* Control thread. Queues "flush p, wait for its acks, store its offset and
 * close it" (or, when lost, close it at once without producing anything: the
 * partition may already have a new owner). Does not wait. 0 or -EAGAIN. */
int kworker_revoke(inv_kworker *w, int32_t p, bool lost);

/* Control thread. Waits until every queued command has been carried out, at
 * most timeout_ms. 0, -ETIMEDOUT, or -EPIPE when the worker has stopped. */
int kworker_wait(inv_kworker *w, int timeout_ms);

/* Control thread. Fences partition p: from now on its worker produces nothing
 * more for it (no flush, no final flush), though a queued REVOKE still closes
 * it. For a revocation that did not finish in time: the partition goes to
 * another owner, and a late flush from here could overwrite newer stock levels
 * in the compacted topic. */
void kworker_fence(inv_kworker *w, int32_t p);

/* Control thread. Asks the input to end (pull returns -ECANCELED) once its
 * queued commands are done. */
void kworker_finish(inv_kworker *w);

/* Any thread. A recent view of the counters. */
void kworker_get_stats(const inv_kworker *w, inv_kworker_stats *out);

#endif
