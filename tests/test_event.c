/* test_event.c - event validation, type names and reason codes
 * (engine/event.c, engine/reason.c).
 *
 * Every validation reason is produced and checked exactly; every limit is
 * tested on both sides of its boundary (64 accepted, 65 rejected, ...); the
 * character rule is checked against an independent predicate over all 256
 * byte values; the rule order of event.h is checked by repairing a fully
 * broken event one field at a time. Reason names are pinned: they are a
 * stable external contract (DLQ header "invsync.reason"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "event.h"
#include "inv_limits.h"
#include "reason.h"

/* Big enough for every over-limit field below (event id 65535 bytes). */
static char filler[70000];

static void filler_init(char c) {
    memset(filler, c, sizeof(filler));
}

/* A valid SALE, the example of DESIGN.md section 2 (timestamp 2026-11-23T10:15:30.123Z). */
static inv_event ev_valid(void) {
    inv_event e = {
        .event_id = "pos-88123:2",
        .event_id_len = 11,
        .sku = "SKU-000123",
        .sku_len = 10,
        .location_id = "store-045",
        .location_id_len = 9,
        .correlation_id = "basket-88123",
        .correlation_id_len = 12,
        .source_system = "POS",
        .source_system_len = 3,
        .quantity_delta = -2,
        .timestamp_ms = 1795428930123LL,
        .offset = -1,
        .partition = -1,
        .type = INV_EV_SALE,
    };
    return e;
}

static void test_valid_example(void **state) {
    (void)state;
    inv_event e = ev_valid();
    assert_int_equal(event_validate(&e), INV_OK);
    /* Optional fields absent: NULL pointers with length 0. */
    e.correlation_id = NULL;
    e.correlation_id_len = 0;
    e.source_system = NULL;
    e.source_system_len = 0;
    assert_int_equal(event_validate(&e), INV_OK);
    /* Empty but non-NULL optional fields. */
    e.correlation_id = "";
    e.source_system = "";
    assert_int_equal(event_validate(&e), INV_OK);
}

static void test_event_id_limits(void **state) {
    (void)state;
    filler_init('e');
    inv_event e = ev_valid();
    e.event_id = NULL;
    e.event_id_len = 0;
    assert_int_equal(event_validate(&e), INV_R_EVENT_ID_MISSING);
    e.event_id = NULL;
    e.event_id_len = 5; /* NULL is missing whatever the length says */
    assert_int_equal(event_validate(&e), INV_R_EVENT_ID_MISSING);
    e.event_id = filler;
    e.event_id_len = 0;
    assert_int_equal(event_validate(&e), INV_R_EVENT_ID_MISSING);
    e.event_id_len = 1;
    assert_int_equal(event_validate(&e), INV_OK);
    e.event_id_len = INV_EVENT_ID_LEN_MAX;
    assert_int_equal(event_validate(&e), INV_OK);
    e.event_id_len = INV_EVENT_ID_LEN_MAX + 1;
    assert_int_equal(event_validate(&e), INV_R_EVENT_ID_TOO_LONG);
    e.event_id_len = UINT16_MAX;
    assert_int_equal(event_validate(&e), INV_R_EVENT_ID_TOO_LONG);
}

/* eventId takes any bytes: ':', space, NUL, controls, >= 0x80. */
static void test_event_id_any_bytes(void **state) {
    (void)state;
    char id[256];
    for (int i = 0; i < 256; i++) id[i] = (char)i;
    inv_event e = ev_valid();
    for (int start = 0; start < 256; start += 64) {
        e.event_id = id + start;
        e.event_id_len = 64;
        assert_int_equal(event_validate(&e), INV_OK);
    }
    e.event_id = id;
    e.event_id_len = INV_EVENT_ID_LEN_MAX;
    assert_int_equal(event_validate(&e), INV_OK);
}

