/* fuzz_event.c - libFuzzer target for event validation and the apply rules
 * (engine/event.c, engine/apply.c, engine/reason.c).
 *
 * The input is carved into one inv_event: a fixed header of small integers
 * (type, flags, field lengths, quantity, timestamp, offset, a start
 * aggregate), then the bytes of the string fields. Lengths are bounded a
 * little above each limit so both sides of every limit are reached; the
 * quantity and timestamp have modes that land near their boundaries, which
 * raw random 64-bit values would almost never hit.
 *
 * Checked on every input:
 *   - event_validate agrees with an independent reference of DESIGN.md
 *     section 2 (same reason, same rule order);
 *   - event_type_parse accepts exactly the ten names, and event_id_chars_ok
 *     agrees with a reference predicate, on fuzzed bytes;
 *   - reason names and texts are never NULL or empty;
 *   - when the event is valid, apply_event on several aggregates (fresh,
 *     near INT64_MAX / INT64_MIN in each field, version and counters near
 *     their maxima, and one carved from the input) agrees with a model in
 *     128-bit arithmetic: the same overflow reason, *next unchanged on
 *     rejection, and on INV_OK every field exact, reserved >= 0,
 *     inTransit >= 0, version == cur + 1 and available representable. The
 *     event is applied up to 16 times in place (cur == next) to walk an
 *     aggregate into its limits.
 *
 * Build: clang -std=c11 -g -O1 -D_GNU_SOURCE -Iengine
 *        -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_event.c
 *        engine/event.c engine/apply.c engine/reason.c -o fuzz_event */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "event.h"
#include "inv_limits.h"
#include "reason.h"
#include "../test_util.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_APPLY_REPEAT_MAX 16


/* Takes up to want bytes of the remaining input as a string field. */
static const char *rd_bytes(fuzz_reader *r, size_t want, size_t *got) {
    *got = want < r->left ? want : r->left;
    const char *s = (const char *)r->p;
    r->p += *got;
    r->left -= *got;
    return s;
}

static int64_t quantity_from(uint8_t mode, uint64_t raw) {
    switch (mode & 7) {
    case 0: return (int64_t)raw;
    case 1: return (int8_t)raw;
    case 2: /* around +-10^9 */
        return (raw & 0x100 ? -1 : 1) * (INV_QUANTITY_ABS_MAX + (int8_t)raw);
    case 3: return (int32_t)raw;
    case 4: {
        static const int64_t edge[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, 0, 1, -1, 2, -2};
        return edge[raw & 7];
    }
    default: return (int16_t)raw;
    }
}

static int64_t timestamp_from(uint8_t mode, uint64_t raw) {
    switch (mode & 3) {
    case 0: return (int64_t)raw;
    case 1: return (int64_t)(raw % (uint64_t)(INV_TIMESTAMP_MS_MAX + 1));
    case 2: {
        static const int64_t edge[] = {INV_TIMESTAMP_MS_MIN - 1, INV_TIMESTAMP_MS_MIN,
                                       INV_TIMESTAMP_MS_MAX,     INV_TIMESTAMP_MS_MAX + 1,
                                       INT64_MIN,                INT64_MAX,
                                       1795428930123LL,          1795428930122LL};
        return edge[raw & 7];
    }
    default: return 1795428930123LL + (int16_t)raw;
    }
}

static bool ref_char_ok(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static bool ref_chars_ok(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (!ref_char_ok((unsigned char)s[i])) return false;
    }
    return true;
}

