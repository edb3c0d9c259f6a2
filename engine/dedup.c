/* dedup.c - the per-partition eventId window (DESIGN.md section 3).
 *
 * Generations. Every insert goes into the current generation. It closes when
 * it holds gen_cap = ceil(ids_max / G) ids or once newest_time_ms has
 * advanced by span_ms = ceil(window_ms / G) since it opened (G =
 * INV_DEDUP_GENERATIONS); the insert that finds it so opens the next one with
 * its own id. Closed generations leave whole and oldest first, checked on
 * insert: by time when the oldest one's newest event time is < newest_time_ms
 * - window_ms, by count when adding an id would exceed ids_max. The current
 * generation never leaves, so an id is held right after its insert. The
 * metadata of each live generation {ids, deadline} is in a ring inside the
 * struct, so a generation leaves without touching the set: each slot carries
 * the 16-bit tag (generation number mod 2^16) of the generation that wrote it
 * and is live iff that tag is among the live generations, (cur - tag) mod
 * 2^16 < live_gens. A slot of an expired generation is free, as is an empty
 * one; inserts reuse both.
 *
 * The set. One mapping of buckets, each one 64-byte cache line: 7 slots and
 * one overflow word. A slot is 0 (empty) or tag << 48 | the low 48 bits of
 * the fingerprint, whose low 16 bits are made nonzero (0 -> 1), so a slot is
 * empty iff its low 16 bits are 0. The home bucket is the top bits of fp *
 * 2^64 / golden ratio, from the whole 64-bit fingerprint (insert, lookup and
 * prefetch all have it). An insert takes the first free slot of the home
 * bucket; when all 7 are live it marks the bucket's overflow word with its tag
 * (the newest generation that went past) and tries the next bucket, and so on.
 * A lookup compares the 7 slots of the home bucket and goes on to the next one
 * only while the overflow word of the one it leaves is live; an id past its
 * home was inserted by a generation no older than every overflow tag on its
 * way, so while it is live those tags are too. Buckets: the smallest power of
 * two with 7 * buckets >= 2 * ids_max, so at most half the slots are live.
 * Measured on full windows, a lookup of an absent id goes on to the next
 * bucket (the adjacent line) 0.55% of the time at 2 ids per bucket (any
 * power-of-two ids_max) and 16% at the maximum, 3.5: almost every operation
 * reads the one line the caller prefetched and nothing else.
 *
 * Why the ring of INV_DEDUP_GENERATIONS_LIVE_MAX = 256 generations is enough:
 * at most 2G + 3 = 131 are live. Take the insert that closes generation c - 1
 * and opens c (nothing has expired yet in it), g0 the oldest live generation
 * and N' the newest time after the insert before. If no generation before
 * c - 1 was live after that insert, only c - 1 and c are. Otherwise some
 * closed generation s <= g0 had its newest event time m_s >= N' - window_ms:
 * that insert took the fast path, which it does only while the oldest one
 * (s = g0) is inside the window, or it checked the oldest ones against the
 * window and stopped at one that stayed (s; evicted by count right after at
 * most, and then g0 = s + 1). m_s <= the newest time when s closed, which is
 * when s + 1 opened. The generations s + 1 .. c - 2 followed each other, each
 * opening when the one before closed, and each one that closed by time did so
 * after newest_time_ms advanced >= span_ms: k of them take k * span_ms <= N'
 * - m_s <= window_ms, so k <= G (as span_ms >= window_ms / G). The others
 * closed full, gen_cap live ids each: at most ids_max / gen_cap <= G of them.
 * With g0, c - 1 and c: <= 2G + 3. (By count alone: G + 1.) If that ever
 * failed, the oldest generation would be evicted (counted in
 * evicted_by_count; asserted in debug builds), never a wrong ring entry.
 *
 * Why stale tags never come back: a word written with generation g's tag is
 * live until g leaves, before cur reaches g + 256; it would look live again
 * only when cur - g reaches 2^16. Each time a generation closes, the sweep
 * clears the expired slots and overflow words of the next ceil(buckets /
 * INV_DEDUP_SWEEP_GENERATIONS) buckets (a cursor going round), so every
 * bucket is swept within 16384 generations: before cur - g = 256 + 16384.
 * dedup_clear zeroes everything.
 *
 * Hot path: an insert that closes nothing and expires nothing compares
 * newest_time_ms with one precomputed time (the earlier of the current
 * generation's closing time and the oldest one's deadline) and its count with
 * one precomputed limit, then writes a slot of the home bucket (7 slots
 * checked with SSE2, no branch per slot). A lookup compares the same bucket.
 * Closing, expiry, the sweep and probing past a full bucket are out of line.
 *
 * Memory: one anonymous mapping for the buckets, asked for transparent huge
 * pages and touched page by page at create, so the hot path never page
 * faults and the resident size is known up front; the generation ring is in
 * the struct. Nothing allocates after dedup_create.
 *
 * INV_DEDUP_SCALAR (a compile flag) selects the portable bucket compare even
 * where SSE2 exists, to test and compare it (make EXTRA_CFLAGS=-DINV_DEDUP_SCALAR). */
