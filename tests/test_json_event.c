/* test_json_event.c - the canonical event decoder (io/json_event.c,
 * io/json_scan.c, io/timestamp.c parsing).
 *
 * Every rule of json_event.h produces exactly its reason: message size at
 * 65536/65537 bytes, RFC 8259 syntax, UTF-8 edge cases on both sides of each
 * boundary of RFC 3629, the depth limit at 32/33, duplicates (also through
 * escaped names), field types, the reason order, numbers at +-10^9 and huge
 * digit strings, and timestamps (calendar, leap years, fraction digits 1-9,
 * zones, epoch milliseconds). Strings are checked to point into the message
 * when they have no escapes and into scratch when they have. Each message is
 * decoded from an exactly-sized heap copy so the ASan pass catches a read or
 * write past the message or past scratch.
 *
 * The fast paths are held to the general ones at each point where they hand
 * over: the canonical walk broken at every member (whitespace, unknown or
 * escaped names, another order, a bad separator, duplicates) decodes to the
 * same event; json_scan_small_int equals json_scan_number on every digit
 * count, sign and following byte; the exact timestamp form equals the
 * general forms and a plain reference on every day of several centuries and
 * with every byte value at every position; sku and locationId checked while
 * scanned give event_validate's reasons at every length around the 16-byte
 * blocks and the limit; the key is compared at every length. The ASan pass
 * (INV_DEBUG) also asserts that event_validate accepts every event the
 * decoder accepts without calling it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json_event.h"
#include "json_scan.h"
#include "inv_limits.h"
#include "reason.h"
#include "timestamp.h"

/* The last decoded message and its scratch, exactly sized (freed by the next call). */
static char *g_buf;
static char *g_scratch;
static size_t g_len;
static size_t g_used;

/* Decodes the len bytes at json with ev's key set to the key_len bytes at key
 * (NULL for none). */
static inv_reason decode_key_len(const char *json, size_t len, const char *key, size_t key_len,
                                 inv_event *ev) {
    free(g_buf);
    free(g_scratch);
    g_buf = malloc(len > 0 ? len : 1);
    g_scratch = malloc(len > 0 ? len : 1);
    assert_non_null(g_buf);
    assert_non_null(g_scratch);
    memcpy(g_buf, json, len);
    g_len = len;
    memset(ev, 0x5a, sizeof(*ev));
    ev->key = key;
    ev->key_len = (uint16_t)key_len;
    ev->partition = 7;
    ev->offset = 4242;
    g_used = 12345;
    inv_reason r = json_event_decode(g_buf, len, g_scratch, &g_used, ev);
    assert_true(g_used <= len);
    assert_ptr_equal(ev->key, key); /* the caller's fields are not touched */
    assert_int_equal(ev->partition, 7);
    assert_int_equal(ev->offset, 4242);
    return r;
}

/* Decodes the len bytes at json with ev's key set to key (NULL for none). */
static inv_reason decode_key(const char *json, size_t len, const char *key, inv_event *ev) {
    return decode_key_len(json, len, key, key != NULL ? strlen(key) : 0, ev);
}

static inv_reason decode_len(const char *json, size_t len, inv_event *ev) {
    return decode_key(json, len, NULL, ev);
}

static inv_reason decode(const char *json, inv_event *ev) {
    return decode_len(json, strlen(json), ev);
}

static inv_reason reason_of(const char *json) {
    inv_event ev;
    return decode(json, &ev);
}

/* Asserts reason r for json, naming both in the failure message. */
#define assert_reason(json, r)                                                                     \
    do {                                                                                           \
        inv_reason got_ = reason_of(json);                                                         \
        if (got_ != (r)) {                                                                         \
            fail_msg("%s: got %s, want %s", (json), inv_reason_name(got_), inv_reason_name(r));    \
        }                                                                                          \
    } while (0)

/* --- a base event with one member changed ---------------------------------- */

enum { B_ID, B_TYPE, B_SKU, B_LOC, B_QTY, B_SRC, B_TS, B_CORR, B_COUNT };
static const char *const base_names[B_COUNT] = {"eventId",    "eventType",     "sku",
                                                "locationId", "quantityDelta", "sourceSystem",
                                                "timestamp",  "correlationId"};
static const char *const base_values[B_COUNT] = {"\"pos-88123:2\"",
                                                 "\"SALE\"",
                                                 "\"SKU-000123\"",
                                                 "\"store-045\"",
                                                 "-2",
                                                 "\"POS\"",
                                                 "\"2026-11-23T10:15:30.123Z\"",
                                                 "\"basket-88123\""};
#define EXAMPLE_MS 1795428930123LL /* 2026-11-23T10:15:30.123Z */

static char g_json[200000];

/* The DESIGN.md example with member `name` set to the raw JSON `value`
 * (dropped when value is NULL; appended when name is not a base member). */
static const char *event_with(const char *name, const char *value) {
    size_t n = 0;
    bool found = false;
    g_json[n++] = '{';
    for (int i = 0; i < B_COUNT; i++) {
        const char *v = base_values[i];
        if (name != NULL && strcmp(name, base_names[i]) == 0) {
            found = true;
            if (value == NULL) continue;
            v = value;
        }
        n += (size_t)snprintf(g_json + n, sizeof(g_json) - n, "%s\"%s\":%s", n > 1 ? "," : "",
                              base_names[i], v);
    }
    if (!found && name != NULL) {
        n += (size_t)snprintf(g_json + n, sizeof(g_json) - n, ",\"%s\":%s", name, value);
    }
    assert_true(n + 2 < sizeof(g_json));
    g_json[n++] = '}';
    g_json[n] = '\0';
    return g_json;
}

static const char *event_base(void) {
    return event_with(NULL, NULL);
}

/* True when [p, p+n) lies inside the last message. */
static bool in_buf(const char *p, size_t n) {
    return p >= g_buf && p + n <= g_buf + g_len;
}

static void assert_str(const char *p, size_t n, const char *want) {
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
}

/* --- valid events ------------------------------------------------------------ */

static void test_valid_example(void **state) {
    (void)state;
    inv_event ev;
    const char *json =
        "{\"eventId\":\"pos-88123:2\",\"eventType\":\"SALE\",\"sku\":\"SKU-000123\","
        "\"locationId\":\"store-045\",\"quantityDelta\":-2,\"sourceSystem\":\"POS\","
        "\"timestamp\":\"2026-11-23T10:15:30.123Z\",\"correlationId\":\"basket-88123\"}";
    assert_int_equal(decode(json, &ev), INV_OK);
    assert_str(ev.event_id, ev.event_id_len, "pos-88123:2");
    assert_int_equal(ev.type, INV_EV_SALE);
    assert_str(ev.sku, ev.sku_len, "SKU-000123");
    assert_str(ev.location_id, ev.location_id_len, "store-045");
    assert_str(ev.source_system, ev.source_system_len, "POS");
    assert_str(ev.correlation_id, ev.correlation_id_len, "basket-88123");
    assert_int_equal(ev.quantity_delta, -2);
    assert_int_equal(ev.timestamp_ms, EXAMPLE_MS);
    /* zero copy: no escapes, so every string points into the message */
    assert_int_equal(g_used, 0);
    assert_true(in_buf(ev.event_id, ev.event_id_len));
    assert_true(in_buf(ev.sku, ev.sku_len));
    assert_true(in_buf(ev.location_id, ev.location_id_len));
    assert_true(in_buf(ev.source_system, ev.source_system_len));
    assert_true(in_buf(ev.correlation_id, ev.correlation_id_len));
    assert_ptr_equal(ev.event_id, g_buf + 12);
}

/* Every type, with the quantity sent positive and negative (both sign
 * conventions of the original producers; ADJUSTMENT keeps its sign). */
static void test_every_type_both_signs(void **state) {
    (void)state;
    for (int t = INV_EV_NONE + 1; t < INV_EV_TYPE_COUNT; t++) {
        char type[64];
        snprintf(type, sizeof(type), "\"%s\"", event_type_name((inv_event_type)t));
        for (int sign = -1; sign <= 1; sign += 2) {
            char json[512];
            snprintf(json, sizeof(json),
                     "{\"eventId\":\"e:%d\",\"eventType\":%s,\"sku\":\"S\",\"locationId\":\"L\","
                     "\"quantityDelta\":%d,\"timestamp\":0}",
                     t, type, 7 * sign);
            inv_event ev;
            assert_int_equal(decode(json, &ev), INV_OK);
            assert_int_equal(ev.type, t);
            assert_int_equal(ev.quantity_delta, 7 * sign);
            assert_int_equal(event_quantity(&ev), t == INV_EV_ADJUSTMENT ? 7 * sign : 7);
            assert_null(ev.correlation_id); /* absent */
            assert_int_equal(ev.correlation_id_len, 0);
            assert_null(ev.source_system);
        }
    }
}