/* The rules of DESIGN.md section 2 in event.h's order, written plainly. */
static inv_reason ref_validate(const inv_event *e) {
    if (e->event_id == NULL || e->event_id_len == 0) return INV_R_EVENT_ID_MISSING;
    if (e->event_id_len > 128) return INV_R_EVENT_ID_TOO_LONG;
    if (e->type < 1 || e->type > 10) return INV_R_EVENT_TYPE_UNKNOWN;
    if (e->sku == NULL || e->sku_len == 0) return INV_R_SKU_MISSING;
    if (e->sku_len > 64) return INV_R_SKU_TOO_LONG;
    if (!ref_chars_ok(e->sku, e->sku_len)) return INV_R_SKU_BAD_CHAR;
    if (e->location_id == NULL || e->location_id_len == 0) return INV_R_LOCATION_MISSING;
    if (e->location_id_len > 64) return INV_R_LOCATION_TOO_LONG;
    if (!ref_chars_ok(e->location_id, e->location_id_len)) return INV_R_LOCATION_BAD_CHAR;
    if (e->correlation_id_len > 128) return INV_R_CORRELATION_ID_TOO_LONG;
    if (e->source_system_len > 64) return INV_R_SOURCE_SYSTEM_TOO_LONG;
    if (e->quantity_delta == 0) return INV_R_QUANTITY_ZERO;
    __int128 q = e->quantity_delta;
    if (q < 0) q = -q;
    if (q > 1000000000) return INV_R_QUANTITY_TOO_LARGE;
    if (e->timestamp_ms < 0 || e->timestamp_ms > 253402300799999LL) {
        return INV_R_TIMESTAMP_OUT_OF_RANGE;
    }
    return INV_OK;
}

static bool fits_i64(__int128 v) {
    return v >= INT64_MIN && v <= INT64_MAX;
}

static uint32_t sat_inc(uint32_t c) {
    return c == UINT32_MAX ? c : c + 1;
}

/* The model: the next aggregate and reason of applying the valid event e to
 * cur, in 128-bit arithmetic so nothing can overflow here. */
static inv_reason ref_apply(const inv_agg *cur, const inv_event *e, inv_agg *out) {
    __int128 d = e->quantity_delta;
    __int128 q = d < 0 ? -d : d;
    __int128 on = cur->on_hand, res = cur->reserved, tr = cur->in_transit;
    bool rel_excess = false, tin_excess = false;
    switch (e->type) {
    case INV_EV_RECEIPT: on += q; break;
    case INV_EV_TRANSFER_OUT: on -= q; break;
    case INV_EV_IN_TRANSIT: tr += q; break;
    case INV_EV_TRANSFER_IN:
        on += q;
        tin_excess = q > tr;
        tr -= q < tr ? q : tr;
        break;
    case INV_EV_ADJUSTMENT: on += d; break;
    case INV_EV_SALE: on -= q; break;
    case INV_EV_RETURN: on += q; break;
    case INV_EV_RESERVATION: res += q; break;
    case INV_EV_RELEASE:
        rel_excess = q > res;
        res -= q < res ? q : res;
        break;
    case INV_EV_FULFILLMENT:
        on -= q;
        rel_excess = q > res;
        res -= q < res ? q : res;
        break;
    default: FUZZ_CHECK(0);
    }
    if (!fits_i64(on)) return INV_R_OVERFLOW_ON_HAND;
    if (!fits_i64(res)) return INV_R_OVERFLOW_RESERVED;
    if (!fits_i64(tr)) return INV_R_OVERFLOW_IN_TRANSIT;
    if (!fits_i64(on - res)) return INV_R_OVERFLOW_AVAILABLE;
    if (cur->version == UINT64_MAX) return INV_R_OVERFLOW_VERSION;

    __int128 avail_cur = (__int128)cur->on_hand - cur->reserved;
    *out = *cur;
    out->on_hand = (int64_t)on;
    out->reserved = (int64_t)res;
    out->in_transit = (int64_t)tr;
    out->version = cur->version + 1;
    out->offset = e->offset > cur->offset ? e->offset : cur->offset; /* never backwards */
    out->last_updated_ms =
        e->timestamp_ms > cur->last_updated_ms ? e->timestamp_ms : cur->last_updated_ms;
    if (on - res < avail_cur && on - res < 0) out->oversell_count = sat_inc(out->oversell_count);
    if (rel_excess) out->release_excess_count = sat_inc(out->release_excess_count);
    if (tin_excess) out->transfer_in_excess_count = sat_inc(out->transfer_in_excess_count);
    return INV_OK;
}

/* Applies e to *a once, separately and in place, and checks both against the
 * model. Returns the reason; *a becomes the next aggregate on INV_OK. */
