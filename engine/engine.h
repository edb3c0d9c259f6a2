/* engine.h - partitions, workers and the read API, put together.
 *
 * The engine holds a fixed array of partition slots (the topic's partition
 * count) and W workers. Partition p belongs to worker p % W. A slot holds a
 * partition while it is open; slots are published with release stores and a
 * closed partition is freed after an RCU grace period, so readers on any
 * registered thread may look keys up at any time without blocking a worker.
 *
 * Threading: engine_create/destroy/start/stop from one control thread;
 * engine_partition_open/close from the control thread while the engine is
 * stopped, or from the owning worker; lookups from any thread registered with
 * inv_rcu_register_thread (they take the read lock themselves). */
#ifndef INV_ENGINE_H
#define INV_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inv_limits.h"
#include "partition.h"
#include "worker.h"

typedef struct inv_engine inv_engine;

typedef struct inv_engine_config {
    int32_t partitions;          /* 1..INV_PARTITIONS_MAX */
    uint32_t workers;            /* 1..INV_WORKERS_MAX */
    int cpus[INV_WORKERS_MAX];   /* CPU of worker i; -1 = not pinned */
    inv_table_config table;      /* per partition */
    bool dedup_enabled;
    uint32_t dedup_ids_max;      /* per partition; 0 = default */
    int64_t dedup_window_ms;     /* 0 = default (24 h) */
} inv_engine_config;

/* Any thread. Fills cfg with the defaults: 12 partitions, 1 worker, not
 * pinned, dedup on with the default window. */
void engine_config_defaults(inv_engine_config *cfg);

/* Control thread. Validates cfg (errstr names the bad field) and creates a
 * stopped engine with no partition open. 0, -EINVAL or -ENOMEM. */
int engine_create(inv_engine **out, const inv_engine_config *cfg, char *errstr, size_t errstr_len);

/* Control thread, engine stopped. Closes every partition, waits for the grace
 * periods, frees everything. NULL allowed. */
void engine_destroy(inv_engine *e);

/* Any thread. The number of workers and of partition slots. */
uint32_t engine_worker_count(const inv_engine *e);
int32_t engine_partition_count(const inv_engine *e);

/* Any thread. The worker that owns partition p. */
uint32_t engine_worker_of(const inv_engine *e, int32_t p);

/* Control thread (engine stopped) or the owning worker. Creates partition p
 * empty and publishes it. 0; -EEXIST if open; -EINVAL/-ENOMEM with errstr. */
int engine_partition_open(inv_engine *e, int32_t p, char *errstr, size_t errstr_len);

/* Control thread (engine stopped) or the owning worker. The open partition p,
 * or NULL; only its owner may call the owner-only partition functions. */
inv_partition *engine_partition(inv_engine *e, int32_t p);

/* Control thread (engine stopped) or the owning worker. Unpublishes p and
 * frees it after a grace period. No-op if p is not open. */
void engine_partition_close(inv_engine *e, int32_t p);

/* Control thread. Starts one thread per worker, pinned as configured, each
 * pulling from inputs[i] (copied). 0, or -errno with errstr (e.g. a CPU that
 * does not exist); on failure no worker is left running. */
int engine_start(inv_engine *e, const inv_worker_input *inputs, char *errstr, size_t errstr_len);

/* Control thread. Asks every worker to stop after its current batch and
 * joins them. Returns the first worker error, or 0. */
int engine_stop(inv_engine *e);

/* Control thread. Waits until every worker's input reported -ECANCELED (or an
 * error), then joins them as engine_stop. Returns the first error, or 0. */
int engine_wait(inv_engine *e);

/* Any thread. Counters of worker i (a recent view while it runs). */
void engine_worker_stats(const inv_engine *e, uint32_t i, inv_worker_stats *out);

/* Any registered thread. The aggregate of (sku, loc), found in the partition
 * Kafka's murmur2 partitioner assigns to "sku:loc". 0; -ENOENT (no such key,
 * or its partition is not open here); -EINVAL (bad sku/loc); -EAGAIN. */
int engine_lookup(inv_engine *e, const char *sku, size_t sku_len, const char *loc,
                  size_t loc_len, inv_agg *out);

/* Any registered thread. Visits every location of sku in every open
 * partition. Returns the number visited, -EINVAL or -EAGAIN. */
long engine_sku_foreach(inv_engine *e, const char *sku, size_t sku_len, table_loc_fn fn,
                        void *ctx);

/* Any registered thread. Copies partition p's counters and memory; -ENOENT
 * if it is not open. */
int engine_partition_stats(inv_engine *e, int32_t p, inv_partition_stats *out,
                           uint64_t *memory_bytes);

#endif