static void test_type_validation(void **state) {
    (void)state;
    inv_event e = ev_valid();
    for (int t = INV_EV_RECEIPT; t < INV_EV_TYPE_COUNT; t++) {
        e.type = (uint8_t)t;
        assert_int_equal(event_validate(&e), INV_OK);
    }
    e.type = INV_EV_NONE;
    assert_int_equal(event_validate(&e), INV_R_EVENT_TYPE_UNKNOWN);
    e.type = INV_EV_TYPE_COUNT;
    assert_int_equal(event_validate(&e), INV_R_EVENT_TYPE_UNKNOWN);
    e.type = 255;
    assert_int_equal(event_validate(&e), INV_R_EVENT_TYPE_UNKNOWN);
}

/* Sets the sku (which = 0) or the locationId (which = 1) of e. */
static void set_key_part(inv_event *e, int which, const char *s, size_t len) {
    assert_true(len <= UINT8_MAX);
    if (which == 0) {
        e->sku = s;
        e->sku_len = (uint8_t)len;
    } else {
        e->location_id = s;
        e->location_id_len = (uint8_t)len;
    }
}

/* The length rules of sku and locationId, which share them. */
static void check_key_part_limits(int which, inv_reason missing, inv_reason too_long) {
    filler_init('a');
    inv_event e = ev_valid();
    set_key_part(&e, which, NULL, 0);
    assert_int_equal(event_validate(&e), missing);
    set_key_part(&e, which, NULL, 3);
    assert_int_equal(event_validate(&e), missing);
    set_key_part(&e, which, filler, 0);
    assert_int_equal(event_validate(&e), missing);
    set_key_part(&e, which, filler, 1);
    assert_int_equal(event_validate(&e), INV_OK);
    set_key_part(&e, which, filler, 64);
    assert_int_equal(event_validate(&e), INV_OK);
    set_key_part(&e, which, filler, 65);
    assert_int_equal(event_validate(&e), too_long);
    set_key_part(&e, which, filler, 255);
    assert_int_equal(event_validate(&e), too_long);
}

static void test_sku_limits(void **state) {
    (void)state;
    check_key_part_limits(0, INV_R_SKU_MISSING, INV_R_SKU_TOO_LONG);
}

static void test_location_limits(void **state) {
    (void)state;
    check_key_part_limits(1, INV_R_LOCATION_MISSING, INV_R_LOCATION_TOO_LONG);
}