static inv_reason check_apply_once(inv_agg *a, const inv_event *e) {
    inv_agg want;
    memset(&want, 0, sizeof(want));
    inv_reason want_r = ref_apply(a, e, &want);

    inv_agg next;
    memset(&next, 0xa5, sizeof(next));
    inv_agg next_before = next;
    inv_reason r = apply_event(a, e, &next);
    FUZZ_CHECK(r == want_r);

    inv_agg self = *a;
    FUZZ_CHECK(apply_event(&self, e, &self) == r);

    if (r != INV_OK) {
        FUZZ_CHECK(memcmp(&next, &next_before, sizeof(next)) == 0);
        FUZZ_CHECK(memcmp(&self, a, sizeof(self)) == 0);
        return r;
    }
    FUZZ_CHECK(memcmp(&next, &want, sizeof(next)) == 0);
    FUZZ_CHECK(memcmp(&self, &want, sizeof(self)) == 0);
    FUZZ_CHECK(next.reserved >= 0);
    FUZZ_CHECK(next.in_transit >= 0);
    FUZZ_CHECK(next.version == a->version + 1);
    FUZZ_CHECK((__int128)agg_available(&next) == (__int128)next.on_hand - next.reserved);
    *a = next;
    return r;
}

/* An aggregate from the input, repaired to satisfy the invariants apply_event
 * asserts: reserved >= 0, inTransit >= 0, onHand - reserved representable. */
static inv_agg agg_from_input(fuzz_reader *r) {
    uint8_t mode = rd_u8(r);
    inv_agg a;
    agg_init(&a);
    uint64_t on = rd_u64(r), res = rd_u64(r), tr = rd_u64(r);
    if (mode & 1) { /* small values: the min() clamps and counters matter */
        a.on_hand = (int16_t)on;
        a.reserved = (uint8_t)res;
        a.in_transit = (uint8_t)tr;
    } else {
        a.on_hand = (int64_t)on;
        a.reserved = (int64_t)(res & (uint64_t)INT64_MAX);
        a.in_transit = (int64_t)(tr & (uint64_t)INT64_MAX);
    }
    int64_t avail;
    if (__builtin_sub_overflow(a.on_hand, a.reserved, &avail)) a.on_hand = a.reserved;
    a.version = mode & 2 ? UINT64_MAX - (mode >> 4) : mode >> 2;
    a.oversell_count = mode & 4 ? UINT32_MAX - (mode & 1) : 0;
    a.release_excess_count = mode & 8 ? UINT32_MAX - 1 : 0;
    a.transfer_in_excess_count = mode & 8 ? UINT32_MAX : 7;
    a.last_updated_ms = (int64_t)rd_u64(r);
    a.offset = (int64_t)rd_u64(r);
    return a;
}

/* event_type_parse accepts exactly the ten names; names round-trip. */
static void check_type_parse(const uint8_t *data, size_t size) {
    size_t n = size < 16 ? size : 16;
    inv_event_type t = event_type_parse((const char *)data, n);
    for (int i = INV_EV_NONE + 1; i < INV_EV_TYPE_COUNT; i++) {
        const char *name = event_type_name((inv_event_type)i);
        bool same = strlen(name) == n && memcmp(name, data, n) == 0;
        FUZZ_CHECK(same == (t == (inv_event_type)i));
        FUZZ_CHECK(event_type_parse(name, strlen(name)) == (inv_event_type)i);
    }
    FUZZ_CHECK(t >= INV_EV_NONE && t < INV_EV_TYPE_COUNT);
    FUZZ_CHECK(event_id_chars_ok((const char *)data, n) == ref_chars_ok((const char *)data, n));
}

