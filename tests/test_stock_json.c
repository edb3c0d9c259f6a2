/* test_stock_json.c - the stock-level record value (io/stock_json.c) and the
 * ISO-8601 formatter it uses (io/timestamp.c).
 *
 * The encoder is checked against the exact text of stock_json.h and,
 * independently, by parsing its output with jansson; decode(encode(a)) == a
 * bit for bit on the extremes the rules allow (INT64_MIN/MAX where the
 * invariants permit, version up to UINT64_MAX, counters at UINT32_MAX), on
 * random aggregates and on aggregates produced by apply_event itself. Every
 * rejection of the decoder is produced with its field named in errstr. The
 * formatter is checked on every day from 1970-01-01 to 9999-12-31 against a
 * naive day-by-day calendar, and parse(format(ms)) == ms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "event.h"
#include "inv_limits.h"
#include "stock_json.h"
#include "timestamp.h"
#include "test_util.h"

#define EXAMPLE_MS 1795428930123LL /* 2026-11-23T10:15:30.123Z */

/* An aggregate apply_event could have produced. */
static inv_agg agg_of(int64_t on_hand, int64_t reserved, int64_t in_transit, int64_t last_ms,
                      uint64_t version, int64_t offset) {
    inv_agg a = tu_agg_with(on_hand, reserved, in_transit);
    a.last_updated_ms = last_ms;
    a.version = version;
    a.offset = offset;
    return a;
}

/* Encodes into an exactly INV_STOCK_JSON_BYTES_MAX heap buffer, decodes an
 * exactly-sized copy, and checks the round trip bit for bit. */
static void check_round_trip(const char *sku, const char *loc, const inv_agg *a) {
    char *out = malloc(INV_STOCK_JSON_BYTES_MAX);
    assert_non_null(out);
    size_t n =
        stock_json_encode(out, INV_STOCK_JSON_BYTES_MAX, sku, strlen(sku), loc, strlen(loc), a);
    assert_true(n > 0 && n <= INV_STOCK_JSON_BYTES_MAX);
    char *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, out, n);
    inv_stock_record rec;
    char err[256];
    int rc = stock_json_decode(copy, n, &rec, err, sizeof(err));
    if (rc != 0) fail_msg("%.*s: %s", (int)n, out, err);
    assert_int_equal(rec.agg.reserved0, 0);
    assert_memory_equal(&rec.agg, a, sizeof(*a));
    assert_int_equal(rec.sku_len, strlen(sku));
    assert_memory_equal(rec.sku, sku, rec.sku_len);
    assert_int_equal(rec.location_id_len, strlen(loc));
    assert_memory_equal(rec.location_id, loc, rec.location_id_len);
    assert_true(rec.sku > copy && rec.sku + rec.sku_len < copy + n); /* zero copy */
    free(copy);
    free(out);
}

static void test_example_text(void **state) {
    (void)state;
    inv_agg a = agg_of(10, 2, 0, EXAMPLE_MS, 3, 1234);
    char out[INV_STOCK_JSON_BYTES_MAX];
    size_t n = stock_json_encode(out, sizeof(out), "SKU-1", 5, "store-1", 7, &a);
    const char *want =
        "{\"sku\":\"SKU-1\",\"locationId\":\"store-1\",\"onHand\":10,\"reserved\":2,"
        "\"inTransit\":0,\"available\":8,\"lastUpdated\":\"2026-11-23T10:15:30.123Z\","
        "\"version\":3,\"inputOffset\":1234,\"oversells\":0,\"releaseExcesses\":0,"
        "\"transferInExcesses\":0}";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    check_round_trip("SKU-1", "store-1", &a);
}