#define XXH_INLINE_ALL /* the fingerprint is on the hot path: no call through the PLT */
#include "dedup.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#if defined(__SSE2__) && !defined(INV_DEDUP_SCALAR)
#define DEDUP_SSE2 1
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

#define DEDUP_BUCKET_SLOTS 7u             /* slots per bucket; word 7 is the overflow word */
#define DEDUP_OVERFLOW     DEDUP_BUCKET_SLOTS
#define DEDUP_TAG_SHIFT    48             /* slot = tag << 48 | 48 fingerprint bits */
#define DEDUP_FP_MASK      ((1ULL << DEDUP_TAG_SHIFT) - 1)
#define DEDUP_OVERFLOW_SET (1ULL << 16)   /* overflow word = tag << 48 | this; low 16 bits 0 */
#define DEDUP_SLOT_BITS    0x1555u        /* bit 2k for slot k < 7: see dedup_bucket_free */
#define DEDUP_RING         INV_DEDUP_GENERATIONS_LIVE_MAX

typedef struct dedup_bucket {
    uint64_t w[DEDUP_BUCKET_SLOTS + 1]; /* 7 slots, then the overflow word (0: none) */
} dedup_bucket;

struct inv_dedup {
    /* Read by every lookup and insert: the first cache line. */
    _Alignas(64) dedup_bucket *set; /* buckets; 64-byte aligned */
    uint64_t tag_hi;          /* the current generation's tag << 48 */
    uint64_t lim_hi;          /* (live_gens - 1) << 48: tag t is live iff (cur - t) mod 2^16
                               * <= live_gens - 1 */
    int64_t newest_time_ms;   /* INT64_MIN before any insert and after dedup_clear */
    int64_t fast_until_ms;    /* an insert is fast while newest_time_ms <= this: nothing closes
                               * or expires by time */
    int64_t cur_max_time_ms;  /* newest event time in the current generation */
    unsigned bucket_shift;    /* 64 - log2(buckets): home = (fp * mult) >> bucket_shift */
    uint32_t cur_count;       /* ids in the current generation; 0 only while the window is empty */
    uint32_t cur_limit;       /* an insert is fast while cur_count < this: min(gen_cap,
                               * ids_max - closed_ids); 0 while the window is empty */
    uint32_t live_gens;       /* live generations, the current one included: 1..DEDUP_RING */
    /* Generation bookkeeping, touched when one closes or leaves. */
    uint64_t bucket_mask;     /* buckets - 1 */
    uint64_t cur_gen;         /* number of the current generation; its tag is the low 16 bits */
    uint32_t closed_ids;      /* ids in the live generations before the current one */
    uint32_t gen_cap;         /* ceil(ids_max / G) */
    uint32_t ids_max;
    uint32_t sweep_buckets;   /* buckets swept per generation: ceil(buckets / 16384) */
    uint64_t sweep_next;      /* next bucket the sweep visits */
    int64_t window_ms;        /* > 0 */
    int64_t span_ms;          /* ceil(window_ms / G) >= 1 */
    int64_t cur_close_after_ms; /* the current generation closes once newest_time_ms > this */
    uint64_t inserted_closed; /* ids inserted into generations before the current one */
    uint64_t expired_by_time;
    uint64_t evicted_by_count;
    void *map; /* the mapping holding the buckets */
    size_t map_bytes;
    /* Closed live generation g: its ids and its deadline (it expires once
     * newest_time_ms > this), at g % DEDUP_RING. */
    uint32_t gen_ids[DEDUP_RING];
    int64_t gen_deadline_ms[DEDUP_RING];
};

