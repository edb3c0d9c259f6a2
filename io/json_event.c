/* json_event.c - decoder of one canonical event message (json_event.h).
 *
 * One pass over the message with the scanner of json_scan.h. The top-level
 * object is walked member by member. The name is first checked against the
 * member the canonical layout puts next (one 16-byte SSE2 compare of
 * `name":`); otherwise it is scanned and matched on its length and two
 * overlapping word loads. The value is read by a small per-field routine
 * straight into *ev; unknown members are validated and skipped by
 * json_skip_value. Strings without escapes stay in the message (zero copy);
 * with escapes they are decoded into scratch.
 *
 * Speed: about 1,100 instructions for a typical 200-byte event, plus about
 * 200 each for the timestamp and event_validate (callgrind on
 * perf/bench_decode.c). The hot helpers are
 * forced inline so the cursor stays in registers, and whitespace costs one
 * compare where there is none.
 *
 * Decode errors of single fields (a wrong type, a fractional quantity, a
 * malformed timestamp) do not stop the scan: they are recorded per field
 * and reported after the whole message proved to be valid JSON, so invalid
 * JSON is always reported as such, and the field errors come out in the
 * fixed order of json_event.h whatever the member order in the message.
 *
 * Invariants: scratch use never exceeds len (asserted); every string of *ev
 * points into [buf, buf+len) or [scratch, scratch+*scratch_used); every loop
 * consumes input, so the work is O(len). */
#include "json_event.h"

#include <string.h>

#include "inv_assert.h"
#include "inv_bytes.h"
#include "json_scan.h"
#include "inv_limits.h"
#include "timestamp.h"

/* Known members, in the order their decode errors are reported. */
typedef enum ev_field {
    F_EVENT_ID,
    F_EVENT_TYPE,
    F_SKU,
    F_LOCATION_ID,
    F_CORRELATION_ID,
    F_SOURCE_SYSTEM,
    F_QUANTITY,
    F_TIMESTAMP,
    F_COUNT,
    F_UNKNOWN = F_COUNT
} ev_field;

_Static_assert(F_COUNT <= 8, "seen and failed are 8-bit sets");
_Static_assert(INV_REASON_COUNT <= 256, "a field error is stored in a uint8_t");
_Static_assert(INV_MESSAGE_BYTES_MAX < UINT16_MAX + 2, "a string of a message fits uint16_t");

/* The decoder's state for one message. */
typedef struct ev_decoder {
    const unsigned char *base; /* first byte of the message */
    char *scratch;
    size_t scratch_used;
    size_t scratch_cap;
    inv_event *ev;
    unsigned seen;   /* bit per ev_field: member present */
    unsigned failed; /* bit per ev_field: decode error recorded in err[] */
    bool duplicate;  /* a known member appeared twice */
    uint8_t err[F_COUNT];
} ev_decoder;

/* File-local. True when the len bytes at n equal the literal lit, whose
 * length is len (3..16): two overlapping loads per side instead of a call to
 * memcmp; the literal's loads fold to constants. */
__attribute__((always_inline)) static inline bool ev_name_is(const char *n, size_t len,
                                                             const char *lit) {
    inv_debug_assert(strlen(lit) == len && len >= 3 && len <= 16);
    if (len >= 8) return (inv_load_u64(n) == inv_load_u64(lit)) & (inv_load_u64(n + len - 8) == inv_load_u64(lit + len - 8));
    if (len >= 4) return (inv_load_u32(n) == inv_load_u32(lit)) & (inv_load_u32(n + len - 4) == inv_load_u32(lit + len - 4));
    return (inv_load_u16(n) == inv_load_u16(lit)) & (inv_load_u16(n + len - 2) == inv_load_u16(lit + len - 2));
}

/* File-local. Maps a member name to its field; F_UNKNOWN for any other. */
__attribute__((always_inline)) static inline ev_field ev_field_of(const char *n, size_t len) {
    switch (len) {
    case 3:
        return ev_name_is(n, 3, "sku") ? F_SKU : F_UNKNOWN;
    case 7:
        return ev_name_is(n, 7, "eventId") ? F_EVENT_ID : F_UNKNOWN;
    case 9:
        if (ev_name_is(n, 9, "eventType")) return F_EVENT_TYPE;
        return ev_name_is(n, 9, "timestamp") ? F_TIMESTAMP : F_UNKNOWN;
    case 10:
        return ev_name_is(n, 10, "locationId") ? F_LOCATION_ID : F_UNKNOWN;
    case 12:
        return ev_name_is(n, 12, "sourceSystem") ? F_SOURCE_SYSTEM : F_UNKNOWN;
    case 13:
        if (ev_name_is(n, 13, "quantityDelta")) return F_QUANTITY;
        return ev_name_is(n, 13, "correlationId") ? F_CORRELATION_ID : F_UNKNOWN;
    default:
        return F_UNKNOWN;
    }
}