static void test_member_order_and_whitespace(void **state) {
    (void)state;
    inv_event ev;
    const char *json =
        " \r\n\t{ \"timestamp\" :\t\"2026-11-23T10:15:30.123Z\" ,\n"
        "  \"quantityDelta\" : -2 , \"correlationId\" : null ,\r\n"
        "  \"sourceSystem\":null, \"locationId\" : \"store-045\",\"sku\":\"SKU-000123\" ,"
        " \"eventType\" : \"SALE\" , \"eventId\" : \"pos-88123:2\" } \n\t\r ";
    assert_int_equal(decode(json, &ev), INV_OK);
    assert_int_equal(ev.timestamp_ms, EXAMPLE_MS);
    assert_null(ev.correlation_id);
    assert_null(ev.source_system);
    assert_str(ev.sku, ev.sku_len, "SKU-000123");
    /* Form feed and vertical tab are not JSON whitespace. */
    assert_reason("\f{}", INV_R_JSON_SYNTAX);
    assert_reason("{}\v", INV_R_JSON_SYNTAX);
    assert_reason("{\xc2\xa0}", INV_R_JSON_SYNTAX); /* U+00A0 no-break space */
}

static void test_key_checked_with_payload(void **state) {
    (void)state;
    inv_event ev;
    const char *json = event_base();
    assert_int_equal(decode_key(json, strlen(json), "SKU-000123:store-045", &ev), INV_OK);
    assert_int_equal(decode_key(json, strlen(json), "SKU-000123:store-046", &ev),
                     INV_R_KEY_MISMATCH);
    assert_int_equal(decode_key(json, strlen(json), NULL, &ev), INV_OK);
}

/* Unknown members of every type are validated and skipped. */
static void test_unknown_members_skipped(void **state) {
    (void)state;
    assert_reason(event_with("x", "{\"a\":[1,-2.5e-3,true,false,null,\"s\\n\",{},[]],\"b\":{}}"),
                  INV_OK);
    assert_reason(event_with("EventId", "5"), INV_OK); /* names are case-sensitive */
    assert_reason(event_with("sku ", "5"), INV_OK);
    assert_reason(event_with("", "\"\""), INV_OK);
    assert_reason(event_with("\\u00e9", "[]"), INV_OK);
    assert_reason(event_with("x", "[1,]"), INV_R_JSON_SYNTAX);
    assert_reason(event_with("x", "{\"a\"}"), INV_R_JSON_SYNTAX);
    assert_reason(event_with("x", "\"\\q\""), INV_R_JSON_SYNTAX);
    assert_reason(event_with("x", "\"\xff\""), INV_R_JSON_BAD_UTF8);
    /* duplicate unknown names, here or nested, are not this decoder's concern */
    const char *json = "{\"x\":1,\"x\":2,\"y\":{\"a\":1,\"a\":2},\"eventId\":\"e\",\"eventType\":"
                       "\"SALE\",\"sku\":\"s\",\"locationId\":\"l\",\"quantityDelta\":1,"
                       "\"timestamp\":0}";
    assert_reason(json, INV_OK);
}

/* --- size and syntax ------------------------------------------------------------ */

/* Pads the base event with an unknown string member to exactly len bytes. */
static size_t padded_event(char *out, size_t len) {
    const char *base = event_base();
    size_t b = strlen(base);
    const char *head = ",\"pad\":\"";
    size_t fixed = b + strlen(head) + 1; /* + closing quote; the '}' is reused */
    assert_true(len > fixed);
    memcpy(out, base, b - 1);
    size_t n = b - 1;
    memcpy(out + n, head, strlen(head));
    n += strlen(head);
    size_t pad = len - fixed;
    memset(out + n, 'p', pad);
    n += pad;
    out[n++] = '"';
    out[n++] = '}';
    assert_int_equal(n, len);
    return n;
}

static void test_message_size_limit(void **state) {
    (void)state;
    static char msg[INV_MESSAGE_BYTES_MAX + 2];
    inv_event ev;
    assert_int_equal(INV_MESSAGE_BYTES_MAX, 65536);
    size_t n = padded_event(msg, 65536);
    assert_int_equal(decode_len(msg, n, &ev), INV_OK);
    assert_int_equal(ev.timestamp_ms, EXAMPLE_MS);
    n = padded_event(msg, 65537);
    assert_int_equal(decode_len(msg, n, &ev), INV_R_MESSAGE_TOO_LARGE);
    /* too large wins over everything, even garbage */
    memset(msg, 'x', sizeof(msg));
    assert_int_equal(decode_len(msg, 65537, &ev), INV_R_MESSAGE_TOO_LARGE);
    assert_int_equal(decode_len(msg, 65536, &ev), INV_R_JSON_SYNTAX);
}

static void test_syntax_errors(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "}",
        "{\"a\"}",
        "{\"a\":}",
        "{,}",
        "{\"a\":1,}",
        "{\"a\":1 \"b\":2}",
        "{\"a\" 1}",
        "{\"a\"::1}",
        "{\"a\":1}}",
        "{\"a\":1}]",
        "{} {}",
        "{}x",
        "{}0",
        "{a:1}",
        "{'a':1}",
        "{\"a\":[1,]}",
        "{\"a\":[,1]}",
        "{\"a\":[}",
        "{\"a\":{]}",
        "{\"a\":[1 2]}",
        "{\"a\":01}",
        "{\"a\":-01}",
        "{\"a\":00}",
        "{\"a\":-}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":+1}",
        "{\"a\":1e}",
        "{\"a\":1e+}",
        "{\"a\":1.e5}",
        "{\"a\":0x10}",
        "{\"a\":1_0}",
        "{\"a\":Infinity}",
        "{\"a\":NaN}",
        "{\"a\":-Infinity}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":True}",
        "{\"a\":NULL}",
        "{\"a\":truex}",
        "{\"a\":nulll}",
        "{\"a\":\"}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u00zz\"}",
        "{\"a\":\"\\U0041\"}",
        "{\"a\":\"\\\"}",
        "{\"a\":\"\\'\"}",
        "{\"a\":\"\x01\"}",
        "{\"a\":\"\x1f\"}",
        "{\"a\":\"\t\"}",
        "{\"a\":\"\n\"}",
        "{\"a\":\"\\u0000\"}",
        "{\"\\u0000\":1}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\\udbff\\udbff\"}",
        "{\"a\":\"\\ud800\\u0041\"}",
        "{\"a\":\"\\ud800x\"}",
        "{\"a\":\"\\udc00\\ud800\"}",
        "{\"a\":\"\\ud800\\\"}",
        "\xef\xbb\xbf{}",
        "{\x80:1}",
        "{\"a\":\x80}",
        "[1,2",
        "\"abc",
        "tru",
        "-",
        "/* c */{}",
        "{}//",
        "{\"a\":1,,\"b\":2}",
        "{\"a\":[1]]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_reason(bad[i], INV_R_JSON_SYNTAX);
    /* A NUL byte anywhere outside a string is not whitespace. */
    inv_event ev;
    assert_int_equal(decode_len("{}\0", 3, &ev), INV_R_JSON_SYNTAX);
    assert_int_equal(decode_len("{\"a\":1\0}", 8, &ev), INV_R_JSON_SYNTAX);
    assert_int_equal(decode_len("{\"a\":\"\0\"}", 8, &ev), INV_R_JSON_SYNTAX);
    /* Invalid JSON is reported as such even when the fields are wrong too. */
    assert_reason("{\"quantityDelta\":\"x\",\"eventId\":5,", INV_R_JSON_SYNTAX);
    assert_reason("{\"eventId\":1,\"eventId\":2,\"x\":[}", INV_R_JSON_SYNTAX);
    assert_reason("[1,2", INV_R_JSON_SYNTAX);
}

static void test_not_object(void **state) {
    (void)state;
    static const char *const vals[] = {
        "1",          "-0",    "1.5e3", "\"s\"", "null",
        "true",       "false", "[]",    "[{}]",  " [1, {\"a\": [null]}] ",
        "\"\\u00e9\""};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        assert_reason(vals[i], INV_R_JSON_NOT_OBJECT);
    }
    assert_reason("[1,]", INV_R_JSON_SYNTAX); /* invalid JSON first */
    assert_reason("\"\xc0\x80\"", INV_R_JSON_BAD_UTF8);
}

/* --- UTF-8 ---------------------------------------------------------------------- */

static void test_utf8_valid_boundaries(void **state) {
    (void)state;
    static const char *const good[] = {
        "\x7f",             /* DEL is allowed raw */
        "\xc2\x80",         /* U+0080, smallest 2-byte */
        "\xdf\xbf",         /* U+07FF */
        "\xe0\xa0\x80",     /* U+0800, smallest 3-byte */
        "\xed\x9f\xbf",     /* U+D7FF, below the surrogates */
        "\xee\x80\x80",     /* U+E000, above them */
        "\xef\xbf\xbf",     /* U+FFFF */
        "\xf0\x90\x80\x80", /* U+10000, smallest 4-byte */
        "\xf4\x8f\xbf\xbf", /* U+10FFFF, the largest */
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char val[64];
        snprintf(val, sizeof(val), "\"%s\"", good[i]);
        inv_event ev;
        assert_int_equal(decode(event_with("eventId", val), &ev), INV_OK);
        assert_str(ev.event_id, ev.event_id_len, good[i]);
        assert_true(in_buf(ev.event_id, ev.event_id_len)); /* no escapes: zero copy */
        assert_int_equal(g_used, 0);
        assert_reason(event_with(good[i], "1"), INV_OK); /* as an unknown member name */
    }
}

