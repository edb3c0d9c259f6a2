/* json_event.c - decoder of one canonical event message (json_event.h).
 *
 * One pass over the message with the scanner of json_scan.h. The top-level
 * object is walked member by member. The canonical layout (DESIGN.md section
 * 2, what the normalizer writes: the members in their usual order, no
 * whitespace) is read by eight steps, each specialized to its member
 * (ev_canon_step), that check the separator, the name, the colon and maybe
 * the value's quote in one compare. The first byte that does not follow
 * that layout hands over to the general loop, which reads any order: there
 * a name is first checked against the member the layout puts next (one
 * 16-byte SSE2 compare of `name":`), otherwise scanned and matched on its
 * length and two overlapping word loads. The value is read by a small
 * per-field routine straight into *ev; unknown members are validated and
 * skipped by json_skip_value. Strings without escapes stay in the message
 * (zero copy); with escapes they are decoded into scratch. An accepted
 * event skips event_validate when the decoder already knows that every
 * rule holds (ev_surely_valid): sku and locationId are checked for their
 * character set while they are scanned.
 *
 * Speed: about 850 instructions for a typical 200-byte event, timestamp and
 * validation included, and well under one mispredicted branch (callgrind on
 * perf/bench_decode.c); the event type, the quantity's sign and digit count
 * and the checks of the rules are read without branches on the data, since
 * they vary from event to event. The hot helpers are forced inline so the
 * cursor stays in registers, and whitespace costs one compare where there
 * is none.
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
    unsigned seen;        /* bit per ev_field: member present */
    unsigned failed;      /* bit per ev_field: decode error recorded in err[] */
    unsigned id_chars_ok; /* bit per ev_field (sku, locationId): read as plain [A-Za-z0-9._-] */
    bool duplicate;       /* a known member appeared twice */
    uint8_t err[F_COUNT];
} ev_decoder;

/* File-local. True when the len bytes at n equal the literal lit, whose
 * length is len (3..16): two overlapping loads per side instead of a call to
 * memcmp; the literal's loads fold to constants. */