_Static_assert(sizeof(dedup_bucket) == 64, "a bucket is one cache line");
_Static_assert(offsetof(inv_dedup, bucket_mask) == 64, "the hot fields fill the first cache line");
_Static_assert(sizeof(inv_dedup) % 64 == 0, "aligned_alloc needs a multiple of the alignment");
_Static_assert(sizeof(size_t) >= 8, "the largest window needs 8 GiB of address space");
_Static_assert(INV_DEDUP_IDS_MIN >= 16 && INV_DEDUP_IDS_MIN <= INV_DEDUP_IDS_MAX, "id bounds");
_Static_assert(INV_DEDUP_IDS_MAX <= (1u << 30), "2 * ids_max fits 32 bits");
_Static_assert(INV_DEDUP_IDS_MIN > (INV_DEDUP_IDS_MIN + INV_DEDUP_GENERATIONS - 1) /
                                       INV_DEDUP_GENERATIONS,
               "gen_cap < ids_max: a full window always has a closed generation to evict");
_Static_assert(2 * INV_DEDUP_GENERATIONS + 3 <= DEDUP_RING, "the ring holds every live generation");
_Static_assert((DEDUP_RING & (DEDUP_RING - 1)) == 0, "ring size is a power of two");
_Static_assert(INV_DEDUP_SWEEP_GENERATIONS + 2 * DEDUP_RING <= 65536,
               "a stale 16-bit tag is swept before it can look live again");

/* Any thread. The bucket count for ids_max: the smallest power of two b with
 * 7 * b >= 2 * ids_max (at most half the slots live). */
static uint64_t dedup_buckets_for(uint32_t ids_max) {
    inv_assert(ids_max >= INV_DEDUP_IDS_MIN);
    inv_assert(ids_max <= INV_DEDUP_IDS_MAX);
    const uint64_t want = (2ULL * ids_max + DEDUP_BUCKET_SLOTS - 1) / DEDUP_BUCKET_SLOTS;
    const uint64_t buckets = 1ULL << (64 - __builtin_clzll(want - 1));
    inv_assert(buckets >= want && buckets < 2 * want);
    return buckets;
}

/* Any thread. Bytes of the mapping for ids_max, rounded up to whole pages
 * (what the kernel actually hands out). */
static size_t dedup_map_bytes_for(uint32_t ids_max) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    inv_assert(page > 0 && (page & (page - 1)) == 0);
    const size_t bytes = (size_t)dedup_buckets_for(ids_max) * sizeof(dedup_bucket);
    return (bytes + page - 1) & ~(page - 1);
}

/* Owning worker. The home bucket of fp. */
static inline uint64_t dedup_home(const inv_dedup *d, uint64_t fp) {
    return (fp * DEDUP_HOME_MULT) >> d->bucket_shift;
}

/* Any thread. The 48 fingerprint bits a slot stores: never 0 in the low 16,
 * which is what tells a used slot from an empty one. */
static inline uint64_t dedup_fp_bits(uint64_t fp) {
    return (fp & DEDUP_FP_MASK) | (uint64_t)((fp & 0xFFFF) == 0);
}

/* Owning worker. True when word w (a slot or an overflow word) is set and
 * carries the tag of a live generation. */
static inline bool dedup_word_live(const inv_dedup *d, uint64_t w) {
    /* The low 48 bits of (tag_hi | mask) - w never borrow: the top 16 bits are
     * cur - tag mod 2^16. */
    const uint64_t age = ((d->tag_hi | DEDUP_FP_MASK) - w) >> DEDUP_TAG_SHIFT;
    return w != 0 && age <= (d->lim_hi >> DEDUP_TAG_SHIFT);
}