static void test_utf8_invalid(void **state) {
    (void)state;
    static const char *const bad[] = {
        "\x80",             /* lone continuation */
        "\xbf",             /* lone continuation */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xc2",             /* truncated (the closing quote follows) */
        "\xc2\x41",         /* not a continuation */
        "\xe0\x80\x80",     /* overlong 3-byte */
        "\xe0\x9f\xbf",     /* overlong U+07FF */
        "\xed\xa0\x80",     /* U+D800 encoded */
        "\xed\xbf\xbf",     /* U+DFFF encoded */
        "\xe1\x80",         /* truncated */
        "\xf0\x80\x80\x80", /* overlong 4-byte */
        "\xf0\x8f\xbf\xbf", /* overlong U+FFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* beyond */
        "\xf8\x88\x80\x80\x80",
        "\xfe",
        "\xff",
        "\xf0\x9f\x98", /* truncated */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char val[64];
        snprintf(val, sizeof(val), "\"%s\"", bad[i]);
        assert_reason(event_with("eventId", val), INV_R_JSON_BAD_UTF8);
        assert_reason(event_with("x", val), INV_R_JSON_BAD_UTF8);
        assert_reason(event_with(bad[i], "1"), INV_R_JSON_BAD_UTF8);
        snprintf(val, sizeof(val), "[\"%s\"]", bad[i]);
        assert_reason(val, INV_R_JSON_BAD_UTF8);
    }
    /* Truncated at the very end of the message. */
    inv_event ev;
    assert_int_equal(decode_len("{\"a\":\"\xe2\x82", 8, &ev), INV_R_JSON_BAD_UTF8);
    /* A byte >= 0x80 outside a string is a syntax error. */
    assert_reason("{\"a\":1\xc3\xa9}", INV_R_JSON_SYNTAX);
}

/* --- escapes, zero copy and scratch ------------------------------------------------- */

static void test_escapes_decoded_into_scratch(void **state) {
    (void)state;
    inv_event ev;
    const char *id = "\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\\u0041\\u00e9\\u00E9\\u20ac"
                     "\\ud83d\\ude00\\uD83D\\uDE00\\u007f\\u0001\"";
    assert_int_equal(decode(event_with("eventId", id), &ev), INV_OK);
    const char *want = "a\"b\\c/d\be\ff\ng\rh\ti"
                       "A\xc3\xa9\xc3\xa9\xe2\x82\xac"
                       "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\x7f\x01";
    assert_str(ev.event_id, ev.event_id_len, want);
    assert_ptr_equal(ev.event_id, g_scratch);
    assert_int_equal(g_used, strlen(want));

    /* Two escaped strings: the second follows the first in scratch; plain
     * strings stay zero copy; escapes in unknown members use no scratch. */
    const char *json = "{\"x\":\"\\u0041\\u0042\",\"eventId\":\"e\\u002d1\",\"eventType\":"
                       "\"SALE\",\"sku\":\"SKU\\u002d1\",\"locationId\":\"loc\","
                       "\"quantityDelta\":1,\"timestamp\":0}";
    assert_int_equal(decode(json, &ev), INV_OK);
    assert_str(ev.event_id, ev.event_id_len, "e-1");
    assert_str(ev.sku, ev.sku_len, "SKU-1");
    assert_ptr_equal(ev.event_id, g_scratch);
    assert_ptr_equal(ev.sku, g_scratch + 3);
    assert_true(in_buf(ev.location_id, ev.location_id_len));
    assert_int_equal(g_used, 8);

    /* Decoded values are validated like plain ones. */
    assert_reason(event_with("sku", "\"SKU\\u003a1\""), INV_R_SKU_BAD_CHAR); /* ':' */
    assert_reason(event_with("eventType", "\"S\\u0041LE\""), INV_OK);
    assert_reason(event_with("eventType", "\"S\\u0061LE\""), INV_R_EVENT_TYPE_UNKNOWN);
}

/* Scratch never needs more than the message: every known string escaped. */
static void test_scratch_bounded_by_message(void **state) {
    (void)state;
    static char json[70000];
    size_t n = (size_t)snprintf(json, sizeof(json), "{\"eventId\":\"");
    for (int i = 0; i < 128; i++)
        n += (size_t)snprintf(json + n, sizeof(json) - n, "\\ud83d\\ude00");
    n += (size_t)snprintf(json + n, sizeof(json) - n,
                          "\",\"eventType\":\"\\u0053ALE\",\"sku\":\"\\u0053\",\"locationId\":"
                          "\"\\u004c\",\"sourceSystem\":\"\\n\",\"correlationId\":\"\\t\","
                          "\"quantityDelta\":1,\"timestamp\":\"1970-01-01T00:00:00\\u005a\"}");
    inv_event ev;
    assert_int_equal(decode_len(json, n, &ev), INV_R_EVENT_ID_TOO_LONG); /* 512 bytes decoded */
    assert_int_equal(ev.event_id_len, 512);
    assert_true(g_used <= n);
    assert_int_equal(g_used, 512 + 4 + 1 + 1 + 1 + 1 + 20);
}

/* Member names are matched after decoding their escapes. */
static void test_escaped_member_names(void **state) {
    (void)state;
    inv_event ev;
    const char *json = "{\"\\u0065ventId\":\"e\",\"eventTyp\\u0065\":\"SALE\",\"sk\\u0075\":\"s\","
                       "\"locationI\\u0064\":\"l\",\"quantity\\u0044elta\":3,"
                       "\"\\u0074imestamp\":0}";
    assert_int_equal(decode(json, &ev), INV_OK);
    assert_int_equal(ev.quantity_delta, 3);
    assert_str(ev.sku, ev.sku_len, "s");
    assert_int_equal(g_used, 0); /* names never take scratch */
    /* longer than every known name once decoded, or not matching: unknown */
    assert_reason(event_with("sku\\u0058", "5"), INV_OK);
    assert_reason(event_with("\\u0073\\u006b\\u0075\\u0075\\u0075\\u0075\\u0075\\u0075\\u0075"
                             "\\u0075\\u0075\\u0075\\u0075\\u0075\\u0075",
                             "5"),
                  INV_OK);
    assert_reason(event_with("sk\\u0075", "5"), INV_R_FIELD_DUPLICATE);
    assert_reason(event_with("correlation\\u0049d", "\"c\""), INV_R_FIELD_DUPLICATE);
}

/* --- depth ------------------------------------------------------------------------ */

/* An unknown member nested to total depth `depth` (the event object is 1),
 * alternating arrays and objects. */
static const char *nested_event(int depth) {
    static char val[400];
    size_t n = 0;
    for (int i = 2; i <= depth; i++)
        n += (size_t)snprintf(val + n, sizeof(val) - n, i % 2 ? "{\"k\":" : "[");
    n += (size_t)snprintf(val + n, sizeof(val) - n, "1");
    for (int i = depth; i >= 2; i--)
        n += (size_t)snprintf(val + n, sizeof(val) - n, i % 2 ? "}" : "]");
    return event_with("deep", val);
}

static void test_depth_limit(void **state) {
    (void)state;
    assert_int_equal(INV_JSON_DEPTH_MAX, 32);
    assert_reason(nested_event(2), INV_OK);
    assert_reason(nested_event(32), INV_OK);
    assert_reason(nested_event(33), INV_R_JSON_TOO_DEEP);
    assert_reason(nested_event(60), INV_R_JSON_TOO_DEEP);
    char buf[200];
    memset(buf, '[', 32);
    memset(buf + 32, ']', 32);
    assert_int_equal(decode_len(buf, 64, &(inv_event){0}), INV_R_JSON_NOT_OBJECT);
    memset(buf, '[', 33);
    memset(buf + 33, ']', 33);
    assert_int_equal(decode_len(buf, 66, &(inv_event){0}), INV_R_JSON_TOO_DEEP);
    /* too deep is reported where it happens: a syntax error before it wins */
    memset(buf, '[', 40);
    buf[0] = '}';
    assert_int_equal(decode_len(buf, 40, &(inv_event){0}), INV_R_JSON_SYNTAX);
    /* Empty containers count too: 30 or 31 arrays around {} in the event. */
    for (int arrays = 30; arrays <= 31; arrays++) {
        char v[80];
        memset(v, '[', (size_t)arrays);
        memcpy(v + arrays, "{}", 2);
        memset(v + arrays + 2, ']', (size_t)arrays);
        v[2 * arrays + 2] = '\0';
        assert_reason(event_with("e", v), arrays == 30 ? INV_OK : INV_R_JSON_TOO_DEEP);
    }
}

/* --- fields --------------------------------------------------------------------------- */

