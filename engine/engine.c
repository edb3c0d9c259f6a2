/* engine.c - partition slots, workers and the read API (see engine.h).
 *
 * Slots are plain pointers written with release stores by their single
 * writer (the control thread while stopped, or the owning worker) and read
 * with acquire loads inside RCU read sections. A closed partition is retired
 * through call_rcu, so a reader that still sees it finishes safely. */
#include "engine.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_assert.h"
#include "event.h"
#include "partitioner.h"
#include "rcu.h"

struct inv_engine {
    inv_engine_config cfg;
    bool started;
    inv_worker *workers[INV_WORKERS_MAX];
    inv_worker_stats final_stats[INV_WORKERS_MAX]; /* kept when a worker is joined */
    inv_partition *parts[INV_PARTITIONS_MAX];      /* RCU-published slots */
};

typedef struct retired_partition {
    struct rcu_head rcu;
    inv_partition *p;
} retired_partition;

/* Any thread. See engine.h. */
void engine_config_defaults(inv_engine_config *cfg) {
    inv_assert(cfg != NULL);
    memset(cfg, 0, sizeof(*cfg));
    cfg->partitions = 12;
    cfg->workers = 1;
    for (int i = 0; i < INV_WORKERS_MAX; i++) cfg->cpus[i] = -1;
    cfg->dedup_enabled = true;
}

/* Control thread. See engine.h. */
int engine_create(inv_engine **out, const inv_engine_config *cfg, char *errstr, size_t errstr_len) {
    inv_assert(out != NULL && cfg != NULL);
    inv_assert(errstr != NULL && errstr_len > 0);
    if (cfg->partitions < 1 || cfg->partitions > INV_PARTITIONS_MAX) {
        snprintf(errstr, errstr_len, "partitions = %d: must be 1..%d", cfg->partitions,
                 INV_PARTITIONS_MAX);
        return -EINVAL;
    }
    if (cfg->workers < 1 || cfg->workers > INV_WORKERS_MAX) {
        snprintf(errstr, errstr_len, "workers = %u: must be 1..%d", cfg->workers, INV_WORKERS_MAX);
        return -EINVAL;
    }
    for (uint32_t i = 0; i < cfg->workers; i++) {
        if (cfg->cpus[i] < -1 || cfg->cpus[i] >= CPU_SETSIZE) {
            snprintf(errstr, errstr_len, "cpus[%u] = %d: must be -1 (not pinned) or 0..%d", i,
                     cfg->cpus[i], CPU_SETSIZE - 1);
            return -EINVAL;
        }
    }
    if (cfg->dedup_window_ms < 0) {
        snprintf(errstr, errstr_len, "dedup window = %lld ms: must be > 0",
                 (long long)cfg->dedup_window_ms);
        return -EINVAL;
    }
    inv_engine *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        snprintf(errstr, errstr_len, "engine: out of memory");
        return -ENOMEM;
    }
    e->cfg = *cfg;
    *out = e;
    return 0;
}

static void partition_free_rcu(struct rcu_head *head) {
    inv_rcu_reclaim_begin();
    retired_partition *r = caa_container_of(head, retired_partition, rcu);
    partition_destroy(r->p);
    free(r);
}

/* Control thread, engine stopped. See engine.h. */
void engine_destroy(inv_engine *e) {
    if (e == NULL) return;
    inv_assert(!e->started);
    for (int32_t p = 0; p < e->cfg.partitions; p++) engine_partition_close(e, p);
    inv_rcu_barrier();
    free(e);
}

/* Any thread. See engine.h. */
uint32_t engine_worker_count(const inv_engine *e) {
    return e->cfg.workers;
}

/* Any thread. See engine.h. */
int32_t engine_partition_count(const inv_engine *e) {
    return e->cfg.partitions;
}

/* Any thread. See engine.h. */
uint32_t engine_worker_of(const inv_engine *e, int32_t p) {
    inv_assert(p >= 0 && p < e->cfg.partitions);
    return (uint32_t)p % e->cfg.workers;
}

/* Control thread (stopped) or owning worker. See engine.h. */
int engine_partition_open(inv_engine *e, int32_t p, char *errstr, size_t errstr_len) {
    inv_assert(e != NULL);
    if (p < 0 || p >= e->cfg.partitions) {
        snprintf(errstr, errstr_len, "partition %d out of range [0, %d)", p, e->cfg.partitions);
        return -EINVAL;
    }
    if (e->parts[p] != NULL) return -EEXIST;
    inv_partition_config pc = {.id = p, .table = e->cfg.table, .dedup_enabled = e->cfg.dedup_enabled,
                               .dedup_ids_max = e->cfg.dedup_ids_max,
                               .dedup_window_ms = e->cfg.dedup_window_ms};
    inv_partition *part = NULL;
    int rc = partition_create(&part, &pc, errstr, errstr_len);
    if (rc != 0) return rc;
    inv_rcu_publish(&e->parts[p], part);
    return 0;
}

/* Control thread (stopped) or owning worker. See engine.h. */
inv_partition *engine_partition(inv_engine *e, int32_t p) {
    inv_assert(e != NULL);
    inv_assert(p >= 0 && p < e->cfg.partitions);
    return e->parts[p];
}