/* The widest value: every integer at its widest, both ids at 64 bytes. */
static void test_extremes_round_trip(void **state) {
    (void)state;
    char sku64[65], loc64[65];
    const char *chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
    memcpy(sku64, chars, 64);
    sku64[64] = '\0';
    memcpy(loc64, chars + 1, 64);
    loc64[64] = '\0';
    inv_agg cases[] = {
        agg_of(0, 0, 0, 0, 1, -1),
        agg_of(INT64_MAX, 0, 0, INV_TIMESTAMP_MS_MAX, UINT64_MAX, INT64_MAX),
        agg_of(INT64_MIN, 0, INT64_MAX, 0, 1, 0),
        agg_of(-1, INT64_MAX, INT64_MAX, 1, UINT64_MAX - 1,
               INT64_MAX - 1),                             /* available INT64_MIN */
        agg_of(INT64_MAX, INT64_MAX, 0, EXAMPLE_MS, 2, 7), /* available 0 */
        agg_of(-INV_QUANTITY_ABS_MAX, INV_QUANTITY_ABS_MAX, 1, 951782400000, 12345, 0),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cases[i].oversell_count = i % 2 ? UINT32_MAX : 0;
        cases[i].release_excess_count = i % 3 ? UINT32_MAX : 1;
        cases[i].transfer_in_excess_count = UINT32_MAX - (uint32_t)i;
        check_round_trip("S", "L", &cases[i]);
        check_round_trip(sku64, loc64, &cases[i]);
    }
    /* The widest value stays under the bound. */
    inv_agg w = agg_of(INT64_MIN, 0, INT64_MAX, INV_TIMESTAMP_MS_MAX, UINT64_MAX, INT64_MAX);
    w.oversell_count = w.release_excess_count = w.transfer_in_excess_count = UINT32_MAX;
    char out[INV_STOCK_JSON_BYTES_MAX];
    size_t n = stock_json_encode(out, sizeof(out), sku64, 64, loc64, 64, &w);
    assert_true(n <= INV_STOCK_JSON_BYTES_MAX);
    assert_true(n > 400);
    check_round_trip(sku64, loc64, &w);
}

/* Every integer width: each power of ten, one below it and the type's ends
 * (the encoder counts digits first and writes them in place), compared with
 * printf's text of the same value in onHand, version and inputOffset. */
static void test_integer_widths(void **state) {
    (void)state;
    int64_t vals[64];
    size_t nv = 0;
    vals[nv++] = 0;
    for (int64_t p = 1; nv + 3 <= sizeof(vals) / sizeof(vals[0]); p *= 10) {
        vals[nv++] = p;
        if (p > 1) vals[nv++] = p - 1;
        if (p > INT64_MAX / 10) break;
    }
    vals[nv++] = INT64_MAX;
    for (size_t i = 0; i < nv; i++) {
        for (int neg = 0; neg < 2; neg++) {
            int64_t v = neg ? -vals[i] : vals[i];
            inv_agg a = agg_of(v, 0, 0, EXAMPLE_MS, vals[i] > 0 ? (uint64_t)vals[i] : 1,
                               vals[i]);
            char out[INV_STOCK_JSON_BYTES_MAX], want[512];
            size_t n = stock_json_encode(out, sizeof(out), "S", 1, "L", 1, &a);
            int wn = snprintf(want, sizeof(want),
                              "{\"sku\":\"S\",\"locationId\":\"L\",\"onHand\":%" PRId64
                              ",\"reserved\":0,\"inTransit\":0,\"available\":%" PRId64
                              ",\"lastUpdated\":\"2026-11-23T10:15:30.123Z\",\"version\":%" PRIu64
                              ",\"inputOffset\":%" PRId64
                              ",\"oversells\":0,\"releaseExcesses\":0,\"transferInExcesses\":0}",
                              v, v, a.version, a.offset);
            assert_int_equal(n, (size_t)wn);
            assert_memory_equal(out, want, n);
        }
    }
    /* uint64 beyond int64: version at 10^19 - 1, 10^19 and UINT64_MAX */
    const uint64_t big[] = {9999999999999999999ULL, 10000000000000000000ULL, UINT64_MAX};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        inv_agg a = agg_of(1, 0, 0, EXAMPLE_MS, big[i], 5);
        char out[INV_STOCK_JSON_BYTES_MAX], want[32];
        size_t n = stock_json_encode(out, sizeof(out), "S", 1, "L", 1, &a);
        snprintf(want, sizeof(want), "\"version\":%" PRIu64 ",", big[i]);
        assert_non_null(memmem(out, n, want, strlen(want)));
    }
}

