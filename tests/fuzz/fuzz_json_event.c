/* fuzz_json_event.c - libFuzzer differential target for the event decoder
 * (io/json_event.c, io/json_scan.c, io/timestamp.c) against jansson.
 *
 * Every input is decoded twice: by json_event_decode, and by an oracle that
 * parses with jansson (json_loadb, JSON_DECODE_ANY, without JSON_ALLOW_NUL so
 * \u0000 is rejected as ours does) and builds the inv_event from jansson's
 * values with plain code of its own: its own field rules, its own type-name
 * lookup and its own ISO-8601 parser (years counted one by one), then
 * event_validate. Checked on every input:
 *   - invalid JSON (jansson refuses it, or it nests deeper than 32) is
 *     rejected by ours with json_syntax, json_bad_utf8 or json_too_deep
 *     (exactly json_too_deep when jansson accepts it and only the depth is
 *     wrong);
 *   - valid JSON gets exactly the oracle's reason (rule order of
 *     json_event.h included), and on INV_OK identical fields: the bytes of
 *     every string, the type, the quantity and the timestamp;
 *   - strings point into the message or the used part of scratch, scratch
 *     use is at most len (and 0 when the message has no backslash), and
 *     key, partition and offset are untouched.
 *
 * Where jansson departs from RFC 8259 by design, the oracle maps it:
 *   - integers beyond long long and reals beyond double are errors in
 *     jansson (json_error_numeric_overflow). The oracle patches the token it
 *     names (the error position is the token's end) in a copy: an integer
 *     becomes INT64_MAX or INT64_MIN (ours saturates to the same), a real
 *     becomes 1.5 (still "not an integer"), with a space on each side so it
 *     cannot merge with its neighbours, and it parses again;
 *   - jansson's lexer silently drops a NUL byte read right after a number or
 *     a literal (its one-byte unget buffer cannot hold a NUL), so it accepts
 *     "1\0". A raw NUL is never valid JSON: the oracle refuses any input
 *     holding one;
 *   - jansson counts depth to 2048 and counts scalars as a level; the
 *     oracle measures container depth on jansson's tree itself;
 *   - jansson keeps the last of duplicate names; the oracle counts the top-
 *     level names itself with a tiny scanner over the (already valid) text,
 *     decoding each name with jansson.
 *
 * Build: make build-fuzz/fuzz_json_event (see the Makefile's build-fuzz rule). */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json_event.h"
#include "inv_limits.h"
#include "reason.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The oracle's verdict for input that is not valid JSON (any of three reasons). */
#define ORACLE_BAD_JSON    ((inv_reason)-1)
#define ORACLE_DEPTH_MAX   32
#define ORACLE_PATCHES_MAX 100000

static const char *const field_names[8] = {"eventId",       "eventType",     "sku",
                                           "locationId",    "correlationId", "sourceSystem",
                                           "quantityDelta", "timestamp"};

/* --- the oracle's own ISO-8601 parser ----------------------------------------- */

static bool ref_leap(int y) {
    if (y % 400 == 0) return true;
    if (y % 100 == 0) return false;
    return y % 4 == 0;
}

static int ref_month_days(int y, int m) {
    if (m == 2) return ref_leap(y) ? 29 : 28;
    if (m == 4 || m == 6 || m == 9 || m == 11) return 30;
    return 31;
}

static bool ref_digit(char c) {
    return c >= '0' && c <= '9';
}

