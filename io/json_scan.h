/* json_scan.h - the strict RFC 8259 scanner shared by the JSON decoders of io/.
 *
 * Not a tree builder: a cursor over the bytes of one message (json_scan) and
 * primitives that each consume one token or one value and return INV_OK or a
 * syntax-class reason (json_syntax, json_bad_utf8, json_too_deep). The event
 * decoder (json_event.c) and the stock-level decoder (stock_json.c) walk
 * their top-level object with these primitives and skip every value they do
 * not know with json_skip_value, which validates it fully.
 *
 * Hot primitives are static inline here; the rare paths (strings with
 * escapes or non-ASCII bytes, skipping unknown values) live in json_scan.c.
 * The string scanner looks at 16 bytes at a time with SSE2 and never reads
 * outside [p, end): a short tail is loaded as the 16 bytes ending at end
 * when the message is long enough, byte by byte otherwise.
 *
 * Rules every primitive enforces (RFC 8259 plus the project's choices):
 * whitespace is space, tab, CR, LF; strings reject raw bytes < 0x20, invalid
 * escapes, lone or mismatched UTF-16 surrogates and \u0000 (json_syntax) and
 * invalid UTF-8 (overlong, encoded surrogates, > U+10FFFF, truncated:
 * json_bad_utf8); any byte >= 0x80 outside a string is json_syntax; numbers
 * follow the RFC grammar exactly (no leading zeros, no '+', no bare '.');
 * containers nest at most INV_JSON_DEPTH_MAX deep, the top-level value being
 * at depth 1. Nothing allocates, nothing depends on the locale. */
#ifndef INV_JSON_SCAN_H
#define INV_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "inv_assert.h"
#include "inv_limits.h" /* INV_JSON_DEPTH_MAX: the top-level value is depth 1 */
#include "reason.h"

_Static_assert(INV_JSON_DEPTH_MAX >= 2 && INV_JSON_DEPTH_MAX <= 64,
               "json_skip_value keeps one bit per open container in a uint64_t");

/* A cursor over one message: p is the next unread byte, end one past the last. */
typedef struct json_scan {
    const unsigned char *p;
    const unsigned char *end;
} json_scan;

/* A decoded string: ptr points into the message (no escapes: zero copy) or
 * into the caller's output buffer (escapes decoded), or is NULL when the
 * caller gave no output buffer, or one too small, and the string has escapes. */
typedef struct json_str {
    const char *ptr;
    size_t len;
} json_str;

/* A scanned number. For an integer (no fraction, no exponent) mag is its
 * magnitude, saturated at UINT64_MAX with overflow set beyond it; for a
 * number with a fraction or exponent mag is meaningless and is_int false. */
typedef struct json_number {
    uint64_t mag;
    bool neg;
    bool is_int;
    bool overflow;
} json_number;

/* 1 for a byte a string may hold as itself on the fast path: 0x20..0x7f but
 * '"' and '\\'. Controls, '"', '\\' and every byte >= 0x80 are 0. */
extern const unsigned char json_str_plain_table[256];

/* Any thread. The rest of a string whose scan stopped at q (an escape, a
 * control, a non-ASCII byte or end) before its closing quote; start is its
 * first content byte. On INV_OK *after is the byte after the closing quote.
 * Out of line: escapes and UTF-8 are the rare case. See json_scan_string
 * for out, out_cap and *str. The position comes back through *after rather
 * than a json_scan so the callers' cursors can live in registers. */
inv_reason json_scan_string_slow(const unsigned char *start, const unsigned char *q,
                                 const unsigned char *end, char *out, size_t out_cap, json_str *str,
                                 const unsigned char **after);

/* Any thread. Validates and skips one complete value at s->p (leading
 * whitespace allowed) that sits inside containers already depth deep (0 for
 * the top-level value, 1 for a member of the top-level object). Iterative:
 * an explicit bit stack of open containers, no recursion; each step consumes
 * at least one byte, so the work is bounded by the message length. */