/* The encoder's output read back by jansson, member by member and in order. */
static void check_with_jansson(const char *sku, const char *loc, const inv_agg *a) {
    char out[INV_STOCK_JSON_BYTES_MAX];
    size_t n = stock_json_encode(out, sizeof(out), sku, strlen(sku), loc, strlen(loc), a);
    json_error_t err;
    json_t *root = json_loadb(out, n, 0, &err);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "sku")), sku);
    assert_string_equal(json_string_value(json_object_get(root, "locationId")), loc);
    assert_int_equal(json_integer_value(json_object_get(root, "onHand")), a->on_hand);
    assert_int_equal(json_integer_value(json_object_get(root, "reserved")), a->reserved);
    assert_int_equal(json_integer_value(json_object_get(root, "inTransit")), a->in_transit);
    assert_int_equal(json_integer_value(json_object_get(root, "available")),
                     a->on_hand - a->reserved);
    assert_int_equal(json_integer_value(json_object_get(root, "version")), (int64_t)a->version);
    assert_int_equal(json_integer_value(json_object_get(root, "inputOffset")), a->offset);
    assert_int_equal(json_integer_value(json_object_get(root, "oversells")), a->oversell_count);
    assert_int_equal(json_integer_value(json_object_get(root, "releaseExcesses")),
                     a->release_excess_count);
    assert_int_equal(json_integer_value(json_object_get(root, "transferInExcesses")),
                     a->transfer_in_excess_count);
    assert_int_equal(json_object_size(root), 12);
    char iso[INV_TIMESTAMP_ISO_LEN];
    timestamp_format_iso(a->last_updated_ms, iso);
    const char *lu = json_string_value(json_object_get(root, "lastUpdated"));
    assert_non_null(lu);
    assert_int_equal(strlen(lu), INV_TIMESTAMP_ISO_LEN);
    assert_memory_equal(lu, iso, INV_TIMESTAMP_ISO_LEN);
    json_decref(root);
}

static void test_random_round_trip(void **state) {
    (void)state;
    uint64_t rng = tu_rng(1);
    for (int i = 0; i < 20000; i++) {
        int64_t reserved = (int64_t)(tu_rand(&rng) >> (tu_rand(&rng) % 63 + 1));
        int64_t on_hand = (int64_t)tu_rand(&rng) >> (tu_rand(&rng) % 64);
        int64_t avail;
        if (__builtin_sub_overflow(on_hand, reserved, &avail)) on_hand = reserved;
        uint64_t version = tu_rand(&rng) >> (tu_rand(&rng) % 64);
        int64_t offset = (int64_t)(tu_rand(&rng) >> (tu_rand(&rng) % 63 + 1));
        if (offset % 5 == 0) offset = -1;
        inv_agg a =
            agg_of(on_hand, reserved, (int64_t)(tu_rand(&rng) >> (tu_rand(&rng) % 63 + 1)),
                   tu_range(&rng, 0, INV_TIMESTAMP_MS_MAX), version > 0 ? version : 1, offset);
        a.oversell_count = (uint32_t)tu_rand(&rng);
        a.release_excess_count = (uint32_t)(tu_rand(&rng) >> 40);
        a.transfer_in_excess_count = (uint32_t)(tu_rand(&rng) % 3);
        check_round_trip("SKU-000123", "store-045", &a);
        if (a.version <= INT64_MAX) check_with_jansson("S.k_u-1", "L", &a);
    }
}

