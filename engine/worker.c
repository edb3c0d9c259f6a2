/* worker.c - the worker thread: pull a batch, apply it, hand back results.
 *
 * The loop is bounded by the run flag and the input's pull timeout
 * (INV_WORKER_PULL_TIMEOUT_MS), so a stop request is seen within one pull.
 * The event and result arrays are part of the worker, sized once at
 * INV_BATCH_EVENTS_MAX; the loop allocates nothing. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inv_assert.h"
#include "inv_limits.h"
#include "rcu.h"
#include "inv_clock.h"

struct inv_worker {
    pthread_t thread;
    uint32_t index;
    uint32_t workers;
    int cpu;
    int running; /* atomic: 1 while the thread should go on */
    inv_partition *const *parts;
    int32_t parts_count;
    inv_worker_input in;
    inv_worker_stats stats; /* written by the thread with relaxed stores */
    inv_event events[INV_BATCH_EVENTS_MAX];
    inv_result results[INV_BATCH_EVENTS_MAX];
};

#define STAT_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

/* Worker thread. True when every event of the batch is of an owned partition. */
static bool batch_owned(const inv_worker *w, const inv_event *ev, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (ev[i].partition < 0 || ev[i].partition >= w->parts_count) return false;
        if ((uint32_t)ev[i].partition % w->workers != w->index) return false;
    }
    return true;
}

static void *worker_main(void *arg) {
    inv_worker *w = arg;
    char name[16]; /* the kernel's limit, NUL included: shown by top -H and ps -L */
    snprintf(name, sizeof(name), "inv-worker%u", w->index);
    (void)pthread_setname_np(pthread_self(), name); /* best effort: only a label */
    inv_rcu_register_thread();
    STAT_SET(w->stats.started_ns, inv_now_ns());
    int error = 0;
    while (__atomic_load_n(&w->running, __ATOMIC_ACQUIRE)) {
        int n = w->in.pull(w->in.ctx, w->events, INV_BATCH_EVENTS_MAX, INV_WORKER_PULL_TIMEOUT_MS);
        if (n == -ECANCELED) break;
        if (n < 0) {
            error = n;
            break;
        }
        if (n == 0) continue;
        inv_assert((size_t)n <= INV_BATCH_EVENTS_MAX);
        inv_assert(batch_owned(w, w->events, (size_t)n)); /* the input respects ownership */
        int64_t t0 = inv_now_ns();
        partition_apply_events(w->parts, w->parts_count, w->events, (size_t)n, w->results);
        STAT_SET(w->stats.busy_ns, w->stats.busy_ns + (uint64_t)(inv_now_ns() - t0));
        STAT_SET(w->stats.batches, w->stats.batches + 1);
        STAT_SET(w->stats.events, w->stats.events + (uint64_t)n);
        if (w->in.done != NULL) w->in.done(w->in.ctx, w->events, w->results, (size_t)n);
    }
    STAT_SET(w->stats.error, error);
    STAT_SET(w->stats.finished_ns, inv_now_ns());
    inv_rcu_unregister_thread();
    return NULL;
}

/* Control thread. See worker.h. */
int worker_start(inv_worker **out, uint32_t index, uint32_t workers, int cpu,
                 inv_partition *const *parts, int32_t parts_count, const inv_worker_input *in,
                 char *errstr, size_t errstr_len) {
    inv_assert(out != NULL && parts != NULL && in != NULL && in->pull != NULL);
    inv_assert(workers > 0 && index < workers);
    inv_worker *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(errstr, errstr_len, "worker %u: out of memory", index);
        return -ENOMEM;
    }
    *w = (inv_worker){.index = index, .workers = workers, .cpu = cpu, .running = 1,
                      .parts = parts, .parts_count = parts_count, .in = *in};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        int arc = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
        inv_assert(arc == 0); /* cpu < CPU_SETSIZE is checked by engine_create */
    }
    int rc = pthread_create(&w->thread, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        snprintf(errstr, errstr_len, "worker %u: cannot start thread%s%d: %s", index,
                 cpu >= 0 ? " pinned to cpu " : "", cpu >= 0 ? cpu : 0, strerror(rc));
        free(w);
        return -rc;
    }
    *out = w;
    return 0;
}

/* Any thread. See worker.h. */
void worker_request_stop(inv_worker *w) {
    inv_assert(w != NULL);
    __atomic_store_n(&w->running, 0, __ATOMIC_RELEASE);
}

/* Control thread. See worker.h. */
int worker_join(inv_worker *w, inv_worker_stats *final) {
    inv_assert(w != NULL);
    inv_assert(pthread_join(w->thread, NULL) == 0);
    if (final != NULL) *final = w->stats;
    int error = w->stats.error;
    free(w);
    return error;
}

/* Any thread. See worker.h. */
void worker_get_stats(const inv_worker *w, inv_worker_stats *out) {
    inv_assert(w != NULL && out != NULL);
    out->batches = __atomic_load_n(&w->stats.batches, __ATOMIC_RELAXED);
    out->events = __atomic_load_n(&w->stats.events, __ATOMIC_RELAXED);
    out->busy_ns = __atomic_load_n(&w->stats.busy_ns, __ATOMIC_RELAXED);
    out->started_ns = __atomic_load_n(&w->stats.started_ns, __ATOMIC_RELAXED);
    out->finished_ns = __atomic_load_n(&w->stats.finished_ns, __ATOMIC_RELAXED);
    out->error = __atomic_load_n(&w->stats.error, __ATOMIC_RELAXED);
}