static void test_duplicates(void **state) {
    (void)state;
    for (int i = 0; i < B_COUNT; i++) {
        char json[1024];
        const char *base = event_base();
        size_t b = strlen(base);
        snprintf(json, sizeof(json), "%.*s,\"%s\":%s}", (int)(b - 1), base, base_names[i],
                 base_values[i]);
        assert_reason(json, INV_R_FIELD_DUPLICATE);
        /* also when the repeat has the wrong type, or is null */
        snprintf(json, sizeof(json), "%.*s,\"%s\":null}", (int)(b - 1), base, base_names[i]);
        assert_reason(json, INV_R_FIELD_DUPLICATE);
    }
    /* a duplicate outranks field errors, wherever they are */
    assert_reason("{\"eventId\":1,\"quantityDelta\":1.5,\"eventId\":2}", INV_R_FIELD_DUPLICATE);
    assert_reason("{\"sku\":\"a\",\"sku\":\"a\"}", INV_R_FIELD_DUPLICATE);
    assert_reason("{\"sourceSystem\":null,\"sourceSystem\":null}", INV_R_FIELD_DUPLICATE);
}

static void test_field_types(void **state) {
    (void)state;
    static const char *const non_strings[] = {"1",  "-1.5", "true",       "false",        "null",
                                              "[]", "{}",   "[\"SALE\"]", "{\"a\":\"b\"}"};
    for (size_t i = 0; i < sizeof(non_strings) / sizeof(non_strings[0]); i++) {
        const char *v = non_strings[i];
        bool is_null = strcmp(v, "null") == 0;
        assert_reason(event_with("eventId", v), INV_R_FIELD_TYPE);
        assert_reason(event_with("eventType", v), INV_R_FIELD_TYPE);
        assert_reason(event_with("sku", v), INV_R_FIELD_TYPE);
        assert_reason(event_with("locationId", v), INV_R_FIELD_TYPE);
        assert_reason(event_with("correlationId", v), is_null ? INV_OK : INV_R_FIELD_TYPE);
        assert_reason(event_with("sourceSystem", v), is_null ? INV_OK : INV_R_FIELD_TYPE);
    }
    static const char *const non_numbers[] = {"\"5\"", "true", "false", "null", "[5]", "{}"};
    for (size_t i = 0; i < sizeof(non_numbers) / sizeof(non_numbers[0]); i++) {
        assert_reason(event_with("quantityDelta", non_numbers[i]), INV_R_FIELD_TYPE);
        if (non_numbers[i][0] != '"') {
            assert_reason(event_with("timestamp", non_numbers[i]), INV_R_FIELD_TYPE);
        }
    }
    inv_event ev;
    assert_int_equal(decode(event_with("correlationId", "\"\""), &ev), INV_OK);
    assert_int_equal(ev.correlation_id_len, 0);
    assert_int_equal(decode(event_with("correlationId", "null"), &ev), INV_OK);
    assert_null(ev.correlation_id);
}

/* Missing members: the decode reasons for quantity and timestamp, the
 * validation reasons for the strings; and the order between reasons. */
static void test_missing_and_reason_order(void **state) {
    (void)state;
    assert_reason(event_with("quantityDelta", NULL), INV_R_QUANTITY_MISSING);
    assert_reason(event_with("timestamp", NULL), INV_R_TIMESTAMP_MISSING);
    assert_reason(event_with("eventId", NULL), INV_R_EVENT_ID_MISSING);
    assert_reason(event_with("eventId", "\"\""), INV_R_EVENT_ID_MISSING);
    assert_reason(event_with("eventType", NULL), INV_R_EVENT_TYPE_UNKNOWN);
    assert_reason(event_with("eventType", "\"sale\""), INV_R_EVENT_TYPE_UNKNOWN);
    assert_reason(event_with("eventType", "\"SALE \""), INV_R_EVENT_TYPE_UNKNOWN);
    assert_reason(event_with("sku", NULL), INV_R_SKU_MISSING);
    assert_reason(event_with("sku", "\"\""), INV_R_SKU_MISSING);
    assert_reason(event_with("locationId", NULL), INV_R_LOCATION_MISSING);
    assert_reason(event_with("correlationId", NULL), INV_OK);
    assert_reason(event_with("sourceSystem", NULL), INV_OK);
    assert_reason("{}", INV_R_QUANTITY_MISSING);
    assert_reason("{\"quantityDelta\":1}", INV_R_TIMESTAMP_MISSING);
    assert_reason("{\"quantityDelta\":1,\"timestamp\":0}", INV_R_EVENT_ID_MISSING);
    /* decode errors in field order, whatever the member order */
    assert_reason("{\"timestamp\":\"x\",\"quantityDelta\":1.5,\"eventId\":1}", INV_R_FIELD_TYPE);
    assert_reason("{\"timestamp\":\"x\",\"quantityDelta\":1.5}", INV_R_QUANTITY_NOT_INTEGER);
    assert_reason("{\"timestamp\":\"x\",\"quantityDelta\":1}", INV_R_TIMESTAMP_FORMAT);
    assert_reason("{\"timestamp\":\"x\",\"sourceSystem\":1}", INV_R_FIELD_TYPE);
    assert_reason("{\"timestamp\":1.5}", INV_R_QUANTITY_MISSING);
    /* decode errors before validation errors */
    assert_reason("{\"eventId\":\"\",\"quantityDelta\":1.5,\"timestamp\":0}",
                  INV_R_QUANTITY_NOT_INTEGER);
    /* validation order: a bad sku before a too-large quantity */
    assert_reason("{\"eventId\":\"e\",\"eventType\":\"SALE\",\"sku\":\"a:b\",\"locationId\":\"l\","
                  "\"quantityDelta\":99999999999999999999999,\"timestamp\":0}",
                  INV_R_SKU_BAD_CHAR);
}

static void test_string_limits(void **state) {
    (void)state;
    static char val[70000];
    struct {
        const char *name;
        size_t max;
        inv_reason too_long;
    } lim[] = {
        {"eventId", INV_EVENT_ID_LEN_MAX, INV_R_EVENT_ID_TOO_LONG},
        {"sku", INV_SKU_LEN_MAX, INV_R_SKU_TOO_LONG},
        {"locationId", INV_LOCATION_LEN_MAX, INV_R_LOCATION_TOO_LONG},
        {"correlationId", INV_CORRELATION_ID_LEN_MAX, INV_R_CORRELATION_ID_TOO_LONG},
        {"sourceSystem", INV_SOURCE_SYSTEM_LEN_MAX, INV_R_SOURCE_SYSTEM_TOO_LONG},
    };
    for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
        size_t lens[] = {1, lim[i].max, lim[i].max + 1, 65000};
        for (size_t k = 0; k < 4; k++) {
            val[0] = '"';
            memset(val + 1, 'a', lens[k]);
            val[lens[k] + 1] = '"';
            val[lens[k] + 2] = '\0';
            inv_event ev;
            assert_int_equal(decode(event_with(lim[i].name, val), &ev),
                             lens[k] <= lim[i].max ? INV_OK : lim[i].too_long);
        }
    }
}

/* --- numbers ------------------------------------------------------------------------- */