/* Aggregates produced by apply_event on random event streams round-trip. */
static void test_apply_produced_round_trip(void **state) {
    (void)state;
    uint64_t rng = tu_rng(2);
    for (int run = 0; run < 200; run++) {
        inv_agg a;
        agg_init(&a);
        for (int k = 0; k < 100; k++) {
            inv_event e = {.event_id = "e",
                           .event_id_len = 1,
                           .sku = "s",
                           .sku_len = 1,
                           .location_id = "l",
                           .location_id_len = 1,
                           .partition = 0};
            e.type = (uint8_t)tu_range(&rng, INV_EV_RECEIPT, INV_EV_FULFILLMENT);
            e.quantity_delta = tu_range(&rng, 1, run % 2 ? INV_QUANTITY_ABS_MAX : 20);
            if (tu_rand(&rng) & 1) e.quantity_delta = -e.quantity_delta;
            e.timestamp_ms = tu_range(&rng, 0, INV_TIMESTAMP_MS_MAX);
            e.offset = tu_rand(&rng) % 4 == 0 ? -1 : tu_range(&rng, 0, INT64_MAX);
            assert_int_equal(event_validate(&e), INV_OK);
            if (apply_event(&a, &e, &a) != INV_OK) break;
            check_round_trip("s", "l", &a);
        }
    }
}

/* --- the decoder ------------------------------------------------------------------- */

static const char *const example =
    "{\"sku\":\"SKU-1\",\"locationId\":\"store-1\",\"onHand\":10,\"reserved\":2,"
    "\"inTransit\":0,\"available\":8,\"lastUpdated\":\"2026-11-23T10:15:30.123Z\","
    "\"version\":3,\"inputOffset\":1234,\"oversells\":0,\"releaseExcesses\":0,"
    "\"transferInExcesses\":0}";

static char g_err[256];

static int decode_str(const char *json, inv_stock_record *rec) {
    size_t n = strlen(json);
    char *copy = malloc(n > 0 ? n : 1);
    assert_non_null(copy);
    memcpy(copy, json, n);
    int rc = stock_json_decode(copy, n, rec, g_err, sizeof(g_err));
    free(copy);
    return rc;
}

static void test_decode_any_order_whitespace_unknown(void **state) {
    (void)state;
    inv_stock_record want, rec;
    assert_int_equal(decode_str(example, &want), 0);
    const char *json =
        " \n{ \"transferInExcesses\" : 0 , \"releaseExcesses\":0,\"oversells\":0,\r\n"
        "\t\"x\": [1, {\"y\": null}, \"\\u00e9\"], \"inputOffset\": 1234,"
        " \"version\": 3, \"lastUpdated\": \"2026-11-23T10:15:30.123+00:00\","
        " \"available\": 8, \"inTransit\": 0, \"reserved\": 2, \"onHand\": 10,"
        " \"locationId\": \"store-1\", \"sku\": \"SKU-1\", \"z\": 1.5e300 } \t";
    assert_int_equal(decode_str(json, &rec), 0);
    assert_memory_equal(&rec.agg, &want.agg, sizeof(inv_agg));
    /* an escaped member name counts as its name */
    assert_int_equal(decode_str("{\"sku\":\"SKU-1\",\"locationId\":\"store-1\",\"\\u006fnHand\":10,"
                                "\"reserved\":2,\"inTransit\":0,\"available\":8,\"lastUpdated\":"
                                "\"2026-11-23T10:15:30.123Z\",\"version\":3,\"inputOffset\":1234,"
                                "\"oversells\":0,\"releaseExcesses\":0,\"transferInExcesses\":0}",
                                &rec),
                     0);
    assert_memory_equal(&rec.agg, &want.agg, sizeof(inv_agg));
}

/* The example with member `name` given the raw value (NULL: dropped). */
static const char *example_with(const char *name, const char *value) {
    static char out[1024];
    static const char *const names[] = {"sku",         "locationId",      "onHand",
                                        "reserved",    "inTransit",       "available",
                                        "lastUpdated", "version",         "inputOffset",
                                        "oversells",   "releaseExcesses", "transferInExcesses"};
    static const char *const values[] = {
        "\"SKU-1\"", "\"store-1\"", "10", "2", "0", "8", "\"2026-11-23T10:15:30.123Z\"",
        "3",         "1234",        "0",  "0", "0"};
    size_t n = 0;
    out[n++] = '{';
    for (int i = 0; i < 12; i++) {
        const char *v = strcmp(names[i], name) == 0 ? value : values[i];
        if (v == NULL) continue;
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s\"%s\":%s", n > 1 ? "," : "", names[i],
                              v);
    }
    out[n++] = '}';
    out[n] = '\0';
    return out;
}