/* The reference character rule, written independently of event.c's table. */
static int char_allowed(unsigned c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* Every byte value at the first, a middle and the last position of a 64-byte
 * sku or locationId. */
static void check_key_part_chars(int which, inv_reason bad_char) {
    char buf[INV_SKU_LEN_MAX];
    inv_event e = ev_valid();
    unsigned allowed = 0;
    for (unsigned c = 0; c < 256; c++) {
        allowed += (unsigned)char_allowed(c);
        static const size_t positions[] = {0, 31, 63};
        for (size_t p = 0; p < 3; p++) {
            memset(buf, 'x', sizeof(buf));
            buf[positions[p]] = (char)c;
            set_key_part(&e, which, buf, sizeof(buf));
            assert_int_equal(event_validate(&e), char_allowed(c) ? INV_OK : bad_char);
        }
        set_key_part(&e, which, buf + 31, 1); /* a one-byte field that is just c */
        buf[31] = (char)c;
        assert_int_equal(event_validate(&e), char_allowed(c) ? INV_OK : bad_char);
    }
    assert_int_equal(allowed, 26 + 26 + 10 + 3);
}

static void test_sku_chars(void **state) {
    (void)state;
    check_key_part_chars(0, INV_R_SKU_BAD_CHAR);
    inv_event e = ev_valid();
    static const char *const bad[] = {"SKU:1", "SKU 1", "SKU\xc3\xa9", "SKU/1", "SKU\t", "é"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        set_key_part(&e, 0, bad[i], strlen(bad[i]));
        assert_int_equal(event_validate(&e), INV_R_SKU_BAD_CHAR);
    }
    set_key_part(&e, 0, "aZ09._-", 7);
    assert_int_equal(event_validate(&e), INV_OK);
}

static void test_location_chars(void **state) {
    (void)state;
    check_key_part_chars(1, INV_R_LOCATION_BAD_CHAR);
    inv_event e = ev_valid();
    set_key_part(&e, 1, "store:045", 9);
    assert_int_equal(event_validate(&e), INV_R_LOCATION_BAD_CHAR);
    set_key_part(&e, 1, "store 045", 9);
    assert_int_equal(event_validate(&e), INV_R_LOCATION_BAD_CHAR);
    set_key_part(&e, 1, "store\x80", 6);
    assert_int_equal(event_validate(&e), INV_R_LOCATION_BAD_CHAR);
}

static void test_id_chars_ok(void **state) {
    (void)state;
    assert_true(event_id_chars_ok(NULL, 0));
    assert_true(event_id_chars_ok("", 0));
    assert_true(event_id_chars_ok("ABCxyz019._-", 12));
    assert_false(event_id_chars_ok("a:b", 3));
    assert_false(event_id_chars_ok("a b", 3));
    assert_false(event_id_chars_ok("\xff", 1));
    assert_false(event_id_chars_ok("ab\0", 3)); /* an embedded NUL is a bad byte */
    assert_true(event_id_chars_ok("ab:", 2));   /* only len bytes are read */
    for (unsigned c = 0; c < 256; c++) {
        char one = (char)c;
        assert_int_equal(event_id_chars_ok(&one, 1), char_allowed(c));
    }
}

static void test_correlation_id_limits(void **state) {
    (void)state;
    filler_init(':'); /* any bytes are fine here */
    inv_event e = ev_valid();
    e.correlation_id = filler;
    e.correlation_id_len = INV_CORRELATION_ID_LEN_MAX;
    assert_int_equal(event_validate(&e), INV_OK);
    e.correlation_id_len = INV_CORRELATION_ID_LEN_MAX + 1;
    assert_int_equal(event_validate(&e), INV_R_CORRELATION_ID_TOO_LONG);
    e.correlation_id_len = UINT16_MAX;
    assert_int_equal(event_validate(&e), INV_R_CORRELATION_ID_TOO_LONG);
}

static void test_source_system_limits(void **state) {
    (void)state;
    filler_init(' ');
    inv_event e = ev_valid();
    e.source_system = filler;
    e.source_system_len = INV_SOURCE_SYSTEM_LEN_MAX;
    assert_int_equal(event_validate(&e), INV_OK);
    e.source_system_len = INV_SOURCE_SYSTEM_LEN_MAX + 1;
    assert_int_equal(event_validate(&e), INV_R_SOURCE_SYSTEM_TOO_LONG);
    e.source_system_len = UINT8_MAX;
    assert_int_equal(event_validate(&e), INV_R_SOURCE_SYSTEM_TOO_LONG);
}

/* Quantity rules are the same for every type, ADJUSTMENT included. */
static void test_quantity_limits(void **state) {
    (void)state;
    inv_event e = ev_valid();
    for (int t = INV_EV_RECEIPT; t < INV_EV_TYPE_COUNT; t++) {
        e.type = (uint8_t)t;
        e.quantity_delta = 0;
        assert_int_equal(event_validate(&e), INV_R_QUANTITY_ZERO);
        static const int64_t ok[] = {1, -1, 2, -2, 1000000000LL, -1000000000LL};
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
            e.quantity_delta = ok[i];
            assert_int_equal(event_validate(&e), INV_OK);
        }
        static const int64_t big[] = {1000000001LL, -1000000001LL, INT64_MAX, INT64_MIN,
                                      INT64_MIN + 1, (int64_t)1 << 32, INT32_MIN};
        for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
            e.quantity_delta = big[i];
            assert_int_equal(event_validate(&e), INV_R_QUANTITY_TOO_LARGE);
        }
    }
}