static int ref_num(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+00:00)" to epoch ms, written plainly. */
static bool ref_iso(const char *s, size_t n, int64_t *ms_out) {
    static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
    if (n < 20) return false;
    for (size_t i = 0; i < 19; i++) {
        if (pattern[i] == 'd' ? !ref_digit(s[i]) : s[i] != pattern[i]) return false;
    }
    int year = ref_num(s, 4), mon = ref_num(s + 5, 2), day = ref_num(s + 8, 2);
    int hh = ref_num(s + 11, 2), mm = ref_num(s + 14, 2), ss = ref_num(s + 17, 2);
    size_t i = 19;
    int frac_ms = 0;
    if (s[i] == '.') {
        i++;
        int nd = 0;
        while (i < n && ref_digit(s[i]) && nd < 10) {
            if (nd < 3) frac_ms = frac_ms * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0 || nd > 9) return false;
        for (int k = nd; k < 3; k++)
            frac_ms *= 10;
    }
    bool zone_ok = (n - i == 1 && s[i] == 'Z') || (n - i == 6 && memcmp(s + i, "+00:00", 6) == 0);
    if (!zone_ok) return false;
    if (mon < 1 || mon > 12 || day < 1 || day > ref_month_days(year, mon)) return false;
    if (hh > 23 || mm > 59 || ss > 59) return false;
    int64_t days = 0;
    for (int y = 1970; y < year; y++)
        days += ref_leap(y) ? 366 : 365;
    for (int y = year; y < 1970; y++)
        days -= ref_leap(y) ? 366 : 365;
    for (int m = 1; m < mon; m++)
        days += ref_month_days(year, m);
    days += day - 1;
    *ms_out = days * 86400000LL + hh * 3600000LL + mm * 60000LL + ss * 1000LL + frac_ms;
    return true;
}

/* --- the oracle ------------------------------------------------------------------- */

static uint8_t ref_type(const char *s, size_t n) {
    for (int t = INV_EV_NONE + 1; t < INV_EV_TYPE_COUNT; t++) {
        const char *name = event_type_name((inv_event_type)t);
        if (strlen(name) == n && memcmp(name, s, n) == 0) return (uint8_t)t;
    }
    return INV_EV_NONE;
}

/* Container depth of v: 0 for a scalar, 1 for an empty or flat container. */
static int ref_depth(json_t *v) {
    int d = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m) {
            int c = ref_depth(m);
            if (c > d) d = c;
        }
        return d + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            int c = ref_depth(m);
            if (c > d) d = c;
        }
        return d + 1;
    }
    return 0;
}

/* True when the n bytes at s are exactly one JSON number (RFC 8259 grammar). */
static bool ref_is_number(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i == n || !ref_digit(s[i])) return false;
    if (s[i] == '0') {
        i++;
    } else {
        while (i < n && ref_digit(s[i]))
            i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i == n || !ref_digit(s[i])) return false;
        while (i < n && ref_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i == n || !ref_digit(s[i])) return false;
        while (i < n && ref_digit(s[i]))
            i++;
    }
    return i == n;
}

/* Replaces the number token that ends at end (jansson's error position) in
 * *text by an in-range stand-in, with a space on each side so it cannot merge
 * with what surrounds it (jansson lexed it as a token of its own). The token
 * starts at the first position from which the bytes up to end are one number. */
static void ref_patch_number(char **text, size_t *n, size_t end) {
    FUZZ_CHECK(end <= *n);
    size_t start = end;
    while (start > 0 && strchr("0123456789+-.eE", (*text)[start - 1]) != NULL)
        start--;
    while (start < end && !ref_is_number(*text + start, end - start))
        start++;
    FUZZ_CHECK(start < end);
    bool real = memchr(*text + start, '.', end - start) ||
                memchr(*text + start, 'e', end - start) || memchr(*text + start, 'E', end - start);
    const char *with = real                    ? " 1.5 "
                       : (*text)[start] == '-' ? " -9223372036854775808 "
                                               : " 9223372036854775807 ";
    size_t wl = strlen(with), nn = *n - (end - start) + wl;
    char *t = malloc(nn + 1);
    FUZZ_CHECK(t != NULL);
    memcpy(t, *text, start);
    memcpy(t + start, with, wl);
    memcpy(t + start + wl, *text + end, *n - end);
    free(*text);
    *text = t;
    *n = nn;
}

/* Parses text (a malloc'd copy, size *n, no NUL byte) with jansson, patching
 * numbers that overflow jansson's types; *text and *n follow the patches.
 * NULL when the text is not JSON. Each patch removes one overflowing token. */
static json_t *ref_load(char **text, size_t *n) {
    for (int patch = 0; patch < ORACLE_PATCHES_MAX; patch++) {
        json_error_t err;
        json_t *root = json_loadb(*text, *n, JSON_DECODE_ANY, &err);
        if (root != NULL) return root;
        if (json_error_code(&err) != json_error_numeric_overflow) return NULL;
        ref_patch_number(text, n, (size_t)err.position);
    }
    FUZZ_CHECK(0);
    return NULL;
}