/* The canonical layout (DESIGN.md section 2, and what invsync's normalizer
 * writes): members in this order, no whitespace. After member f the decoder
 * guesses ev_guess[f].next and checks the 16 bytes at the name against
 * `name":` in one SSE2 compare; a hit skips the name scan, the name match
 * and the colon. A miss costs that one compare and falls back to the general
 * path, so any member order and whitespace still decode the same. */
typedef struct ev_guess_entry {
    char pattern[16]; /* name, closing quote, colon; zero padded */
    uint32_t mask;    /* (1 << len) - 1 */
    uint8_t len;
    uint8_t next; /* the member the canonical layout puts after this one */
} ev_guess_entry;

#define EV_GUESS(lit, nxt)                                                                         \
    { lit, (1u << (sizeof(lit) - 1)) - 1, sizeof(lit) - 1, nxt }
static const ev_guess_entry ev_guess[F_COUNT] = {
    [F_EVENT_ID] = EV_GUESS("eventId\":", F_EVENT_TYPE),
    [F_EVENT_TYPE] = EV_GUESS("eventType\":", F_SKU),
    [F_SKU] = EV_GUESS("sku\":", F_LOCATION_ID),
    [F_LOCATION_ID] = EV_GUESS("locationId\":", F_QUANTITY),
    [F_QUANTITY] = EV_GUESS("quantityDelta\":", F_SOURCE_SYSTEM),
    [F_SOURCE_SYSTEM] = EV_GUESS("sourceSystem\":", F_TIMESTAMP),
    [F_TIMESTAMP] = EV_GUESS("timestamp\":", F_CORRELATION_ID),
    [F_CORRELATION_ID] = EV_GUESS("correlationId\":", F_EVENT_ID),
};
#undef EV_GUESS

_Static_assert(sizeof("correlationId\":") - 1 <= 16, "every pattern fits 16 bytes");

/* The longest known name; a name that decodes to more bytes is unknown. */
#define EV_NAME_LEN_MAX 13

/* Every helper below takes the cursor s apart from the decoder state d and
 * is inlined into json_event_decode (EV_INLINE), whose local cursor then
 * lives in registers; out-of-line calls (json_skip, the string slow path)
 * get a copy of it. With json_eat this cut the instructions per event by a
 * fifth. */
#define EV_INLINE __attribute__((always_inline)) static inline

/* File-local. Records decode error r for field f (the first one per field). */
EV_INLINE void ev_fail(ev_decoder *d, ev_field f, inv_reason r) {
    inv_debug_assert(f < F_COUNT);
    inv_debug_assert(r != INV_OK);
    if (d->failed & (1u << f)) return;
    d->failed |= 1u << f;
    d->err[f] = (uint8_t)r;
}

/* File-local. Reads a member name (s->p just past its opening quote) and
 * returns its field in *f. Names with escapes are decoded into a small local
 * buffer; one that does not fit is longer than every known name. */
EV_INLINE inv_reason ev_read_name(ev_decoder *d, json_scan *s, ev_field *f) {
    char name[EV_NAME_LEN_MAX + 1];
    json_str str;
    inv_reason r = json_scan_string(s, d->base, name, sizeof(name), &str);
    if (r != INV_OK) return r;
    *f = str.ptr != NULL ? ev_field_of(str.ptr, str.len) : F_UNKNOWN;
    return INV_OK;
}

/* File-local. True, with s->p moved past the colon, when the member name at
 * s->p (just past its opening quote) is exactly the guessed one followed by
 * '"' and ':'. Those bytes hold no backslash, so the name has no escapes and
 * is that name. Needs 16 readable bytes; near the end it just says no. */
EV_INLINE bool ev_name_guessed(json_scan *s, ev_field guess) {
    inv_debug_assert(guess < F_COUNT);
#if defined(__SSE2__)
    const ev_guess_entry *g = &ev_guess[guess];
    if (s->end - s->p < 16) return false;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s->p);
    __m128i pat = _mm_loadu_si128((const __m128i *)(const void *)g->pattern);
    uint32_t eq = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pat));
    if ((eq & g->mask) != g->mask) return false;
    s->p += g->len;
    return true;
#else
    (void)s;
    return false;
#endif
}

/* File-local. Reads a string value (s->p just past its opening quote); when
 * it has escapes its decoded bytes take scratch space. */
