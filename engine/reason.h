/* reason.h - why an event was not applied.
 *
 * Every rejection in invsync carries one of these codes. The code name
 * (inv_reason_name, e.g. "sku_bad_char") is stable and goes into the DLQ
 * header "invsync.reason"; the text (inv_reason_text) tells an operator what
 * to fix. New codes are appended; values are never reused. */
#ifndef INV_REASON_H
#define INV_REASON_H

typedef enum inv_reason {
    INV_OK = 0,
    /* Field validation (engine/event.c). */
    INV_R_EVENT_ID_MISSING,
    INV_R_EVENT_ID_TOO_LONG,
    INV_R_EVENT_TYPE_UNKNOWN,
    INV_R_SKU_MISSING,
    INV_R_SKU_TOO_LONG,
    INV_R_SKU_BAD_CHAR,
    INV_R_LOCATION_MISSING,
    INV_R_LOCATION_TOO_LONG,
    INV_R_LOCATION_BAD_CHAR,
    INV_R_CORRELATION_ID_TOO_LONG,
    INV_R_SOURCE_SYSTEM_TOO_LONG,
    INV_R_QUANTITY_ZERO,
    INV_R_QUANTITY_TOO_LARGE,
    INV_R_TIMESTAMP_OUT_OF_RANGE,
    /* Apply (engine/apply.c): the event is valid but its effect is not representable. */
    INV_R_OVERFLOW_ON_HAND,
    INV_R_OVERFLOW_RESERVED,
    INV_R_OVERFLOW_IN_TRANSIT,
    INV_R_OVERFLOW_AVAILABLE,
    INV_R_OVERFLOW_VERSION,
    /* Capacity (engine/table.c): the partition's configured key space is full. */
    INV_R_TABLE_FULL,
    /* Message key (engine/event.c): the Kafka key is not "sku:locationId" of the payload. */
    INV_R_KEY_MISMATCH,
    /* Capacity (engine/table.c): growing the partition's index found no memory. */
    INV_R_OUT_OF_MEMORY,
    /* Decoding (io/json_event.c): the message is not a well-formed canonical event. */
    INV_R_MESSAGE_TOO_LARGE,
    INV_R_JSON_SYNTAX,
    INV_R_JSON_BAD_UTF8,
    INV_R_JSON_TOO_DEEP,
    INV_R_JSON_NOT_OBJECT,
    INV_R_FIELD_DUPLICATE,
    INV_R_FIELD_TYPE,
    INV_R_QUANTITY_MISSING,
    INV_R_QUANTITY_NOT_INTEGER,
    INV_R_TIMESTAMP_MISSING,
    INV_R_TIMESTAMP_FORMAT,
    /* Kafka placement (io/): the message key or partition is wrong. */
    INV_R_KEY_MISSING,
    INV_R_PARTITION_MISMATCH,
    INV_REASON_COUNT /* keep last */
} inv_reason;

/* Any thread. Returns the stable snake_case name of r ("ok" for INV_OK);
 * "unknown" for a value out of range. Never NULL. */
const char *inv_reason_name(inv_reason r);

/* Any thread. Returns a one-line English explanation of r for logs and DLQ
 * headers. Never NULL. */
const char *inv_reason_text(inv_reason r);

#endif
