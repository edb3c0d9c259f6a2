/* dedup.c - the per-partition eventId window (DESIGN.md section 3).
 *
 * Two structures over one fixed mapping, both sized at dedup_create and never
 * resized:
 *   - a FIFO ring of ids_max entries {fingerprint, event time} in insertion
 *     order: it decides what leaves the window (the head, always);
 *   - an open-addressed set of fingerprints (0 = empty slot), linear probing,
 *     set_slots = the power of two >= 2 * ids_max, so the load never exceeds
 *     1/2 and a probe always meets an empty slot. The home slot comes from the
 *     fingerprint's high bits after a Fibonacci multiply. Deletion is by
 *     backward shift (no tombstones), so probe lengths depend only on the
 *     current load, never on history: a window that has churned for months
 *     probes exactly like a fresh one.
 *
 * Invariants (after every call): ring_count <= ids_max; the set holds exactly
 * the ring_count fingerprints of the ring, each once; every set entry is
 * reachable from its home slot without crossing an empty slot.
 *
 * Time expiry looks at the ring head only. Event time roughly follows
 * insertion order, so this is exact for in-order input and O(1) amortized;
 * for out-of-order input it is conservative: an id is never dropped before
 * either rule says so, but an id inserted late with an old time (already
 * outside the window) is still remembered until it reaches the head, and an
 * id that falls out of the window behind a head that is still inside it waits
 * for that head to leave. The count bound holds whatever the times.
 *
 * Memory: one anonymous mapping (set first, then ring), asked for transparent
 * huge pages and touched page by page at create, so the hot path never page
 * faults and the resident size is known up front. Nothing allocates after
 * dedup_create. */
#define XXH_INLINE_ALL /* the fingerprint is on the hot path: no call through the PLT */
#include "dedup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include "assert.h"
#include "limits.h"

/* 2^64 / golden ratio: spreads fingerprints that differ only in low bits. */
#define DEDUP_HOME_MULT 0x9E3779B97F4A7C15ULL

/* dedup_insert prefetches the set slot of the ring entry this far behind the
 * head: a full window pops one id per insert, and that pop is a random access
 * into the set. Measured on a full 1M-id window with the caller prefetching
 * its own fingerprints: contains+insert ~180 ns without, ~90 ns with. */
#define DEDUP_POP_PREFETCH_AHEAD 8u

typedef struct dedup_entry {
    uint64_t fp;     /* never 0 */
    int64_t time_ms; /* event time given to dedup_insert */
} dedup_entry;

struct inv_dedup {
    uint64_t *set;          /* set_slots fingerprints, 0 = empty */
    dedup_entry *ring;      /* ids_max entries; the oldest at ring_head */
    uint64_t set_mask;      /* set_slots - 1 */
    unsigned set_shift;     /* 64 - log2(set_slots): home = (fp * mult) >> set_shift */
    uint32_t ids_max;       /* ring size, the count bound */
    uint32_t ring_head;     /* index of the oldest id */
    uint32_t ring_count;    /* ids held, <= ids_max */
    int64_t window_ms;      /* > 0 */
    int64_t newest_time_ms; /* INT64_MIN before any insert and after dedup_clear */
    uint64_t inserted;
    uint64_t expired_by_time;
    uint64_t evicted_by_count;
    void *map; /* the one mapping holding set and ring */
    size_t map_bytes;
};

_Static_assert(sizeof(dedup_entry) == 16, "ring entry is 16 bytes");
_Static_assert(sizeof(size_t) >= 8, "the largest window needs 8 GiB of address space");
_Static_assert(INV_DEDUP_IDS_MIN >= 1 && INV_DEDUP_IDS_MIN <= INV_DEDUP_IDS_MAX, "id bounds");
_Static_assert(INV_DEDUP_IDS_MAX <= (1u << 30), "2 * ids_max and the ring index fit 32 bits");
_Static_assert(DEDUP_POP_PREFETCH_AHEAD < INV_DEDUP_IDS_MIN, "prefetch index wraps at most once");

