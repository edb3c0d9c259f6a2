/* table.c - per-partition open-addressed table (see table.h for the contract).
 *
 * Record arena: one mmap reservation (MAP_NORESERVE, so only touched pages
 * cost memory), records appended at arena_used, REC_ALIGN (32) bytes
 * aligned; offset 0 is never a record so ref 0 means "none". A record is
 * [seq, next_sku, the aggregate's first 60 bytes (7 words and the last
 * counter), sku_len, loc_len, 2 spare bytes, "sku:loc" bytes]: 72 bytes plus
 * the key, rounded up to 32. The aggregate's 4 bytes of padding are not stored: the key lengths
 * take their place, so a typical 22-byte key makes a 96-byte record.
 *
 * Indexes: 2^n slots of uint64 (h32 << 32 | ref), 0 = empty. The home slot
 * is the top n bits of h32 (the upper half of the 64-bit hash), so a grow
 * rehashes from the slot alone, without touching records. Linear probing;
 * the load stays <= INV_TABLE_LOAD_PCT_MAX, so every probe ends at an empty
 * slot. The key index maps hash(sku, loc) to the record; the SKU index maps
 * hash(sku) to the newest record of that SKU, whose next_sku chains to the
 * older ones.
 *
 * Publication order on insert: record bytes, then arena_used, then the SKU
 * slot, then the key slot, all with release stores; readers load them with
 * acquire. Aggregate updates: seq odd, words (release), seq even (release);
 * readers retry while seq is odd or changed. */
#define XXH_INLINE_ALL
#include "table.h"

#include <errno.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

#include "inv_assert.h"
#include "inv_bytes.h"
#include "inv_limits.h"
#include "rcu.h"

/* The aggregate image: words 0..6 of inv_agg (onHand .. the first two
 * counters) and, as a 32-bit tail, transfer_in_excess_count. */
#define AGG_WORDS 7
_Static_assert(offsetof(inv_agg, transfer_in_excess_count) == AGG_WORDS * sizeof(uint64_t),
               "the aggregate's tail counter follows its 7 words");
_Static_assert(offsetof(inv_agg, reserved0) + sizeof(uint32_t) == sizeof(inv_agg),
               "only the padding word is left out of the image");

typedef struct inv_rec {
    uint32_t seq;      /* even: stable; odd: being written */
    inv_ref next_sku;  /* older record of the same SKU; 0 at the end; immutable */
    uint64_t agg[AGG_WORDS];
    uint32_t agg_tail; /* transfer_in_excess_count */
    uint8_t sku_len;   /* immutable from here on */
    uint8_t loc_len;
    uint8_t dirty;     /* owner only, never read by readers: 1 while on the dirty list */
    uint8_t reserved0;
    char key[]; /* "sku:loc": sku_len + 1 + loc_len bytes */
} inv_rec;

#define REC_HEADER_BYTES 72
_Static_assert(offsetof(inv_rec, key) == REC_HEADER_BYTES, "record header layout");
_Static_assert(offsetof(inv_rec, agg) % 8 == 0, "aggregate words are aligned");
_Static_assert(offsetof(inv_rec, loc_len) == offsetof(inv_rec, sku_len) + 1,
               "rec_lens reads both lengths as one 16-bit little-endian value");

typedef struct inv_index {
    struct rcu_head rcu;
    size_t map_bytes;
    uint32_t log2_slots;
    uint32_t shift; /* 32 - log2_slots: home = h32 >> shift */
    uint32_t mask;  /* slots - 1 */
    uint32_t reserved0;
    uint64_t slots[];
} inv_index;

struct inv_table {
    inv_index *index;     /* RCU-published */
    inv_index *sku_index; /* RCU-published */
    char *arena;
    uint64_t arena_bytes;
    uint64_t arena_used; /* release-published after each record is complete */
    uint64_t keys;       /* written by the owner, read by anyone */
    uint64_t skus;
    uint64_t grows;
    /* Change tracking (table_track_changes): refs of records changed since
     * their last drain, each at most once (rec->dirty), so dirty_cap = the
     * most keys the arena can hold bounds it. Owner only. */
    inv_ref *dirty_refs; /* NULL until tracking is on */
    uint64_t dirty_cap;
    uint64_t dirty_count;
};