static void test_quantity_numbers(void **state) {
    (void)state;
    struct {
        const char *v;
        inv_reason r;
        int64_t q;
    } cases[] = {
        {"1", INV_OK, 1},
        {"-1", INV_OK, -1},
        {"1000000000", INV_OK, 1000000000},
        {"-1000000000", INV_OK, -1000000000},
        {"999999999", INV_OK, 999999999},
        {"1000000001", INV_R_QUANTITY_TOO_LARGE, 1000000001},
        {"-1000000001", INV_R_QUANTITY_TOO_LARGE, -1000000001},
        {"9223372036854775807", INV_R_QUANTITY_TOO_LARGE, INT64_MAX},
        {"9223372036854775808", INV_R_QUANTITY_TOO_LARGE, INT64_MAX},
        {"-9223372036854775808", INV_R_QUANTITY_TOO_LARGE, INT64_MIN},
        {"-9223372036854775809", INV_R_QUANTITY_TOO_LARGE, INT64_MIN},
        {"18446744073709551615", INV_R_QUANTITY_TOO_LARGE, INT64_MAX},
        {"18446744073709551616", INV_R_QUANTITY_TOO_LARGE, INT64_MAX},
        {"0", INV_R_QUANTITY_ZERO, 0},
        {"-0", INV_R_QUANTITY_ZERO, 0},
        {"1.0", INV_R_QUANTITY_NOT_INTEGER, 0},
        {"1e3", INV_R_QUANTITY_NOT_INTEGER, 0},
        {"1E+2", INV_R_QUANTITY_NOT_INTEGER, 0},
        {"5e-0", INV_R_QUANTITY_NOT_INTEGER, 0},
        {"-0.0", INV_R_QUANTITY_NOT_INTEGER, 0},
        {"2.5", INV_R_QUANTITY_NOT_INTEGER, 0},
        {"+1", INV_R_JSON_SYNTAX, 0},
        {"01", INV_R_JSON_SYNTAX, 0},
        {"1.", INV_R_JSON_SYNTAX, 0},
        {"--1", INV_R_JSON_SYNTAX, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        inv_event ev;
        inv_reason r = decode(event_with("quantityDelta", cases[i].v), &ev);
        if (r != cases[i].r) fail_msg("%s: got %s", cases[i].v, inv_reason_name(r));
        if (cases[i].r == INV_OK || cases[i].r == INV_R_QUANTITY_TOO_LARGE ||
            cases[i].r == INV_R_QUANTITY_ZERO) {
            assert_int_equal(ev.quantity_delta, cases[i].q);
        }
    }
    /* digit strings of any length: no overflow, saturated, still too large */
    static char digits[60000];
    for (int neg = 0; neg <= 1; neg++) {
        size_t n = 0;
        if (neg) digits[n++] = '-';
        memset(digits + n, '9', 50000);
        digits[n + 50000] = '\0';
        inv_event ev;
        assert_int_equal(decode(event_with("quantityDelta", digits), &ev),
                         INV_R_QUANTITY_TOO_LARGE);
        assert_int_equal(ev.quantity_delta, neg ? INT64_MIN : INT64_MAX);
        memset(digits + n, '0', 50000); /* 000... is a syntax error: leading zero */
        assert_reason(event_with("quantityDelta", digits), INV_R_JSON_SYNTAX);
    }
}

/* --- timestamps --------------------------------------------------------------------------- */

/* The decoded timestamp of the base event with timestamp value v; *r its reason. */
static int64_t ts_of(const char *v, inv_reason *r) {
    inv_event ev;
    *r = decode(event_with("timestamp", v), &ev);
    return ev.timestamp_ms;
}

static void test_timestamps_iso(void **state) {
    (void)state;
    struct {
        const char *v;
        inv_reason r;
        int64_t ms;
    } cases[] = {
        {"\"1970-01-01T00:00:00Z\"", INV_OK, 0},
        {"\"1970-01-01T00:00:00.000Z\"", INV_OK, 0},
        {"\"1970-01-01T00:00:00.001Z\"", INV_OK, 1},
        {"\"2026-11-23T10:15:30.123Z\"", INV_OK, EXAMPLE_MS},
        {"\"2026-11-23T10:15:30.123+00:00\"", INV_OK, EXAMPLE_MS},
        {"\"2026-11-23T10:15:30+00:00\"", INV_OK, 1795428930000},
        {"\"2026-11-23T10:15:30.1Z\"", INV_OK, 1795428930100},
        {"\"2026-11-23T10:15:30.12Z\"", INV_OK, 1795428930120},
        {"\"2026-11-23T10:15:30.1234Z\"", INV_OK, EXAMPLE_MS},
        {"\"2026-11-23T10:15:30.12345Z\"", INV_OK, EXAMPLE_MS},
        {"\"2026-11-23T10:15:30.123456Z\"", INV_OK, EXAMPLE_MS},
        {"\"2026-11-23T10:15:30.1234567Z\"", INV_OK, EXAMPLE_MS},
        {"\"2026-11-23T10:15:30.12345678Z\"", INV_OK, EXAMPLE_MS},
        {"\"2026-11-23T10:15:30.123999999Z\"", INV_OK, EXAMPLE_MS},         /* truncated */
        {"\"2026-11-23T10:15:30.1239999999Z\"", INV_R_TIMESTAMP_FORMAT, 0}, /* 10 digits */
        {"\"2000-02-29T00:00:00Z\"", INV_OK, 951782400000},
        {"\"2024-02-29T12:00:00Z\"", INV_OK, 1709208000000},
        {"\"1900-02-29T00:00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2100-02-29T00:00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2023-02-29T00:00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2023-02-28T23:59:59.999Z\"", INV_OK, 1677628799999},
        {"\"2023-04-31T00:00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2023-12-31T23:59:59Z\"", INV_OK, 1704067199000},
        {"\"2023-12-32T00:00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2023-00-10T00:00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2023-13-10T00:00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2023-01-00T00:00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2023-01-01T24:00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2023-01-01T23:60:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2016-12-31T23:59:60Z\"", INV_R_TIMESTAMP_FORMAT, 0}, /* no leap second */
        {"\"9999-12-31T23:59:59.999Z\"", INV_OK, INV_TIMESTAMP_MS_MAX},
        {"\"9999-12-31T23:59:59.999999999Z\"", INV_OK, INV_TIMESTAMP_MS_MAX},
        {"\"1969-12-31T23:59:59.999Z\"", INV_R_TIMESTAMP_OUT_OF_RANGE, -1},
        {"\"0000-01-01T00:00:00Z\"", INV_R_TIMESTAMP_OUT_OF_RANGE, -62167219200000},
        {"\"0000-02-29T00:00:00Z\"", INV_R_TIMESTAMP_OUT_OF_RANGE, -62162121600000},
        {"\"2026-11-23T10:15:30.123-00:00\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23T10:15:30.123+01:00\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23T10:15:30.123+0000\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23T10:15:30.123+00:00Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23T10:15:30.123z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23t10:15:30.123Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23 10:15:30.123Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23T10:15:30.123\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23T10:15:30.Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23T10:15:30,123Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23T10:15Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-11-23\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"20261123T101530Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"+2026-11-23T10:15:30Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2O26-11-23T10:15:30Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"2026-1-23T10:15:30Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\" 2026-11-23T10:15:30Z\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"1795428930123\"", INV_R_TIMESTAMP_FORMAT, 0},
        {"\"\"", INV_R_TIMESTAMP_FORMAT, 0},
        /* escapes are decoded first */
        {"\"2026-11-23T10:15:30\\u002e123\\u005a\"", INV_OK, EXAMPLE_MS},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        inv_reason r;
        int64_t ms = ts_of(cases[i].v, &r);
        if (r != cases[i].r) fail_msg("%s: got %s", cases[i].v, inv_reason_name(r));
        if (r == INV_OK || r == INV_R_TIMESTAMP_OUT_OF_RANGE) {
            if (ms != cases[i].ms) fail_msg("%s: got %lld", cases[i].v, (long long)ms);
        }
    }
}

static void test_timestamps_epoch_ms(void **state) {
    (void)state;
    struct {
        const char *v;
        inv_reason r;
        int64_t ms;
    } cases[] = {
        {"0", INV_OK, 0},
        {"-0", INV_OK, 0},
        {"1795428930123", INV_OK, EXAMPLE_MS},
        {"253402300799999", INV_OK, INV_TIMESTAMP_MS_MAX},
        {"253402300800000", INV_R_TIMESTAMP_OUT_OF_RANGE, INV_TIMESTAMP_MS_MAX + 1},
        {"-1", INV_R_TIMESTAMP_OUT_OF_RANGE, -1},
        {"9223372036854775807", INV_R_TIMESTAMP_OUT_OF_RANGE, INT64_MAX},
        {"9223372036854775808", INV_R_TIMESTAMP_OUT_OF_RANGE, INT64_MAX},
        {"99999999999999999999999999999", INV_R_TIMESTAMP_OUT_OF_RANGE, INT64_MAX},
        {"-99999999999999999999999999999", INV_R_TIMESTAMP_OUT_OF_RANGE, INT64_MIN},
        {"1795428930123.0", INV_R_TIMESTAMP_FORMAT, 0},
        {"1.795428930123e12", INV_R_TIMESTAMP_FORMAT, 0},
        {"1e3", INV_R_TIMESTAMP_FORMAT, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        inv_reason r;
        int64_t ms = ts_of(cases[i].v, &r);
        if (r != cases[i].r) fail_msg("%s: got %s", cases[i].v, inv_reason_name(r));
        if (r == INV_OK || r == INV_R_TIMESTAMP_OUT_OF_RANGE) assert_int_equal(ms, cases[i].ms);
    }
}

/* --- the fast paths ------------------------------------------------------------------------- */

/* Asserts that a and b decoded to the same event: every string byte for byte
 * (wherever it points), the type, the quantity and the timestamp. */
static void assert_same_event(const inv_event *a, const inv_event *b) {
    const char *pa[] = {a->event_id, a->sku, a->location_id, a->correlation_id, a->source_system};
    const char *pb[] = {b->event_id, b->sku, b->location_id, b->correlation_id, b->source_system};
    size_t la[] = {a->event_id_len, a->sku_len, a->location_id_len, a->correlation_id_len,
                   a->source_system_len};
    size_t lb[] = {b->event_id_len, b->sku_len, b->location_id_len, b->correlation_id_len,
                   b->source_system_len};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(la[i], lb[i]);
        assert_true((pa[i] == NULL) == (pb[i] == NULL));
        if (la[i] > 0) assert_memory_equal(pa[i], pb[i], la[i]);
    }
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->quantity_delta, b->quantity_delta);
    assert_int_equal(a->timestamp_ms, b->timestamp_ms);
}

/* The base event with text inserted at member k (0..B_COUNT: B_COUNT is the
 * closing brace): after the '{' or ',' before it when after_sep, else just
 * before that ',' (k >= 1). */