/* Any thread. The set size for ids_max: the power of two >= 2 * ids_max. */
static uint64_t dedup_set_slots_for(uint32_t ids_max) {
    inv_assert(ids_max >= INV_DEDUP_IDS_MIN);
    inv_assert(ids_max <= INV_DEDUP_IDS_MAX);
    uint64_t want = 2ULL * ids_max;
    uint64_t slots = 1ULL << (64 - __builtin_clzll(want - 1));
    inv_assert(slots >= want && slots < 2 * want);
    return slots;
}

/* Any thread. Bytes of the mapping for ids_max: set and ring, rounded up to
 * whole pages (what the kernel actually hands out). */
static size_t dedup_map_bytes_for(uint32_t ids_max) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    inv_assert(page > 0 && (page & (page - 1)) == 0);
    size_t bytes = (size_t)dedup_set_slots_for(ids_max) * sizeof(uint64_t) +
                   (size_t)ids_max * sizeof(dedup_entry);
    return (bytes + page - 1) & ~(page - 1);
}

/* Owning worker. The home slot of fp. */
static inline uint64_t dedup_home(const inv_dedup *d, uint64_t fp) {
    return (fp * DEDUP_HOME_MULT) >> d->set_shift;
}

/* Owning worker. Adds fp to the set. Returns true, or false (and changes
 * nothing) when fp is already there. The load is <= 1/2 before the call, so
 * the probe meets an empty slot within set_slots steps. */
static bool dedup_set_add(inv_dedup *d, uint64_t fp) {
    inv_assert(fp != 0);
    inv_assert(d->ring_count < d->ids_max);
    uint64_t i = dedup_home(d, fp);
    for (uint64_t n = 0; n <= d->set_mask; n++) {
        uint64_t v = d->set[i];
        if (v == 0) {
            d->set[i] = fp;
            return true;
        }
        if (v == fp) return false;
        i = (i + 1) & d->set_mask;
    }
    inv_unreachable(); /* a full set: the load bound is broken */
}

/* Owning worker. Removes fp, which must be in the set, and closes the hole by
 * backward shift: each following entry of the cluster moves into the hole if
 * the hole lies on its probe path (between its home and its slot,
 * cyclically), until an empty slot ends the cluster. */
static void dedup_set_remove(inv_dedup *d, uint64_t fp) {
    inv_assert(fp != 0);
    const uint64_t mask = d->set_mask;
    uint64_t hole = dedup_home(d, fp);
    for (uint64_t n = 0; d->set[hole] != fp; n++) {
        inv_assert(n < mask);          /* bounded by the set size */
        inv_assert(d->set[hole] != 0); /* fp must be present: ring and set in step */
        hole = (hole + 1) & mask;
    }
    uint64_t j = hole;
    for (uint64_t n = 0; n <= mask; n++) {
        j = (j + 1) & mask;
        uint64_t v = d->set[j];
        if (v == 0) {
            d->set[hole] = 0;
            return;
        }
        /* Cyclic distances to j: from v's home, and from the hole. v may fill
         * the hole only if its home is at or before the hole on the way to j. */
        uint64_t home = dedup_home(d, v);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            d->set[hole] = v;
            hole = j;
        }
    }
    inv_unreachable(); /* no empty slot: the load bound is broken */
}

/* Owning worker. Drops the oldest id (the ring head) from ring and set. */
static void dedup_pop_head(inv_dedup *d) {
    inv_assert(d->ring_count > 0);
    inv_assert(d->ring_head < d->ids_max);
    dedup_set_remove(d, d->ring[d->ring_head].fp);
    d->ring_head = (d->ring_head + 1 == d->ids_max) ? 0 : d->ring_head + 1;
    d->ring_count--;
}

/* Owning worker. Pops heads whose time is < newest_time_ms - window_ms.
 * Returns the number expired (also added to expired_by_time). */
