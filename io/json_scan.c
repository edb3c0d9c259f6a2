/* json_scan.c - the rare paths of the JSON scanner of json_scan.h.
 *
 * Strings that hold escapes or non-ASCII bytes, and values the decoders do
 * not read (unknown fields), come here. Both are validated as strictly as
 * the fast paths: every escape of RFC 8259, UTF-16 surrogate pairs combined
 * and lone halves rejected, \u0000 rejected (a NUL byte would reach C code
 * that might stop at it; jansson rejects it too), and UTF-8 checked by the
 * table of RFC 3629 section 4 (no overlongs, no encoded surrogates, nothing
 * above U+10FFFF). The decoded form of a string is never longer than its
 * raw form: an escape of n bytes decodes to at most n - 2 bytes (\uXXXX to 3,
 * a pair of 12 to 4), so a caller that sizes its output by the input never
 * runs out; when a caller gives a smaller buffer the string is still
 * validated to its end and reported as not kept.
 *
 * json_skip_value walks nested values without recursion: one bit per open
 * container (object or array) in a uint64_t, at most INV_JSON_DEPTH_MAX of
 * them, and every step consumes input, so it ends within the message. */
#include "json_scan.h"

#define P1 1 /* plain string byte */
/* clang-format off */
const unsigned char json_str_plain_table[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             /* 0x00 controls */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             /* 0x10 controls */
    P1, P1, 0, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, /* 0x20: not '"' */
    P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, /* 0x30 */
    P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, /* 0x40 */
    P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, 0, P1, P1, P1, /* 0x50: not '\\' */
    P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, /* 0x60 */
    P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, P1, /* 0x70 (0x7f is plain) */
    /* 0x80..0xff: zero, UTF-8 goes through the slow path */
};
/* clang-format on */
#undef P1

/* Where decoded string bytes go: buf is NULL when the caller keeps nothing;
 * active once the first escape was seen (before it the string is zero copy);
 * lost when buf was too small. */
typedef struct str_out {
    char *buf;
    size_t cap;
    size_t len;
    bool active;
    bool lost;
} str_out;

/* File-local. Appends n bytes to o if it is collecting and they fit. */
static inline void str_out_put(str_out *o, const void *b, size_t n) {
    if (!o->active || o->lost) return;
    if (n > o->cap - o->len) {
        o->lost = true;
        return;
    }
    memcpy(o->buf + o->len, b, n);
    o->len += n;
    inv_debug_assert(o->len <= o->cap);
}

/* File-local. Length of the valid UTF-8 sequence at p (lead byte >= 0x80)
 * within [p, end), or 0 when it is invalid or truncated (RFC 3629 table). */
static size_t utf8_seq_len(const unsigned char *p, const unsigned char *end) {
    inv_debug_assert(p < end && *p >= 0x80);
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0; /* overlong */
        if (c == 0xed) hi = 0x9f; /* U+D800..U+DFFF */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90; /* overlong */
        if (c == 0xf4) hi = 0x8f; /* > U+10FFFF */
    } else {
        return 0; /* continuation byte, 0xc0/0xc1 overlong, 0xf5.. */
    }
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xbf) return 0;
    }
    return n;
}

/* File-local. Value of the 4 hex digits at p (caller checked 4 bytes are
 * there), or -1 when one is not a hex digit. */
static int32_t hex4(const unsigned char *p) {
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c - '0' <= 9) {
            d = c - '0';
        } else if ((c | 0x20) - 'a' <= 5) {
            d = (c | 0x20) - 'a' + 10;
        } else {
            return -1;
        }
        v = v * 16 + (int32_t)d;
    }
    return v;
}

/* File-local. Encodes code point cp (<= 0x10FFFF, not a surrogate) as UTF-8
 * into b and returns its length. */
