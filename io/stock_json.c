/* stock_json.c - the stock-level record value (stock_json.h).
 *
 * The encoder writes the fixed member text with memcpy and the integers with
 * a digit loop; its output is bounded by INV_STOCK_JSON_BYTES_MAX, which the
 * _Static_assert below ties to the actual worst case (every integer at its
 * widest, sku and locationId at 64 bytes), and each call asserts that it
 * stayed inside. The decoder walks the object with the scanner the event
 * decoder uses (json_scan.h), so both accept exactly the same JSON; it is
 * not on the event path (recovery only) and favours clear errors: errstr
 * names the member and the rule that failed. After the members it checks the
 * invariants apply_event keeps (reserved and inTransit >= 0, version >= 1,
 * available == onHand - reserved), so encode and decode are inverse on every
 * aggregate apply_event can produce. */
#include "stock_json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "digits.h"
#include "event.h"
#include "inv_assert.h"
#include "json_scan.h"
#include "inv_limits.h"
#include "timestamp.h"

/* The members, in the order the encoder writes them. */
typedef enum stock_field {
    S_SKU,
    S_LOCATION_ID,
    S_ON_HAND,
    S_RESERVED,
    S_IN_TRANSIT,
    S_AVAILABLE,
    S_LAST_UPDATED,
    S_VERSION,
    S_INPUT_OFFSET,
    S_OVERSELLS,
    S_RELEASE_EXCESSES,
    S_TRANSFER_IN_EXCESSES,
    S_COUNT,
    S_UNKNOWN = S_COUNT
} stock_field;

static const char *const stock_names[S_COUNT] = {
    [S_SKU] = "sku",
    [S_LOCATION_ID] = "locationId",
    [S_ON_HAND] = "onHand",
    [S_RESERVED] = "reserved",
    [S_IN_TRANSIT] = "inTransit",
    [S_AVAILABLE] = "available",
    [S_LAST_UPDATED] = "lastUpdated",
    [S_VERSION] = "version",
    [S_INPUT_OFFSET] = "inputOffset",
    [S_OVERSELLS] = "oversells",
    [S_RELEASE_EXCESSES] = "releaseExcesses",
    [S_TRANSFER_IN_EXCESSES] = "transferInExcesses",
};

/* strlen of each name, so matching a name costs no strlen. */
static const uint8_t stock_name_lens[S_COUNT] = {3, 10, 6, 8, 9, 9, 11, 7, 11, 9, 15, 18};

#ifdef INV_DEBUG
/* Debug-only predicate: stock_name_lens agrees with stock_names. */
static bool stock_name_lens_ok(void) {
    for (int f = 0; f < S_COUNT; f++) {
        if (strlen(stock_names[f]) != stock_name_lens[f]) return false;
    }
    return true;
}
#endif

#define STOCK_NAME_LEN_MAX 18 /* "transferInExcesses" */

/* Every byte the encoder writes besides the values. */
#define STOCK_FIXED_TEXT                                                                           \
    "{\"sku\":\"\",\"locationId\":\"\",\"onHand\":,\"reserved\":,\"inTransit\":,\"available\":,"   \
    "\"lastUpdated\":\"\",\"version\":,\"inputOffset\":,\"oversells\":,\"releaseExcesses\":,"      \
    "\"transferInExcesses\":}"
#define STOCK_I64_CHARS_MAX 20 /* "-9223372036854775808", and UINT64_MAX */
#define STOCK_U32_CHARS_MAX 10
#define STOCK_BYTES_WORST                                                                          \
    (sizeof(STOCK_FIXED_TEXT) - 1 + INV_SKU_LEN_MAX + INV_LOCATION_LEN_MAX +                       \
     6 * STOCK_I64_CHARS_MAX + INV_TIMESTAMP_ISO_LEN + 3 * STOCK_U32_CHARS_MAX)