__attribute__((always_inline)) static inline bool ev_name_is(const char *n, size_t len,
                                                             const char *lit) {
    inv_debug_assert(strlen(lit) == len && len >= 3 && len <= 16);
    if (len >= 8)
        return (inv_load_u64(n) == inv_load_u64(lit)) &
               (inv_load_u64(n + len - 8) == inv_load_u64(lit + len - 8));
    if (len >= 4)
        return (inv_load_u32(n) == inv_load_u32(lit)) &
               (inv_load_u32(n + len - 4) == inv_load_u32(lit + len - 4));
    return (inv_load_u16(n) == inv_load_u16(lit)) &
           (inv_load_u16(n + len - 2) == inv_load_u16(lit + len - 2));
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

/* The steps of the canonical walk (ev_canon_step), in the layout's order.
 * Each is checked at the byte before its member, which is the object's '{'
 * for the first and the ',' after the previous value for the others: that
 * byte, then `"name":` and, for the four members whose valid value is
 * always a string, the value's opening quote, in one scalar and one SSE2
 * compare. ev_guess gives the same order (asserted in ev_read_object). */
typedef struct ev_canon_entry {
    char pattern[16]; /* quoted name, colon, maybe the value's quote; zero padded */
    uint32_t mask;    /* (1 << len) - 1 */
    uint8_t len;
    uint8_t field;      /* ev_field */
    char head;          /* '{' or ',' */
    bool string_opened; /* the pattern ends with the value's opening quote */
} ev_canon_entry;

#define EV_CANON(lit, f, hd, str)                                                                  \
    { lit, (1u << (sizeof(lit) - 1)) - 1, sizeof(lit) - 1, f, hd, str }
static const ev_canon_entry ev_canon[F_COUNT] = {
    EV_CANON("\"eventId\":\"", F_EVENT_ID, '{', true),
    EV_CANON("\"eventType\":\"", F_EVENT_TYPE, ',', true),
    EV_CANON("\"sku\":\"", F_SKU, ',', true),
    EV_CANON("\"locationId\":\"", F_LOCATION_ID, ',', true),
    EV_CANON("\"quantityDelta\":", F_QUANTITY, ',', false),
    EV_CANON("\"sourceSystem\":", F_SOURCE_SYSTEM, ',', false), /* may be null */
    EV_CANON("\"timestamp\":", F_TIMESTAMP, ',', false),        /* or a number */
    EV_CANON("\"correlationId\":", F_CORRELATION_ID, ',', false),
};
#undef EV_CANON

_Static_assert(sizeof("\"correlationId\":") - 1 <= 16, "every canonical pattern fits 16 bytes");

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

/* File-local. The fast path of a string value (s->p just past its opening
 * quote): when q, the end of a span of plain bytes from s->p, is the closing
 * quote, the string is those bytes; it is taken in place (no copy) and true
 * is returned. Otherwise false, with nothing consumed. */
EV_INLINE bool ev_take_plain_string(json_scan *s, const unsigned char *q, json_str *str) {
    if (!__builtin_expect(q < s->end && *q == '"', 1)) return false;
    str->ptr = (const char *)s->p;
    str->len = (size_t)(q - s->p);
    s->p = q + 1;
    inv_debug_assert(str->len <= UINT16_MAX);
    return true;
}

/* File-local. Reads a string value (s->p just past its opening quote); when
 * it has escapes its decoded bytes take scratch space. The plain case (no
 * escape, no control, no byte >= 0x80) is settled here without touching
 * scratch; every other string goes through json_scan_string. */
EV_INLINE inv_reason ev_read_string(ev_decoder *d, json_scan *s, json_str *str) {
    if (ev_take_plain_string(s, json_str_span(s->p, s->end, d->base), str)) return INV_OK;
    char *out = d->scratch + d->scratch_used;
    inv_reason r = json_scan_string(s, d->base, out, d->scratch_cap - d->scratch_used, str);
    if (r != INV_OK) return r;
    inv_assert(str->ptr != NULL); /* scratch has room for the whole message */
    if (str->ptr == out) d->scratch_used += str->len;
    inv_debug_assert(d->scratch_used <= d->scratch_cap);
    inv_debug_assert(str->len <= UINT16_MAX);
    return INV_OK;
}

#if defined(__SSE2__)
/* File-local. Bit i set when byte i of v is not one of [A-Za-z0-9._-], the
 * character set of sku and locationId (event.h). Each class is one range
 * test: x + (0x80 - lo) is signed-less-than -128 + (hi - lo + 1) exactly
 * when lo <= x <= hi, for every byte value; letters are tested as x | 0x20,
 * which lands in 'a'..'z' only for the 52 letters. */
EV_INLINE unsigned ev_id_bad_mask(__m128i v) {
    __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_cmplt_epi8(_mm_add_epi8(lower, _mm_set1_epi8((char)(0x80 - 'a'))),
                                   _mm_set1_epi8((char)(0x80 + 26)));
    __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '0'))),
                                   _mm_set1_epi8((char)(0x80 + 10)));
    __m128i dash_dot = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '-'))),
                                      _mm_set1_epi8((char)(0x80 + 2)));
    __m128i under = _mm_cmpeq_epi8(v, _mm_set1_epi8('_'));
    __m128i ok = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_or_si128(dash_dot, under));
    return (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;
}
#endif

/* File-local. Returns the first byte in [p, end) that is not one of
 * [A-Za-z0-9._-], or end; like json_str_span it never reads outside
 * [base, end) (a short tail is loaded as the 16 bytes ending at end). It may
 * also stop early, at p itself, where no 16-byte load fits: a caller only
 * relies on the bytes before the returned position. */
EV_INLINE const unsigned char *ev_id_span(const unsigned char *p, const unsigned char *end,
                                          const unsigned char *base) {
#if defined(__SSE2__)
    return json_span16(p, end, base, ev_id_bad_mask);
#else
    inv_debug_assert(base <= p && p <= end);
    (void)end;
    (void)base;
    return p;
#endif
}

/* File-local. Reads the string value of sku or locationId (s->p just past
 * its opening quote). When it is all [A-Za-z0-9._-] up to its closing quote
 * (so it has no escapes either), that is recorded in d->id_chars_ok and the
 * character check of event_validate need not run again; any other string is
 * read by ev_read_string and checked by event_validate. */
EV_INLINE inv_reason ev_read_id_string(ev_decoder *d, json_scan *s, ev_field f, json_str *str) {
    inv_debug_assert(f == F_SKU || f == F_LOCATION_ID);
    if (ev_take_plain_string(s, ev_id_span(s->p, s->end, d->base), str)) {
        d->id_chars_ok |= 1u << f;
        return INV_OK;
    }
    return ev_read_string(d, s, str);
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
        inv_reason r = f == F_SKU || f == F_LOCATION_ID ? ev_read_id_string(d, s, f, &str)
                                                        : ev_read_string(d, s, &str);
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
    return s->p < s->end && ((*s->p == '-') | ((unsigned)(*s->p - '0') <= 9)); /* one branch */
}

/* File-local. The value of quantityDelta: an integer. The usual few digits
 * take json_scan_small_int first: their sign and count vary from event to
 * event and would cost mispredicted branches here and in json_scan_number.
 * It consumes nothing when it declines, so the general path sees the same
 * bytes. */
