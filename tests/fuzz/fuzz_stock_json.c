/* fuzz_stock_json.c - libFuzzer target for the stock-level value
 * (io/stock_json.c, io/json_scan.c, io/timestamp.c).
 *
 * Two checks per input:
 *   1. The raw input goes to stock_json_decode, from an exactly-sized heap
 *      copy: no crash, no read outside it. When it is accepted, the record
 *      satisfies every rule of stock_json.h (checked here independently),
 *      jansson agrees that it is JSON and sees the same twelve values, and
 *      re-encoding it gives a value that decodes to the same record.
 *   2. An aggregate carved from the input and repaired to satisfy the
 *      invariants of apply.h (reserved, inTransit >= 0, onHand - reserved
 *      representable, version >= 1, lastUpdated in the event time range,
 *      inputOffset >= -1), with sku and locationId mapped onto
 *      [A-Za-z0-9._-], is encoded; the output must fit
 *      INV_STOCK_JSON_BYTES_MAX, parse with jansson to the same values, and
 *      decode back to the same aggregate bit for bit.
 * Where jansson cannot hold a value (version above INT64_MAX, a number of an
 * unknown member beyond its types) the comparison with it is skipped; every
 * other comparison still runs.
 *
 * Build: make build-fuzz/fuzz_stock_json (see the Makefile's build-fuzz rule). */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "event.h"
#include "inv_limits.h"
#include "stock_json.h"
#include "timestamp.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static bool ref_key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/* The rules of stock_json.h on a decoded record, written plainly. */
static void check_record_rules(const inv_stock_record *rec, const char *buf, size_t len) {
    FUZZ_CHECK(rec->sku_len >= 1 && rec->sku_len <= 64);
    FUZZ_CHECK(rec->location_id_len >= 1 && rec->location_id_len <= 64);
    FUZZ_CHECK(rec->sku >= buf && rec->sku + rec->sku_len <= buf + len);
    FUZZ_CHECK(rec->location_id >= buf && rec->location_id + rec->location_id_len <= buf + len);
    for (size_t i = 0; i < rec->sku_len; i++)
        FUZZ_CHECK(ref_key_char(rec->sku[i]));
    for (size_t i = 0; i < rec->location_id_len; i++)
        FUZZ_CHECK(ref_key_char(rec->location_id[i]));
    const inv_agg *a = &rec->agg;
    FUZZ_CHECK(a->reserved >= 0 && a->in_transit >= 0);
    FUZZ_CHECK(a->version >= 1);
    FUZZ_CHECK(a->offset >= -1);
    FUZZ_CHECK(a->last_updated_ms >= 0 && a->last_updated_ms <= 253402300799999LL);
    FUZZ_CHECK((__int128)a->on_hand - a->reserved >= INT64_MIN);
    FUZZ_CHECK(a->reserved0 == 0);
}

static int64_t j_int(json_t *root, const char *name) {
    json_t *v = json_object_get(root, name);
    FUZZ_CHECK(json_is_integer(v));
    return json_integer_value(v);
}

/* jansson reads the value at buf as JSON with the same members as *rec. A
 * value jansson cannot hold (a huge number anywhere) skips the comparison. */
static void check_with_jansson(const char *buf, size_t len, const inv_stock_record *rec) {
    json_error_t err;
    json_t *root = json_loadb(buf, len, JSON_DECODE_ANY, &err);
    if (root == NULL) {
        FUZZ_CHECK(json_error_code(&err) == json_error_numeric_overflow);
        return;
    }
    FUZZ_CHECK(json_is_object(root));
    const inv_agg *a = &rec->agg;
    json_t *sku = json_object_get(root, "sku"), *loc = json_object_get(root, "locationId");
    FUZZ_CHECK(json_is_string(sku) && json_is_string(loc));
    FUZZ_CHECK(json_string_length(sku) == rec->sku_len);
    FUZZ_CHECK(memcmp(json_string_value(sku), rec->sku, rec->sku_len) == 0);
    FUZZ_CHECK(json_string_length(loc) == rec->location_id_len);
    FUZZ_CHECK(memcmp(json_string_value(loc), rec->location_id, rec->location_id_len) == 0);
    FUZZ_CHECK(j_int(root, "onHand") == a->on_hand);
    FUZZ_CHECK(j_int(root, "reserved") == a->reserved);
    FUZZ_CHECK(j_int(root, "inTransit") == a->in_transit);
    FUZZ_CHECK(j_int(root, "available") == a->on_hand - a->reserved);
    FUZZ_CHECK(j_int(root, "version") == (int64_t)a->version);
    FUZZ_CHECK(j_int(root, "inputOffset") == a->offset);
    FUZZ_CHECK(j_int(root, "oversells") == a->oversell_count);
    FUZZ_CHECK(j_int(root, "releaseExcesses") == a->release_excess_count);
    FUZZ_CHECK(j_int(root, "transferInExcesses") == a->transfer_in_excess_count);
    FUZZ_CHECK(json_is_string(json_object_get(root, "lastUpdated")));
    json_decref(root);
}