_Static_assert(STOCK_BYTES_WORST <= INV_STOCK_JSON_BYTES_MAX, "encoded value fits the bound");
_Static_assert(INV_STOCK_JSON_BYTES_MAX <= INV_MESSAGE_BYTES_MAX, "a record fits a message");
_Static_assert(S_COUNT <= 16, "seen is a 16-bit set");

/* File-local. The number of decimal digits of v (1 for 0). bits * 1233 >> 12
 * is floor(log10(2^bits)); one compare with the next power of ten corrects
 * it. v | 1 leaves the count unchanged (every power of ten from 10 on is
 * even) and makes 0 count as one digit. */
static inline unsigned u64_digits(uint64_t v) {
    static const uint64_t pow10[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL,
        10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
        100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
        1000000000000ULL, 10000000000000ULL, 100000000000000ULL, 1000000000000000ULL,
        10000000000000000ULL, 100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL};
    const uint64_t x = v | 1;
    const unsigned t = ((unsigned)(64 - __builtin_clzll(x)) * 1233) >> 12; /* 0..19 */
    return t + (x >= pow10[t]);
}

/* File-local. Writes v in decimal at w; returns the end. The digits go
 * straight to their place, right to left, two per division. */
static char *put_u64(char *w, uint64_t v) {
    const unsigned n = u64_digits(v);
    inv_debug_assert(n >= 1 && n <= STOCK_I64_CHARS_MAX);
    char *const end = w + n;
    char *p = end;
    while (v >= 100) {
        const uint64_t q = v / 100;
        p -= 2;
        inv_put2(p, (unsigned)(v - q * 100));
        v = q;
    }
    if (v >= 10) {
        p -= 2;
        inv_put2(p, (unsigned)v);
    } else {
        *--p = (char)('0' + v);
    }
    inv_assert(p == w); /* u64_digits counted exactly */
    return end;
}

/* File-local. Writes v in decimal at w (INT64_MIN included); returns the end. */
static char *put_i64(char *w, int64_t v) {
    if (v >= 0) return put_u64(w, (uint64_t)v);
    *w++ = '-';
    return put_u64(w, (uint64_t)0 - (uint64_t)v);
}

/* File-local. Copies the string literal s to w; returns the end. */
#define PUT_LIT(w, s) ((char *)memcpy((w), (s), sizeof(s) - 1) + sizeof(s) - 1)

/* Any thread. See stock_json.h. */
size_t stock_json_encode(char *out, size_t cap, const char *sku, size_t sku_len, const char *loc,
                         size_t loc_len, const inv_agg *a) {
    inv_assert(out != NULL && a != NULL && cap >= INV_STOCK_JSON_BYTES_MAX);
    inv_assert(sku_len >= 1 && sku_len <= INV_SKU_LEN_MAX);
    inv_assert(loc_len >= 1 && loc_len <= INV_LOCATION_LEN_MAX);
    inv_assert(a->version >= 1);
    inv_assert(a->reserved >= 0);
    inv_assert(a->in_transit >= 0);
    inv_debug_assert(event_id_chars_ok(sku, sku_len) && event_id_chars_ok(loc, loc_len));
    char *w = out;
    w = PUT_LIT(w, "{\"sku\":\"");
    memcpy(w, sku, sku_len);
    w += sku_len;
    w = PUT_LIT(w, "\",\"locationId\":\"");
    memcpy(w, loc, loc_len);
    w += loc_len;
    w = put_i64(PUT_LIT(w, "\",\"onHand\":"), a->on_hand);
    w = put_i64(PUT_LIT(w, ",\"reserved\":"), a->reserved);
    w = put_i64(PUT_LIT(w, ",\"inTransit\":"), a->in_transit);
    w = put_i64(PUT_LIT(w, ",\"available\":"), agg_available(a));
    w = PUT_LIT(w, ",\"lastUpdated\":\"");
    w += timestamp_format_iso(a->last_updated_ms, w);
    w = put_u64(PUT_LIT(w, "\",\"version\":"), a->version);
    w = put_i64(PUT_LIT(w, ",\"inputOffset\":"), a->offset);
    w = put_u64(PUT_LIT(w, ",\"oversells\":"), a->oversell_count);
    w = put_u64(PUT_LIT(w, ",\"releaseExcesses\":"), a->release_excess_count);
    w = put_u64(PUT_LIT(w, ",\"transferInExcesses\":"), a->transfer_in_excess_count);
    *w++ = '}';
    size_t n = (size_t)(w - out);
    inv_assert(n <= STOCK_BYTES_WORST);
    return n;
}