static void test_timestamp_limits(void **state) {
    (void)state;
    inv_event e = ev_valid();
    e.timestamp_ms = INV_TIMESTAMP_MS_MIN;
    assert_int_equal(event_validate(&e), INV_OK);
    e.timestamp_ms = INV_TIMESTAMP_MS_MAX;
    assert_int_equal(event_validate(&e), INV_OK);
    e.timestamp_ms = INV_TIMESTAMP_MS_MIN - 1;
    assert_int_equal(event_validate(&e), INV_R_TIMESTAMP_OUT_OF_RANGE);
    e.timestamp_ms = INV_TIMESTAMP_MS_MAX + 1;
    assert_int_equal(event_validate(&e), INV_R_TIMESTAMP_OUT_OF_RANGE);
    e.timestamp_ms = INT64_MIN;
    assert_int_equal(event_validate(&e), INV_R_TIMESTAMP_OUT_OF_RANGE);
    e.timestamp_ms = INT64_MAX;
    assert_int_equal(event_validate(&e), INV_R_TIMESTAMP_OUT_OF_RANGE);
}

/* event.h fixes the order of the rules: break every field, then repair them
 * one at a time in that order and watch the reason advance. */
static void test_rule_order(void **state) {
    (void)state;
    filler_init('z');
    inv_event good = ev_valid();
    inv_event e = {
        .event_id = filler,
        .event_id_len = 0,
        .sku = "a:b",
        .sku_len = 3,
        .location_id = "c d",
        .location_id_len = 3,
        .correlation_id = filler,
        .correlation_id_len = 200,
        .source_system = filler,
        .source_system_len = 100,
        .quantity_delta = 0,
        .timestamp_ms = -5,
        .type = INV_EV_NONE,
    };
    assert_int_equal(event_validate(&e), INV_R_EVENT_ID_MISSING);
    e.event_id_len = 200;
    assert_int_equal(event_validate(&e), INV_R_EVENT_ID_TOO_LONG);
    e.event_id_len = 5;
    assert_int_equal(event_validate(&e), INV_R_EVENT_TYPE_UNKNOWN);
    e.type = INV_EV_RECEIPT;
    assert_int_equal(event_validate(&e), INV_R_SKU_BAD_CHAR);
    e.sku = filler;
    e.sku_len = 100;
    assert_int_equal(event_validate(&e), INV_R_SKU_TOO_LONG);
    e.sku_len = 0;
    assert_int_equal(event_validate(&e), INV_R_SKU_MISSING);
    e.sku = good.sku;
    e.sku_len = good.sku_len;
    assert_int_equal(event_validate(&e), INV_R_LOCATION_BAD_CHAR);
    e.location_id = filler;
    e.location_id_len = 65;
    assert_int_equal(event_validate(&e), INV_R_LOCATION_TOO_LONG);
    e.location_id = NULL;
    assert_int_equal(event_validate(&e), INV_R_LOCATION_MISSING);
    e.location_id = good.location_id;
    e.location_id_len = good.location_id_len;
    assert_int_equal(event_validate(&e), INV_R_CORRELATION_ID_TOO_LONG);
    e.correlation_id_len = 0;
    assert_int_equal(event_validate(&e), INV_R_SOURCE_SYSTEM_TOO_LONG);
    e.source_system_len = 64;
    assert_int_equal(event_validate(&e), INV_R_QUANTITY_ZERO);
    e.quantity_delta = INT64_MIN;
    assert_int_equal(event_validate(&e), INV_R_QUANTITY_TOO_LARGE);
    e.quantity_delta = 7;
    assert_int_equal(event_validate(&e), INV_R_TIMESTAMP_OUT_OF_RANGE);
    e.timestamp_ms = 0;
    assert_int_equal(event_validate(&e), INV_OK);
}