#ifdef DEDUP_SSE2
/* Owning worker. Words 2i and 2i + 1 of bucket s (i < 4; i = 3: slot 6 and
 * the overflow word), each as four 16-bit lanes v, reduced against key and
 * lim: per word, the byte sum (in its low 16 bits) of (key - v) mod 2^16
 * minus lim saturating at 0, lane by lane. A word's sum is 0 iff all four of
 * its lanes are. Called with constant i, four times rather than in a loop:
 * gcc -O2 keeps such a loop and spills to the stack. */
static inline __m128i dedup_pair_sums(const dedup_bucket *s, unsigned i, __m128i key,
                                      __m128i lim) {
    const __m128i v = _mm_load_si128((const __m128i *)(const void *)&s->w[2 * i]);
    return _mm_sad_epu8(_mm_subs_epu16(_mm_sub_epi16(key, v), lim), _mm_setzero_si128());
}
#endif

/* Owning worker. True when bucket s holds fp's bits (want = tag_hi | bits)
 * in a live slot: some slot k < 7 with its low 48 bits equal and (cur - tag)
 * mod 2^16 <= live_gens - 1. With SSE2, four 16-bit lanes per slot: lanes 0-2
 * of want - slot are 0 iff the bits are equal, lane 3 (cur - tag) minus lim
 * saturating is 0 iff the tag is live; no branch per slot. The overflow word
 * never matches (its low 16 bits are 0, those of want never). Measured here
 * (a full 1Mi-id window, contains + insert): SSE2 ~125 instructions and ~30
 * ns, the scalar code below ~205 and ~47 ns. */
static inline bool dedup_bucket_has(const inv_dedup *d, const dedup_bucket *s, uint64_t want) {
#ifdef DEDUP_SSE2
    const __m128i k = _mm_set1_epi64x((long long)want);
    const __m128i l = _mm_set1_epi64x((long long)d->lim_hi);
    const __m128i z = _mm_setzero_si128();
    const __m128i m = _mm_min_epi16(
        _mm_min_epi16(dedup_pair_sums(s, 0, k, l), dedup_pair_sums(s, 1, k, l)),
        _mm_min_epi16(dedup_pair_sums(s, 2, k, l), dedup_pair_sums(s, 3, k, l)));
    return _mm_movemask_epi8(_mm_cmpeq_epi16(m, z)) & 0x0101; /* the sums' 16-bit lanes */
#else
    const uint64_t c = d->tag_hi | DEDUP_FP_MASK;
    const uint64_t lim = d->lim_hi >> DEDUP_TAG_SHIFT;
#pragma GCC unroll 7
    for (unsigned k = 0; k < DEDUP_BUCKET_SLOTS; k++) { /* a match is rare: predictable */
        const uint64_t v = s->w[k];
        if (((v ^ want) << 16) == 0 && ((c - v) >> DEDUP_TAG_SHIFT) <= lim) return true;
    }
    return false;
#endif
}

/* Owning worker. Bit 2k set for each free slot k < 7 (empty or expired) of
 * bucket s; no branch per slot. With SSE2, key = tag_hi | 0xFFFF and lim =
 * lim_hi | 0xFFFF_FFFF_FFFE per slot make a live slot's lanes all 0: lane 0,
 * 0xFFFF - v minus 0xFFFE, is 0 iff v != 0 (used); lanes 1-2 always; lane 3,
 * cur - tag minus live_gens - 1, iff the tag is live. */
static inline uint32_t dedup_bucket_free(const inv_dedup *d, const dedup_bucket *s) {
#ifdef DEDUP_SSE2
    const __m128i k = _mm_set1_epi64x((long long)(d->tag_hi | 0xFFFF));
    const __m128i l = _mm_set1_epi64x((long long)(d->lim_hi | (DEDUP_FP_MASK - 1)));
    const __m128i z = _mm_setzero_si128();
    /* Word sums -> bytes 0, 2, .., 14 (nonzero sums <= 2040 stay nonzero). */
    const __m128i p = _mm_packs_epi16(
        _mm_packs_epi32(dedup_pair_sums(s, 0, k, l), dedup_pair_sums(s, 1, k, l)),
        _mm_packs_epi32(dedup_pair_sums(s, 2, k, l), dedup_pair_sums(s, 3, k, l)));
    const uint32_t live = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(p, z));
    return ~live & DEDUP_SLOT_BITS;
