/* reason.c - names and texts of the rejection reasons of reason.h.
 *
 * One table, indexed by the enum, holds both strings of every code. The name
 * is a stable snake_case identifier that goes into the DLQ header
 * "invsync.reason" and into metrics labels, so a name is never changed once
 * released; the text is for the operator and says what to fix. The table is
 * checked at compile time to have exactly INV_REASON_COUNT entries, and the
 * unit tests check that every entry is filled and every name is unique. */
#include "reason.h"

#include "inv_assert.h"
#include "inv_limits.h"

typedef struct reason_entry {
    const char *name;
    const char *text;
} reason_entry;

/* Designated initializers: an entry cannot land on the wrong code when codes
 * are appended. The texts spell out the limits of inv_limits.h literally; the
 * _Static_asserts below keep the two in step. */
static const reason_entry reason_table[] = {
    [INV_OK] = {"ok", "event accepted"},
    [INV_R_EVENT_ID_MISSING] = {"event_id_missing",
                                "eventId is missing or empty; send a non-empty eventId of at most "
                                "128 bytes"},
    [INV_R_EVENT_ID_TOO_LONG] = {"event_id_too_long",
                                 "eventId is longer than 128 bytes; shorten it at the producer"},
    [INV_R_EVENT_TYPE_UNKNOWN] = {"event_type_unknown",
                                  "eventType is missing or not one of RECEIPT, TRANSFER_OUT, "
                                  "IN_TRANSIT, TRANSFER_IN, ADJUSTMENT, SALE, RETURN, "
                                  "RESERVATION, RELEASE, FULFILLMENT (exact upper case)"},
    [INV_R_SKU_MISSING] = {"sku_missing", "sku is missing or empty; send 1-64 bytes of "
                                          "[A-Za-z0-9._-]"},
    [INV_R_SKU_TOO_LONG] = {"sku_too_long", "sku is longer than 64 bytes; shorten it at the "
                                            "producer"},
    [INV_R_SKU_BAD_CHAR] = {"sku_bad_char",
                            "sku has a character outside [A-Za-z0-9._-] (':' and spaces are not "
                            "allowed); fix the sku at the producer"},
    [INV_R_LOCATION_MISSING] = {"location_missing",
                                "locationId is missing or empty; send 1-64 bytes of "
                                "[A-Za-z0-9._-]"},
    [INV_R_LOCATION_TOO_LONG] = {"location_too_long",
                                 "locationId is longer than 64 bytes; shorten it at the producer"},
    [INV_R_LOCATION_BAD_CHAR] = {"location_bad_char",
                                 "locationId has a character outside [A-Za-z0-9._-] (':' and "
                                 "spaces are not allowed); fix the locationId at the producer"},
    [INV_R_CORRELATION_ID_TOO_LONG] = {"correlation_id_too_long",
                                       "correlationId is longer than 128 bytes; shorten it or "
                                       "leave it out"},
    [INV_R_SOURCE_SYSTEM_TOO_LONG] = {"source_system_too_long",
                                      "sourceSystem is longer than 64 bytes; shorten it or leave "
                                      "it out"},
    [INV_R_QUANTITY_ZERO] = {"quantity_zero",
                             "quantityDelta is 0 or missing; every event must move at least one "
                             "unit"},
    [INV_R_QUANTITY_TOO_LARGE] = {"quantity_too_large",
                                  "|quantityDelta| exceeds 1000000000; split the movement or fix "
                                  "the producer"},
    [INV_R_TIMESTAMP_OUT_OF_RANGE] = {"timestamp_out_of_range",
                                      "timestamp is before 1970-01-01 or after "
                                      "9999-12-31T23:59:59.999Z; send ISO-8601 UTC or epoch "
                                      "milliseconds"},
    [INV_R_OVERFLOW_ON_HAND] = {"overflow_on_hand",
                                "applying the event would push onHand outside the 64-bit range; "
                                "the key's history is corrupt or the producer is replaying "
                                "bogus quantities"},
    [INV_R_OVERFLOW_RESERVED] = {"overflow_reserved",
                                 "applying the event would push reserved outside the 64-bit "
                                 "range; check the producer of RESERVATION events"},
    [INV_R_OVERFLOW_IN_TRANSIT] = {"overflow_in_transit",
                                   "applying the event would push inTransit outside the 64-bit "
                                   "range; check the producer of IN_TRANSIT events"},
    [INV_R_OVERFLOW_AVAILABLE] = {"overflow_available",
                                  "applying the event would make available (onHand - reserved) "
                                  "unrepresentable in 64 bits; inspect the key's onHand and "
                                  "reserved"},
    [INV_R_OVERFLOW_VERSION] = {"overflow_version",
                                "the key has applied 2^64-1 events and its version cannot grow; "
                                "this key cannot take more events"},
    [INV_R_TABLE_FULL] = {"table_full",
                          "the partition's key table is full; raise the table capacity in the "
                          "configuration or add partitions"},
    [INV_R_KEY_MISMATCH] = {"key_mismatch",
                            "the Kafka message key is not \"sku:locationId\" of the payload; the "
                            "producer must key each event by its sku and locationId"},
    [INV_R_OUT_OF_MEMORY] = {"out_of_memory",
                             "the partition could not grow its index: the host is out of memory; "
                             "free memory or move partitions to another instance"},
    [INV_R_MESSAGE_TOO_LARGE] = {"message_too_large",
        "the message is larger than 65536 bytes; canonical events are small JSON objects"},
    [INV_R_JSON_SYNTAX] = {"json_syntax",
        "the message is not valid JSON (RFC 8259): fix the producer's serializer"},
    [INV_R_JSON_BAD_UTF8] = {"json_bad_utf8",
        "a JSON string is not valid UTF-8; producers must send UTF-8"},
    [INV_R_JSON_TOO_DEEP] = {"json_too_deep",
        "the JSON nests objects or arrays more than 32 levels deep"},
    [INV_R_JSON_NOT_OBJECT] = {"json_not_object",
        "the message is JSON but not an object; send one event object per message"},
    [INV_R_FIELD_DUPLICATE] = {"field_duplicate",
        "a field of the event appears twice in the object; send each field once"},
    [INV_R_FIELD_TYPE] = {"field_type",
        "a field has the wrong JSON type: eventId, eventType, sku, locationId, sourceSystem and correlationId are strings (correlationId and sourceSystem may be null), quantityDelta is an integer, timestamp is a string or an integer"},
    [INV_R_QUANTITY_MISSING] = {"quantity_missing",
        "quantityDelta is missing; send a non-zero integer"},
    [INV_R_QUANTITY_NOT_INTEGER] = {"quantity_not_integer",
        "quantityDelta has a fraction or an exponent; send a whole number of units"},
    [INV_R_TIMESTAMP_MISSING] = {"timestamp_missing",
        "timestamp is missing; send ISO-8601 UTC (2026-11-23T10:15:30.123Z) or epoch milliseconds"},
    [INV_R_TIMESTAMP_FORMAT] = {"timestamp_format",
        "timestamp is neither ISO-8601 UTC (2026-11-23T10:15:30.123Z) nor an integer of epoch milliseconds"},
    [INV_R_KEY_MISSING] = {"key_missing",
        "the Kafka message has no key; the producer must key each event \"sku:locationId\""},
    [INV_R_PARTITION_MISMATCH] = {"partition_mismatch",
        "the event is not in the partition Kafka's murmur2 partitioner gives its key; configure the producer with the Java-compatible murmur2 partitioner (librdkafka partitioner=murmur2_random)"},
};