EV_INLINE inv_reason ev_read_quantity(ev_decoder *d, json_scan *s) {
    if (json_scan_small_int(s, &d->ev->quantity_delta)) return INV_OK;
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

/* File-local. The value of known member f (s->p at its first byte), whose
 * seen bit the caller has just set. */
EV_INLINE inv_reason ev_read_value(ev_decoder *d, json_scan *s, ev_field f) {
    inv_debug_assert(f < F_COUNT);
    inv_debug_assert(d->seen & (1u << f));
    if (f == F_QUANTITY) return ev_read_quantity(d, s);
    if (f == F_TIMESTAMP) return ev_read_timestamp(d, s);
    return ev_read_string_field(d, s, f);
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
    return ev_read_value(d, s, f);
}

/* File-local, debug builds. True when ev_canon lists the fields in the order
 * ev_guess chains them, starting at eventId, each once. */
static inline bool ev_canon_follows_guess(void) {
    unsigned fields = 0;
    for (unsigned k = 0; k < F_COUNT; k++) {
        ev_field want = k == 0 ? F_EVENT_ID : (ev_field)ev_guess[ev_canon[k - 1].field].next;
        if (ev_canon[k].field != want || (fields & (1u << want))) return false;
        fields |= 1u << want;
        if ((ev_canon[k].head == '{') != (k == 0)) return false;
    }
    return true;
}

/* How one step of the canonical walk (ev_canon_step) ended. */
typedef enum ev_step {
    EV_STEP_NEXT, /* the member was read: s->p is just past its value */
    EV_STEP_MISS, /* the bytes are not the expected member: nothing was read */
    EV_STEP_END   /* a syntax error in the value: its reason is in *r */
} ev_step;

/* File-local. Step k of the canonical walk, s->p at the byte before the
 * member (the '{' or the ','): when the bytes there are ev_canon[k]'s, reads
 * the member's value. The caller passes a constant k, so each inlined copy
 * is specialized to its field: no name scan, no field dispatch, no duplicate
 * test (the walk reads each field at most once, in order, as the first
 * members, so it cannot have been seen). Reads exactly what the general loop
 * reads for the same bytes, only with fewer steps. */
EV_INLINE ev_step ev_canon_step(ev_decoder *d, json_scan *s, unsigned k, inv_reason *r) {
    inv_debug_assert(k < F_COUNT);
    const ev_canon_entry *c = &ev_canon[k];
    const ev_field f = (ev_field)c->field;
    inv_debug_assert(!(d->seen & (1u << f)));
#if defined(__SSE2__)
    const unsigned char *p = s->p;
    if (s->end - p < 17 || *p != (unsigned char)c->head) return EV_STEP_MISS;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
    __m128i pat = _mm_loadu_si128((const __m128i *)(const void *)c->pattern);
    uint32_t eq = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, pat));
    if ((eq & c->mask) != c->mask) return EV_STEP_MISS;
    s->p = p + 1 + c->len;
#else
    return EV_STEP_MISS;
#endif
    d->seen |= 1u << f;
    if (c->string_opened) {
        json_str str;
        *r = f == F_SKU || f == F_LOCATION_ID ? ev_read_id_string(d, s, f, &str)
                                              : ev_read_string(d, s, &str);
        if (*r == INV_OK) ev_store_string(d->ev, f, str);
    } else {
        json_skip_ws(s);
        *r = ev_read_value(d, s, f);
    }
    return *r == INV_OK ? EV_STEP_NEXT : EV_STEP_END;
}

/* File-local. Walks the top-level object (s->p at its '{') to its '}'.
 * First the canonical layout, one specialized step per member (ev_canon),
 * what the normalizer writes; from the first byte that does not follow it
 * on, the general loop, which reads any member order and whitespace,
 * guessing each next name from the previous one. Every iteration consumes
 * at least a name, so the loop ends within the message. */