/* Counts each known name among the members of the top-level object of the
 * valid JSON text, decoding every name with jansson. */
static void ref_count_names(const char *s, size_t n, int counts[8]) {
    int depth = 0;
    bool expect_name = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            size_t j = i + 1;
            while (s[j] != '"')
                j += s[j] == '\\' ? 2 : 1;
            if (depth == 1 && expect_name) {
                json_t *name = json_loadb(s + i, j + 1 - i, JSON_DECODE_ANY, NULL);
                FUZZ_CHECK(json_is_string(name));
                for (int f = 0; f < 8; f++) {
                    if (strlen(field_names[f]) == json_string_length(name) &&
                        memcmp(field_names[f], json_string_value(name), strlen(field_names[f])) ==
                            0) {
                        counts[f]++;
                    }
                }
                json_decref(name);
            }
            expect_name = false;
            i = j;
        } else if (c == '{' || c == '[') {
            depth++;
            expect_name = depth == 1;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',') {
            expect_name = depth == 1;
        }
    }
}

/* One string member (f < 6) into *e; returns its decode reason. */
static inv_reason ref_string_field(json_t *root, int f, inv_event *e) {
    json_t *v = json_object_get(root, field_names[f]);
    if (v == NULL || (f >= 4 && json_is_null(v))) return INV_OK;
    if (!json_is_string(v)) return INV_R_FIELD_TYPE;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    FUZZ_CHECK(n <= UINT16_MAX);
    switch (f) {
    case 0:
        e->event_id = s, e->event_id_len = (uint16_t)n;
        break;
    case 1:
        e->type = ref_type(s, n);
        break;
    case 2:
        e->sku = s, e->sku_len = (uint16_t)n;
        break;
    case 3:
        e->location_id = s, e->location_id_len = (uint16_t)n;
        break;
    case 4:
        e->correlation_id = s, e->correlation_id_len = (uint16_t)n;
        break;
    default:
        e->source_system = s, e->source_system_len = (uint16_t)n;
        break;
    }
    return INV_OK;
}

static inv_reason ref_quantity(json_t *root, inv_event *e) {
    json_t *v = json_object_get(root, "quantityDelta");
    if (v == NULL) return INV_R_QUANTITY_MISSING;
    if (json_is_real(v)) return INV_R_QUANTITY_NOT_INTEGER;
    if (!json_is_integer(v)) return INV_R_FIELD_TYPE;
    e->quantity_delta = json_integer_value(v);
    return INV_OK;
}

static inv_reason ref_timestamp(json_t *root, inv_event *e) {
    json_t *v = json_object_get(root, "timestamp");
    if (v == NULL) return INV_R_TIMESTAMP_MISSING;
    if (json_is_real(v)) return INV_R_TIMESTAMP_FORMAT;
    if (json_is_integer(v)) {
        e->timestamp_ms = json_integer_value(v);
        return INV_OK;
    }
    if (!json_is_string(v)) return INV_R_FIELD_TYPE;
    if (!ref_iso(json_string_value(v), json_string_length(v), &e->timestamp_ms)) {
        return INV_R_TIMESTAMP_FORMAT;
    }
    return INV_OK;
}

/* The oracle's reason for root (a valid JSON value, patched text s/n); fills
 * *e with pointers into root's strings. */
static inv_reason ref_event(json_t *root, const char *s, size_t n, inv_event *e) {
    if (ref_depth(root) > ORACLE_DEPTH_MAX) return INV_R_JSON_TOO_DEEP;
    if (!json_is_object(root)) return INV_R_JSON_NOT_OBJECT;
    int counts[8] = {0};
    ref_count_names(s, n, counts);
    for (int f = 0; f < 8; f++) {
        if (counts[f] > 1) return INV_R_FIELD_DUPLICATE;
    }
    for (int f = 0; f < 6; f++) {
        inv_reason r = ref_string_field(root, f, e);
        if (r != INV_OK) return r;
    }
    inv_reason r = ref_quantity(root, e);
    if (r == INV_OK) r = ref_timestamp(root, e);
    if (r != INV_OK) return r;
    return event_validate(e);
}