inv_reason json_skip_value(json_scan *s, unsigned depth);

/* Any thread. The first byte in [p, end) that is not JSON whitespace, or
 * end. Takes and returns the position rather than a json_scan, so that when
 * the compiler keeps it out of line the callers' cursors stay in registers. */
static inline const unsigned char *json_ws_end(const unsigned char *p, const unsigned char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Any thread. Skips whitespace after the first byte (see json_skip_ws). */
__attribute__((always_inline)) static inline void json_skip_ws_loop(json_scan *s) {
    s->p = json_ws_end(s->p, s->end);
}

/* Any thread. json_skip_value on a copy of *s, so that *s itself never has
 * its address taken by an out-of-line call (it stays in registers in the
 * decoders' loops). */
__attribute__((always_inline)) static inline inv_reason json_skip(json_scan *s, unsigned depth) {
    json_scan t = *s;
    inv_reason r = json_skip_value(&t, depth);
    s->p = t.p;
    return r;
}

/* Any thread. Skips JSON whitespace. Compact messages have none, so the
 * common case is one compare: every whitespace byte is <= ' ' (and at the
 * end of the message there is nothing to skip). */
__attribute__((always_inline)) static inline void json_skip_ws(json_scan *s) {
    if (__builtin_expect(s->p == s->end || *s->p > ' ', 1)) return;
    json_skip_ws_loop(s);
}

/* Any thread. True when the next byte is c (does not consume it). */
__attribute__((always_inline)) static inline bool json_peek_is(const json_scan *s,
                                                               unsigned char c) {
    return s->p < s->end && *s->p == c;
}

/* Any thread. Consumes the byte c, skipping whitespace before it only when
 * c is not the next byte (one compare in the compact case, two more when
 * another non-blank byte is there). False when c is not there. */
__attribute__((always_inline)) static inline bool json_eat(json_scan *s, unsigned char c) {
    if (__builtin_expect(s->p < s->end && *s->p == c, 1)) {
        s->p++;
        return true;
    }
    json_skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* Any thread. Consumes the byte c or returns json_syntax. */
static inline inv_reason json_expect(json_scan *s, unsigned char c) {
    if (!json_peek_is(s, c)) return INV_R_JSON_SYNTAX;
    s->p++;
    return INV_OK;
}

#if defined(__SSE2__)
/* File-local to the decoders. Bit i set when byte i of v is not plain string
 * content: '"', '\\', a control or a byte >= 0x80 (below ' ' as a signed
 * byte). */
__attribute__((always_inline)) static inline unsigned json_str_special_mask(__m128i v) {
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
        _mm_cmplt_epi8(v, _mm_set1_epi8(' ')));
    return (unsigned)_mm_movemask_epi8(m);
}

/* File-local to the decoders: the 16-bytes-at-a-time part of a span.
 * Returns the first byte in [p, end) whose bit stop_mask sets, or end; or p
 * itself when p < end and no 16-byte load fits inside [base, end), for the
 * caller to finish. Never reads outside [base, end): a tail shorter than 16
 * bytes is loaded as the 16 bytes ending at end. The first 16 bytes are
 * tested before the loop: most strings of an event end there. stop_mask is
 * a constant at every call and inlines. */
__attribute__((always_inline)) static inline const unsigned char *
json_span16(const unsigned char *p, const unsigned char *end, const unsigned char *base,
            unsigned (*stop_mask)(__m128i)) {
    inv_debug_assert(base <= p && p <= end);
    if (end - p >= 16) {
        unsigned mask = stop_mask(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (mask != 0) return p + __builtin_ctz(mask);
        p += 16;
        while (end - p >= 16) {
            mask = stop_mask(_mm_loadu_si128((const __m128i *)(const void *)p));
            if (mask != 0) return p + __builtin_ctz(mask);
            p += 16;
        }
    }
    if (p < end && end - base >= 16) {
        const unsigned char *t = end - 16;
        unsigned mask = stop_mask(_mm_loadu_si128((const __m128i *)(const void *)t));
        mask >>= (unsigned)(p - t);
        return mask != 0 ? p + __builtin_ctz(mask) : end;
    }
    return p;
}
#endif

/* File-local to the decoders. Returns the first byte in [p, end) that is not
 * plain string content ('"', '\\', a control or a byte >= 0x80), or end.
 * base is the first byte of the message: a tail shorter than 16 bytes is
 * loaded as the 16 bytes ending at end when those lie inside the message
 * (json_span16); otherwise, or without SSE2, byte by byte. */
__attribute__((always_inline)) static inline const unsigned char *
json_str_span(const unsigned char *p, const unsigned char *end, const unsigned char *base) {
    inv_debug_assert(base <= p && p <= end);
#if defined(__SSE2__)
    p = json_span16(p, end, base, json_str_special_mask); /* a stop byte or end ends the loop */
#else
    (void)base;
#endif
    while (p < end && json_str_plain_table[*p])
        p++;
    return p;
}

/* Any thread. Scans a string whose opening quote s->p has just passed, up to
 * and including its closing quote. On INV_OK *str is the string's value:
 * without escapes it points into the message (zero copy, whatever out is);
 * with escapes the decoded bytes are written to out (at most out_cap bytes;
 * never more than the string's raw length) and str->ptr is out, or NULL when
 * out is NULL or too small (the string is still fully validated). base is
 * the first byte of the message (see json_str_span). */
__attribute__((always_inline)) static inline inv_reason json_scan_string(json_scan *s,
                                                                         const unsigned char *base,
                                                                         char *out, size_t out_cap,
                                                                         json_str *str) {
    inv_debug_assert(s->p > base && s->p[-1] == '"');
    const unsigned char *start = s->p;
    const unsigned char *q = json_str_span(start, s->end, base);
    if (__builtin_expect(q < s->end && *q == '"', 1)) {
        str->ptr = (const char *)start;
        str->len = (size_t)(q - start);
        s->p = q + 1;
        return INV_OK;
    }
    const unsigned char *after = s->p;
    inv_reason r = json_scan_string_slow(start, q, s->end, out, out_cap, str, &after);
    s->p = after;
    return r;
}

/* Any thread. Scans a number at s->p ('-' or a digit) per the RFC grammar.
 * Integer digits accumulate without a check while 19 of them cannot overflow
 * a uint64_t, then with overflow checks, so any digit string is safe. The
 * caller checks what follows (a digit after a leading 0 is a syntax error
 * there, as is any other byte that cannot follow a value). */
__attribute__((always_inline)) static inline inv_reason json_scan_number(json_scan *s,
                                                                         json_number *n) {
    const unsigned char *p = s->p, *end = s->end;
    inv_debug_assert(p < end && (*p == '-' || (*p >= '0' && *p <= '9')));
    n->neg = *p == '-';
    n->is_int = true;
    n->overflow = false;
    p += n->neg;
    if (p == end || (unsigned)(*p - '0') > 9) return INV_R_JSON_SYNTAX;
    uint64_t mag = 0;
    if (*p == '0') {
        p++;
    } else {
        const unsigned char *fast_end = end - p > 19 ? p + 19 : end;
        while (p < fast_end && (unsigned)(*p - '0') <= 9)
            mag = mag * 10 + (unsigned)(*p++ - '0');
        while (p < end && (unsigned)(*p - '0') <= 9) {
            if (__builtin_mul_overflow(mag, 10u, &mag) ||
                __builtin_add_overflow(mag, (unsigned)(*p - '0'), &mag)) {
                n->overflow = true;
                mag = UINT64_MAX;
            }
            p++;
        }
    }
    n->mag = mag;
    if (p < end && *p == '.') {
        n->is_int = false;
        p++;
        if (p == end || (unsigned)(*p - '0') > 9) return INV_R_JSON_SYNTAX;
        while (p < end && (unsigned)(*p - '0') <= 9)
            p++;
    }
    if (p < end && (*p | 0x20) == 'e') {
        n->is_int = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p == end || (unsigned)(*p - '0') > 9) return INV_R_JSON_SYNTAX;
        while (p < end && (unsigned)(*p - '0') <= 9)
            p++;
    }
    s->p = p;
    return INV_OK;
}

/* Any thread. The common small integer at s->p without a branch on its
 * digits: an optional '-' and 1 to 7 digits, then a byte that does not
 * continue the number ('.', 'e', 'E' or a digit after a leading 0 would).
 * Then it is consumed and true is returned with *v its value, exactly what
 * json_scan_number and json_number_i64_sat give ("-0" is 0). Anything else
 * (other bytes, 8 or more digits, a fraction or exponent, fewer than 9
 * bytes left from s->p) returns false with nothing consumed, for
 * json_scan_number. The 8 bytes after the sign are one word: digits found by
 * one SWAR test (the first non-digit is the lowest flagged byte; carries only
 * run upward from a flagged byte), converted by three multiplies
 * (simdjson's parse_eight_digits_unrolled on the digits shifted up so the
 * missing leading ones read as zeros). */
__attribute__((always_inline)) static inline bool json_scan_small_int(json_scan *s, int64_t *v) {
    const unsigned char *p = s->p;
    if (s->end - p < 9) return false;
    unsigned neg = *p == '-';
    p += neg;
    uint64_t x;
    memcpy(&x, p, sizeof(x));
    uint64_t t = x ^ 0x3030303030303030ull; /* a digit byte becomes 0..9 */
    uint64_t flagged = ((t + 0x7676767676767676ull) | t) & 0x8080808080808080ull; /* >= 10 */
    if (flagged == 0) return false;                       /* 8 digits or more */
    unsigned n = (unsigned)__builtin_ctzll(flagged) >> 3; /* leading digits: 0..7 */
    unsigned after = p[n] | 0x20;                         /* '.' stays '.', 'E' becomes 'e' */
    if ((n == 0) | (after == '.') | (after == 'e') | ((p[0] == '0') & (n > 1))) return false;
    uint64_t d = t << (8 * (8 - n)); /* "000ddddd": the first digit most significant */
    d = d * 10 + (d >> 8);           /* pairs of digits */
    uint64_t hi = (d & 0x000000ff000000ffull) * 0x000f424000000064ull;         /* 100, 10^6 */
    uint64_t lo = ((d >> 16) & 0x000000ff000000ffull) * 0x0000271000000001ull; /* 1, 10^4 */
    d = ((hi + lo) >> 32) & 0xffffffffu;
    inv_debug_assert(d <= 9999999);
    *v = (int64_t)((d ^ (0 - (uint64_t)neg)) + neg);
    s->p = p + n;
    return true;
}

/* Any thread. Consumes the literal lit (of len bytes: "true", "false",
 * "null") at s->p or returns json_syntax. */
static inline inv_reason json_scan_literal(json_scan *s, const char *lit, size_t len) {
    if ((size_t)(s->end - s->p) < len || memcmp(s->p, lit, len) != 0) return INV_R_JSON_SYNTAX;
    s->p += len;
    return INV_OK;
}

/* Any thread. The integer n as an int64_t, saturated at INT64_MIN/INT64_MAX
 * (so a too-large magnitude stays too large for every range check after it).
 * "-0" is 0. Precondition: n->is_int. */
__attribute__((always_inline)) static inline int64_t json_number_i64_sat(const json_number *n) {
    inv_debug_assert(n->is_int);
    if (n->neg) return n->mag >= (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n->mag;
    return n->mag > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)n->mag;
}

#endif