static const char *base_with_insert(int k, const char *text, bool after_sep) {
    static char out[4096];
    const char *base = event_base();
    const char *at = base; /* the '{' or ',' before member k, or the '}' */
    for (int i = 0; i < k; i++) {
        at = strstr(at + 1, i + 1 < B_COUNT ? ",\"" : "}");
        assert_non_null(at);
    }
    size_t cut = (size_t)(at - base) + (after_sep && k < B_COUNT ? 1 : 0);
    int n = snprintf(out, sizeof(out), "%.*s%s%s", (int)cut, base, text, base + cut);
    assert_true(n > 0 && (size_t)n < sizeof(out));
    return out;
}

/* The canonical walk hands over to the general loop at any member: whatever
 * breaks the layout there (whitespace, an unknown member, an escaped name,
 * another order), the event decodes to exactly the same fields; a
 * duplicate anywhere is still a duplicate. */
static void test_canonical_walk_hands_over(void **state) {
    (void)state;
    inv_event want, got;
    /* want is decoded from a copy of its own: decode() frees its message */
    static char want_buf[1024], want_scratch[1024];
    size_t want_len = strlen(event_base()), used;
    assert_true(want_len < sizeof(want_buf));
    memcpy(want_buf, event_base(), want_len);
    want.key = NULL;
    assert_int_equal(json_event_decode(want_buf, want_len, want_scratch, &used, &want), INV_OK);
    for (int k = 0; k <= B_COUNT; k++) {
        static const char *const same[] = {" ", "\n\t", "\"x\":1,", "\"eventid\":[1,{}],"};
        for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
            if (k == B_COUNT && same[i][0] == '"') continue; /* would end in ",}" */
            const char *json = base_with_insert(k, same[i], true);
            if (decode(json, &got) != INV_OK) fail_msg("%s: rejected", json);
            assert_same_event(&got, &want);
        }
        if (k > 0) {
            assert_int_equal(decode(base_with_insert(k, " ", false), &got), INV_OK); /* "1 ," */
            assert_same_event(&got, &want);
        }
        if (k < B_COUNT) {
            /* the same member once more, here: a duplicate */
            char dup[256];
            snprintf(dup, sizeof(dup), "\"%s\":%s,", base_names[(k + 1) % B_COUNT],
                     base_values[(k + 1) % B_COUNT]);
            assert_reason(base_with_insert(k, dup, true), INV_R_FIELD_DUPLICATE);
            snprintf(dup, sizeof(dup), "\"%s\":%s,", base_names[k], base_values[k]);
            assert_reason(base_with_insert(k, dup, true), INV_R_FIELD_DUPLICATE);
        }
    }
    /* a separator that is not one, at each member: a syntax error, never a
     * member read (the walk checks the byte before each name) */
    for (int k = 1; k <= B_COUNT; k++) {
        static const char seps[] = {';', ':', ' ', 'x', '"', '{', '\0', '\x80'};
        for (size_t i = 0; i < sizeof(seps); i++) {
            const char *json = base_with_insert(k, "", false);
            char copy[1024];
            size_t len = strlen(json);
            memcpy(copy, json, len);
            size_t at = (size_t)(strstr(copy, k < B_COUNT ? base_names[k] : "\"}") - copy);
            at -= k < B_COUNT ? 2 : -1; /* the ',' before "name", or the '}' */
            assert_true(copy[at] == (k < B_COUNT ? ',' : '}'));
            copy[at] = seps[i];
            inv_reason r = decode_len(copy, len, &got);
            if (r != INV_R_JSON_SYNTAX && r != INV_R_JSON_BAD_UTF8) {
                fail_msg("separator 0x%02x before member %d: %s", (unsigned char)seps[i], k,
                         inv_reason_name(r));
            }
        }
    }
    /* the eight members, then more: unknown, or a duplicate */
    assert_reason(base_with_insert(B_COUNT, ",\"x\":[1]", false), INV_OK);
    assert_reason(base_with_insert(B_COUNT, ",\"eventType\":\"SALE\"", false),
                  INV_R_FIELD_DUPLICATE);
    assert_reason(base_with_insert(B_COUNT, ",", false), INV_R_JSON_SYNTAX);
    /* each name written with an escape, in the canonical position */
    for (int k = 0; k < B_COUNT; k++) {
        char from[32], to[64];
        snprintf(from, sizeof(from), "\"%s\":", base_names[k]);
        snprintf(to, sizeof(to), "\"\\u%04x%s\":", (unsigned)base_names[k][0], base_names[k] + 1);
        const char *base = event_base();
        const char *at = strstr(base, from);
        assert_non_null(at);
        char json[1024];
        snprintf(json, sizeof(json), "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
        assert_int_equal(decode(json, &got), INV_OK);
        assert_same_event(&got, &want);
    }
    /* the members in reverse order */
    char rev[1024];
    size_t n = 0;
    rev[n++] = '{';
    for (int k = B_COUNT - 1; k >= 0; k--) {
        n += (size_t)snprintf(rev + n, sizeof(rev) - n, "%s\"%s\":%s", n > 1 ? "," : "",
                              base_names[k], base_values[k]);
    }
    rev[n++] = '}';
    rev[n] = '\0';
    assert_int_equal(decode(rev, &got), INV_OK);
    assert_same_event(&got, &want);
    /* a canonical message cut short at every byte: never accepted, never read past */
    const char *base = event_base();
    for (size_t len = 0; len < strlen(base); len++) {
        assert_true(decode_len(base, len, &got) != INV_OK);
    }
}

/* json_scan_small_int against json_scan_number on n (a number's text) and
 * tail (what follows it, padded so 9 bytes are there or not). */
static void check_small_int(const char *num, const char *tail, bool padded) {
    char buf[64];
    int len = snprintf(buf, sizeof(buf), "%s%s%s", num, tail, padded ? "xxxxxxxxx" : "");
    assert_true(len > 0 && (size_t)len < sizeof(buf));
    char *copy = malloc((size_t)len); /* exactly sized: ASan sees any read past it */
    assert_non_null(copy);
    memcpy(copy, buf, (size_t)len);
    const unsigned char *b = (const unsigned char *)copy;
    json_scan fast = {b, b + len}, general = {b, b + len};
    int64_t v = 12345;
    bool took = json_scan_small_int(&fast, &v);
    /* what it must take: '-'? then 1..7 digits, no leading zero before a
     * digit, not followed by '.', 'e' or 'E', and 9 bytes to read */
    size_t sign = num[0] == '-', digits = 0;
    while (isdigit((unsigned char)buf[sign + digits]))
        digits++;
    char next = buf[sign + digits];
    bool want = len >= 9 && digits >= 1 && digits <= 7 && next != '.' && next != 'e' &&
                next != 'E' && !(buf[sign] == '0' && digits > 1);
    if (took != want) fail_msg("%s%s: small int %d, want %d", num, tail, took, want);
    if (!took) {
        assert_ptr_equal(fast.p, b); /* nothing consumed */
        assert_int_equal(v, 12345);
    } else {
        json_number n;
        assert_int_equal(json_scan_number(&general, &n), INV_OK);
        assert_true(n.is_int);
        assert_int_equal(v, json_number_i64_sat(&n));
        assert_ptr_equal(fast.p, general.p);
    }
    free(copy);
}

static void test_small_int_matches_number_scan(void **state) {
    (void)state;
    static const char *const nums[] = {
        "0",       "-0",       "7",         "-7",
        "10",      "-10",      "99",        "100",
        "1234567", "-1234567", "9999999",   "-9999999",
        "1000000", "12345678", "-12345678", "99999999",
        "01",      "-01",      "00",        "0123",
        "1.5",     "-2.0",     "1e5",       "1E5",
        "-1e-5",   "-",        "--1",       "+1",
        "a",       "",         "\"1\"",     "9999999999999999999999"};
    static const char *const tails[] = {",", "}", "]", " ", "\"", ":",  "/",  "x",    ".",   "e",
                                        "E", "0", "9", "-", "+",  "\t", "\n", "\x7f", "\xff"};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        for (size_t j = 0; j < sizeof(tails) / sizeof(tails[0]); j++) {
            check_small_int(nums[i], tails[j], true);
            check_small_int(nums[i], tails[j], false);
        }
    }
    /* every digit count and sign, values spread over their range */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int digits = 1 + (int)((x >> 33) % 7);
        uint64_t lo = digits == 1 ? 0 : 1, hi = 9;
        for (int d = 1; d < digits; d++) {
            lo *= d == 1 ? 1 : 10;
            hi = hi * 10 + 9;
        }
        if (digits > 1) lo *= 10;
        char num[16];
        snprintf(num, sizeof(num), "%s%llu", (x >> 20) & 1 ? "-" : "",
                 (unsigned long long)(lo + (x >> 8) % (hi - lo + 1)));
        check_small_int(num, tails[(x >> 40) % (sizeof(tails) / sizeof(tails[0]))], true);
    }
}

/* Quantities through the decoder: the small-integer path and the general
 * one agree, also at the end of the message, where fewer than 9 bytes are
 * left after the quantity. */