/* Control thread (stopped) or owning worker. See engine.h. */
void engine_partition_close(inv_engine *e, int32_t p) {
    inv_assert(e != NULL);
    inv_assert(p >= 0 && p < e->cfg.partitions);
    inv_partition *part = e->parts[p];
    if (part == NULL) return;
    inv_rcu_publish(&e->parts[p], (inv_partition *)NULL);
    retired_partition *r = malloc(sizeof(*r));
    if (r == NULL) { /* no memory for the deferred free: wait for readers instead */
        urcu_memb_synchronize_rcu();
        inv_rcu_reclaim_begin();
        partition_destroy(part);
        return;
    }
    r->p = part;
    inv_rcu_retire(&r->rcu, partition_free_rcu);
}

/* Control thread. See engine.h. */
int engine_start(inv_engine *e, const inv_worker_input *inputs, char *errstr, size_t errstr_len) {
    inv_assert(e != NULL && inputs != NULL);
    inv_assert(!e->started);
    for (uint32_t i = 0; i < e->cfg.workers; i++) {
        int rc = worker_start(&e->workers[i], i, e->cfg.workers, e->cfg.cpus[i], e->parts,
                              e->cfg.partitions, &inputs[i], errstr, errstr_len);
        if (rc != 0) {
            for (uint32_t j = 0; j < i; j++) worker_request_stop(e->workers[j]);
            for (uint32_t j = 0; j < i; j++) (void)worker_join(e->workers[j], NULL);
            memset(e->workers, 0, sizeof(e->workers));
            return rc;
        }
    }
    e->started = true;
    return 0;
}

static int join_all(inv_engine *e) {
    int first = 0;
    for (uint32_t i = 0; i < e->cfg.workers; i++) {
        inv_assert(e->workers[i] != NULL);
        int rc = worker_join(e->workers[i], &e->final_stats[i]); /* stats outlive the thread */
        if (rc != 0 && first == 0) first = rc;
        e->workers[i] = NULL;
    }
    e->started = false;
    return first;
}

/* Control thread. See engine.h. */
int engine_stop(inv_engine *e) {
    inv_assert(e != NULL);
    if (!e->started) return 0;
    for (uint32_t i = 0; i < e->cfg.workers; i++) worker_request_stop(e->workers[i]);
    return join_all(e);
}

/* Control thread. See engine.h. */
int engine_wait(inv_engine *e) {
    inv_assert(e != NULL);
    if (!e->started) return 0;
    return join_all(e);
}

/* Any thread. See engine.h. */
void engine_worker_stats(const inv_engine *e, uint32_t i, inv_worker_stats *out) {
    inv_assert(e != NULL && i < e->cfg.workers);
    if (e->workers[i] != NULL)
        worker_get_stats(e->workers[i], out);
    else
        *out = e->final_stats[i];
}

/* Any registered thread. See engine.h. */
int engine_lookup(inv_engine *e, const char *sku, size_t sku_len, const char *loc,
                  size_t loc_len, inv_agg *out) {
    inv_assert(e != NULL && out != NULL);
    if (sku_len < 1 || sku_len > INV_SKU_LEN_MAX || !event_id_chars_ok(sku, sku_len)) return -EINVAL;
    if (loc_len < 1 || loc_len > INV_LOCATION_LEN_MAX || !event_id_chars_ok(loc, loc_len))
        return -EINVAL;
    inv_key_buf kb;
    const inv_key *k = table_key_init(&kb, sku, sku_len, loc, loc_len);
    int32_t p = partitioner_partition(table_key_bytes(k), k->len, e->cfg.partitions);
    inv_rcu_read_lock();
    inv_partition *part = inv_rcu_deref(&e->parts[p]);
    int rc = part != NULL ? table_lookup(partition_table(part), k, out) : -ENOENT;
    inv_rcu_read_unlock();
    return rc;
}

/* Any registered thread. See engine.h. */
long engine_sku_foreach(inv_engine *e, const char *sku, size_t sku_len, table_loc_fn fn,
                        void *ctx) {
    inv_assert(e != NULL && fn != NULL);
    if (sku_len < 1 || sku_len > INV_SKU_LEN_MAX || !event_id_chars_ok(sku, sku_len)) return -EINVAL;
    inv_key_buf kb;
    /* the location is not used by the SKU index */
    const inv_key *k = table_key_init(&kb, sku, sku_len, "-", 1);
    long total = 0;
    inv_rcu_read_lock();
    for (int32_t p = 0; p < e->cfg.partitions; p++) {
        inv_partition *part = inv_rcu_deref(&e->parts[p]);
        if (part == NULL) continue;
        long n = table_sku_foreach(partition_table(part), k, fn, ctx);
        if (n < 0) {
            total = n;
            break;
        }
        total += n;
    }
    inv_rcu_read_unlock();
    return total;
}

/* Any registered thread. See engine.h. */
int engine_partition_stats(inv_engine *e, int32_t p, inv_partition_stats *out,
                           uint64_t *memory_bytes) {
    inv_assert(e != NULL && out != NULL);
    if (p < 0 || p >= e->cfg.partitions) return -ENOENT;
    inv_rcu_read_lock();
    inv_partition *part = inv_rcu_deref(&e->parts[p]);
    if (part != NULL) {
        partition_get_stats(part, out);
        if (memory_bytes != NULL) *memory_bytes = partition_memory_bytes(part);
    }
    inv_rcu_read_unlock();
    return part != NULL ? 0 : -ENOENT;
}