#else
    const uint64_t c = d->tag_hi | DEDUP_FP_MASK;
    const uint64_t lim = d->lim_hi >> DEDUP_TAG_SHIFT;
    uint32_t free = 0;
#pragma GCC unroll 7
    for (unsigned k = 0; k < DEDUP_BUCKET_SLOTS; k++) {
        const uint64_t v = s->w[k];
        const bool live = ((v & 0xFFFF) != 0) & (((c - v) >> DEDUP_TAG_SHIFT) <= lim);
        free |= (uint32_t)!live << (2 * k);
    }
    return free;
#endif
}

/* Owning worker, rare path of dedup_set_add: every slot of bucket b is live.
 * Marks it and each further full bucket as gone past by the current
 * generation and stores slot in the first free slot after them. live ids <
 * ids_max <= 7 * buckets / 2, so a free slot exists within the bucket count. */
static __attribute__((noinline)) void dedup_set_add_far(inv_dedup *d, uint64_t b,
                                                        uint64_t slot) {
    inv_assert(b <= d->bucket_mask);
    inv_debug_assert(dedup_bucket_free(d, &d->set[b]) == 0);
    const uint64_t overflow = d->tag_hi | DEDUP_OVERFLOW_SET;
    for (uint64_t n = 0; n <= d->bucket_mask; n++) {
        dedup_bucket *s = &d->set[b];
        const uint32_t free = dedup_bucket_free(d, s);
        if (free != 0) {
            s->w[__builtin_ctz(free) / 2] = slot;
            return;
        }
        s->w[DEDUP_OVERFLOW] = overflow;
        b = (b + 1) & d->bucket_mask;
    }
    inv_unreachable(); /* no free slot anywhere: the load bound is broken */
}

/* Owning worker. Stores fp in the current generation's tag: the first free
 * slot of its home bucket, almost always. */
static inline void dedup_set_add(inv_dedup *d, uint64_t fp) {
    const uint64_t b = dedup_home(d, fp);
    const uint64_t slot = d->tag_hi | dedup_fp_bits(fp);
    dedup_bucket *s = &d->set[b];
    const uint32_t free = dedup_bucket_free(d, s);
    if (__builtin_expect(free != 0, 1)) {
        s->w[__builtin_ctz(free) / 2] = slot;
        return;
    }
    dedup_set_add_far(d, b, slot);
}

/* Owning worker, rare path of dedup_contains: bucket b's overflow word is
 * live, so ids may sit further on. Follows the buckets while their overflow
 * word is live, at most all of them. */
static __attribute__((noinline)) bool dedup_contains_far(const inv_dedup *d, uint64_t b,
                                                         uint64_t want) {
    inv_assert(b <= d->bucket_mask);
    inv_debug_assert(dedup_word_live(d, d->set[b].w[DEDUP_OVERFLOW]));
    for (uint64_t n = 0; n < d->bucket_mask; n++) {
        b = (b + 1) & d->bucket_mask;
        const dedup_bucket *s = &d->set[b];
        if (dedup_bucket_has(d, s, want)) return true;
        if (!dedup_word_live(d, s->w[DEDUP_OVERFLOW])) return false;
    }
    return false; /* every bucket looked at */
}

/* Owning worker. When a generation whose newest event time is time_ms
 * expires: once newest_time_ms > the value returned. time_ms < newest -
 * window_ms is time_ms + window_ms < newest; when the sum overflows, no int64
 * newest is larger and INT64_MAX says "never". */
static inline int64_t dedup_deadline(const inv_dedup *d, int64_t time_ms) {
    return time_ms > INT64_MAX - d->window_ms ? INT64_MAX : time_ms + d->window_ms;
}

#ifdef INV_DEBUG
/* Debug predicate: the generation bookkeeping adds up. */
static bool dedup_gens_consistent(const inv_dedup *d) {
    uint64_t ids = 0;
    for (uint32_t i = 1; i < d->live_gens; i++) ids += d->gen_ids[(d->cur_gen - i) % DEDUP_RING];
    return d->live_gens >= 1 && d->live_gens <= DEDUP_RING && ids == d->closed_ids &&
           d->cur_count <= d->gen_cap && d->closed_ids + d->cur_count <= d->ids_max &&
           d->tag_hi == (d->cur_gen & 0xFFFF) << DEDUP_TAG_SHIFT &&
           d->lim_hi == (uint64_t)(d->live_gens - 1) << DEDUP_TAG_SHIFT;
}
#endif