static void test_quantity_fast_and_general_paths(void **state) {
    (void)state;
    static const char *const qs[] = {"1",        "-1",      "12",         "-12",        "1234567",
                                     "-1234567", "9999999", "12345678",   "-12345678",  "999999999",
                                     "-0",       "0",       "1000000000", "-1000000000"};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        long long want = strtoll(qs[i], NULL, 10);
        inv_reason want_r = want == 0 ? INV_R_QUANTITY_ZERO : INV_OK;
        char tail[256];
        inv_event ev;
        /* canonical position, then the last member, then alone before '}' */
        assert_int_equal(decode(event_with("quantityDelta", qs[i]), &ev), want_r);
        assert_int_equal(ev.quantity_delta, want);
        snprintf(tail, sizeof(tail),
                 "{\"eventId\":\"e\",\"eventType\":\"SALE\",\"sku\":\"s\",\"locationId\":\"l\","
                 "\"timestamp\":0,\"quantityDelta\":%s}",
                 qs[i]);
        assert_int_equal(decode(tail, &ev), want_r);
        assert_int_equal(ev.quantity_delta, want);
        snprintf(tail, sizeof(tail), "{\"timestamp\":0,\"quantityDelta\":%s }", qs[i]);
        assert_int_equal(decode(tail, &ev), INV_R_EVENT_ID_MISSING);
        assert_int_equal(ev.quantity_delta, want);
    }
    assert_reason(event_with("quantityDelta", "-"), INV_R_JSON_SYNTAX);
    assert_reason(event_with("quantityDelta", "-x"), INV_R_JSON_SYNTAX);
    assert_reason(event_with("quantityDelta", "07"), INV_R_JSON_SYNTAX);
    assert_reason(event_with("quantityDelta", "-07"), INV_R_JSON_SYNTAX);
    assert_reason(event_with("quantityDelta", "7E0"), INV_R_QUANTITY_NOT_INTEGER);
    assert_reason(event_with("quantityDelta", "7.0"), INV_R_QUANTITY_NOT_INTEGER);
    assert_reason(event_with("quantityDelta", "7x"), INV_R_JSON_SYNTAX);
}

/* --- timestamps: the exact form against a plain reference ----------------------------------- */

static bool ref_leap(int y) {
    return y % 400 == 0 || (y % 4 == 0 && y % 100 != 0);
}

/* Days from 0000-01-01 to y-m-d, counted plainly: 365 a year plus one for
 * each leap year before y (year 0 is one), plus the months before m. */
static int64_t ref_days_0000(int y, int m, int d) {
    static const int before[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t days = (int64_t)y * 365 + (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
    return days + before[m] + (m > 2 && ref_leap(y)) + d - 1;
}

/* Epoch milliseconds of a valid date and time. */
static int64_t ref_ms(int y, int mo, int d, int h, int mi, int s, int ms) {
    int64_t days = ref_days_0000(y, mo, d) - ref_days_0000(1970, 1, 1);
    return days * 86400000 + (int64_t)h * 3600000 + mi * 60000 + s * 1000 + ms;
}

static int ref_month_days(int y, int m) {
    static const int dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && ref_leap(y) ? 29 : dim[m];
}

/* The reference for a 24-byte string: "YYYY-MM-DDTHH:MM:SS.mmmZ" checked
 * byte by byte, then the calendar; false for anything else (no other
 * accepted form has 24 bytes). */
static bool ref_iso24(const char *s, int64_t *ms_out) {
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (int i = 0; i < 24; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i]) return false;
    }
    int v[7], at[7] = {0, 5, 8, 11, 14, 17, 20}, width[7] = {4, 2, 2, 2, 2, 2, 3};
    for (int k = 0; k < 7; k++) {
        v[k] = 0;
        for (int j = 0; j < width[k]; j++)
            v[k] = v[k] * 10 + (s[at[k] + j] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > ref_month_days(v[0], v[1])) return false;
    if (v[3] > 23 || v[4] > 59 || v[5] > 59) return false;
    *ms_out = ref_ms(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    return true;
}

/* Parses the exact form of y-m-d and a time, and two other forms of the
 * same instant that take the general path ("+00:00", nine fraction digits):
 * all three must give *ms (true) or all three fail (false). */
static bool parse_three_forms(int y, int mo, int d, int h, int mi, int s, int ms, int64_t *out) {
    char exact[64], zone[64], nine[64];
    snprintf(exact, sizeof(exact), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s, ms);
    snprintf(zone, sizeof(zone), "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", y, mo, d, h, mi, s,
             ms);
    snprintf(nine, sizeof(nine), "%04d-%02d-%02dT%02d:%02d:%02d.%03d999999Z", y, mo, d, h, mi, s,
             ms);
    assert_int_equal(strlen(exact), INV_TIMESTAMP_ISO_LEN);
    int64_t a = 1, b = 2, c = 3;
    bool ok_a = timestamp_parse_iso(exact, strlen(exact), &a);
    bool ok_b = timestamp_parse_iso(zone, strlen(zone), &b);
    bool ok_c = timestamp_parse_iso(nine, strlen(nine), &c);
    if (ok_a != ok_b || ok_a != ok_c) fail_msg("%s: forms disagree", exact);
    if (ok_a && (a != b || a != c))
        fail_msg("%s: %lld %lld %lld", exact, (long long)a, (long long)b, (long long)c);
    if (!ok_a) assert_int_equal(a, 1); /* untouched */
    *out = a;
    return ok_a;
}

/* Every day of the years around each boundary of the calendar (year 0, the
 * centuries 1900, 2000, 2100, 2400, the epoch, 9999) and the end of February
 * of every year: the exact form (the fast path) equals the general path and
 * the plain reference, and consecutive days are 86400000 ms apart. */
static void test_timestamp_exact_form_calendar(void **state) {
    (void)state;
    static const int ranges[][2] = {{0, 4},       {396, 404},   {1596, 1604}, {1896, 1904},
                                    {1966, 2110}, {2396, 2404}, {9996, 9999}};
    for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
        int64_t prev_day = 0;
        bool first = true;
        for (int y = ranges[r][0]; y <= ranges[r][1]; y++) {
            for (int mo = 1; mo <= 12; mo++) {
                for (int d = 1; d <= 31; d++) {
                    int i = y * 372 + mo * 31 + d; /* spreads the times over the day */
                    int h = i % 24, mi = (i * 7) % 60, s = (i * 13) % 60, ms = (i * 37) % 1000;
                    int64_t got;
                    bool valid = d <= ref_month_days(y, mo);
                    if (parse_three_forms(y, mo, d, h, mi, s, ms, &got) != valid) {
                        fail_msg("%04d-%02d-%02d: valid %d", y, mo, d, valid);
                    }
                    if (!valid) continue;
                    assert_int_equal(got, ref_ms(y, mo, d, h, mi, s, ms));
                    int64_t day = got - ((int64_t)h * 3600000 + mi * 60000 + s * 1000 + ms);
                    if (!first) assert_int_equal(day - prev_day, 86400000);
                    prev_day = day;
                    first = false;
                }
            }
        }
    }
    for (int y = 0; y <= 9999; y++) {
        int64_t got;
        assert_true(parse_three_forms(y, 2, 28, 23, 59, 59, 999, &got));
        assert_int_equal(got, ref_ms(y, 2, 28, 23, 59, 59, 999));
        assert_int_equal(parse_three_forms(y, 2, 29, 0, 0, 0, 0, &got), ref_leap(y));
        assert_false(parse_three_forms(y, 2, 30, 0, 0, 0, 0, &got));
        assert_true(parse_three_forms(y, 3, 1, 0, 0, 0, 0, &got));
        assert_int_equal(got, ref_ms(y, 3, 1, 0, 0, 0, 0));
        assert_true(parse_three_forms(y, 12, 31, 12, 0, 0, 1, &got));
        assert_int_equal(got, ref_ms(y, 12, 31, 12, 0, 0, 1));
    }
    /* each field one past its range, and at its edges */
    int64_t got;
    assert_false(parse_three_forms(2024, 0, 10, 0, 0, 0, 0, &got));
    assert_false(parse_three_forms(2024, 13, 10, 0, 0, 0, 0, &got));
    assert_false(parse_three_forms(2024, 1, 0, 0, 0, 0, 0, &got));
    assert_false(parse_three_forms(2024, 1, 32, 0, 0, 0, 0, &got));
    assert_false(parse_three_forms(2024, 4, 31, 0, 0, 0, 0, &got));
    assert_false(parse_three_forms(2024, 1, 1, 24, 0, 0, 0, &got));
    assert_false(parse_three_forms(2024, 1, 1, 0, 60, 0, 0, &got));
    assert_false(parse_three_forms(2024, 1, 1, 0, 0, 60, 0, &got));
    assert_false(parse_three_forms(2024, 99, 99, 99, 99, 99, 999, &got));
    assert_true(parse_three_forms(1970, 1, 1, 0, 0, 0, 0, &got));
    assert_int_equal(got, 0);
    assert_true(parse_three_forms(9999, 12, 31, 23, 59, 59, 999, &got));
    assert_int_equal(got, INV_TIMESTAMP_MS_MAX);
    assert_true(parse_three_forms(0, 1, 1, 0, 0, 0, 0, &got));
    assert_int_equal(got, -62167219200000LL);
}

/* Every byte of a few exact-form timestamps replaced by every byte value:
 * accepted exactly when the reference accepts, with its value. */
static void test_timestamp_exact_form_every_byte(void **state) {
    (void)state;
    static const char *const bases[] = {"2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z",
                                        "9999-12-31T23:59:59.999Z", "2023-11-30T09:19:29.090Z",
                                        "0000-02-29T10:10:10.101Z"};
    for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
        for (int i = 0; i < INV_TIMESTAMP_ISO_LEN; i++) {
            for (int c = 0; c < 256; c++) {
                char *s = malloc(INV_TIMESTAMP_ISO_LEN); /* exactly sized, no NUL */
                assert_non_null(s);
                memcpy(s, bases[b], INV_TIMESTAMP_ISO_LEN);
                s[i] = (char)c;
                int64_t got = 7, want = 7;
                bool ok = timestamp_parse_iso(s, INV_TIMESTAMP_ISO_LEN, &got);
                bool want_ok = ref_iso24(s, &want);
                if (ok != want_ok || got != want) {
                    fail_msg("%s byte %d = 0x%02x: got %d %lld, want %d %lld", bases[b], i, c, ok,
                             (long long)got, want_ok, (long long)want);
                }
                free(s);
            }
        }
    }
}