static uint32_t dedup_expire_by_time(inv_dedup *d) {
    inv_assert(d->window_ms > 0);
    inv_assert(d->ring_count <= d->ids_max);
    /* newest - window would go below INT64_MIN: no int64 time is older. */
    if (d->newest_time_ms < INT64_MIN + d->window_ms) return 0;
    const int64_t cutoff_ms = d->newest_time_ms - d->window_ms;
    uint32_t expired = 0;
    for (uint32_t n = 0; n < d->ids_max; n++) { /* at most the whole ring */
        if (d->ring_count == 0 || d->ring[d->ring_head].time_ms >= cutoff_ms) break;
        dedup_pop_head(d);
        expired++;
    }
    d->expired_by_time += expired;
    return expired;
}

/* Any thread, at set-up. See dedup.h: returns 0, -EINVAL or -ENOMEM. */
int dedup_create(inv_dedup **out, uint32_t ids_max, int64_t window_ms) {
    inv_assert(out != NULL);
    *out = NULL;
    if (ids_max < INV_DEDUP_IDS_MIN || ids_max > INV_DEDUP_IDS_MAX || window_ms <= 0) {
        return -EINVAL;
    }
    inv_dedup *d = calloc(1, sizeof(*d));
    if (d == NULL) return -ENOMEM;

    const uint64_t slots = dedup_set_slots_for(ids_max);
    d->map_bytes = dedup_map_bytes_for(ids_max);
    d->map = mmap(NULL, d->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d->map == MAP_FAILED) {
        free(d);
        return -ENOMEM;
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(d->map, d->map_bytes, MADV_HUGEPAGE); /* a hint; fine if refused */
#endif
    /* Fault every page in now (zero-filled by the kernel) so that no insert
     * pays for a page fault. Bounded by the mapping size. */
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t off = 0; off < d->map_bytes; off += page) ((volatile char *)d->map)[off] = 0;

    d->set = d->map;
    d->ring = (dedup_entry *)(void *)((char *)d->map + slots * sizeof(uint64_t));
    d->set_mask = slots - 1;
    d->set_shift = (unsigned)(64 - __builtin_ctzll(slots));
    d->ids_max = ids_max;
    d->window_ms = window_ms;
    d->newest_time_ms = INT64_MIN;
    inv_assert((char *)(d->ring + ids_max) <= (char *)d->map + d->map_bytes);
    inv_assert(dedup_home(d, UINT64_MAX) <= d->set_mask);
    *out = d;
    return 0;
}

/* Owning worker, or any thread once the owner stopped. See dedup.h. */
void dedup_destroy(inv_dedup *d) {
    if (d == NULL) return;
    inv_assert(d->map != NULL && d->map_bytes > 0);
    int rc = munmap(d->map, d->map_bytes);
    inv_assert(rc == 0); /* only fails for a mapping we did not make */
    d->map = NULL;
    free(d);
}

/* Any thread. See dedup.h: XXH3-64 of the bytes, never 0. */
uint64_t dedup_fingerprint(const char *event_id, size_t len) {
    inv_assert(event_id != NULL || len == 0);
    uint64_t fp = XXH3_64bits(event_id, len);
    return fp == 0 ? 1 : fp; /* 0 marks an empty set slot */
}

/* Owning worker. See dedup.h. A hint only: touches nothing it could fault on. */
void dedup_prefetch(const inv_dedup *d, uint64_t fp) {
    __builtin_prefetch(&d->set[dedup_home(d, fp)], 0, 3);
}

/* Owning worker. See dedup.h: true when fp is held. */
bool dedup_contains(const inv_dedup *d, uint64_t fp) {
    inv_assert(d != NULL);
    inv_assert(fp != 0);
    uint64_t i = dedup_home(d, fp);
    for (uint64_t n = 0; n <= d->set_mask; n++) { /* ends at an empty slot long before */
        uint64_t v = d->set[i];
        if (v == fp) return true;
        if (v == 0) return false;
        i = (i + 1) & d->set_mask;
    }
    inv_unreachable(); /* a full set: the load bound is broken */
}

