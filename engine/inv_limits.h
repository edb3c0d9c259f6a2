/* inv_limits.h - every maximum and default of invsync in one place.
 *
 * DESIGN.md section 2 fixes the event limits; the rest are engine sizes
 * (batches, queues, retries). Anything that bounds a loop, a queue or a
 * buffer is named here, so the bound is visible and the relations between
 * bounds are checked at compile time. */
#ifndef INV_LIMITS_H
#define INV_LIMITS_H

#include <stdint.h>

/* Canonical event (DESIGN.md section 2). */
#define INV_SKU_LEN_MAX            64
#define INV_LOCATION_LEN_MAX       64
#define INV_KEY_LEN_MAX            (INV_SKU_LEN_MAX + 1 + INV_LOCATION_LEN_MAX) /* "sku:loc" */
#define INV_EVENT_ID_LEN_MAX       128
#define INV_CORRELATION_ID_LEN_MAX 128
#define INV_SOURCE_SYSTEM_LEN_MAX  64
#define INV_QUANTITY_ABS_MAX       1000000000LL /* |quantityDelta| <= 10^9 */
#define INV_MESSAGE_BYTES_MAX      (64 * 1024)
#define INV_JSON_DEPTH_MAX         32   /* nesting of objects/arrays in a message (json_too_deep) */
/* Event time: epoch milliseconds in [1970-01-01, 9999-12-31T23:59:59.999Z]. */
#define INV_TIMESTAMP_MS_MIN       0LL
#define INV_TIMESTAMP_MS_MAX       253402300799999LL

/* Engine shape. */
#define INV_PARTITIONS_MAX         1024
#define INV_WORKERS_MAX            64
#define INV_BATCH_EVENTS_MAX       512  /* events a worker pulls and applies per batch */
#define INV_PREFETCH_DEPTH         16   /* events in flight in the apply pipeline */

/* Table. */
#define INV_TABLE_LOAD_PCT_MAX     75        /* grow the index above this load */
#define INV_TABLE_SLOTS_MIN        1024      /* smallest index, a power of two */
#define INV_TABLE_KEYS_MAX         (1u << 30) /* per partition; index positions are 32-bit */
#define INV_TABLE_ARENA_BYTES_DEFAULT (8ULL << 30) /* virtual reservation per partition */
#define INV_TABLE_ARENA_BYTES_MAX  (32ULL << 30)  /* record refs are 32-bit in 8-byte units */
#define INV_SEQLOCK_RETRIES_MAX    100000    /* reader retries on a record being written */

/* Dedup window (DESIGN.md section 3). */
#define INV_DEDUP_WINDOW_MS_DEFAULT (24LL * 3600 * 1000)
#define INV_DEDUP_IDS_MAX_DEFAULT   (1u << 20) /* per partition: 32 bytes per id (dedup.h) */
#define INV_DEDUP_IDS_MAX           (1u << 28)
#define INV_DEDUP_IDS_MIN           16
#define INV_DEDUP_GENERATIONS       64    /* a generation: ceil(1/64) of ids_max, of window_ms */
#define INV_DEDUP_GENERATIONS_LIVE_MAX 256 /* generation ring; dedup.c proves <= 2G + 3 are live */
#define INV_DEDUP_SWEEP_GENERATIONS 16384 /* every bucket is swept once per this many generations */

/* Kafka pipeline (io/). */
#define INV_FLUSH_EPOCHS_MAX        64     /* flushes in flight per partition (awaiting acks) */
#define INV_FLUSH_CHUNK_RECORDS     1024   /* records per rd_kafka_produce_batch call in a flush */
#define INV_WORKER_CMDS_MAX         (2 * INV_PARTITIONS_MAX) /* assign/revoke commands queued */
#define INV_REVOKE_TIMEOUT_MS       30000  /* a revoked partition's final flush and acks */
#define INV_RESTORE_IDLE_TIMEOUT_MS 30000  /* changelog restore: longest wait for the next record */
#define INV_KAFKA_REQUEST_TIMEOUT_MS 10000 /* committed offsets, watermarks, metadata, admin */
#define INV_KAFKA_RETRIES_MAX       20     /* tries of a start-up or recovery request */
#define INV_KAFKA_RETRY_BACKOFF_MS  500    /* between those tries */
#define INV_DLQ_SCAN_CHUNK          1024   /* DLQ records read per step of the recovery scan */
#define INV_DLQ_SCAN_RECORDS_MAX    (1u << 20) /* DLQ records the recovery scan reads at most */
#define INV_PRODUCE_RETRY_MS_MAX    600000 /* a DLQ write waits this long for queue space */
/* Fetch waker (io/fetch_waker.h): a worker whose queue held at least HIGH
 * messages since its last poke pokes once the queue is under LOW. HIGH is
 * reached before the default 64 MiB queue bound for events up to 2 KiB;
 * LOW is ~16 ms of work at 1M events/s, so the next fetch arrives before the
 * queue is empty (a LOW of 4096 measured worse with two workers). */
#define INV_FETCH_WAKE_HIGH_MSGS    32768
#define INV_FETCH_WAKE_LOW_MSGS     16384
#define INV_FETCH_WAKE_TIMEOUT_MS   1000   /* the waker's ListOffsets request */

_Static_assert(INV_FETCH_WAKE_LOW_MSGS < INV_FETCH_WAKE_HIGH_MSGS, "wake hysteresis");
_Static_assert(INV_KEY_LEN_MAX <= 255, "key length must fit a uint8_t");
_Static_assert(INV_EVENT_ID_LEN_MAX <= 65535, "event id length must fit a uint16_t");
_Static_assert(INV_PREFETCH_DEPTH <= INV_BATCH_EVENTS_MAX, "pipeline deeper than a batch");
_Static_assert((INV_PREFETCH_DEPTH & (INV_PREFETCH_DEPTH - 1)) == 0, "pipeline depth is a power of two");
_Static_assert((INV_TABLE_SLOTS_MIN & (INV_TABLE_SLOTS_MIN - 1)) == 0, "index size is a power of two");
_Static_assert(INV_TABLE_LOAD_PCT_MAX > 0 && INV_TABLE_LOAD_PCT_MAX < 100, "load bound in (0,100)");
_Static_assert(INV_QUANTITY_ABS_MAX < (INT64_MAX / 4), "quantity sums checked with int64 arithmetic");

#endif