/* sku and locationId are checked for [A-Za-z0-9._-] while they are scanned
 * (in 16-byte blocks, and a tail loaded as the 16 bytes ending at the end of
 * the message): every length around the block sizes and the limit, a bad
 * byte at the first, a middle and the last position, in the canonical
 * position and as the last member, give event_validate's reasons. */
static void test_id_chars_checked_while_scanned(void **state) {
    (void)state;
    static const size_t lens[] = {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 80};
    static const char bad[] = {':', ' ', '/', '@', '[', '`', '{', '~', '\x7f', ',', '+', '^'};
    for (int loc = 0; loc <= 1; loc++) {
        const char *name = loc ? "locationId" : "sku";
        inv_reason too_long = loc ? INV_R_LOCATION_TOO_LONG : INV_R_SKU_TOO_LONG;
        inv_reason bad_char = loc ? INV_R_LOCATION_BAD_CHAR : INV_R_SKU_BAD_CHAR;
        for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
            size_t len = lens[l];
            char v[128];
            static const char good[] = "azAZ09._-mM5";
            for (size_t i = 0; i < len; i++)
                v[i + 1] = good[i % (sizeof(good) - 1)];
            v[0] = '"';
            v[len + 1] = '"';
            v[len + 2] = '\0';
            inv_reason want_ok = len <= 64 ? INV_OK : too_long;
            assert_reason(event_with(name, v), want_ok);
            size_t at[] = {0, len / 2, len - 1};
            for (size_t a = 0; a < 3; a++) {
                for (size_t c = 0; c < sizeof(bad); c++) {
                    char saved = v[at[a] + 1];
                    v[at[a] + 1] = bad[c];
                    inv_reason want = len <= 64 ? bad_char : too_long;
                    assert_reason(event_with(name, v), want);
                    /* as the last member: its tail is the end of the message */
                    char json[512];
                    snprintf(json, sizeof(json),
                             "{\"eventId\":\"e\",\"eventType\":\"SALE\",\"%s\":\"x\",\"%s\":%s,"
                             "\"quantityDelta\":1,\"timestamp\":0,\"%s\":%s}",
                             loc ? "sku" : "locationId", "correlationId", "\"c\"", name, v);
                    assert_reason(json, want);
                    v[at[a] + 1] = saved;
                }
            }
        }
        /* escapes are decoded first, then checked; non-ASCII is never allowed */
        char json[256];
        static const struct {
            const char *v;
            bool ok;
        } esc[] = {{"\"ab\\u002dcd\"", true},  {"\"ab\\u003acd\"", false}, {"\"\\u00e9\"", false},
                   {"\"caf\xc3\xa9\"", false}, {"\"a\\/b\"", false},       {"\"\\u0041\"", true}};
        for (size_t e = 0; e < sizeof(esc) / sizeof(esc[0]); e++) {
            assert_reason(event_with(name, esc[e].v), esc[e].ok ? INV_OK : bad_char);
            snprintf(json, sizeof(json), "{\"%s\":%s,\"timestamp\":0,\"quantityDelta\":1}", name,
                     esc[e].v);
            assert_reason(json, INV_R_EVENT_ID_MISSING);
        }
    }
}

/* The message key is compared with sku ':' locationId for every length of
 * the parts up to the limit, a difference at every byte found. */
static void test_key_compared_every_length(void **state) {
    (void)state;
    static const size_t lens[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 25, 63, 64};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j += 3) {
            size_t ls = lens[i], ll = lens[j];
            char sku[80], loc[80], json[512];
            for (size_t k = 0; k < ls; k++)
                sku[k] = (char)('A' + (k * 7 + ls) % 26);
            for (size_t k = 0; k < ll; k++)
                loc[k] = (char)('a' + (k * 5 + ll) % 26);
            snprintf(json, sizeof(json),
                     "{\"eventId\":\"e\",\"eventType\":\"SALE\",\"sku\":\"%.*s\","
                     "\"locationId\":\"%.*s\",\"quantityDelta\":1,\"timestamp\":0}",
                     (int)ls, sku, (int)ll, loc);
            size_t kl = ls + 1 + ll;
            char *key = malloc(kl + 1); /* exactly sized, plus one for the longer key */
            assert_non_null(key);
            memcpy(key, sku, ls);
            key[ls] = ':';
            memcpy(key + ls + 1, loc, ll);
            inv_event ev;
            assert_int_equal(decode_key_len(json, strlen(json), key, kl, &ev), INV_OK);
            for (size_t k = 0; k < kl; k++) {
                char saved = key[k];
                key[k] = k == ls ? '-' : (char)(saved ^ 0x20); /* case flipped, or no ':' */
                assert_int_equal(decode_key_len(json, strlen(json), key, kl, &ev),
                                 INV_R_KEY_MISMATCH);
                key[k] = saved;
            }
            assert_int_equal(decode_key_len(json, strlen(json), key, kl - 1, &ev),
                             INV_R_KEY_MISMATCH);
            key[kl] = 'x';
            assert_int_equal(decode_key_len(json, strlen(json), key, kl + 1, &ev),
                             INV_R_KEY_MISMATCH);
            free(key);
        }
    }
}

/* --- the scanner primitives ----------------------------------------------------------------- */

static void test_scan_string_output_too_small(void **state) {
    (void)state;
    const char *msg = "\"ab\\u0063de\"";
    json_scan s = {(const unsigned char *)msg + 1, (const unsigned char *)msg + strlen(msg)};
    char out[4];
    json_str str;
    assert_int_equal(json_scan_string(&s, (const unsigned char *)msg, out, sizeof(out), &str),
                     INV_OK);
    assert_null(str.ptr); /* "abcde" does not fit 4 bytes: validated, not kept */
    assert_ptr_equal(s.p, (const unsigned char *)msg + strlen(msg));
    s.p = (const unsigned char *)msg + 1;
    char big[16];
    assert_int_equal(json_scan_string(&s, (const unsigned char *)msg, big, sizeof(big), &str),
                     INV_OK);
    assert_ptr_equal(str.ptr, big);
    assert_str(str.ptr, str.len, "abcde");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_example),
        cmocka_unit_test(test_every_type_both_signs),
        cmocka_unit_test(test_member_order_and_whitespace),
        cmocka_unit_test(test_key_checked_with_payload),
        cmocka_unit_test(test_unknown_members_skipped),
        cmocka_unit_test(test_message_size_limit),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_not_object),
        cmocka_unit_test(test_utf8_valid_boundaries),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_escapes_decoded_into_scratch),
        cmocka_unit_test(test_scratch_bounded_by_message),
        cmocka_unit_test(test_escaped_member_names),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_field_types),
        cmocka_unit_test(test_missing_and_reason_order),
        cmocka_unit_test(test_string_limits),
        cmocka_unit_test(test_quantity_numbers),
        cmocka_unit_test(test_timestamps_iso),
        cmocka_unit_test(test_timestamps_epoch_ms),
        cmocka_unit_test(test_scan_string_output_too_small),
        cmocka_unit_test(test_canonical_walk_hands_over),
        cmocka_unit_test(test_small_int_matches_number_scan),
        cmocka_unit_test(test_quantity_fast_and_general_paths),
        cmocka_unit_test(test_timestamp_exact_form_calendar),
        cmocka_unit_test(test_timestamp_exact_form_every_byte),
        cmocka_unit_test(test_id_chars_checked_while_scanned),
        cmocka_unit_test(test_key_compared_every_length),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_buf);
    free(g_scratch);
    return failed;
}