/* Asserts that decoding json fails with -EINVAL and errstr containing what. */
static void assert_rejected(const char *json, const char *what) {
    inv_stock_record rec;
    int rc = decode_str(json, &rec);
    if (rc != -EINVAL) fail_msg("accepted: %s", json);
    if (strstr(g_err, what) == NULL) fail_msg("%s: errstr \"%s\" lacks \"%s\"", json, g_err, what);
}

static void test_decode_rejections(void **state) {
    (void)state;
    static const char *const names[] = {"sku",         "locationId",      "onHand",
                                        "reserved",    "inTransit",       "available",
                                        "lastUpdated", "version",         "inputOffset",
                                        "oversells",   "releaseExcesses", "transferInExcesses"};
    for (int i = 0; i < 12; i++) {
        char want[64];
        snprintf(want, sizeof(want), "%s: missing", names[i]);
        assert_rejected(example_with(names[i], NULL), want);
        char dup[1100];
        snprintf(dup, sizeof(dup), "%.*s,\"%s\":1}", (int)strlen(example) - 1, example, names[i]);
        snprintf(want, sizeof(want), "%s: appears twice", names[i]);
        assert_rejected(dup, want);
        snprintf(want, sizeof(want), "%s:", names[i]);
        assert_rejected(example_with(names[i], "null"), want);
        assert_rejected(example_with(names[i], "[]"), want);
    }
    assert_rejected(example_with("onHand", "1.0"), "onHand: not an integer");
    assert_rejected(example_with("onHand", "1e2"), "onHand: not an integer");
    assert_rejected(example_with("onHand", "\"10\""), "onHand: not a number");
    assert_rejected(example_with("onHand", "9223372036854775808"), "onHand: out of");
    assert_rejected(example_with("onHand", "-9223372036854775809"), "onHand: out of");
    assert_rejected(example_with("onHand", "99999999999999999999999"), "onHand: out of");
    assert_rejected(example_with("reserved", "-1"), "reserved: negative");
    assert_rejected(example_with("inTransit", "-1"), "inTransit: negative");
    assert_rejected(example_with("available", "9"), "available: not onHand - reserved");
    assert_rejected(example_with("version", "0"), "version: 0");
    assert_rejected(example_with("version", "-1"), "version: negative");
    assert_rejected(example_with("version", "18446744073709551616"), "version: out of range");
    assert_rejected(example_with("inputOffset", "-2"), "inputOffset: below -1");
    assert_rejected(example_with("oversells", "4294967296"), "oversells: above 4294967295");
    assert_rejected(example_with("releaseExcesses", "-5"), "releaseExcesses: negative");
    assert_rejected(example_with("transferInExcesses", "0.5"), "transferInExcesses: not an");
    assert_rejected(example_with("sku", "\"\""), "sku: length 0");
    assert_rejected(example_with("sku", "\"SKU:1\""), "sku: a character");
    assert_rejected(example_with("sku", "\"SKU\\u002d1\""), "sku: escapes");
    assert_rejected(
        example_with("locationId",
                     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
        "locationId: length 65");
    assert_rejected(example_with("lastUpdated", "1795428930123"), "lastUpdated: not a string");
    assert_rejected(example_with("lastUpdated", "\"2026-11-23\""), "lastUpdated: not ISO");
    assert_rejected(example_with("lastUpdated", "\"1969-12-31T23:59:59.999Z\""),
                    "lastUpdated: before 1970");
    /* the invariants */
    assert_rejected("{\"sku\":\"S\",\"locationId\":\"L\",\"onHand\":-9223372036854775808,"
                    "\"reserved\":1,\"inTransit\":0,\"available\":9223372036854775807,"
                    "\"lastUpdated\":\"1970-01-01T00:00:00.000Z\",\"version\":1,"
                    "\"inputOffset\":0,\"oversells\":0,\"releaseExcesses\":0,"
                    "\"transferInExcesses\":0}",
                    "available: not onHand - reserved");
    /* JSON itself */
    assert_rejected("", "not a JSON object");
    assert_rejected("[]", "not a JSON object");
    assert_rejected("{\"sku\":\"S\"", "json_syntax");
    assert_rejected("{\"sku\":\"S\",}", "json_syntax");
    assert_rejected("{\"x\":\"\xc0\x80\"}", "json_bad_utf8");
    assert_rejected("{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
                    "json_too_deep");
    char trailing[1100];
    snprintf(trailing, sizeof(trailing), "%s x", example);
    assert_rejected(trailing, "json_syntax");
    /* too large, and a small or absent errstr */
    static char big[INV_MESSAGE_BYTES_MAX + 1];
    memset(big, ' ', sizeof(big));
    inv_stock_record rec;
    assert_int_equal(stock_json_decode(big, sizeof(big), &rec, g_err, sizeof(g_err)), -EINVAL);
    assert_non_null(strstr(g_err, "65537 bytes"));
    char tiny[8];
    assert_int_equal(stock_json_decode("[]", 2, &rec, tiny, sizeof(tiny)), -EINVAL);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    assert_int_equal(stock_json_decode("[]", 2, &rec, NULL, 0), -EINVAL);
}

/* --- the ISO-8601 formatter -------------------------------------------------------------- */

static void test_timestamp_format_known(void **state) {
    (void)state;
    struct {
        int64_t ms;
        const char *iso;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1, "1970-01-01T00:00:00.001Z"},
        {EXAMPLE_MS, "2026-11-23T10:15:30.123Z"},
        {951782400000, "2000-02-29T00:00:00.000Z"},
        {951868799999, "2000-02-29T23:59:59.999Z"},
        {4107542400000, "2100-03-01T00:00:00.000Z"},
        {INV_TIMESTAMP_MS_MAX, "9999-12-31T23:59:59.999Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[INV_TIMESTAMP_ISO_LEN];
        assert_int_equal(timestamp_format_iso(cases[i].ms, out), INV_TIMESTAMP_ISO_LEN);
        assert_memory_equal(out, cases[i].iso, INV_TIMESTAMP_ISO_LEN);
        int64_t back = -5;
        assert_true(timestamp_parse_iso(out, INV_TIMESTAMP_ISO_LEN, &back));
        assert_int_equal(back, cases[i].ms);
    }
}

/* Every day from 1970-01-01 to 9999-12-31 against a naive calendar that
 * counts days one by one, and parse(format(ms)) == ms at a random time of
 * each day. */
static void test_timestamp_every_day(void **state) {
    (void)state;
    uint64_t rng = tu_rng(3);
    int y = 1970, m = 1, d = 1;
    int64_t days = 0;
    for (;; days++) {
        int64_t ms = days * 86400000 + tu_range(&rng, 0, 86399999);
        if (days * 86400000 > INV_TIMESTAMP_MS_MAX) break;
        char out[INV_TIMESTAMP_ISO_LEN + 1], want[48];
        timestamp_format_iso(ms, out);
        snprintf(want, sizeof(want), "%04d-%02d-%02d", y, m, d);
        if (memcmp(out, want, 10) != 0) {
            fail_msg("day %lld: %.24s, want %s", (long long)days, out, want);
        }
        int64_t back;
        assert_true(timestamp_parse_iso(out, INV_TIMESTAMP_ISO_LEN, &back));
        assert_int_equal(back, ms);
        /* the naive calendar */
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        int mdays = m == 2 ? (leap ? 29 : 28) : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31;
        if (++d > mdays) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    assert_int_equal(y, 10000); /* stopped exactly after 9999-12-31 */
    assert_int_equal(m, 1);
    assert_int_equal(d, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_text),
        cmocka_unit_test(test_extremes_round_trip),
        cmocka_unit_test(test_integer_widths),
        cmocka_unit_test(test_random_round_trip),
        cmocka_unit_test(test_apply_produced_round_trip),
        cmocka_unit_test(test_decode_any_order_whitespace_unknown),
        cmocka_unit_test(test_decode_rejections),
        cmocka_unit_test(test_timestamp_format_known),
        cmocka_unit_test(test_timestamp_every_day),
    };
    return tu_report(cmocka_run_group_tests(tests, NULL, NULL));
}