/* --- decoder ----------------------------------------------------------------- */

/* The decoder's state for one value. */
typedef struct stock_decoder {
    json_scan s;
    const unsigned char *base;
    inv_stock_record *out;
    unsigned seen;     /* bit per stock_field */
    int64_t available; /* checked against onHand - reserved at the end */
    char *errstr;
    size_t errstr_len;
} stock_decoder;

/* File-local. Formats the error message into d->errstr; returns -EINVAL. */
__attribute__((format(printf, 2, 3))) static int stock_err(stock_decoder *d, const char *fmt, ...) {
    if (d->errstr_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->errstr, d->errstr_len, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* File-local. The error of a scanner reason at the cursor. */
static int stock_err_json(stock_decoder *d, inv_reason r) {
    inv_debug_assert(r != INV_OK);
    return stock_err(d, "%s at byte %zu: %s", inv_reason_name(r), (size_t)(d->s.p - d->base),
                     inv_reason_text(r));
}

/* File-local. Maps a decoded member name to its field, or S_UNKNOWN: the
 * length and first byte rule out all but at most one or two candidates
 * before a memcmp. */
static stock_field stock_field_of(const char *n, size_t len) {
    for (int f = 0; f < S_COUNT; f++) {
        if (stock_name_lens[f] == len && stock_names[f][0] == n[0] &&
            memcmp(stock_names[f], n, len) == 0) {
            return (stock_field)f;
        }
    }
    return S_UNKNOWN;
}

/* File-local. Reads an integer member of field f into its magnitude/sign. */
static int stock_read_int(stock_decoder *d, stock_field f, json_number *n) {
    if (d->s.p == d->s.end || (*d->s.p != '-' && (unsigned)(*d->s.p - '0') > 9)) {
        return stock_err(d, "%s: not a number", stock_names[f]);
    }
    inv_reason r = json_scan_number(&d->s, n);
    if (r != INV_OK) return stock_err_json(d, r);
    if (!n->is_int) return stock_err(d, "%s: not an integer", stock_names[f]);
    if (n->overflow) return stock_err(d, "%s: out of range", stock_names[f]);
    return 0;
}

/* File-local. An int64 member of field f into *v. */
static int stock_read_i64(stock_decoder *d, stock_field f, int64_t *v) {
    json_number n;
    int rc = stock_read_int(d, f, &n);
    if (rc != 0) return rc;
    if (n.mag > (uint64_t)INT64_MAX + n.neg) {
        return stock_err(d, "%s: out of the 64-bit range", stock_names[f]);
    }
    *v = json_number_i64_sat(&n); /* in range: exact */
    return 0;
}

/* File-local. An unsigned member of field f, at most max, into *v. */
static int stock_read_u64(stock_decoder *d, stock_field f, uint64_t max, uint64_t *v) {
    json_number n;
    int rc = stock_read_int(d, f, &n);
    if (rc != 0) return rc;
    if (n.neg && n.mag != 0) return stock_err(d, "%s: negative", stock_names[f]);
    if (n.mag > max) return stock_err(d, "%s: above %" PRIu64, stock_names[f], max);
    *v = n.mag;
    return 0;
}

/* File-local. sku or locationId: a string of 1-64 key characters, no escapes. */
static int stock_read_key_part(stock_decoder *d, stock_field f, const char **s, size_t *len) {
    json_str str;
    if (!json_peek_is(&d->s, '"')) return stock_err(d, "%s: not a string", stock_names[f]);
    d->s.p++;
    inv_reason r = json_scan_string(&d->s, d->base, NULL, 0, &str);
    if (r != INV_OK) return stock_err_json(d, r);
    if (str.ptr == NULL) return stock_err(d, "%s: escapes are not allowed", stock_names[f]);
    size_t max = f == S_SKU ? INV_SKU_LEN_MAX : INV_LOCATION_LEN_MAX;
    if (str.len == 0 || str.len > max) {
        return stock_err(d, "%s: length %zu not in 1..%zu", stock_names[f], str.len, max);
    }
    if (!event_id_chars_ok(str.ptr, str.len)) {
        return stock_err(d, "%s: a character outside [A-Za-z0-9._-]", stock_names[f]);
    }
    *s = str.ptr;
    *len = str.len;
    return 0;
}

/* File-local. lastUpdated: an ISO-8601 UTC string within the event time range. */
static int stock_read_last_updated(stock_decoder *d) {
    char buf[INV_TIMESTAMP_ISO_LEN_MAX];
    json_str str;
    if (!json_peek_is(&d->s, '"')) return stock_err(d, "lastUpdated: not a string");
    d->s.p++;
    inv_reason r = json_scan_string(&d->s, d->base, buf, sizeof(buf), &str);
    if (r != INV_OK) return stock_err_json(d, r);
    int64_t ms;
    if (str.ptr == NULL || !timestamp_parse_iso(str.ptr, str.len, &ms)) {
        return stock_err(d, "lastUpdated: not ISO-8601 UTC (2026-11-23T10:15:30.123Z)");
    }
    if (ms < INV_TIMESTAMP_MS_MIN || ms > INV_TIMESTAMP_MS_MAX) {
        return stock_err(d, "lastUpdated: before 1970");
    }
    d->out->agg.last_updated_ms = ms;
    return 0;
}

/* File-local. The value of member f (s.p at its first byte). */
static int stock_read_member(stock_decoder *d, stock_field f) {
    inv_agg *a = &d->out->agg;
    uint64_t u;
    int rc;
    switch (f) {
    case S_SKU:
        return stock_read_key_part(d, f, &d->out->sku, &d->out->sku_len);
    case S_LOCATION_ID:
        return stock_read_key_part(d, f, &d->out->location_id, &d->out->location_id_len);
    case S_ON_HAND:
        return stock_read_i64(d, f, &a->on_hand);
    case S_RESERVED:
        return stock_read_i64(d, f, &a->reserved);
    case S_IN_TRANSIT:
        return stock_read_i64(d, f, &a->in_transit);
    case S_AVAILABLE:
        return stock_read_i64(d, f, &d->available);
    case S_LAST_UPDATED:
        return stock_read_last_updated(d);
    case S_VERSION:
        return stock_read_u64(d, f, UINT64_MAX, &a->version);
    case S_INPUT_OFFSET:
        return stock_read_i64(d, f, &a->offset);
    case S_OVERSELLS:
    case S_RELEASE_EXCESSES:
    case S_TRANSFER_IN_EXCESSES:
        rc = stock_read_u64(d, f, UINT32_MAX, &u);
        if (rc != 0) return rc;
        if (f == S_OVERSELLS) a->oversell_count = (uint32_t)u;
        if (f == S_RELEASE_EXCESSES) a->release_excess_count = (uint32_t)u;
        if (f == S_TRANSFER_IN_EXCESSES) a->transfer_in_excess_count = (uint32_t)u;
        return 0;
    case S_UNKNOWN:
    default:
        inv_unreachable();
    }
}

/* File-local. One member: name, colon, value (s.p just past the name's
 * opening quote). Unknown members are validated and skipped. */
static int stock_member(stock_decoder *d) {
    char name[STOCK_NAME_LEN_MAX + 1];
    json_str str;
    inv_reason r = json_scan_string(&d->s, d->base, name, sizeof(name), &str);
    json_skip_ws(&d->s);
    if (r == INV_OK) r = json_expect(&d->s, ':');
    if (r != INV_OK) return stock_err_json(d, r);
    json_skip_ws(&d->s);
    stock_field f = str.ptr != NULL ? stock_field_of(str.ptr, str.len) : S_UNKNOWN;
    if (f == S_UNKNOWN) {
        r = json_skip(&d->s, 1);
        return r == INV_OK ? 0 : stock_err_json(d, r);
    }
    if (d->seen & (1u << f)) return stock_err(d, "%s: appears twice", stock_names[f]);
    d->seen |= 1u << f;
    return stock_read_member(d, f);
}

/* File-local. The whole value: one object, whitespace around it. Every
 * iteration consumes a member, so the loop ends within the value. */
static int stock_object(stock_decoder *d) {
    json_scan *s = &d->s;
    json_skip_ws(s);
    if (!json_peek_is(s, '{')) return stock_err(d, "the value is not a JSON object");
    s->p++;
    json_skip_ws(s);
    bool more = !json_peek_is(s, '}');
    if (!more) s->p++;
    while (more) {
        inv_reason r = json_expect(s, '"');
        if (r != INV_OK) return stock_err_json(d, r);
        int rc = stock_member(d);
        if (rc != 0) return rc;
        json_skip_ws(s);
        if (s->p == s->end || (*s->p != ',' && *s->p != '}')) {
            return stock_err_json(d, INV_R_JSON_SYNTAX);
        }
        more = *s->p++ == ',';
        json_skip_ws(s);
    }
    json_skip_ws(s);
    if (s->p != s->end) return stock_err_json(d, INV_R_JSON_SYNTAX);
    return 0;
}

/* File-local. The rules across members, once all are read. */
static int stock_check(stock_decoder *d) {
    for (int f = 0; f < S_COUNT; f++) {
        if (!(d->seen & (1u << f))) return stock_err(d, "%s: missing", stock_names[f]);
    }
    const inv_agg *a = &d->out->agg;
    if (a->reserved < 0) return stock_err(d, "reserved: negative");
    if (a->in_transit < 0) return stock_err(d, "inTransit: negative");
    if (a->version < 1) return stock_err(d, "version: 0, a record has at least one event");
    if (a->offset < -1) return stock_err(d, "inputOffset: below -1");
    int64_t avail;
    if (__builtin_sub_overflow(a->on_hand, a->reserved, &avail) || avail != d->available) {
        return stock_err(d, "available: not onHand - reserved");
    }
    return 0;
}

/* Any thread. See stock_json.h. */
int stock_json_decode(const char *buf, size_t len, inv_stock_record *out, char *errstr,
                      size_t errstr_len) {
    inv_assert(buf != NULL || len == 0);
    inv_assert(out != NULL);
    inv_assert(errstr != NULL || errstr_len == 0);
    inv_debug_assert(stock_name_lens_ok());
    const unsigned char *b = (const unsigned char *)(buf != NULL ? buf : "");
    stock_decoder d = {
        .s = {b, b + len}, .base = b, .out = out, .errstr = errstr, .errstr_len = errstr_len};
    memset(out, 0, sizeof(*out));
    if (errstr_len > 0) errstr[0] = '\0';
    if (len > INV_MESSAGE_BYTES_MAX) {
        return stock_err(&d, "the value is %zu bytes, more than %d", len, INV_MESSAGE_BYTES_MAX);
    }
    int rc = stock_object(&d);
    if (rc == 0) rc = stock_check(&d);
    inv_assert(rc == 0 || rc == -EINVAL);
    inv_assert(rc != 0 || out->agg.reserved0 == 0);
    return rc;
}