EV_INLINE inv_reason ev_read_string(ev_decoder *d, json_scan *s, json_str *str) {
    char *out = d->scratch + d->scratch_used;
    inv_reason r = json_scan_string(s, d->base, out, d->scratch_cap - d->scratch_used, str);
    if (r != INV_OK) return r;
    inv_assert(str->ptr != NULL); /* scratch has room for the whole message */
    if (str->ptr == out) d->scratch_used += str->len;
    inv_debug_assert(d->scratch_used <= d->scratch_cap);
    inv_debug_assert(str->len <= UINT16_MAX);
    return INV_OK;
}

/* File-local. Stores string value str into field f of the event. */
EV_INLINE void ev_store_string(inv_event *ev, ev_field f, json_str str) {
    uint16_t len = (uint16_t)str.len;
    switch (f) {
    case F_EVENT_ID:
        ev->event_id = str.ptr;
        ev->event_id_len = len;
        break;
    case F_EVENT_TYPE:
        ev->type = (uint8_t)event_type_parse(str.ptr, str.len);
        break;
    case F_SKU:
        ev->sku = str.ptr;
        ev->sku_len = len;
        break;
    case F_LOCATION_ID:
        ev->location_id = str.ptr;
        ev->location_id_len = len;
        break;
    case F_CORRELATION_ID:
        ev->correlation_id = str.ptr;
        ev->correlation_id_len = len;
        break;
    case F_SOURCE_SYSTEM:
        ev->source_system = str.ptr;
        ev->source_system_len = len;
        break;
    default:
        inv_unreachable();
    }
}

/* File-local. The value of a string member (eventId .. sourceSystem). */
EV_INLINE inv_reason ev_read_string_field(ev_decoder *d, json_scan *s, ev_field f) {
    inv_debug_assert(f <= F_SOURCE_SYSTEM);
    json_str str;
    if (json_peek_is(s, '"')) {
        s->p++;
        inv_reason r = ev_read_string(d, s, &str);
        if (r == INV_OK) ev_store_string(d->ev, f, str);
        return r;
    }
    if ((f == F_CORRELATION_ID || f == F_SOURCE_SYSTEM) && json_peek_is(s, 'n')) {
        return json_scan_literal(s, "null", 4); /* null: absent */
    }
    ev_fail(d, f, INV_R_FIELD_TYPE);
    return json_skip(s, 1);
}

/* File-local. True when the next byte starts a number. */
EV_INLINE bool ev_at_number(const json_scan *s) {
    return s->p < s->end && (*s->p == '-' || (unsigned)(*s->p - '0') <= 9);
}

/* File-local. The value of quantityDelta: an integer. */
EV_INLINE inv_reason ev_read_quantity(ev_decoder *d, json_scan *s) {
    if (!ev_at_number(s)) {
        ev_fail(d, F_QUANTITY, INV_R_FIELD_TYPE);
        return json_skip(s, 1);
    }
    json_number n;
    inv_reason r = json_scan_number(s, &n);
    if (r != INV_OK) return r;
    if (!n.is_int) {
        ev_fail(d, F_QUANTITY, INV_R_QUANTITY_NOT_INTEGER);
    } else {
        d->ev->quantity_delta = json_number_i64_sat(&n);
    }
    return INV_OK;
}

/* File-local. The value of timestamp: an ISO-8601 UTC string or an integer
 * of epoch milliseconds. */
EV_INLINE inv_reason ev_read_timestamp(ev_decoder *d, json_scan *s) {
    inv_reason r;
    if (json_peek_is(s, '"')) {
        s->p++;
        json_str str;
        r = ev_read_string(d, s, &str);
        if (r == INV_OK && !timestamp_parse_iso(str.ptr, str.len, &d->ev->timestamp_ms)) {
            ev_fail(d, F_TIMESTAMP, INV_R_TIMESTAMP_FORMAT);
        }
        return r;
    }
    if (!ev_at_number(s)) {
        ev_fail(d, F_TIMESTAMP, INV_R_FIELD_TYPE);
        return json_skip(s, 1);
    }
    json_number n;
    r = json_scan_number(s, &n);
    if (r != INV_OK) return r;
    if (!n.is_int) {
        ev_fail(d, F_TIMESTAMP, INV_R_TIMESTAMP_FORMAT);
    } else {
        d->ev->timestamp_ms = json_number_i64_sat(&n);
    }
    return INV_OK;
}