static const char *const type_names[INV_EV_TYPE_COUNT] = {
    "NONE",     "RECEIPT", "TRANSFER_OUT", "IN_TRANSIT",  "TRANSFER_IN", "ADJUSTMENT",
    "SALE",     "RETURN",  "RESERVATION",  "RELEASE",     "FULFILLMENT",
};

static void test_type_parse_all_names(void **state) {
    (void)state;
    for (int t = INV_EV_RECEIPT; t < INV_EV_TYPE_COUNT; t++) {
        const char *n = type_names[t];
        assert_int_equal(event_type_parse(n, strlen(n)), t);
        assert_string_equal(event_type_name((inv_event_type)t), n);
        /* Not NUL-terminated: the parser must use len, not the terminator. */
        char buf[32];
        size_t len = strlen(n);
        memcpy(buf, n, len);
        memset(buf + len, 'X', sizeof(buf) - len);
        assert_int_equal(event_type_parse(buf, len), t);
        assert_int_equal(event_type_parse(buf, len + 1), INV_EV_NONE);
        assert_int_equal(event_type_parse(buf, len - 1), INV_EV_NONE);
    }
    assert_string_equal(event_type_name(INV_EV_NONE), "NONE");
    assert_string_equal(event_type_name(INV_EV_TYPE_COUNT), "NONE");
    assert_string_equal(event_type_name((inv_event_type)200), "NONE");
}

static void test_type_parse_near_misses(void **state) {
    (void)state;
    static const char *const misses[] = {
        "SALES",        "sale",        "Sale",         "",             "NONE",
        "SALE ",        " SALE",       "SALF",         "RECEIPTS",     "RECEIPS",
        "RELEASF",      "receipt",     "TRANSFER-OUT", "TRANSFER_OUX", "TRANSFER_IX",
        "IN-TRANSIT",   "ADJUSTMENTS", "ADJUSTMENX",   "RESERVATIOM",  "FULFILMENT",
        "FULFILLMENX",  "RETURM",      "TRANSFER_IN ", "IN_TRANSIT\n", "TRANSFER_OU",
        "RESERVATION_", "RELEASE\t",   "S",
    };
    for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
        assert_int_equal(event_type_parse(misses[i], strlen(misses[i])), INV_EV_NONE);
    }
    assert_int_equal(event_type_parse(NULL, 0), INV_EV_NONE);
    assert_int_equal(event_type_parse("SALE\0", 5), INV_EV_NONE);
    assert_int_equal(event_type_parse("\0ALE", 4), INV_EV_NONE);
}

/* The parser hashes a name to one candidate and compares three words and the
 * length: every other byte value at every position of every name, the name
 * cut short, and the name padded with NULs or letters to every length up to
 * the longest are no type. */
static void test_type_parse_every_byte(void **state) {
    (void)state;
    for (int t = INV_EV_RECEIPT; t < INV_EV_TYPE_COUNT; t++) {
        const char *n = type_names[t];
        size_t len = strlen(n);
        char buf[16];
        for (size_t i = 0; i < len; i++) {
            for (int c = 0; c < 256; c++) {
                if (c == (unsigned char)n[i]) continue;
                memcpy(buf, n, len);
                buf[i] = (char)c;
                if (event_type_parse(buf, len) != INV_EV_NONE) {
                    fail_msg("%s with byte %zu = 0x%02x parsed", n, i, c);
                }
            }
        }
        for (size_t l = 0; l <= 14; l++) {
            if (l == len) continue;
            for (int pad = 0; pad < 3; pad++) {
                memset(buf, pad == 0 ? '\0' : pad == 1 ? 'X' : n[len - 1], sizeof(buf));
                memcpy(buf, n, l < len ? l : len);
                assert_int_equal(event_type_parse(buf, l), INV_EV_NONE);
            }
        }
    }
}