/* --- small helpers -------------------------------------------------------- */

static inline uint32_t hash_h32(uint64_t hash) {
    uint32_t h32 = (uint32_t)(hash >> 32);
    return h32;
}

static inline uint64_t slot_make(uint32_t h32, inv_ref ref) {
    inv_debug_assert(ref != 0);
    return ((uint64_t)h32 << 32) | ref;
}

static inline uint32_t index_home(const inv_index *idx, uint32_t h32) {
    return (uint32_t)((uint64_t)h32 >> idx->shift);
}

static inline uint32_t index_mask(const inv_index *idx) {
    return idx->mask;
}

static inline inv_rec *rec_at(const inv_table *t, inv_ref ref) {
    inv_debug_assert(ref != 0);
    inv_debug_assert((uint64_t)ref * 8 < t->arena_bytes);
    return (inv_rec *)(t->arena + (uint64_t)ref * 8);
}

/* Records start on REC_ALIGN bytes: a record of up to 96 bytes (keys of up
 * to 24 bytes, the usual "SKU:store" shape) then always spans exactly 2
 * cache lines, never 3, which saves a line fill per event at 1M keys and
 * lets the prefetch issue a fixed pair. Costs 12 bytes per key on average
 * over 8-byte alignment, none for keys of 17-24 bytes. */
#define REC_ALIGN 32
static inline uint64_t rec_bytes(size_t sku_len, size_t loc_len) {
    return (REC_HEADER_BYTES + sku_len + 1 + loc_len + REC_ALIGN - 1) & ~(uint64_t)(REC_ALIGN - 1);
}

/* Equality of n bytes with whole-word loads and no read outside either
 * buffer: 8-byte words, the last one overlapping; 4-byte halves below 8;
 * first/middle/last byte below 4. Keys are short; this beats a memcmp call. */
static inline bool bytes_eq(const char *a, const char *b, size_t n) {
#ifdef __SSE2__
    if (n >= 16 && n <= 32) { /* the common key: two overlapping 16-byte compares */
        const __m128i x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)a),
                                        _mm_loadu_si128((const __m128i *)(const void *)b));
        const __m128i y =
            _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)(a + n - 16)),
                          _mm_loadu_si128((const __m128i *)(const void *)(b + n - 16)));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(x, y), _mm_setzero_si128())) == 0xFFFF;
    }
#endif
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            if (inv_load_u64(a + i) != inv_load_u64(b + i)) return false;
        return inv_load_u64(a + n - 8) == inv_load_u64(b + n - 8);
    }
    if (n >= 4) return inv_load_u32(a) == inv_load_u32(b) && inv_load_u32(a + n - 4) == inv_load_u32(b + n - 4);
    return n == 0 || (a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1]);
}

/* The record's two key lengths as one 16-bit value (sku_len | loc_len << 8). */
static inline uint16_t rec_lens(const inv_rec *r) {
    uint16_t v;
    memcpy(&v, &r->sku_len, sizeof(v));
    return v;
}

static inline bool rec_key_eq(const inv_rec *r, const inv_key *k) {
    return rec_lens(r) == k->lens && bytes_eq(r->key, table_key_bytes(k), k->len);
}

static inline bool rec_sku_eq(const inv_rec *r, const char *sku, size_t sku_len) {
    return r->sku_len == sku_len && bytes_eq(r->key, sku, sku_len);
}