static void carve_event(fuzz_reader *r, inv_event *e, uint8_t *repeat) {
    memset(e, 0, sizeof(*e));
    uint8_t tb = rd_u8(r);
    e->type = tb >= 0xf0 ? tb : (uint8_t)(tb % 12); /* 0 and 11..255 are unknown */
    uint8_t flags = rd_u8(r);
    size_t id_want = (rd_u8(r) | (size_t)rd_u8(r) << 8) % 200;
    size_t sku_want = rd_u8(r) % 80, loc_want = rd_u8(r) % 80;
    size_t corr_want = rd_u8(r) % 160, src_want = rd_u8(r) % 80;
    uint8_t qmode = rd_u8(r);
    e->quantity_delta = quantity_from(qmode, rd_u64(r));
    uint8_t tmode = rd_u8(r);
    e->timestamp_ms = timestamp_from(tmode, rd_u64(r));
    e->offset = (int64_t)rd_u64(r);
    e->partition = 0;
    *repeat = (uint8_t)(1 + (tmode >> 4) % FUZZ_APPLY_REPEAT_MAX);

    size_t got;
    e->event_id = rd_bytes(r, id_want, &got);
    e->event_id_len = (uint16_t)got;
    e->sku = rd_bytes(r, sku_want, &got);
    e->sku_len = (uint8_t)got;
    e->location_id = rd_bytes(r, loc_want, &got);
    e->location_id_len = (uint8_t)got;
    e->correlation_id = rd_bytes(r, corr_want, &got);
    e->correlation_id_len = (uint16_t)got;
    e->source_system = rd_bytes(r, src_want, &got);
    e->source_system_len = (uint8_t)got;
    if (flags & 1) e->event_id = NULL;
    if (flags & 2) e->sku = NULL;
    if (flags & 4) e->location_id = NULL;
    if ((flags & 8) && e->correlation_id_len == 0) e->correlation_id = NULL;
    if ((flags & 16) && e->source_system_len == 0) e->source_system = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_type_parse(data, size);

    fuzz_reader r = {data, size};
    inv_event e;
    uint8_t repeat;
    carve_event(&r, &e, &repeat);
    inv_agg from_input = agg_from_input(&r);

    inv_reason v = event_validate(&e);
    FUZZ_CHECK(v == ref_validate(&e));
    FUZZ_CHECK(v >= INV_OK && v < INV_REASON_COUNT);
    FUZZ_CHECK(inv_reason_name(v) != NULL && inv_reason_name(v)[0] != '\0');
    FUZZ_CHECK(inv_reason_text(v) != NULL && inv_reason_text(v)[0] != '\0');
    if (v != INV_OK) return 0;

    int64_t q = event_quantity(&e);
    if (e.type == INV_EV_ADJUSTMENT) {
        FUZZ_CHECK(q == e.quantity_delta);
    } else {
        FUZZ_CHECK(q > 0 && q <= INV_QUANTITY_ABS_MAX);
        FUZZ_CHECK(q == e.quantity_delta || q == -e.quantity_delta);
    }

    inv_agg aggs[9];
    agg_init(&aggs[0]);
    aggs[1] = tu_agg_with(INT64_MAX - 5, 0, 0);
    aggs[2] = tu_agg_with(INT64_MIN + 5, 0, 0);
    aggs[3] = tu_agg_with(INT64_MAX - 3, INT64_MAX - 7, INT64_MAX - 2);
    aggs[4] = tu_agg_with(-5, INT64_MAX - 10, 3); /* available = INT64_MIN + 6 */
    aggs[5] = tu_agg_with(2, 3, 1);
    aggs[5].version = UINT64_MAX - 1;
    aggs[5].oversell_count = UINT32_MAX - 1;
    aggs[5].release_excess_count = UINT32_MAX - 1;
    aggs[5].transfer_in_excess_count = UINT32_MAX - 1;
    aggs[6] = tu_agg_with(INV_QUANTITY_ABS_MAX, INV_QUANTITY_ABS_MAX, INV_QUANTITY_ABS_MAX);
    aggs[7] = tu_agg_with(INT64_MIN + INV_QUANTITY_ABS_MAX, 0, INT64_MAX);
    aggs[8] = from_input;

    for (size_t i = 0; i < sizeof(aggs) / sizeof(aggs[0]); i++) {
        for (uint8_t k = 0; k < repeat; k++) {
            if (check_apply_once(&aggs[i], &e) != INV_OK) break;
        }
    }
    return 0;
}