/* Owning worker. Drops the oldest closed generation (its slots turn free at
 * once, as its tag leaves the live range) and returns its id count. */
static uint32_t dedup_gen_drop_oldest(inv_dedup *d) {
    inv_assert(d->live_gens >= 2);
    const uint32_t i = (uint32_t)((d->cur_gen - (d->live_gens - 1)) % DEDUP_RING);
    const uint32_t ids = d->gen_ids[i];
    inv_assert(ids >= 1 && ids <= d->closed_ids);
    d->closed_ids -= ids;
    d->live_gens--;
    d->lim_hi = (uint64_t)(d->live_gens - 1) << DEDUP_TAG_SHIFT;
    return ids;
}

/* Owning worker. Starts the current generation at the newest time: it
 * closes once newest_time_ms has advanced by span_ms (never, if that
 * overflows). */
static void dedup_gen_open(inv_dedup *d) {
    inv_assert(d->cur_count == 0);
    inv_assert(d->span_ms >= 1);
    const int64_t open_ms = d->newest_time_ms;
    d->cur_close_after_ms =
        open_ms > INT64_MAX - (d->span_ms - 1) ? INT64_MAX : open_ms + (d->span_ms - 1);
    d->cur_max_time_ms = INT64_MIN;
}

/* Owning worker, once per generation. Clears the expired slots and overflow
 * words of the next sweep_buckets buckets (see the file comment: stale tags
 * must go before 2^16 generations pass). Writes only what it clears. */
static __attribute__((noinline)) void dedup_sweep(inv_dedup *d) {
    inv_assert(d->sweep_buckets >= 1 && d->sweep_buckets <= d->bucket_mask + 1);
    inv_assert(d->sweep_next <= d->bucket_mask);
    for (uint32_t n = 0; n < d->sweep_buckets; n++) {
        dedup_bucket *s = &d->set[d->sweep_next];
        for (unsigned k = 0; k <= DEDUP_OVERFLOW; k++) {
            if (s->w[k] != 0 && !dedup_word_live(d, s->w[k])) s->w[k] = 0;
        }
        d->sweep_next = (d->sweep_next + 1) & d->bucket_mask;
    }
}

/* Owning worker. Closes the current generation (non-empty) into the ring,
 * opens the next one and runs the sweep. */
static void dedup_gen_close(inv_dedup *d) {
    inv_assert(d->cur_count >= 1 && d->cur_count <= d->gen_cap);
    inv_assert(d->live_gens >= 1 && d->live_gens <= DEDUP_RING);
    const uint32_t i = (uint32_t)(d->cur_gen % DEDUP_RING);
    d->gen_ids[i] = d->cur_count;
    d->gen_deadline_ms[i] = dedup_deadline(d, d->cur_max_time_ms);
    d->closed_ids += d->cur_count;
    d->inserted_closed += d->cur_count;
    d->cur_count = 0;
    if (d->live_gens == DEDUP_RING) {
        /* Cannot happen (file comment: at most 2G + 3 live). Should it, the ring
         * entry the next generation needs is the oldest one's: evict it. */
        inv_debug_assert(d->live_gens < DEDUP_RING);
        d->evicted_by_count += dedup_gen_drop_oldest(d);
    }
    d->cur_gen++;
    d->live_gens++;
    d->tag_hi = (d->cur_gen & 0xFFFF) << DEDUP_TAG_SHIFT;
    d->lim_hi = (uint64_t)(d->live_gens - 1) << DEDUP_TAG_SHIFT;
    dedup_gen_open(d);
    dedup_sweep(d);
}

/* Owning worker. Drops the closed generations that left the time window,
 * oldest first, then, if one more id would exceed ids_max, the oldest (which
 * exists: the current generation holds < gen_cap < ids_max). */