_Static_assert(sizeof(reason_table) / sizeof(reason_table[0]) == INV_REASON_COUNT,
               "reason_table must have one entry per inv_reason");
_Static_assert(INV_EVENT_ID_LEN_MAX == 128 && INV_CORRELATION_ID_LEN_MAX == 128,
               "reason texts say 128 bytes");
_Static_assert(INV_SKU_LEN_MAX == 64 && INV_LOCATION_LEN_MAX == 64 &&
                   INV_SOURCE_SYSTEM_LEN_MAX == 64,
               "reason texts say 64 bytes");
_Static_assert(INV_QUANTITY_ABS_MAX == 1000000000LL, "reason texts say 1000000000");

/* File-local. Returns the table entry of r, or NULL when r is out of range
 * (a value read from untrusted bytes, e.g. a snapshot, may be). */
static const reason_entry *reason_entry_of(inv_reason r) {
    unsigned idx = (unsigned)r; /* a negative enum value becomes huge: out of range */
    if (idx >= (unsigned)INV_REASON_COUNT) return NULL;
    inv_assert(reason_table[idx].name != NULL);
    inv_assert(reason_table[idx].text != NULL);
    return &reason_table[idx];
}

/* Any thread. Returns the stable snake_case name of r ("ok" for INV_OK) or
 * "unknown" when r is out of range. Never NULL. */
const char *inv_reason_name(inv_reason r) {
    const reason_entry *e = reason_entry_of(r);
    return e ? e->name : "unknown";
}

/* Any thread. Returns the operator text of r, or a generic text when r is out
 * of range. Never NULL. */
const char *inv_reason_text(inv_reason r) {
    const reason_entry *e = reason_entry_of(r);
    return e ? e->text : "unknown reason code (a newer invsync wrote it?)";
}