static size_t utf8_encode(uint32_t cp, unsigned char b[4]) {
    inv_debug_assert(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    b[0] = (unsigned char)(0xf0 | cp >> 18);
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    b[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* File-local. Decodes the \u escape at *pp (pointing at the 'u'), with the
 * low half of a surrogate pair when the first is a high half, into b.
 * Returns the byte count (1..4), or 0 for a syntax error: bad hex, \u0000,
 * a lone or reversed surrogate half. Advances *pp past the escape(s). */
static size_t unescape_u(const unsigned char **pp, const unsigned char *end, unsigned char b[4]) {
    const unsigned char *p = *pp;
    inv_debug_assert(p < end && *p == 'u');
    if (end - p < 5) return 0;
    int32_t hi = hex4(p + 1);
    p += 5;
    if (hi <= 0) return 0; /* bad hex, or \u0000 */
    uint32_t cp = (uint32_t)hi;
    if (cp >= 0xdc00 && cp <= 0xdfff) return 0; /* low half first */
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return 0;
        int32_t lo = hex4(p + 2);
        if (lo < 0xdc00 || lo > 0xdfff) return 0;
        cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
        p += 6;
    }
    *pp = p;
    return utf8_encode(cp, b);
}

/* File-local. Decodes the escape at *pp (the byte after the backslash) into
 * b; returns its decoded length or 0 for a syntax error. */
static size_t unescape(const unsigned char **pp, const unsigned char *end, unsigned char b[4]) {
    const unsigned char *p = *pp;
    if (p == end) return 0;
    unsigned char c;
    switch (*p) {
    case '"':
        c = '"';
        break;
    case '\\':
        c = '\\';
        break;
    case '/':
        c = '/';
        break;
    case 'b':
        c = '\b';
        break;
    case 'f':
        c = '\f';
        break;
    case 'n':
        c = '\n';
        break;
    case 'r':
        c = '\r';
        break;
    case 't':
        c = '\t';
        break;
    case 'u':
        return unescape_u(pp, end, b);
    default:
        return 0;
    }
    b[0] = c;
    *pp = p + 1;
    return 1;
}

/* Any thread. See json_scan.h. Loops once per escape, UTF-8 sequence or run
 * of plain bytes; each iteration consumes at least one byte. */
inv_reason json_scan_string_slow(const unsigned char *start, const unsigned char *q,
                                 const unsigned char *end, char *out, size_t out_cap, json_str *str,
                                 const unsigned char **after) {
    inv_assert(start <= q && q <= end);
    inv_assert(out != NULL || out_cap == 0);
    const unsigned char *p = q, *run = start;
    str_out o = {.buf = out, .cap = out_cap};
    bool escaped = false;
    for (;;) {
        if (p == end) return INV_R_JSON_SYNTAX; /* unterminated */
        unsigned c = *p;
        if (c == '"') {
            str_out_put(&o, run, (size_t)(p - run));
            break;
        }
        if (c == '\\') {
            escaped = true;
            o.active = out != NULL; /* from the first escape on, collect */
            str_out_put(&o, run, (size_t)(p - run));
            unsigned char b[4];
            p++;
            size_t n = unescape(&p, end, b);
            if (n == 0) return INV_R_JSON_SYNTAX;
            str_out_put(&o, b, n);
            run = p;
        } else if (c < 0x20) {
            return INV_R_JSON_SYNTAX;
        } else if (c >= 0x80) {
            size_t n = utf8_seq_len(p, end);
            if (n == 0) return INV_R_JSON_BAD_UTF8;
            p += n;
        } else {
            inv_unreachable(); /* json_str_span stops only at the bytes above */
        }
        p = json_str_span(p, end, start);
    }
    if (!escaped) {
        str->ptr = (const char *)start;
        str->len = (size_t)(p - start);
    } else {
        str->ptr = o.active && !o.lost ? out : NULL;
        str->len = o.len;
    }
    inv_debug_assert(str->ptr == NULL || str->len <= (size_t)(p - start));
    *after = p + 1;
    return INV_OK;
}

/* File-local. Skips a string, number or literal at s->p; base is the
 * message start for the string scanner. */
static inv_reason skip_scalar(json_scan *s, const unsigned char *base) {
    json_str str;
    json_number n;
    switch (*s->p) {
    case '"':
        s->p++;
        return json_scan_string(s, base, NULL, 0, &str);
    case 't':
        return json_scan_literal(s, "true", 4);
    case 'f':
        return json_scan_literal(s, "false", 5);
    case 'n':
        return json_scan_literal(s, "null", 4);
    default:
        if (*s->p == '-' || (unsigned)(*s->p - '0') <= 9) return json_scan_number(s, &n);
        return INV_R_JSON_SYNTAX;
    }
}

/* File-local. Skips a member name and its colon: '"' ... '"' ws ':'. */
static inv_reason skip_member_name(json_scan *s, const unsigned char *base) {
    json_str str;
    json_skip_ws(s);
    inv_reason r = json_expect(s, '"');
    if (r == INV_OK) r = json_scan_string(s, base, NULL, 0, &str);
    if (r != INV_OK) return r;
    json_skip_ws(s);
    return json_expect(s, ':');
}

/* File-local. After a complete value inside `level` open containers (bit i
 * of is_obj set when container i is an object): consumes ',' (and the next
 * member name in an object) or closing brackets. Sets *done when the value
 * that json_skip_value started with is complete. */
static inv_reason skip_after_value(json_scan *s, const unsigned char *base, uint64_t is_obj,
                                   unsigned *level, bool *done) {
    while (*level > 0) {
        bool obj = (is_obj >> (*level - 1)) & 1;
        json_skip_ws(s);
        if (s->p == s->end) return INV_R_JSON_SYNTAX;
        unsigned char c = *s->p++;
        if (c == ',') return obj ? skip_member_name(s, base) : INV_OK;
        if (c != (obj ? '}' : ']')) return INV_R_JSON_SYNTAX;
        (*level)--;
    }
    *done = true;
    return INV_OK;
}

/* Any thread. See json_scan.h. */
inv_reason json_skip_value(json_scan *s, unsigned depth) {
    inv_assert(depth < INV_JSON_DEPTH_MAX);
    inv_assert(s->p <= s->end);
    const unsigned char *base = s->p; /* json_str_span never reads before it */
    uint64_t is_obj = 0;
    unsigned level = 0;
    bool done = false;
    while (!done) { /* a value is expected at s->p */
        json_skip_ws(s);
        if (s->p == s->end) return INV_R_JSON_SYNTAX;
        unsigned char c = *s->p;
        inv_reason r;
        if (c == '{' || c == '[') {
            if (depth + level + 1 > INV_JSON_DEPTH_MAX) return INV_R_JSON_TOO_DEEP;
            s->p++;
            is_obj = (is_obj & ~(1ull << level)) | ((uint64_t)(c == '{') << level);
            level++;
            json_skip_ws(s);
            if (json_peek_is(s, c == '{' ? '}' : ']')) {
                s->p++;
                level--;
                r = skip_after_value(s, base, is_obj, &level, &done);
            } else {
                r = c == '{' ? skip_member_name(s, base) : INV_OK;
            }
        } else {
            r = skip_scalar(s, base);
            if (r == INV_OK) r = skip_after_value(s, base, is_obj, &level, &done);
        }
        if (r != INV_OK) return r;
    }
    inv_assert(level == 0);
    return INV_OK;
}