/* Encodes (sku, loc, a) into an exactly-bounded buffer and checks that it
 * decodes to the same record. */
static void check_encode_round_trip(const char *sku, size_t sku_len, const char *loc,
                                    size_t loc_len, const inv_agg *a) {
    char *out = malloc(INV_STOCK_JSON_BYTES_MAX);
    FUZZ_CHECK(out != NULL);
    size_t n = stock_json_encode(out, INV_STOCK_JSON_BYTES_MAX, sku, sku_len, loc, loc_len, a);
    FUZZ_CHECK(n > 0 && n <= INV_STOCK_JSON_BYTES_MAX);
    char *copy = malloc(n);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, out, n);
    inv_stock_record rec;
    char err[200];
    int rc = stock_json_decode(copy, n, &rec, err, sizeof(err));
    if (rc != 0) fprintf(stderr, "fuzz_stock_json: %.*s: %s\n", (int)n, out, err);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(memcmp(&rec.agg, a, sizeof(*a)) == 0);
    FUZZ_CHECK(rec.sku_len == sku_len && memcmp(rec.sku, sku, sku_len) == 0);
    FUZZ_CHECK(rec.location_id_len == loc_len && memcmp(rec.location_id, loc, loc_len) == 0);
    check_record_rules(&rec, copy, n);
    if (a->version <= INT64_MAX) check_with_jansson(copy, n, &rec);
    free(copy);
    free(out);
}

/* Check 1: arbitrary bytes. */
static void check_raw(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    FUZZ_CHECK(buf != NULL);
    memcpy(buf, data, size);
    inv_stock_record rec;
    char err[64];
    int rc = stock_json_decode(buf, size, &rec, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == -EINVAL);
    FUZZ_CHECK(strlen(err) < sizeof(err));
    if (rc == 0) {
        check_record_rules(&rec, buf, size);
        if (rec.agg.version <= INT64_MAX) check_with_jansson(buf, size, &rec);
        check_encode_round_trip(rec.sku, rec.sku_len, rec.location_id, rec.location_id_len,
                                &rec.agg);
    } else {
        FUZZ_CHECK(err[0] != '\0');
    }
    free(buf);
}

static int64_t pick_i64(uint8_t mode, uint64_t raw) {
    static const int64_t edge[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, 0, 1,
                                   -1,        1000000000};
    switch (mode & 3) {
    case 0:
        return (int64_t)raw;
    case 1:
        return edge[raw & 7];
    case 2:
        return (int16_t)raw;
    default:
        return (int64_t)raw >> (raw & 63);
    }
}

/* Check 2: an aggregate carved from the input. */
static void check_carved(const uint8_t *data, size_t size) {
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
    fuzz_reader r = {data, size};
    uint8_t mode = rd_u8(&r);
    inv_agg a;
    agg_init(&a);
    a.on_hand = pick_i64(mode, rd_u64(&r));
    a.reserved = pick_i64(mode >> 2, rd_u64(&r)) & INT64_MAX;
    a.in_transit = pick_i64(mode >> 4, rd_u64(&r)) & INT64_MAX;
    int64_t avail;
    if (__builtin_sub_overflow(a.on_hand, a.reserved, &avail)) a.on_hand = a.reserved;
    a.last_updated_ms = (int64_t)(rd_u64(&r) % (uint64_t)(INV_TIMESTAMP_MS_MAX + 1));
    if (mode & 0x40) a.last_updated_ms = mode & 0x80 ? INV_TIMESTAMP_MS_MAX : 0;
    a.version = rd_u64(&r);
    if (a.version == 0) a.version = mode & 1 ? UINT64_MAX : 1;
    a.offset = (int64_t)rd_u64(&r);
    if (a.offset < -1) a.offset = -1;
    a.oversell_count = (uint32_t)rd_u64(&r);
    a.release_excess_count = (uint32_t)rd_u64(&r);
    a.transfer_in_excess_count = (uint32_t)rd_u64(&r);
    char sku[64], loc[64];
    size_t sku_len = 1 + rd_u8(&r) % 64, loc_len = 1 + rd_u8(&r) % 64;
    for (size_t i = 0; i < sku_len; i++)
        sku[i] = chars[rd_u8(&r) % (sizeof(chars) - 1)];
    for (size_t i = 0; i < loc_len; i++)
        loc[i] = chars[rd_u8(&r) % (sizeof(chars) - 1)];
    check_encode_round_trip(sku, sku_len, loc, loc_len, &a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_raw(data, size);
    check_carved(data, size);
    return 0;
}