/* Any thread. Reads a consistent aggregate of r; 0 or -EAGAIN. */
static int rec_read_agg(const inv_rec *r, inv_agg *out) {
    for (uint32_t tries = 0; tries < INV_SEQLOCK_RETRIES_MAX; tries++) {
        uint32_t s1 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
        if (s1 & 1u) {
            __builtin_ia32_pause();
            continue;
        }
        uint64_t w[AGG_WORDS];
        for (int i = 0; i < AGG_WORDS; i++) w[i] = __atomic_load_n(&r->agg[i], __ATOMIC_ACQUIRE);
        uint32_t tail = __atomic_load_n(&r->agg_tail, __ATOMIC_ACQUIRE);
        uint32_t s2 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
        if (s1 == s2) {
            memcpy(out, w, sizeof(w));
            out->transfer_in_excess_count = tail;
            out->reserved0 = 0;
            return 0;
        }
    }
    return -EAGAIN;
}

/* --- indexes --------------------------------------------------------------- */

static inv_index *index_alloc(uint32_t log2_slots) {
    inv_assert(log2_slots >= 10 && log2_slots <= 31);
    size_t bytes = sizeof(inv_index) + ((size_t)1 << log2_slots) * sizeof(uint64_t);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* best effort: fewer TLB misses */
    inv_index *idx = p;
    idx->map_bytes = bytes;
    idx->log2_slots = log2_slots;
    idx->shift = 32 - log2_slots;
    idx->mask = (uint32_t)((1ull << log2_slots) - 1);
    return idx;
}

static void index_free(inv_index *idx) {
    if (idx == NULL) return;
    inv_assert(idx->map_bytes > sizeof(inv_index));
    inv_assert(munmap(idx, idx->map_bytes) == 0);
}

static void index_free_rcu(struct rcu_head *head) {
    inv_rcu_reclaim_begin();
    inv_index *idx = caa_container_of(head, inv_index, rcu);
    index_free(idx);
}

/* Owning worker (or set-up). Places slot into idx, which is not yet published. */
static void index_place(inv_index *idx, uint64_t slot) {
    uint32_t mask = index_mask(idx);
    uint32_t pos = index_home(idx, (uint32_t)(slot >> 32));
    for (uint32_t step = 0; step <= mask; step++) {
        if (idx->slots[pos] == 0) {
            idx->slots[pos] = slot;
            return;
        }
        pos = (pos + 1) & mask;
    }
    inv_unreachable(); /* the load bound guarantees an empty slot */
}

/* Owning worker. Doubles *slotp's index when holding `need` entries would pass
 * the load bound; publishes the new one and retires the old. 0 or -ENOMEM. */
static int index_reserve(inv_table *t, inv_index **slotp, uint64_t need) {
    inv_index *old = *slotp;
    uint64_t slots = 1ull << old->log2_slots;
    if (need * 100 <= slots * INV_TABLE_LOAD_PCT_MAX) return 0;
    if (old->log2_slots >= 31) return -ENOMEM;
    inv_index *idx = index_alloc(old->log2_slots + 1);
    if (idx == NULL) return -ENOMEM;
    for (uint64_t i = 0; i < slots; i++) {
        if (old->slots[i] != 0) index_place(idx, old->slots[i]);
    }
    inv_rcu_publish(slotp, idx);
    __atomic_store_n(&t->grows, t->grows + 1, __ATOMIC_RELAXED);
    inv_rcu_retire(&old->rcu, index_free_rcu);
    return 0;
}

static uint32_t log2_for_keys(uint64_t keys) {
    uint32_t log2 = 10;
    while (log2 < 31 && keys * 100 > (1ull << log2) * INV_TABLE_LOAD_PCT_MAX) log2++;
    return log2;
}

/* --- public ---------------------------------------------------------------- */

/* Any thread. See table.h. */
const inv_key *table_key_init(inv_key_buf *kb, const char *sku, size_t sku_len, const char *loc,
                              size_t loc_len) {
    inv_assert(sku_len >= 1 && sku_len <= INV_SKU_LEN_MAX);
    inv_assert(loc_len >= 1 && loc_len <= INV_LOCATION_LEN_MAX);
    memcpy(kb->buf, sku, sku_len);
    kb->buf[sku_len] = ':';
    memcpy(kb->buf + sku_len + 1, loc, loc_len);
    inv_key *k = &kb->key;
    k->bytes = kb->buf;
    k->len = (uint16_t)(sku_len + 1 + loc_len);
    k->lens = (uint16_t)(sku_len | loc_len << 8);
    k->sku_len = (uint8_t)sku_len;
    k->hash = XXH3_64bits(kb->buf, k->len);
    return k;
}