/* File-local. The value of one member (s->p at its first byte). */
EV_INLINE inv_reason ev_read_member(ev_decoder *d, json_scan *s, ev_field f) {
    if (f == F_UNKNOWN) return json_skip(s, 1);
    inv_debug_assert(f < F_COUNT);
    if (d->seen & (1u << f)) {
        d->duplicate = true;
        return json_skip(s, 1);
    }
    d->seen |= 1u << f;
    if (f == F_QUANTITY) return ev_read_quantity(d, s);
    if (f == F_TIMESTAMP) return ev_read_timestamp(d, s);
    return ev_read_string_field(d, s, f);
}

/* File-local. Walks the top-level object (s->p at its '{') to its '}'.
 * Every iteration consumes at least a name, so the loop ends within the
 * message. */
EV_INLINE inv_reason ev_read_object(ev_decoder *d, json_scan *s) {
    inv_debug_assert(json_peek_is(s, '{'));
    s->p++;
    json_skip_ws(s);
    if (json_peek_is(s, '}')) {
        s->p++;
        return INV_OK;
    }
    ev_field guess = F_EVENT_ID;
    for (;;) {
        ev_field f;
        inv_reason r;
        if (!json_eat(s, '"')) return INV_R_JSON_SYNTAX;
        if (ev_name_guessed(s, guess)) {
            f = guess;
        } else {
            if ((r = ev_read_name(d, s, &f)) != INV_OK) return r;
            if (!json_eat(s, ':')) return INV_R_JSON_SYNTAX;
        }
        json_skip_ws(s);
        if ((r = ev_read_member(d, s, f)) != INV_OK) return r;
        if (f != F_UNKNOWN) guess = (ev_field)ev_guess[f].next;
        if (!json_eat(s, ',')) return json_eat(s, '}') ? INV_OK : INV_R_JSON_SYNTAX;
    }
}

/* File-local. The whole message: one value, whitespace around it. Returns a
 * syntax-class reason, json_not_object, or INV_OK for an object. */
EV_INLINE inv_reason ev_read_message(ev_decoder *d, json_scan *s) {
    json_skip_ws(s);
    inv_reason r;
    bool object = json_peek_is(s, '{');
    if (object) {
        r = ev_read_object(d, s);
    } else {
        r = json_skip(s, 0);
    }
    if (r != INV_OK) return r;
    json_skip_ws(s);
    if (s->p != s->end) return INV_R_JSON_SYNTAX;
    return object ? INV_OK : INV_R_JSON_NOT_OBJECT;
}

/* File-local. The decode verdict of a valid JSON object: a duplicate, then
 * the first field error in field order (missing quantity and timestamp
 * included), or INV_OK. */
static inv_reason ev_verdict(ev_decoder *d) {
    if (d->duplicate) return INV_R_FIELD_DUPLICATE;
    if (!(d->seen & (1u << F_QUANTITY))) ev_fail(d, F_QUANTITY, INV_R_QUANTITY_MISSING);
    if (!(d->seen & (1u << F_TIMESTAMP))) ev_fail(d, F_TIMESTAMP, INV_R_TIMESTAMP_MISSING);
    if (d->failed == 0) return INV_OK;
    unsigned f = (unsigned)__builtin_ctz(d->failed);
    inv_assert(f < F_COUNT);
    inv_assert(d->err[f] != INV_OK);
    return (inv_reason)d->err[f];
}

/* Any thread. See json_event.h. */
inv_reason json_event_decode(const char *buf, size_t len, char *scratch, size_t *scratch_used,
                             inv_event *ev) {
    inv_assert(buf != NULL || len == 0);
    inv_assert(scratch != NULL || len == 0);
    inv_assert(scratch_used != NULL && ev != NULL);
    *scratch_used = 0;
    ev->event_id = ev->sku = ev->location_id = NULL;
    ev->correlation_id = ev->source_system = NULL;
    ev->event_id_len = ev->sku_len = ev->location_id_len = 0;
    ev->correlation_id_len = ev->source_system_len = 0;
    ev->quantity_delta = 0;
    ev->timestamp_ms = 0;
    ev->type = INV_EV_NONE;
    if (len > INV_MESSAGE_BYTES_MAX) return INV_R_MESSAGE_TOO_LARGE;

    const unsigned char *b = (const unsigned char *)(buf != NULL ? buf : "");
    json_scan s = {b, b + len};
    ev_decoder d = {.base = b, .scratch = scratch, .scratch_cap = len, .ev = ev};
    inv_reason r = ev_read_message(&d, &s);
    *scratch_used = d.scratch_used;
    inv_assert(d.scratch_used <= len);
    if (r == INV_OK) r = ev_verdict(&d);
    if (r != INV_OK) return r;
    return event_validate(ev);
}
