/* event.c - event type names and the field validation of DESIGN.md section 2.
 *
 * Everything here runs on the worker hot path, once per event: no allocation,
 * no locale, no NUL-terminated strings. The type parser hashes the name to
 * its one candidate and compares three words and the length, without a
 * branch on the name; the character check of sku and locationId is one
 * 256-entry table lookup per byte, with no branch inside the loop (the JSON
 * decoder checks them while it scans them, and skips event_validate for an
 * event it knows to be valid). event_validate returns the first failing rule
 * in the order event.h fixes, so the DLQ reason of a given event is
 * deterministic.
 *
 * Limits come from inv_limits.h. A quantity is checked without negating it, so
 * INT64_MIN is rejected as too large instead of overflowing. */
#include "event.h"

#include <string.h>

#include "inv_assert.h"
#include "inv_limits.h"

/* Indexed by inv_event_type; each name zero-padded to 16 bytes, so that
 * event_type_parse may load 4 bytes at any offset up to 12 of any entry. */
static const char event_type_names[INV_EV_TYPE_COUNT][16] = {
    [INV_EV_NONE] = "NONE",
    [INV_EV_RECEIPT] = "RECEIPT",
    [INV_EV_TRANSFER_OUT] = "TRANSFER_OUT",
    [INV_EV_IN_TRANSIT] = "IN_TRANSIT",
    [INV_EV_TRANSFER_IN] = "TRANSFER_IN",
    [INV_EV_ADJUSTMENT] = "ADJUSTMENT",
    [INV_EV_SALE] = "SALE",
    [INV_EV_RETURN] = "RETURN",
    [INV_EV_RESERVATION] = "RESERVATION",
    [INV_EV_RELEASE] = "RELEASE",
    [INV_EV_FULFILLMENT] = "FULFILLMENT",
};

/* Their lengths; 0 for INV_EV_NONE, which no string parses to. */
static const uint8_t event_type_lens[INV_EV_TYPE_COUNT] = {
    [INV_EV_NONE] = 0,        [INV_EV_RECEIPT] = 7,      [INV_EV_TRANSFER_OUT] = 12,
    [INV_EV_IN_TRANSIT] = 10, [INV_EV_TRANSFER_IN] = 11, [INV_EV_ADJUSTMENT] = 10,
    [INV_EV_SALE] = 4,        [INV_EV_RETURN] = 6,       [INV_EV_RESERVATION] = 11,
    [INV_EV_RELEASE] = 7,     [INV_EV_FULFILLMENT] = 11,
};

/* The type whose name could be the string with first and last four bytes a
 * and b (as little-endian words), by a perfect hash of the ten names: the
 * top 4 bits of (a + b) * 151 (32-bit) differ for each of them (found by
 * search; a new type needs a new multiplier). Unused slots are INV_EV_NONE. */
#define EVENT_TYPE_HASH(a, b) ((uint32_t)(((a) + (b)) * 151u) >> 28)
static const uint8_t event_type_by_hash[16] = {
    [0] = INV_EV_ADJUSTMENT,    [1] = INV_EV_RESERVATION, [3] = INV_EV_FULFILLMENT,
    [5] = INV_EV_TRANSFER_IN,   [7] = INV_EV_IN_TRANSIT,  [8] = INV_EV_RETURN,
    [9] = INV_EV_RECEIPT,       [11] = INV_EV_SALE,       [12] = INV_EV_RELEASE,
    [14] = INV_EV_TRANSFER_OUT,
};

#define EVENT_TYPE_LEN_MIN 4  /* "SALE" */
#define EVENT_TYPE_LEN_MAX 12 /* "TRANSFER_OUT" */

_Static_assert(INV_EV_TYPE_COUNT == 11, "event_type_parse knows exactly ten types");
_Static_assert(INV_EV_TYPE_COUNT <= 256, "inv_event.type is a uint8_t");
_Static_assert(sizeof("TRANSFER_OUT") - 1 == EVENT_TYPE_LEN_MAX, "the longest name");
_Static_assert(EVENT_TYPE_LEN_MAX + 4 <= 16, "word loads stay inside a padded name");