/* --- the comparison ----------------------------------------------------------------- */

static bool same_bytes(const char *a, size_t an, const char *b, size_t bn) {
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool inside(const char *p, size_t n, const char *base, size_t len) {
    return n == 0 || (p >= base && p + n <= base + len);
}

/* Every string of ev lies in the message or in the used scratch. */
static void check_provenance(const inv_event *ev, const char *buf, size_t len, const char *scratch,
                             size_t used) {
    const char *ptrs[5] = {ev->event_id, ev->sku, ev->location_id, ev->correlation_id,
                           ev->source_system};
    size_t lens[5] = {ev->event_id_len, ev->sku_len, ev->location_id_len, ev->correlation_id_len,
                      ev->source_system_len};
    for (int i = 0; i < 5; i++) {
        FUZZ_CHECK(inside(ptrs[i], lens[i], buf, len) || inside(ptrs[i], lens[i], scratch, used));
    }
}

static void check_same_event(const inv_event *a, const inv_event *b) {
    FUZZ_CHECK(same_bytes(a->event_id, a->event_id_len, b->event_id, b->event_id_len));
    FUZZ_CHECK(same_bytes(a->sku, a->sku_len, b->sku, b->sku_len));
    FUZZ_CHECK(same_bytes(a->location_id, a->location_id_len, b->location_id, b->location_id_len));
    FUZZ_CHECK(same_bytes(a->correlation_id, a->correlation_id_len, b->correlation_id,
                          b->correlation_id_len));
    FUZZ_CHECK(
        same_bytes(a->source_system, a->source_system_len, b->source_system, b->source_system_len));
    FUZZ_CHECK(a->type == b->type);
    FUZZ_CHECK(a->quantity_delta == b->quantity_delta);
    FUZZ_CHECK(a->timestamp_ms == b->timestamp_ms);
}

static bool is_json_error(inv_reason r) {
    return r == INV_R_JSON_SYNTAX || r == INV_R_JSON_BAD_UTF8 || r == INV_R_JSON_TOO_DEEP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Ours, on exactly-sized heap copies so ASan sees any read or write past them. */
    char *buf = malloc(size + 1), *scratch = malloc(size + 1);
    FUZZ_CHECK(buf != NULL && scratch != NULL);
    memcpy(buf, data, size);
    inv_event ev;
    memset(&ev, 0x5a, sizeof(ev));
    ev.key = NULL;
    ev.key_len = 0;
    ev.partition = 77;
    ev.offset = 1234567;
    size_t used = 99;
    inv_reason mine = json_event_decode(buf, size, scratch, &used, &ev);
    FUZZ_CHECK(mine >= INV_OK && mine < INV_REASON_COUNT);
    FUZZ_CHECK(used <= size);
    FUZZ_CHECK(ev.key == NULL && ev.partition == 77 && ev.offset == 1234567);
    if (memchr(data, '\\', size) == NULL) FUZZ_CHECK(used == 0);

    inv_reason want;
    inv_event ref;
    memset(&ref, 0, sizeof(ref));
    json_t *root = NULL;
    char *text = NULL;
    size_t n = size;
    if (size > INV_MESSAGE_BYTES_MAX) {
        want = INV_R_MESSAGE_TOO_LARGE;
    } else if (memchr(data, '\0', size) != NULL) {
        want = ORACLE_BAD_JSON;
    } else {
        text = malloc(size + 1);
        FUZZ_CHECK(text != NULL);
        memcpy(text, data, size);
        root = ref_load(&text, &n);
        want = root == NULL ? ORACLE_BAD_JSON : ref_event(root, text, n, &ref);
    }

    if (want == ORACLE_BAD_JSON) {
        FUZZ_CHECK(is_json_error(mine));
    } else {
        if (mine != want) {
            fprintf(stderr, "fuzz_json_event: ours %s, oracle %s\n", inv_reason_name(mine),
                    inv_reason_name(want));
        }
        FUZZ_CHECK(mine == want);
    }
    if (mine == INV_OK) {
        check_provenance(&ev, buf, size, scratch, used);
        check_same_event(&ev, &ref);
    }
    json_decref(root);
    free(text);
    free(buf);
    free(scratch);
    return 0;
}