/* Owning worker. See dedup.h: expire by time, evict by count, then add. */
void dedup_insert(inv_dedup *d, uint64_t fp, int64_t event_time_ms) {
    inv_assert(d != NULL);
    inv_assert(fp != 0);
    inv_assert(d->ring_count <= d->ids_max);
    if (d->ring_count > DEDUP_POP_PREFETCH_AHEAD) {
        /* FIFO: this id leaves the window DEDUP_POP_PREFETCH_AHEAD pops from
         * now; start loading its set slot so that the pop does not miss. Only
         * when a pop is near (the window is almost full, or that id is already
         * out of the time window): otherwise the prefetch is a wasted random
         * access on every insert. */
        uint32_t ahead = d->ring_head + DEDUP_POP_PREFETCH_AHEAD;
        if (ahead >= d->ids_max) ahead -= d->ids_max;
        const dedup_entry *next_out = &d->ring[ahead];
        bool pop_near = d->ring_count + DEDUP_POP_PREFETCH_AHEAD >= d->ids_max ||
                        (d->newest_time_ms >= INT64_MIN + d->window_ms &&
                         next_out->time_ms < d->newest_time_ms - d->window_ms);
        if (pop_near) __builtin_prefetch(&d->set[dedup_home(d, next_out->fp)], 1, 3);
    }
    if (event_time_ms > d->newest_time_ms) d->newest_time_ms = event_time_ms;
    (void)dedup_expire_by_time(d);
    if (d->ring_count == d->ids_max) {
        dedup_pop_head(d);
        d->evicted_by_count++;
    }
    const bool added = dedup_set_add(d, fp);
    inv_debug_assert(added); /* contract: fp is not in the window */
    if (!added) return;      /* release builds: ignore it, ring and set stay in step */
    uint32_t tail = d->ring_head + d->ring_count;
    if (tail >= d->ids_max) tail -= d->ids_max;
    d->ring[tail] = (dedup_entry){.fp = fp, .time_ms = event_time_ms};
    d->ring_count++;
    d->inserted++;
}

/* Owning worker. See dedup.h. O(set_slots): not for the hot path. */
void dedup_clear(inv_dedup *d) {
    inv_assert(d != NULL);
    inv_assert(d->ring_count <= d->ids_max);
    memset(d->set, 0, (size_t)(d->set_mask + 1) * sizeof(uint64_t));
    d->ring_head = 0;
    d->ring_count = 0;
    d->newest_time_ms = INT64_MIN;
}

/* Owning worker, or any thread when the owner is stopped. See dedup.h. */
void dedup_get_stats(const inv_dedup *d, inv_dedup_stats *out) {
    inv_assert(d != NULL);
    inv_assert(out != NULL);
    inv_assert(d->ring_count <= d->ids_max);
    *out = (inv_dedup_stats){
        .ids = d->ring_count,
        .inserted = d->inserted,
        .expired_by_time = d->expired_by_time,
        .evicted_by_count = d->evicted_by_count,
        .newest_time_ms = d->newest_time_ms,
    };
}

/* Any thread (reads fields fixed at create). See dedup.h. */
size_t dedup_memory_bytes(const inv_dedup *d) {
    inv_assert(d != NULL);
    inv_assert(d->map_bytes == dedup_map_bytes_for(d->ids_max));
    return sizeof(*d) + d->map_bytes;
}

/* Any thread. See dedup.h: the bytes dedup_create takes, or 0 out of range. */
size_t dedup_memory_bytes_for(uint32_t ids_max) {
    if (ids_max < INV_DEDUP_IDS_MIN || ids_max > INV_DEDUP_IDS_MAX) return 0;
    return sizeof(inv_dedup) + dedup_map_bytes_for(ids_max);
}