static void test_event_quantity(void **state) {
    (void)state;
    inv_event e = ev_valid();
    for (int t = INV_EV_RECEIPT; t < INV_EV_TYPE_COUNT; t++) {
        e.type = (uint8_t)t;
        int adj = t == INV_EV_ADJUSTMENT;
        e.quantity_delta = -2;
        assert_int_equal(event_quantity(&e), adj ? -2 : 2);
        e.quantity_delta = 2;
        assert_int_equal(event_quantity(&e), 2);
        e.quantity_delta = -INV_QUANTITY_ABS_MAX;
        assert_int_equal(event_quantity(&e), adj ? -INV_QUANTITY_ABS_MAX : INV_QUANTITY_ABS_MAX);
        e.quantity_delta = INV_QUANTITY_ABS_MAX;
        assert_int_equal(event_quantity(&e), INV_QUANTITY_ABS_MAX);
    }
}

/* The Kafka key must be exactly "sku:locationId": the engine hashes its bytes. */
static void test_key_must_match_payload(void **state) {
    (void)state;
    inv_event e = ev_valid();
    e.key = "SKU-000123:store-045";
    e.key_len = 20;
    assert_int_equal(event_validate(&e), INV_OK);
    static const char *const bad[] = {
        "SKU-000123:store-046", /* other location */
        "SKU-000124:store-045", /* other sku */
        "SKU-000123-store-045", /* no separator */
        "SKU-000123:store-04",  /* short */
        "SKU-000123:store-0455",/* long */
        "store-045:SKU-000123", /* swapped */
        "SKU-00012:3store-045", /* separator moved */
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e.key = bad[i];
        e.key_len = (uint16_t)strlen(bad[i]);
        assert_int_equal(event_validate(&e), INV_R_KEY_MISMATCH);
    }
    /* A length that covers the right bytes but one more is a mismatch too. */
    e.key = "SKU-000123:store-045X";
    e.key_len = 21;
    assert_int_equal(event_validate(&e), INV_R_KEY_MISMATCH);
    e.key_len = 20;
    assert_int_equal(event_validate(&e), INV_OK);
    /* No key at all (not from Kafka): nothing to check. */
    e.key = NULL;
    e.key_len = 0;
    assert_int_equal(event_validate(&e), INV_OK);
    /* The key is checked last: a bad field reports its own reason first. */
    e.key = "x:y";
    e.key_len = 3;
    e.quantity_delta = 0;
    assert_int_equal(event_validate(&e), INV_R_QUANTITY_ZERO);
}

