/* dedup.c - the per-partition eventId window (DESIGN.md section 3).
 *
 * Two structures over one fixed mapping, both sized at dedup_create and never
 * resized:
 *   - a FIFO ring of ids_max entries {fingerprint, event time} in insertion
 *     order: it decides what leaves the window (the head, always);
 *   - an open-addressed set of fingerprints (0 = empty slot) in buckets of
 *     DEDUP_BUCKET_SLOTS = 8 slots, one 64-byte cache line each (the low
 *     32-bit halves of the 8 fingerprints, then the high halves, so that SSE2
 *     compares all 8 with four 32-bit compares and an AND), probed
 *     linearly bucket by bucket. set_slots = the power of two >= 2 * ids_max,
 *     so the load never exceeds 1/2: a bucket then holds 4 ids on average and
 *     is full ~5% of the time (~12% of pops find their bucket full, which is
 *     when a backward shift runs), so almost every operation reads one line (the
 *     one dedup_prefetch loaded) and compares its 8 slots without a branch
 *     per slot. The home bucket comes from the fingerprint's high bits after
 *     a Fibonacci multiply. Deletion is by backward shift at bucket
 *     granularity (no tombstones): an id sits past its home bucket only while
 *     every bucket from its home up to its own is full, so a probe stops at
 *     the first bucket with an empty slot, and probe lengths depend only on
 *     the current contents, never on history: a window that has churned for
 *     months probes like a fresh one.
 *
 * Invariants (after every call): ring_count <= ids_max; the set holds exactly
 * the ring_count fingerprints of the ring, each once; every entry outside its
 * home bucket has only full buckets from its home up to (not including) its
 * own. ring_tail = (ring_head + ring_count) % ids_max.
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
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include "inv_assert.h"
#include "inv_limits.h"

/* 2^64 / golden ratio: spreads fingerprints that differ only in low bits. */
#define DEDUP_HOME_MULT 0x9E3779B97F4A7C15ULL

/* Slots per bucket: 8 fingerprints fill one 64-byte cache line. */
#define DEDUP_BUCKET_SLOTS 8u

/* Each pop prefetches the set bucket of the ring entry this far behind the
 * head: a window that pops at all pops about one id per insert, and each pop
 * is a random access into the set. Measured on a full 1M-id window with the
 * caller prefetching its own fingerprints: contains+insert ~94 ns/op with 1,
 * ~72-77 with 4 or 8, ~81 with 12. */
#define DEDUP_POP_PREFETCH_AHEAD 8u

typedef struct dedup_bucket {
    uint32_t lo[DEDUP_BUCKET_SLOTS]; /* low 32 bits of slot k's fingerprint */
    uint32_t hi[DEDUP_BUCKET_SLOTS]; /* high 32 bits; both 0 = empty slot */
} dedup_bucket;

typedef struct dedup_entry {
    uint64_t fp;     /* never 0 */
    int64_t time_ms; /* event time given to dedup_insert */
} dedup_entry;