EV_INLINE inv_reason ev_read_object(ev_decoder *d, json_scan *s) {
    inv_debug_assert(json_peek_is(s, '{'));
    inv_reason r = INV_OK;
    unsigned k; /* canonical members read */
    ev_step st;
    inv_debug_assert(ev_canon_follows_guess());
#define EV_CANON_STEP(i)                                                                           \
    k = (i);                                                                                       \
    if ((st = ev_canon_step(d, s, (i), &r)) != EV_STEP_NEXT) goto off_canonical
    EV_CANON_STEP(0);
    EV_CANON_STEP(1);
    EV_CANON_STEP(2);
    EV_CANON_STEP(3);
    EV_CANON_STEP(4);
    EV_CANON_STEP(5);
    EV_CANON_STEP(6);
    EV_CANON_STEP(7);
#undef EV_CANON_STEP
    k = F_COUNT;
    st = EV_STEP_MISS;
off_canonical:
    if (st == EV_STEP_END) return r;
    /* The general loop guesses the member the walk expected next. */
    ev_field guess = k < F_COUNT ? (ev_field)ev_canon[k].field : F_EVENT_ID;
    if (k == 0) { /* at the '{' */
        s->p++;
        json_skip_ws(s);
        if (json_peek_is(s, '}')) {
            s->p++;
            return INV_OK;
        }
    } else if (!json_eat(s, ',')) { /* after a value */
        return json_eat(s, '}') ? INV_OK : INV_R_JSON_SYNTAX;
    }
    for (;;) {
        ev_field f;
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

/* File-local. True when the n bytes at a and b are equal (n <= 64, the
 * longest key part): up to 16 bytes with two overlapping loads per side, a
 * longer part 8 bytes at a time, instead of a call to memcmp. */
EV_INLINE bool ev_bytes_equal(const char *a, const char *b, size_t n) {
    inv_debug_assert(n <= INV_SKU_LEN_MAX && n <= INV_LOCATION_LEN_MAX);
    if (n > 16) {
        uint64_t diff = 0;
        for (size_t i = 0; i + 8 < n; i += 8)
            diff |= inv_load_u64(a + i) ^ inv_load_u64(b + i);
        return (diff | (inv_load_u64(a + n - 8) ^ inv_load_u64(b + n - 8))) == 0;
    }
    if (n >= 8) {
        return ((inv_load_u64(a) ^ inv_load_u64(b)) |
                (inv_load_u64(a + n - 8) ^ inv_load_u64(b + n - 8))) == 0;
    }
    if (n >= 4) {
        return ((inv_load_u32(a) ^ inv_load_u32(b)) |
                (inv_load_u32(a + n - 4) ^ inv_load_u32(b + n - 4))) == 0;
    }
    if (n >= 2) {
        return ((inv_load_u16(a) ^ inv_load_u16(b)) |
                (inv_load_u16(a + n - 2) ^ inv_load_u16(b + n - 2))) == 0;
    }
    return n == 0 || a[0] == b[0];
}

/* File-local. True only when event_validate(ev) is sure to return INV_OK:
 * every rule of it holds, the character rule of sku and locationId taken
 * from the scan (d->id_chars_ok) instead of being checked again, the key
 * compared without memcmp. The rules are combined without a branch each.
 * False says nothing about the event: the caller then runs event_validate,
 * which alone decides the reason, so a reject always comes out in its own
 * rule order. That event_validate accepts every event this accepts is
 * asserted in debug builds (the fuzz target and the ASan tests). */
EV_INLINE bool ev_surely_valid(const ev_decoder *d, const inv_event *ev) {
    const unsigned ids = (1u << F_SKU) | (1u << F_LOCATION_ID);
    int64_t q = ev->quantity_delta;
    /* An unsigned x - 1 < max holds for 1 <= x <= max; a string field
     * longer than 0 was found, so its pointer is not NULL. */
    bool ok = ((d->id_chars_ok & ids) == ids) &
              ((unsigned)ev->event_id_len - 1u < INV_EVENT_ID_LEN_MAX) & (ev->type != INV_EV_NONE) &
              (ev->type < INV_EV_TYPE_COUNT) & ((unsigned)ev->sku_len - 1u < INV_SKU_LEN_MAX) &
              ((unsigned)ev->location_id_len - 1u < INV_LOCATION_LEN_MAX) &
              (ev->correlation_id_len <= INV_CORRELATION_ID_LEN_MAX) &
              (ev->source_system_len <= INV_SOURCE_SYSTEM_LEN_MAX) & (q != 0) &
              ((uint64_t)q + (uint64_t)INV_QUANTITY_ABS_MAX <= 2 * (uint64_t)INV_QUANTITY_ABS_MAX) &
              (ev->timestamp_ms >= INV_TIMESTAMP_MS_MIN) &
              (ev->timestamp_ms <= INV_TIMESTAMP_MS_MAX);
    if (!ok) return false;
    inv_debug_assert(ev->event_id != NULL && ev->sku != NULL && ev->location_id != NULL);
    if (ev->key == NULL) return true;
    size_t n = ev->sku_len;
    return ev->key_len == n + 1 + ev->location_id_len && ev->key[n] == ':' &&
           ev_bytes_equal(ev->key, ev->sku, n) &&
           ev_bytes_equal(ev->key + n + 1, ev->location_id, ev->location_id_len);
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
    if (ev_surely_valid(&d, ev)) {
        inv_debug_assert(event_validate(ev) == INV_OK);
        return INV_OK;
    }
    return event_validate(ev);
}