/* 1 for the bytes of [A-Za-z0-9._-], 0 for every other byte value, including
 * ':' (the key separator), space, controls and every byte >= 0x80. */
static const unsigned char event_id_char_table[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, /* 0x20: '-' '.' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30: '0'-'9', not ':' */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40: 'A'-'O' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, /* 0x50: 'P'-'Z', '_' */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60: 'a'-'o' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, /* 0x70: 'p'-'z' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xa0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xb0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xc0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xd0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xe0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xf0 */
};

/* File-local. The 4 bytes at p as a little-endian word. */
static inline uint32_t event_load_u32(const char *p) {
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Any thread. Returns the type named by the len bytes at s (exact and case-
 * sensitive), or INV_EV_NONE. s may be NULL only when len is 0. Without a
 * branch on the name: three word loads cover the 4..12 bytes (first four,
 * last four, and the four after the first when len >= 8, never outside
 * [s, s+len)), a perfect hash picks the one candidate, and the same loads
 * from its padded name and its length decide. Event types arrive in no
 * predictable order, so a switch on the length and compares mispredicted
 * about once per event. */
inv_event_type event_type_parse(const char *s, size_t len) {
    inv_assert(s != NULL || len == 0);
    if (len < EVENT_TYPE_LEN_MIN || len > EVENT_TYPE_LEN_MAX) return INV_EV_NONE;
    size_t mid = len >= 8 ? 4 : len - 4;
    uint32_t a = event_load_u32(s), b = event_load_u32(s + len - 4);
    uint32_t c = event_load_u32(s + mid);
    unsigned t = event_type_by_hash[EVENT_TYPE_HASH(a, b)];
    inv_debug_assert(t < INV_EV_TYPE_COUNT);
    const char *name = event_type_names[t];
    bool match = (len == event_type_lens[t]) & (a == event_load_u32(name)) &
                 (b == event_load_u32(name + len - 4)) & (c == event_load_u32(name + mid));
    inv_debug_assert(!match || memcmp(s, name, len) == 0);
    return match ? (inv_event_type)t : INV_EV_NONE;
}

/* Any thread. Returns the canonical upper-case name of t, or "NONE" for
 * INV_EV_NONE and any value out of range. Never NULL. */
const char *event_type_name(inv_event_type t) {
    unsigned idx = (unsigned)t;
    if (idx >= (unsigned)INV_EV_TYPE_COUNT) return event_type_names[INV_EV_NONE];
    inv_assert(event_type_names[idx][0] != '\0');
    return event_type_names[idx];
}

/* Any thread. True when every one of the len bytes at s is in [A-Za-z0-9._-]
 * (true for len 0). s may be NULL only when len is 0. The loop is bounded by
 * len, which the callers bound by the field limits. */
bool event_id_chars_ok(const char *s, size_t len) {
    inv_assert(s != NULL || len == 0);
    inv_assert(event_id_char_table[(unsigned char)':'] == 0);
    const unsigned char *p = (const unsigned char *)s;
    unsigned ok = 1;
    for (size_t i = 0; i < len; i++)
        ok &= event_id_char_table[p[i]];
    return ok != 0;
}

/* File-local. Validates one key part (sku or locationId): present, at most
 * len_max bytes, and of the allowed characters. Returns INV_OK or the
 * matching one of the three reasons the caller passes. */
static inv_reason event_check_key_part(const char *s, size_t len, size_t len_max,
                                       inv_reason missing, inv_reason too_long,
                                       inv_reason bad_char) {
    inv_assert(len_max > 0);
    inv_assert(missing != INV_OK && too_long != INV_OK && bad_char != INV_OK);
    if (s == NULL || len == 0) return missing;
    if (len > len_max) return too_long;
    if (!event_id_chars_ok(s, len)) return bad_char;
    return INV_OK;
}

/* File-local. Checks the quantity rule: non-zero and |q| <= INV_QUANTITY_ABS_MAX,
 * compared without negation so INT64_MIN is "too large", not undefined. The
 * sign is free for every type (ADJUSTMENT uses it, the others ignore it). */
static inv_reason event_check_quantity(int64_t q) {
    if (q == 0) return INV_R_QUANTITY_ZERO;
    if (q > INV_QUANTITY_ABS_MAX || q < -INV_QUANTITY_ABS_MAX) return INV_R_QUANTITY_TOO_LARGE;
    return INV_OK;
}

/* File-local. True when the message key is exactly sku ':' locationId. */
static bool event_key_matches(const inv_event *ev) {
    inv_assert(ev->key != NULL);
    inv_assert(ev->sku != NULL && ev->location_id != NULL);
    size_t n = (size_t)ev->sku_len + 1 + ev->location_id_len;
    return ev->key_len == n && memcmp(ev->key, ev->sku, ev->sku_len) == 0 &&
           ev->key[ev->sku_len] == ':' &&
           memcmp(ev->key + ev->sku_len + 1, ev->location_id, ev->location_id_len) == 0;
}

/* Any thread. Returns INV_OK or the reason of the first failing rule, in the
 * order eventId, eventType, sku, locationId, correlationId, sourceSystem,
 * quantity, timestamp, message key. A NULL or empty eventId, sku or locationId is missing;
 * correlationId and sourceSystem may be NULL only when their length is 0
 * (asserted: the lengths are trusted to describe the pointers). */
inv_reason event_validate(const inv_event *ev) {
    inv_assert(ev != NULL);
    inv_assert(ev->correlation_id != NULL || ev->correlation_id_len == 0);
    inv_assert(ev->source_system != NULL || ev->source_system_len == 0);
    inv_reason r;

    if (ev->event_id == NULL || ev->event_id_len == 0) return INV_R_EVENT_ID_MISSING;
    if (ev->event_id_len > INV_EVENT_ID_LEN_MAX) return INV_R_EVENT_ID_TOO_LONG;
    if (ev->type == INV_EV_NONE || ev->type >= INV_EV_TYPE_COUNT) return INV_R_EVENT_TYPE_UNKNOWN;
    r = event_check_key_part(ev->sku, ev->sku_len, INV_SKU_LEN_MAX, INV_R_SKU_MISSING,
                             INV_R_SKU_TOO_LONG, INV_R_SKU_BAD_CHAR);
    if (r != INV_OK) return r;
    r = event_check_key_part(ev->location_id, ev->location_id_len, INV_LOCATION_LEN_MAX,
                             INV_R_LOCATION_MISSING, INV_R_LOCATION_TOO_LONG,
                             INV_R_LOCATION_BAD_CHAR);
    if (r != INV_OK) return r;
    if (ev->correlation_id_len > INV_CORRELATION_ID_LEN_MAX) return INV_R_CORRELATION_ID_TOO_LONG;
    if (ev->source_system_len > INV_SOURCE_SYSTEM_LEN_MAX) return INV_R_SOURCE_SYSTEM_TOO_LONG;
    r = event_check_quantity(ev->quantity_delta);
    if (r != INV_OK) return r;
    if (ev->timestamp_ms < INV_TIMESTAMP_MS_MIN || ev->timestamp_ms > INV_TIMESTAMP_MS_MAX) {
        return INV_R_TIMESTAMP_OUT_OF_RANGE;
    }
    if (ev->key != NULL && !event_key_matches(ev)) return INV_R_KEY_MISMATCH;
    return INV_OK;
}

/* Any thread, on an event that passed event_validate (asserted for the type
 * and the quantity range). Returns |quantityDelta| in [1, 10^9] for every type
 * but ADJUSTMENT, and quantityDelta itself (signed, non-zero) for ADJUSTMENT. */
int64_t event_quantity(const inv_event *ev) {
    inv_assert(ev != NULL);
    inv_assert(ev->type != INV_EV_NONE && ev->type < INV_EV_TYPE_COUNT);
    int64_t q = ev->quantity_delta;
    inv_assert(q != 0 && q <= INV_QUANTITY_ABS_MAX && q >= -INV_QUANTITY_ABS_MAX);
    if (ev->type == INV_EV_ADJUSTMENT) return q;
    return q < 0 ? -q : q;
}