static void dedup_expire(inv_dedup *d) {
    inv_assert(d->closed_ids + d->cur_count <= d->ids_max);
    uint64_t expired = 0;
    for (uint32_t n = 0; n < DEDUP_RING && d->live_gens > 1; n++) {
        const uint32_t oldest = (uint32_t)((d->cur_gen - (d->live_gens - 1)) % DEDUP_RING);
        if (d->newest_time_ms <= d->gen_deadline_ms[oldest]) break;
        expired += dedup_gen_drop_oldest(d);
    }
    d->expired_by_time += expired;
    if (d->closed_ids + d->cur_count == d->ids_max) d->evicted_by_count += dedup_gen_drop_oldest(d);
    inv_assert(d->closed_ids + d->cur_count < d->ids_max);
}

/* Owning worker. Recomputes the two bounds of the fast insert path. */
static void dedup_fast_limits(inv_dedup *d) {
    inv_assert(d->closed_ids + d->cur_count < d->ids_max);
    inv_assert(d->cur_count < d->gen_cap);
    const uint32_t room = d->ids_max - d->closed_ids;
    d->cur_limit = room < d->gen_cap ? room : d->gen_cap;
    int64_t until_ms = d->cur_close_after_ms;
    if (d->live_gens > 1) {
        const uint32_t oldest = (uint32_t)((d->cur_gen - (d->live_gens - 1)) % DEDUP_RING);
        if (d->gen_deadline_ms[oldest] < until_ms) until_ms = d->gen_deadline_ms[oldest];
    }
    d->fast_until_ms = until_ms;
}

/* Owning worker. Adds fp to the current generation. */
static inline void dedup_add(inv_dedup *d, uint64_t fp, int64_t event_time_ms) {
    d->cur_count++;
    if (event_time_ms > d->cur_max_time_ms) d->cur_max_time_ms = event_time_ms;
    dedup_set_add(d, fp);
}

/* Owning worker. dedup_insert when a generation closes or leaves, or the
 * window is empty: kept out of line so the common path stays small.
 * newest_time_ms already counts event_time_ms. */
static __attribute__((noinline)) void dedup_insert_slow(inv_dedup *d, uint64_t fp,
                                                       int64_t event_time_ms) {
    inv_assert(d->cur_count <= d->gen_cap);
    inv_debug_assert(dedup_gens_consistent(d));
    if (d->cur_count == 0) {
        dedup_gen_open(d); /* empty window (created or cleared): this id opens it */
    } else if (d->cur_count == d->gen_cap || d->newest_time_ms > d->cur_close_after_ms) {
        dedup_gen_close(d);
    }
    dedup_expire(d);
    dedup_fast_limits(d);
    dedup_add(d, fp, event_time_ms);
    inv_debug_assert(dedup_gens_consistent(d));
}

/* Owning worker. Resets the generations to one empty current generation. */
static void dedup_gens_reset(inv_dedup *d) {
    inv_assert(d->map != NULL);
    inv_assert(d->gen_cap >= 1);
    d->inserted_closed += d->cur_count;
    d->cur_count = 0;
    d->closed_ids = 0;
    d->live_gens = 1;
    d->tag_hi = (d->cur_gen & 0xFFFF) << DEDUP_TAG_SHIFT;
    d->lim_hi = 0;
    d->newest_time_ms = INT64_MIN;
    d->cur_max_time_ms = INT64_MIN;
    d->cur_limit = 0; /* the next insert takes the slow path and opens the generation */
    d->fast_until_ms = INT64_MIN;
    d->cur_close_after_ms = INT64_MIN;
}