/* Any thread. See table.h. */
void table_key_init_joined(inv_key *k, const char *bytes, size_t len, size_t sku_len) {
    /* Unsigned wrap-around turns each range test into one compare. */
    const size_t loc_len = len - sku_len - 1;
    inv_assert(sku_len - 1 < INV_SKU_LEN_MAX && loc_len - 1 < INV_LOCATION_LEN_MAX);
    inv_debug_assert(bytes[sku_len] == ':');
    k->bytes = bytes;
    k->len = (uint16_t)len;
    k->lens = (uint16_t)(sku_len | loc_len << 8);
    k->sku_len = (uint8_t)sku_len;
    k->hash = XXH3_64bits(bytes, len);
}

static inline uint64_t sku_hash(const char *sku, size_t sku_len) {
    return XXH3_64bits(sku, sku_len);
}

/* Any thread (set-up). See table.h. */
int table_create(inv_table **out, const inv_table_config *cfg, char *errstr, size_t errstr_len) {
    inv_assert(out != NULL && cfg != NULL);
    inv_assert(errstr != NULL && errstr_len > 0);
    uint64_t arena_bytes = cfg->arena_bytes ? cfg->arena_bytes : INV_TABLE_ARENA_BYTES_DEFAULT;
    if (arena_bytes < (1u << 20) || arena_bytes > INV_TABLE_ARENA_BYTES_MAX) {
        snprintf(errstr, errstr_len, "table arena_bytes %llu out of range [1 MiB, %llu]",
                 (unsigned long long)arena_bytes, (unsigned long long)INV_TABLE_ARENA_BYTES_MAX);
        return -EINVAL;
    }
    if (cfg->keys_expected > INV_TABLE_KEYS_MAX) {
        snprintf(errstr, errstr_len, "table keys_expected %u above the limit %u",
                 cfg->keys_expected, INV_TABLE_KEYS_MAX);
        return -EINVAL;
    }
    inv_table *t = calloc(1, sizeof(*t));
    if (t == NULL) goto fail_nomem;
    t->arena = mmap(NULL, arena_bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (t->arena == MAP_FAILED) {
        t->arena = NULL;
        goto fail_nomem;
    }
    (void)madvise(t->arena, arena_bytes, MADV_HUGEPAGE);
    t->arena_bytes = arena_bytes;
    t->arena_used = REC_ALIGN; /* offset 0 is "no record" */
    uint32_t log2 = log2_for_keys(cfg->keys_expected);
    t->index = index_alloc(log2);
    t->sku_index = index_alloc(log2);
    if (t->index == NULL || t->sku_index == NULL) goto fail_nomem;
    *out = t;
    return 0;
fail_nomem:
    snprintf(errstr, errstr_len, "table: cannot map %llu bytes of memory",
             (unsigned long long)arena_bytes);
    table_destroy(t);
    return -ENOMEM;
}

/* Any thread, once no reader can hold t. See table.h. */
void table_destroy(inv_table *t) {
    if (t == NULL) return;
    index_free(t->index);
    index_free(t->sku_index);
    if (t->dirty_refs != NULL)
        inv_assert(munmap(t->dirty_refs, t->dirty_cap * sizeof(inv_ref)) == 0);
    if (t->arena != NULL) inv_assert(munmap(t->arena, t->arena_bytes) == 0);
    free(t);
}

/* Owning worker. See table.h. */
void table_prefetch_slot(const inv_table *t, uint64_t hash) {
    const inv_index *idx = t->index;
    __builtin_prefetch(&idx->slots[index_home(idx, hash_h32(hash))], 0, 3);
}

/* Owning worker. See table.h. */
void table_prefetch_record(const inv_table *t, inv_ref ref, size_t key_len) {
    if (ref == 0) return;
    inv_debug_assert(key_len <= INV_KEY_LEN_MAX);
    /* Every line from the header to the last key byte, each once: prefetching
     * a line twice is not free here (measured: it stalls the pipeline at 1M
     * keys). A record spans 2 lines for keys up to 24 bytes (REC_ALIGN), 3
     * or 4 for longer ones: two prefetches always, the others behind a test
     * that a workload of one key shape always answers the same way. */
    const uintptr_t first = (uintptr_t)rec_at(t, ref) & ~(uintptr_t)63;
    const uintptr_t last =
        ((uintptr_t)rec_at(t, ref) + REC_HEADER_BYTES + key_len - 1) & ~(uintptr_t)63;
    _Static_assert(REC_HEADER_BYTES + INV_KEY_LEN_MAX <= 4 * 64, "a record spans <= 4 lines");
    _Static_assert(REC_HEADER_BYTES + 3 > 64, "a record spans at least 2 lines");
    _Static_assert(REC_ALIGN == 32 && REC_HEADER_BYTES + 24 <= 96,
                   "a 24-byte key's record fits 2 lines from any 32-byte boundary");
    __builtin_prefetch((const void *)first, 1, 3);
    __builtin_prefetch((const void *)(first + 64), 1, 3);
    for (uintptr_t line = first + 128; line <= last; line += 64)
        __builtin_prefetch((const void *)line, 1, 3);
}

/* Owning worker. See table.h. */
inv_ref table_prefetch_candidate(const inv_table *t, const inv_key *k) {
    const inv_index *idx = t->index;
    uint32_t h32 = hash_h32(k->hash);
    uint32_t mask = index_mask(idx);
    uint32_t pos = index_home(idx, h32);
    for (uint32_t step = 0; step <= mask; step++) {
        uint64_t s = idx->slots[pos];
        if (s == 0) return 0;
        if ((uint32_t)(s >> 32) == h32) {
            table_prefetch_record(t, (inv_ref)s, k->len);
            return (inv_ref)s;
        }
        pos = (pos + 1) & mask;
    }
    return 0;
}

/* Probes idx for k; `acquire` selects reader-side loads. Returns the ref or 0. */
static inline inv_ref index_find(const inv_table *t, const inv_index *idx, const inv_key *k,
                                 bool acquire) {
    uint32_t h32 = hash_h32(k->hash);
    uint32_t mask = index_mask(idx);
    uint32_t pos = index_home(idx, h32);
    for (uint32_t step = 0; step <= mask; step++) {
        uint64_t s = acquire ? __atomic_load_n(&idx->slots[pos], __ATOMIC_ACQUIRE) : idx->slots[pos];
        if (s == 0) return 0;
        if ((uint32_t)(s >> 32) == h32) {
            inv_ref ref = (inv_ref)s;
            if (rec_key_eq(rec_at(t, ref), k)) return ref;
        }
        pos = (pos + 1) & mask;
    }
    return 0;
}

/* Owning worker. See table.h. */
inv_ref table_find(const inv_table *t, const inv_key *k) {
    inv_debug_assert(k->sku_len > 0 && k->len > k->sku_len + 1);
    return index_find(t, t->index, k, false);
}

/* Owning worker. See table.h. */
inv_ref table_find_hinted(const inv_table *t, const inv_key *k, inv_ref hint) {
    if (hint != 0 && rec_key_eq(rec_at(t, hint), k)) {
        inv_debug_assert(table_find(t, k) == hint);
        return hint;
    }
    return table_find(t, k);
}

/* Owning worker. Returns the position of k's SKU slot in the SKU index, or
 * the empty position where it would go (*found says which). */
static uint32_t sku_slot_find(const inv_table *t, const inv_key *k, uint64_t skuh, bool *found) {
    const inv_index *idx = t->sku_index;
    const char *sku = table_key_bytes(k);
    uint32_t h32 = hash_h32(skuh);
    uint32_t mask = index_mask(idx);
    uint32_t pos = index_home(idx, h32);
    for (uint32_t step = 0; step <= mask; step++) {
        uint64_t s = idx->slots[pos];
        if (s == 0) break;
        if ((uint32_t)(s >> 32) == h32 && rec_sku_eq(rec_at(t, (inv_ref)s), sku, k->sku_len)) {
            *found = true;
            return pos;
        }
        pos = (pos + 1) & mask;
    }
    inv_assert(idx->slots[pos] == 0);
    *found = false;
    return pos;
}

/* Owning worker. See table.h. */
int table_insert(inv_table *t, const inv_key *k, inv_ref *out) {
    inv_assert(k->sku_len >= 1 && k->sku_len <= INV_SKU_LEN_MAX);
    size_t loc_len = (size_t)k->len - k->sku_len - 1;
    inv_assert(loc_len >= 1 && loc_len <= INV_LOCATION_LEN_MAX);
    inv_debug_assert(table_find(t, k) == 0);
    uint64_t bytes = rec_bytes(k->sku_len, loc_len);
    if (t->keys >= INV_TABLE_KEYS_MAX || t->arena_used + bytes > t->arena_bytes) return -ENOSPC;
    int rc = index_reserve(t, &t->index, t->keys + 1);
    if (rc == 0) rc = index_reserve(t, &t->sku_index, t->skus + 1);
    if (rc != 0) return rc;

    inv_ref ref = (inv_ref)(t->arena_used / 8);
    inv_rec *r = rec_at(t, ref);
    inv_agg fresh;
    agg_init(&fresh);
    r->seq = 0;
    memcpy(r->agg, &fresh, sizeof(r->agg));
    r->agg_tail = fresh.transfer_in_excess_count;
    r->sku_len = k->sku_len;
    r->loc_len = (uint8_t)loc_len;
    r->dirty = 0;
    r->reserved0 = 0;
    memcpy(r->key, table_key_bytes(k), k->len);
    bool sku_known = false;
    uint64_t skuh = sku_hash(r->key, k->sku_len);
    uint32_t sku_pos = sku_slot_find(t, k, skuh, &sku_known);
    r->next_sku = sku_known ? (inv_ref)t->sku_index->slots[sku_pos] : 0;

    __atomic_store_n(&t->arena_used, t->arena_used + bytes, __ATOMIC_RELEASE);
    __atomic_store_n(&t->sku_index->slots[sku_pos], slot_make(hash_h32(skuh), ref),
                     __ATOMIC_RELEASE);
    inv_index *idx = t->index;
    uint32_t mask = index_mask(idx);
    uint32_t pos = index_home(idx, hash_h32(k->hash));
    for (uint32_t step = 0; idx->slots[pos] != 0; step++) {
        inv_assert(step <= mask);
        pos = (pos + 1) & mask;
    }
    __atomic_store_n(&idx->slots[pos], slot_make(hash_h32(k->hash), ref), __ATOMIC_RELEASE);
    __atomic_store_n(&t->keys, t->keys + 1, __ATOMIC_RELAXED);
    if (!sku_known) __atomic_store_n(&t->skus, t->skus + 1, __ATOMIC_RELAXED);
    *out = ref;
    return 0;
}

/* Owning worker. See table.h. */
void table_agg_get(const inv_table *t, inv_ref ref, inv_agg *out) {
    const inv_rec *r = rec_at(t, ref);
    inv_debug_assert((r->seq & 1u) == 0);
    memcpy(out, r->agg, sizeof(r->agg));
    out->transfer_in_excess_count = r->agg_tail;
    out->reserved0 = 0;
}

/* Owning worker. See table.h. The record's words 1..8 have inv_agg's layout
 * up to its padding word, which the key lengths take (asserted below). */
const inv_agg *table_agg_view(const inv_table *t, inv_ref ref) {
    const inv_rec *r = rec_at(t, ref);
    inv_debug_assert((r->seq & 1u) == 0);
    return (const inv_agg *)(const void *)r->agg;
}
_Static_assert(offsetof(inv_rec, agg_tail) - offsetof(inv_rec, agg) ==
                   offsetof(inv_agg, transfer_in_excess_count),
               "the record's aggregate image has inv_agg's layout");
_Static_assert(offsetof(inv_rec, agg) + sizeof(inv_agg) <= REC_HEADER_BYTES,
               "an inv_agg view of a record stays inside its header");

/* Owning worker. See table.h. */
void table_agg_set(inv_table *t, inv_ref ref, const inv_agg *a) {
    inv_rec *r = rec_at(t, ref);
    uint64_t w[AGG_WORDS];
    memcpy(w, a, sizeof(w));
    uint32_t s = r->seq;
    inv_debug_assert((s & 1u) == 0);
    __atomic_store_n(&r->seq, s + 1, __ATOMIC_RELAXED);
#pragma GCC unroll 8
    for (int i = 0; i < AGG_WORDS; i++) __atomic_store_n(&r->agg[i], w[i], __ATOMIC_RELEASE);
    __atomic_store_n(&r->agg_tail, a->transfer_in_excess_count, __ATOMIC_RELEASE);
    __atomic_store_n(&r->seq, s + 2, __ATOMIC_RELEASE);
}

/* Any thread in a read section. See table.h. */
int table_lookup(const inv_table *t, const inv_key *k, inv_agg *out) {
    inv_assert(t != NULL && k != NULL);
    const inv_index *idx = inv_rcu_deref(&t->index);
    inv_ref ref = index_find(t, idx, k, true);
    if (ref == 0) return -ENOENT;
    return rec_read_agg(rec_at(t, ref), out);
}

/* Any thread in a read section. See table.h. */
long table_sku_foreach(const inv_table *t, const inv_key *k, table_loc_fn fn, void *ctx) {
    inv_assert(t != NULL && fn != NULL);
    const inv_index *idx = inv_rcu_deref(&t->sku_index);
    const char *sku = table_key_bytes(k);
    uint32_t h32 = hash_h32(sku_hash(sku, k->sku_len));
    uint32_t mask = index_mask(idx);
    uint32_t pos = index_home(idx, h32);
    inv_ref head = 0;
    for (uint32_t step = 0; step <= mask; step++) {
        uint64_t s = __atomic_load_n(&idx->slots[pos], __ATOMIC_ACQUIRE);
        if (s == 0) break;
        if ((uint32_t)(s >> 32) == h32 && rec_sku_eq(rec_at(t, (inv_ref)s), sku, k->sku_len)) {
            head = (inv_ref)s;
            break;
        }
        pos = (pos + 1) & mask;
    }
    uint64_t limit = __atomic_load_n(&t->keys, __ATOMIC_RELAXED) + 1;
    long visited = 0;
    for (inv_ref ref = head; ref != 0; visited++) {
        inv_assert((uint64_t)visited <= limit); /* chains are acyclic and within the table */
        const inv_rec *r = rec_at(t, ref);
        inv_agg agg;
        if (rec_read_agg(r, &agg) != 0) return -EAGAIN;
        if (fn(r->key + r->sku_len + 1, r->loc_len, &agg, ctx) != 0) return visited + 1;
        ref = r->next_sku;
    }
    return visited;
}

/* Any thread in a read section. See table.h. */
long table_foreach(const inv_table *t, table_rec_fn fn, void *ctx) {
    inv_assert(t != NULL && fn != NULL);
    uint64_t used = __atomic_load_n(&t->arena_used, __ATOMIC_ACQUIRE);
    inv_assert(used <= t->arena_bytes);
    long visited = 0;
    for (uint64_t off = REC_ALIGN; off < used; visited++) {
        const inv_rec *r = rec_at(t, (inv_ref)(off / 8));
        inv_assert(r->sku_len >= 1 && r->loc_len >= 1);
        inv_agg agg;
        if (rec_read_agg(r, &agg) != 0) return -EAGAIN;
        if (fn(r->key, r->sku_len, r->key + r->sku_len + 1, r->loc_len, &agg, ctx) != 0)
            return visited + 1;
        off += rec_bytes(r->sku_len, r->loc_len);
    }
    return visited;
}

/* Any thread. See table.h. */
uint64_t table_count(const inv_table *t) {
    return __atomic_load_n(&t->keys, __ATOMIC_RELAXED);
}

/* Any thread (a recent view). See table.h. */
void table_get_stats(const inv_table *t, inv_table_stats *out) {
    inv_assert(t != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    out->keys = __atomic_load_n(&t->keys, __ATOMIC_RELAXED);
    out->skus = __atomic_load_n(&t->skus, __ATOMIC_RELAXED);
    out->arena_bytes_used = __atomic_load_n(&t->arena_used, __ATOMIC_RELAXED);
    out->grows = __atomic_load_n(&t->grows, __ATOMIC_RELAXED);
    inv_rcu_read_lock();
    const inv_index *idx = inv_rcu_deref(&t->index);
    const inv_index *sidx = inv_rcu_deref(&t->sku_index);
    out->index_slots = 1ull << idx->log2_slots;
    out->sku_index_slots = 1ull << sidx->log2_slots;
    out->memory_bytes = out->arena_bytes_used + idx->map_bytes + sidx->map_bytes + sizeof(*t);
    inv_rcu_read_unlock();
}

/* --- Change tracking (owning worker only) --------------------------------- */

/* Owning worker. See table.h. */
int table_track_changes(inv_table *t) {
    inv_assert(t != NULL);
    if (t->dirty_refs != NULL) return 0;
    uint64_t cap = t->arena_bytes / rec_bytes(1, 1); /* smallest record: most keys */
    if (cap > INV_TABLE_KEYS_MAX) cap = INV_TABLE_KEYS_MAX;
    inv_assert(cap > 0);
    void *m = mmap(NULL, cap * sizeof(inv_ref), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return -ENOMEM;
    t->dirty_refs = m;
    t->dirty_cap = cap;
    t->dirty_count = 0;
    return 0;
}

/* Owning worker. See table.h. */
void table_mark_dirty(inv_table *t, inv_ref ref) {
    inv_rec *r = rec_at(t, ref);
    if (t->dirty_refs == NULL || r->dirty) return;
    /* Each record is listed at most once and there are at most dirty_cap. */
    inv_assert(t->dirty_count < t->dirty_cap);
    r->dirty = 1;
    t->dirty_refs[t->dirty_count++] = ref;
}

/* Owning worker. See table.h. */
uint64_t table_dirty_count(const inv_table *t) {
    return t->dirty_count;
}

/* Owning worker. See table.h. Drains from the end of the list (the most
 * recently changed first); order does not matter to a flush, since each
 * record's current aggregate is what is written. */
long table_dirty_drain(inv_table *t, size_t max, table_rec_fn fn, void *ctx) {
    inv_assert(fn != NULL);
    long n = 0;
    while ((size_t)n < max && t->dirty_count > 0) {
        inv_ref ref = t->dirty_refs[t->dirty_count - 1];
        inv_rec *r = rec_at(t, ref);
        inv_assert(r->dirty == 1);
        inv_agg a;
        table_agg_get(t, ref, &a);
        if (fn(r->key, r->sku_len, r->key + r->sku_len + 1, r->loc_len, &a, ctx) != 0) break;
        r->dirty = 0;
        t->dirty_count--;
        n++;
    }
    return n;
}

/* Owning worker. See table.h. */
void table_dirty_clear(inv_table *t) {
    for (uint64_t i = 0; i < t->dirty_count; i++) rec_at(t, t->dirty_refs[i])->dirty = 0;
    t->dirty_count = 0;
}