/* The names are an external contract: pin every one. */
static void test_reason_names_pinned(void **state) {
    (void)state;
    static const char *const names[INV_REASON_COUNT] = {
        [INV_OK] = "ok",
        [INV_R_EVENT_ID_MISSING] = "event_id_missing",
        [INV_R_EVENT_ID_TOO_LONG] = "event_id_too_long",
        [INV_R_EVENT_TYPE_UNKNOWN] = "event_type_unknown",
        [INV_R_SKU_MISSING] = "sku_missing",
        [INV_R_SKU_TOO_LONG] = "sku_too_long",
        [INV_R_SKU_BAD_CHAR] = "sku_bad_char",
        [INV_R_LOCATION_MISSING] = "location_missing",
        [INV_R_LOCATION_TOO_LONG] = "location_too_long",
        [INV_R_LOCATION_BAD_CHAR] = "location_bad_char",
        [INV_R_CORRELATION_ID_TOO_LONG] = "correlation_id_too_long",
        [INV_R_SOURCE_SYSTEM_TOO_LONG] = "source_system_too_long",
        [INV_R_QUANTITY_ZERO] = "quantity_zero",
        [INV_R_QUANTITY_TOO_LARGE] = "quantity_too_large",
        [INV_R_TIMESTAMP_OUT_OF_RANGE] = "timestamp_out_of_range",
        [INV_R_OVERFLOW_ON_HAND] = "overflow_on_hand",
        [INV_R_OVERFLOW_RESERVED] = "overflow_reserved",
        [INV_R_OVERFLOW_IN_TRANSIT] = "overflow_in_transit",
        [INV_R_OVERFLOW_AVAILABLE] = "overflow_available",
        [INV_R_OVERFLOW_VERSION] = "overflow_version",
        [INV_R_TABLE_FULL] = "table_full",
        [INV_R_KEY_MISMATCH] = "key_mismatch",
        [INV_R_OUT_OF_MEMORY] = "out_of_memory",
        [INV_R_MESSAGE_TOO_LARGE] = "message_too_large",
        [INV_R_JSON_SYNTAX] = "json_syntax",
        [INV_R_JSON_BAD_UTF8] = "json_bad_utf8",
        [INV_R_JSON_TOO_DEEP] = "json_too_deep",
        [INV_R_JSON_NOT_OBJECT] = "json_not_object",
        [INV_R_FIELD_DUPLICATE] = "field_duplicate",
        [INV_R_FIELD_TYPE] = "field_type",
        [INV_R_QUANTITY_MISSING] = "quantity_missing",
        [INV_R_QUANTITY_NOT_INTEGER] = "quantity_not_integer",
        [INV_R_TIMESTAMP_MISSING] = "timestamp_missing",
        [INV_R_TIMESTAMP_FORMAT] = "timestamp_format",
        [INV_R_KEY_MISSING] = "key_missing",
        [INV_R_PARTITION_MISMATCH] = "partition_mismatch",
    };
    for (int r = 0; r < INV_REASON_COUNT; r++) {
        assert_non_null(names[r]); /* a new code needs a pinned name here */
        assert_string_equal(inv_reason_name((inv_reason)r), names[r]);
    }
}

static void test_reason_names_texts_unique(void **state) {
    (void)state;
    for (int r = 0; r < INV_REASON_COUNT; r++) {
        const char *n = inv_reason_name((inv_reason)r);
        const char *t = inv_reason_text((inv_reason)r);
        assert_non_null(n);
        assert_non_null(t);
        assert_true(strlen(n) > 0);
        assert_true(strlen(t) > 10);
        assert_null(strchr(t, '\n')); /* one line: it goes into a Kafka header and logs */
        for (const char *p = n; *p; p++) {
            assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
        }
        assert_string_not_equal(n, "unknown");
        for (int o = 0; o < r; o++) {
            assert_string_not_equal(n, inv_reason_name((inv_reason)o));
            assert_string_not_equal(t, inv_reason_text((inv_reason)o));
        }
    }
    assert_string_equal(inv_reason_name(INV_REASON_COUNT), "unknown");
    assert_string_equal(inv_reason_name((inv_reason)-1), "unknown");
    assert_string_equal(inv_reason_name((inv_reason)100000), "unknown");
    assert_non_null(inv_reason_text(INV_REASON_COUNT));
    assert_true(strlen(inv_reason_text((inv_reason)-1)) > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_example),
        cmocka_unit_test(test_event_id_limits),
        cmocka_unit_test(test_event_id_any_bytes),
        cmocka_unit_test(test_type_validation),
        cmocka_unit_test(test_sku_limits),
        cmocka_unit_test(test_location_limits),
        cmocka_unit_test(test_sku_chars),
        cmocka_unit_test(test_location_chars),
        cmocka_unit_test(test_id_chars_ok),
        cmocka_unit_test(test_correlation_id_limits),
        cmocka_unit_test(test_source_system_limits),
        cmocka_unit_test(test_quantity_limits),
        cmocka_unit_test(test_timestamp_limits),
        cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_type_parse_all_names),
        cmocka_unit_test(test_type_parse_near_misses),
        cmocka_unit_test(test_type_parse_every_byte),
        cmocka_unit_test(test_event_quantity),
        cmocka_unit_test(test_key_must_match_payload),
        cmocka_unit_test(test_reason_names_pinned),
        cmocka_unit_test(test_reason_names_texts_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