struct inv_dedup {
    dedup_bucket *set;      /* set_slots / DEDUP_BUCKET_SLOTS buckets; 64-byte aligned */
    dedup_entry *ring;      /* ids_max entries; the oldest at ring_head */
    uint64_t bucket_mask;   /* buckets - 1 (buckets = set_slots / DEDUP_BUCKET_SLOTS) */
    unsigned bucket_shift;  /* 64 - log2(buckets): home = (fp * mult) >> bucket_shift */
    uint32_t ids_max;       /* ring size, the count bound */
    uint32_t ring_head;     /* index of the oldest id */
    uint32_t ring_count;    /* ids held, <= ids_max */
    uint32_t ring_tail;     /* where the next id goes: (ring_head + ring_count) % ids_max */
    int64_t window_ms;      /* > 0 */
    int64_t newest_time_ms; /* INT64_MIN before any insert and after dedup_clear */
    int64_t head_deadline_ms; /* the head expires once newest_time_ms > this: its time +
                               * window_ms, or INT64_MAX when that overflows (never) */
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
_Static_assert(sizeof(dedup_bucket) == 64, "a bucket is one cache line");
_Static_assert(sizeof(dedup_bucket) == DEDUP_BUCKET_SLOTS * sizeof(uint64_t), "8 bytes per slot");
_Static_assert(2 * INV_DEDUP_IDS_MIN >= 2 * DEDUP_BUCKET_SLOTS, "at least two buckets");

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

/* Owning worker. The home bucket of fp. */
static inline uint64_t dedup_home(const inv_dedup *d, uint64_t fp) {
    return (fp * DEDUP_HOME_MULT) >> d->bucket_shift;
}

/* Owning worker. Bucket b. */
static inline dedup_bucket *dedup_bucket_at(const inv_dedup *d, uint64_t b) {
    return &d->set[b];
}

/* Owning worker. The fingerprint in slot k of bucket s (0: empty). */
static inline uint64_t dedup_slot_get(const dedup_bucket *s, unsigned k) {
    return (uint64_t)s->hi[k] << 32 | s->lo[k];
}

/* Owning worker. Stores fp (0: empties the slot) in slot k of bucket s. */
static inline void dedup_slot_set(dedup_bucket *s, unsigned k, uint64_t fp) {
    s->lo[k] = (uint32_t)fp;
    s->hi[k] = (uint32_t)(fp >> 32);
}

/* Owning worker. Compares the 8 slots of bucket s with fp and with 0 at once:
 * *eq gets bit 2k set when slot k holds fp, *empty bit 2k when slot k is
 * empty (slot index = ctz / 2; bit 2k + 1 may be set too). No branch. */
static inline void dedup_bucket_match(const dedup_bucket *s, uint64_t fp, uint32_t *eq,
                                      uint32_t *empty) {
#ifdef __SSE2__
    const __m128i lo0 = _mm_load_si128((const __m128i *)(const void *)&s->lo[0]);
    const __m128i lo1 = _mm_load_si128((const __m128i *)(const void *)&s->lo[4]);
    const __m128i hi0 = _mm_load_si128((const __m128i *)(const void *)&s->hi[0]);
    const __m128i hi1 = _mm_load_si128((const __m128i *)(const void *)&s->hi[4]);
    const __m128i flo = _mm_set1_epi32((int)(uint32_t)fp);
    const __m128i fhi = _mm_set1_epi32((int)(uint32_t)(fp >> 32));
    const __m128i z = _mm_setzero_si128();
    const __m128i e0 = _mm_and_si128(_mm_cmpeq_epi32(lo0, flo), _mm_cmpeq_epi32(hi0, fhi));
    const __m128i e1 = _mm_and_si128(_mm_cmpeq_epi32(lo1, flo), _mm_cmpeq_epi32(hi1, fhi));
    const __m128i m0 = _mm_cmpeq_epi32(_mm_or_si128(lo0, hi0), z);
    const __m128i m1 = _mm_cmpeq_epi32(_mm_or_si128(lo1, hi1), z);
    /* 8 lanes of all-ones or zero -> 16-bit lanes -> two mask bits per slot. */
    *eq = (uint32_t)_mm_movemask_epi8(_mm_packs_epi32(e0, e1));
    *empty = (uint32_t)_mm_movemask_epi8(_mm_packs_epi32(m0, m1));
#else
    uint32_t e = 0, m = 0;
    for (unsigned k = 0; k < DEDUP_BUCKET_SLOTS; k++) {
        e |= (uint32_t)(dedup_slot_get(s, k) == fp) << (2 * k);
        m |= (uint32_t)(dedup_slot_get(s, k) == 0) << (2 * k);
    }
    *eq = e;
    *empty = m;
#endif
}

/* Owning worker. Adds fp to the set. Returns true, or false (and changes
 * nothing) when fp is already there. The caller guarantees ring_count <
 * ids_max, so the load is < 1/2, some bucket has an empty slot and the probe
 * ends within the bucket count (almost always in the home bucket). */
static inline bool dedup_set_add(inv_dedup *d, uint64_t fp) {
    inv_debug_assert(fp != 0);
    inv_debug_assert(d->ring_count < d->ids_max);
    uint64_t b = dedup_home(d, fp);
    for (uint64_t n = 0; n <= d->bucket_mask; n++) {
        dedup_bucket *s = dedup_bucket_at(d, b);
        uint32_t eq, empty;
        dedup_bucket_match(s, fp, &eq, &empty);
        if (eq != 0) return false;
        if (empty != 0) {
            dedup_slot_set(s, (unsigned)__builtin_ctz(empty) / 2, fp);
            return true;
        }
        b = (b + 1) & d->bucket_mask; /* full: fp may only go further on */
    }
    inv_unreachable(); /* a full set: the load bound is broken */
}

/* Owning worker, rare path of dedup_set_remove. The hole at slot hole_slot of
 * bucket hole_b was just made in a bucket that was full, so ids further on
 * may have probed past it: moves into the hole the first id (of the
 * following full buckets) whose home is at or before hole_b on the way to
 * its own bucket, then repeats for the hole that leaves, until a bucket that
 * was not full ends the run. */
static __attribute__((noinline)) void dedup_set_shift_back(inv_dedup *d, uint64_t hole_b,
                                                          unsigned hole_slot) {
    const uint64_t mask = d->bucket_mask;
    uint64_t k = hole_b;
    for (uint64_t n = 0; n <= mask; n++) {
        k = (k + 1) & mask;
        dedup_bucket *s = dedup_bucket_at(d, k);
        bool full = true;
        unsigned take = DEDUP_BUCKET_SLOTS;
        for (unsigned i = 0; i < DEDUP_BUCKET_SLOTS; i++) {
            const uint64_t v = dedup_slot_get(s, i);
            if (v == 0) {
                full = false;
            } else if (take == DEDUP_BUCKET_SLOTS &&
                       ((k - dedup_home(d, v)) & mask) >= ((k - hole_b) & mask)) {
                take = i; /* home at or before the hole: the hole is on its path */
            }
        }
        if (take != DEDUP_BUCKET_SLOTS) {
            dedup_slot_set(dedup_bucket_at(d, hole_b), hole_slot, dedup_slot_get(s, take));
            dedup_slot_set(s, take, 0);
            hole_b = k;
            hole_slot = take;
        }
        if (!full) return; /* nothing probed past bucket k */
    }
    inv_unreachable(); /* no bucket with an empty slot: the load bound is broken */
}

/* Owning worker. Removes fp, which must be in the set. When its bucket was
 * full (~12% of pops at the maximum load), later ids may have probed past it: the
 * backward shift in dedup_set_shift_back closes the hole. */
static void dedup_set_remove(inv_dedup *d, uint64_t fp) {
    inv_debug_assert(fp != 0);
    uint64_t b = dedup_home(d, fp);
    for (uint64_t n = 0; n <= d->bucket_mask; n++) {
        dedup_bucket *s = dedup_bucket_at(d, b);
        uint32_t eq, empty;
        dedup_bucket_match(s, fp, &eq, &empty);
        if (eq != 0) {
            const unsigned slot = (unsigned)__builtin_ctz(eq) / 2;
            dedup_slot_set(s, slot, 0);
            if (empty == 0) dedup_set_shift_back(d, b, slot);
            return;
        }
        inv_assert(empty == 0); /* fp must be present: ring and set in step */
        b = (b + 1) & d->bucket_mask;
    }
    inv_unreachable(); /* fp is not in the set: ring and set out of step */
}

/* Owning worker. When an id of time time_ms expires: it does once
 * newest_time_ms > the value returned. time_ms < newest - window_ms is
 * time_ms + window_ms < newest; when the sum overflows, no int64 newest is
 * larger and INT64_MAX says "never". */
static inline int64_t dedup_deadline(const inv_dedup *d, int64_t time_ms) {
    return time_ms > INT64_MAX - d->window_ms ? INT64_MAX : time_ms + d->window_ms;
}

/* Owning worker. Drops the oldest id (the ring head) from ring and set, and
 * prefetches the set slot of the id DEDUP_POP_PREFETCH_AHEAD places behind
 * it: a window that pops at all (full, or moving in time) pops about once per
 * insert, so that slot is needed that many pops from now. When fewer ids are
 * held the entry there is stale (or zero): a wasted prefetch of a slot inside
 * the set, never a fault. */
static void dedup_pop_head(inv_dedup *d) {
    inv_assert(d->ring_count > 0);
    inv_debug_assert(d->ring_head < d->ids_max);
    uint32_t ahead = d->ring_head + DEDUP_POP_PREFETCH_AHEAD;
    if (ahead >= d->ids_max) ahead -= d->ids_max;
    __builtin_prefetch(dedup_bucket_at(d, dedup_home(d, d->ring[ahead].fp)), 1, 3);
    dedup_set_remove(d, d->ring[d->ring_head].fp);
    d->ring_head = (d->ring_head + 1 == d->ids_max) ? 0 : d->ring_head + 1;
    d->ring_count--;
    d->head_deadline_ms = dedup_deadline(d, d->ring[d->ring_head].time_ms); /* stale if empty */
}

/* Owning worker. Makes room for one id: pops heads out of the time window
 * (counted in expired_by_time), then, if the window is still full, the oldest
 * (evicted_by_count). When that leaves the window empty, the next id
 * (time event_time_ms) will be the head: its deadline is set here. Bounded by
 * the ring size. */
static void dedup_make_room(inv_dedup *d, int64_t event_time_ms) {
    inv_assert(d->ring_count <= d->ids_max);
    inv_debug_assert(d->ring_tail == (d->ring_head + d->ring_count) % d->ids_max);
    uint32_t expired = 0;
    for (uint32_t n = 0; n < d->ids_max; n++) { /* at most the whole ring */
        if (d->ring_count == 0 || d->newest_time_ms <= d->head_deadline_ms) break;
        inv_debug_assert(d->head_deadline_ms == dedup_deadline(d, d->ring[d->ring_head].time_ms));
        dedup_pop_head(d);
        expired++;
    }
    d->expired_by_time += expired;
    if (d->ring_count == d->ids_max) {
        dedup_pop_head(d);
        d->evicted_by_count++;
    }
    if (d->ring_count == 0) d->head_deadline_ms = dedup_deadline(d, event_time_ms);
    inv_assert(d->ring_count < d->ids_max);
}

/* Owning worker. Appends fp to the ring and counts it. The set already holds
 * it; ring_count < ids_max. */
static inline void dedup_ring_push(inv_dedup *d, uint64_t fp, int64_t event_time_ms) {
    const uint32_t tail = d->ring_tail;
    d->ring[tail] = (dedup_entry){.fp = fp, .time_ms = event_time_ms};
    d->ring_tail = (tail + 1 == d->ids_max) ? 0 : tail + 1;
    d->ring_count++;
    d->inserted++;
}

/* Owning worker. dedup_insert when ids must leave first (or the window is
 * empty): kept out of line so the common path stays small. */
static __attribute__((noinline)) void dedup_insert_slow(inv_dedup *d, uint64_t fp,
                                                       int64_t event_time_ms) {
    dedup_make_room(d, event_time_ms);
    const bool added = dedup_set_add(d, fp);
    inv_debug_assert(added); /* contract: fp is not in the window */
    if (!added) return;      /* release builds: ignore it, ring and set stay in step */
    dedup_ring_push(d, fp, event_time_ms);
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
    d->bucket_mask = slots / DEDUP_BUCKET_SLOTS - 1;
    d->bucket_shift = (unsigned)(64 - __builtin_ctzll(slots / DEDUP_BUCKET_SLOTS));
    d->ids_max = ids_max;
    d->window_ms = window_ms;
    d->newest_time_ms = INT64_MIN;
    d->head_deadline_ms = INT64_MAX;
    inv_assert((char *)(d->ring + ids_max) <= (char *)d->map + d->map_bytes);
    inv_assert(dedup_home(d, UINT64_MAX) <= d->bucket_mask);
    inv_assert(((uintptr_t)d->set & 63) == 0); /* buckets are cache lines */
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
    __builtin_prefetch(dedup_bucket_at(d, dedup_home(d, fp)), 0, 3);
}

/* Owning worker. See dedup.h: true when fp is held. Reads the home bucket,
 * and the next ones only while they are full. */
bool dedup_contains(const inv_dedup *d, uint64_t fp) {
    inv_assert(d != NULL);
    inv_assert(fp != 0);
    uint64_t b = dedup_home(d, fp);
    for (uint64_t n = 0; n <= d->bucket_mask; n++) { /* ends at a non-full bucket long before */
        uint32_t eq, empty;
        dedup_bucket_match(dedup_bucket_at(d, b), fp, &eq, &empty);
        if ((eq | empty) != 0) return eq != 0;
        b = (b + 1) & d->bucket_mask;
    }
    inv_unreachable(); /* a full set: the load bound is broken */
}

/* Owning worker. See dedup.h: expire by time, evict by count, then add.
 *
 * The common case (nothing leaves) costs one compare of newest_time_ms with
 * the head's precomputed deadline and one of the count; everything else
 * (also the first id of an empty window, whose head is stale) is in
 * dedup_insert_slow. */
void dedup_insert(inv_dedup *d, uint64_t fp, int64_t event_time_ms) {
    inv_assert(fp != 0);
    const int64_t newest_ms =
        event_time_ms > d->newest_time_ms ? event_time_ms : d->newest_time_ms;
    d->newest_time_ms = newest_ms;
    /* count - 1 >= ids_max - 1 (unsigned): the window is empty or full. */
    if (__builtin_expect(d->ring_count - 1 >= d->ids_max - 1 || newest_ms > d->head_deadline_ms,
                         0)) {
        dedup_insert_slow(d, fp, event_time_ms);
        return;
    }
    /* Implied by the test above (0 < count < ids_max): the load stays < 1/2. */
    inv_debug_assert(d->ring_count < d->ids_max);
    const bool added = dedup_set_add(d, fp);
    inv_debug_assert(added); /* contract: fp is not in the window */
    if (!added) return;      /* release builds: ignore it, ring and set stay in step */
    dedup_ring_push(d, fp, event_time_ms);
}

/* Owning worker. See dedup.h. O(set_slots): not for the hot path. */
void dedup_clear(inv_dedup *d) {
    inv_assert(d != NULL);
    inv_assert(d->ring_count <= d->ids_max);
    memset(d->set, 0, (size_t)(d->bucket_mask + 1) * sizeof(dedup_bucket));
    d->ring_head = 0;
    d->ring_count = 0;
    d->ring_tail = 0;
    d->newest_time_ms = INT64_MIN;
    d->head_deadline_ms = INT64_MAX; /* the next insert finds the window empty and sets it */
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