/* Any thread, at set-up. See dedup.h: returns 0, -EINVAL or -ENOMEM. */
int dedup_create(inv_dedup **out, uint32_t ids_max, int64_t window_ms) {
    inv_assert(out != NULL);
    *out = NULL;
    if (ids_max < INV_DEDUP_IDS_MIN || ids_max > INV_DEDUP_IDS_MAX || window_ms <= 0) {
        return -EINVAL;
    }
    inv_dedup *d = aligned_alloc(64, sizeof(*d)); /* the hot fields in one cache line */
    if (d == NULL) return -ENOMEM;
    memset(d, 0, sizeof(*d));

    const uint64_t buckets = dedup_buckets_for(ids_max);
    d->map_bytes = dedup_map_bytes_for(ids_max);
    d->map = mmap(NULL, d->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d->map == MAP_FAILED) {
        free(d);
        return -ENOMEM;
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(d->map, d->map_bytes, MADV_HUGEPAGE); /* a hint; fine if refused */
#endif
    /* Fault every page in now (zero-filled by the kernel: every slot empty) so
     * that no insert pays for a page fault. Bounded by the mapping size. */
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t off = 0; off < d->map_bytes; off += page) ((volatile char *)d->map)[off] = 0;

    d->set = d->map;
    d->bucket_mask = buckets - 1;
    d->bucket_shift = (unsigned)(64 - __builtin_ctzll(buckets));
    d->ids_max = ids_max;
    d->gen_cap = (ids_max + INV_DEDUP_GENERATIONS - 1) / INV_DEDUP_GENERATIONS;
    d->window_ms = window_ms;
    d->span_ms = (window_ms - 1) / INV_DEDUP_GENERATIONS + 1;
    d->sweep_buckets =
        (uint32_t)((buckets + INV_DEDUP_SWEEP_GENERATIONS - 1) / INV_DEDUP_SWEEP_GENERATIONS);
    dedup_gens_reset(d);
    inv_assert((size_t)buckets * sizeof(dedup_bucket) <= d->map_bytes);
    inv_assert(dedup_home(d, UINT64_MAX) <= d->bucket_mask);
    inv_assert(((uintptr_t)d->set & 63) == 0); /* buckets are cache lines */
    inv_assert(d->gen_cap < ids_max && 7 * buckets >= 2ULL * ids_max);
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
    return fp == 0 ? 1 : fp; /* 0 is reserved (the API says never 0) */
}

/* Owning worker. See dedup.h. A hint only: touches nothing it could fault on. */
void dedup_prefetch(const inv_dedup *d, uint64_t fp) {
    __builtin_prefetch(&d->set[dedup_home(d, fp)], 0, 3);
}

/* Owning worker. See dedup.h: true when fp is held. Compares the home
 * bucket, and the next ones only while the overflow word is live. */
bool dedup_contains(const inv_dedup *d, uint64_t fp) {
    inv_assert(d != NULL);
    inv_assert(fp != 0);
    const uint64_t b = dedup_home(d, fp);
    const uint64_t want = d->tag_hi | dedup_fp_bits(fp);
    const dedup_bucket *s = &d->set[b];
    if (dedup_bucket_has(d, s, want)) return true;
    if (__builtin_expect(!dedup_word_live(d, s->w[DEDUP_OVERFLOW]), 1)) return false;
    return dedup_contains_far(d, b, want);
}

/* Owning worker. See dedup.h: close, expire, evict, then add.
 *
 * The common case (nothing closes or leaves) costs a compare of
 * newest_time_ms with fast_until_ms and one of cur_count with cur_limit;
 * everything else (also the first id of an empty window) is in
 * dedup_insert_slow. */
void dedup_insert(inv_dedup *d, uint64_t fp, int64_t event_time_ms) {
    inv_assert(fp != 0);
    inv_debug_assert(!dedup_contains(d, fp)); /* contract: fp is not in the window */
    const int64_t newest_ms =
        event_time_ms > d->newest_time_ms ? event_time_ms : d->newest_time_ms;
    d->newest_time_ms = newest_ms;
    if (__builtin_expect(d->cur_count >= d->cur_limit || newest_ms > d->fast_until_ms, 0)) {
        dedup_insert_slow(d, fp, event_time_ms);
        return;
    }
    dedup_add(d, fp, event_time_ms);
}

/* Owning worker. See dedup.h. O(buckets): not for the hot path. */
void dedup_clear(inv_dedup *d) {
    inv_assert(d != NULL);
    inv_debug_assert(dedup_gens_consistent(d));
    memset(d->set, 0, (size_t)(d->bucket_mask + 1) * sizeof(dedup_bucket));
    dedup_gens_reset(d);
}

/* Owning worker, or any thread when the owner is stopped. See dedup.h. */
void dedup_get_stats(const inv_dedup *d, inv_dedup_stats *out) {
    inv_assert(d != NULL);
    inv_assert(out != NULL);
    inv_assert(d->closed_ids + d->cur_count <= d->ids_max);
    *out = (inv_dedup_stats){
        .ids = d->closed_ids + d->cur_count,
        .inserted = d->inserted_closed + d->cur_count,
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
