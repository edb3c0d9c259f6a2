/* stock_json.h - the stock-level record value: encoder and strict decoder.
 *
 * The value of one key's record on the stock-level (changelog) topic:
 *
 *   {"sku":"SKU-1","locationId":"store-1","onHand":10,"reserved":2,"inTransit":0,
 *    "available":8,"lastUpdated":"2026-11-23T10:15:30.123Z","version":3,
 *    "inputOffset":1234,"oversells":0,"releaseExcesses":0,"transferInExcesses":0}
 *
 * written exactly in this order without whitespace (one line above is split
 * for reading). available = onHand - reserved; lastUpdated is the aggregate's
 * last_updated_ms with exactly 3 fraction digits; inputOffset is the
 * aggregate's watermark (offset); the last three are its anomaly counters.
 *
 * The decoder serves recovery: it reads back what the encoder wrote, in any
 * member order and with any whitespace, skips unknown members, and checks
 * everything an aggregate produced by apply_event satisfies, so a corrupt or
 * foreign record is refused instead of seeding the table. decode(encode(a))
 * gives back a bit for bit (reserved0 is 0). */
#ifndef INV_STOCK_JSON_H
#define INV_STOCK_JSON_H

#include <stddef.h>

#include "apply.h"

/* Upper bound of an encoded value: the fixed text, sku and locationId at
 * their limits, six 64-bit integers at 20 characters, the timestamp and
 * three uint32 counters (stock_json.c checks the sum at compile time). */
#define INV_STOCK_JSON_BYTES_MAX 512

/* A decoded record. sku and location_id point into the decoded buffer (not
 * NUL-terminated) and are valid while it is. */
typedef struct inv_stock_record {
    const char *sku;
    size_t sku_len;
    const char *location_id;
    size_t location_id_len;
    inv_agg agg;
} inv_stock_record;

/* Any thread. Writes the value of (sku, loc, *a) to out, which has room for
 * cap >= INV_STOCK_JSON_BYTES_MAX bytes, and returns its length (no NUL is
 * written). sku and loc must be valid key parts (1-64 bytes of
 * [A-Za-z0-9._-], nothing to escape) and *a an aggregate apply_event
 * produced (version >= 1, last_updated_ms in the event time range, reserved
 * and inTransit >= 0): asserted, these are programmer errors. */
size_t stock_json_encode(char *out, size_t cap, const char *sku, size_t sku_len, const char *loc,
                         size_t loc_len, const inv_agg *a);

/* Any thread. Decodes the len bytes at buf into *out. Requires one JSON
 * object (at most INV_MESSAGE_BYTES_MAX bytes) with all twelve members once
 * each, in any order; unknown members are skipped. sku and locationId:
 * strings of 1-64 bytes of [A-Za-z0-9._-] without escapes; onHand,
 * available, inputOffset: int64 (inputOffset >= -1); reserved, inTransit:
 * int64 >= 0; available == onHand - reserved; lastUpdated: ISO-8601 UTC
 * (timestamp.h) within [INV_TIMESTAMP_MS_MIN, INV_TIMESTAMP_MS_MAX];
 * version: uint64 >= 1; the counters: uint32. Numbers are integers without
 * fraction or exponent. Returns 0, or -EINVAL with a message naming the
 * field and the rule in errstr (errstr_len bytes, NUL-terminated; may be
 * NULL when errstr_len is 0); *out is unspecified then. */
int stock_json_decode(const char *buf, size_t len, inv_stock_record *out, char *errstr,
                      size_t errstr_len);

#endif
