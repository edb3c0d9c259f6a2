/* event.h - the canonical inventory event and its validation.
 *
 * An inv_event is a view: its strings point into bytes owned by someone else
 * (the Kafka message or a decoder scratch buffer) and are valid only as long
 * as those bytes are. Nothing here allocates. Lengths are in bytes; strings
 * are not NUL-terminated. The struct is public because events travel in
 * arrays on the hot path (worker batches); it is a value type, not an object.
 *
 * Validation (event_validate) enforces every limit of DESIGN.md section 2 that
 * can be checked on the decoded fields, and returns the first failing rule as
 * an inv_reason. The JSON layer adds its own syntax reasons. */
#ifndef INV_EVENT_H
#define INV_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inv_limits.h"
#include "reason.h"

typedef enum inv_event_type {
    INV_EV_NONE = 0, /* not a type: the value of an unparsed field */
    INV_EV_RECEIPT,
    INV_EV_TRANSFER_OUT,
    INV_EV_IN_TRANSIT,
    INV_EV_TRANSFER_IN,
    INV_EV_ADJUSTMENT,
    INV_EV_SALE,
    INV_EV_RETURN,
    INV_EV_RESERVATION,
    INV_EV_RELEASE,
    INV_EV_FULFILLMENT,
    INV_EV_TYPE_COUNT /* keep last */
} inv_event_type;

typedef struct inv_event {
    const char *event_id;       /* 1..INV_EVENT_ID_LEN_MAX bytes, any bytes */
    const char *sku;            /* 1..INV_SKU_LEN_MAX bytes of [A-Za-z0-9._-] */
    const char *location_id;    /* 1..INV_LOCATION_LEN_MAX bytes of [A-Za-z0-9._-] */
    const char *correlation_id; /* 0..INV_CORRELATION_ID_LEN_MAX bytes; may be NULL when 0 */
    const char *source_system;  /* 0..INV_SOURCE_SYSTEM_LEN_MAX bytes; may be NULL when 0 */
    const char *key;            /* the Kafka message key "sku:locationId", or NULL if none */
    int64_t quantity_delta;     /* signed as the producer sent it */
    int64_t timestamp_ms;       /* event time, epoch milliseconds UTC */
    int64_t offset;             /* input offset in its partition; -1 when not from Kafka */
    int32_t partition;          /* input partition; -1 when not from Kafka */
    /* Lengths are 16-bit so a decoder can store any field of a 64 KiB message
     * as it found it and let event_validate reject it: nothing truncates. */
    uint16_t event_id_len;
    uint16_t correlation_id_len;
    uint16_t sku_len;
    uint16_t location_id_len;
    uint16_t source_system_len;
    uint16_t key_len;
    uint8_t type; /* inv_event_type */
} inv_event;

_Static_assert(INV_MESSAGE_BYTES_MAX <= 65536, "a field length of a message fits uint16_t");

/* Any thread. Returns the type named by the len bytes at s (exact, case-
 * sensitive: "RECEIPT", "TRANSFER_OUT", ...), or INV_EV_NONE if none. */
inv_event_type event_type_parse(const char *s, size_t len);

/* Any thread. Returns the canonical upper-case name of t, or "NONE". */
const char *event_type_name(inv_event_type t);

/* Any thread. True when the len bytes at s are a valid sku or locationId
 * character set ([A-Za-z0-9._-]); does not check the length. */
bool event_id_chars_ok(const char *s, size_t len);

/* Any thread. Checks every field of ev against DESIGN.md section 2 and returns
 * INV_OK or the reason of the first failing rule, in this order: eventId,
 * eventType, sku, locationId, correlationId, sourceSystem, quantity (zero is
 * rejected; ADJUSTMENT is signed, every other type takes either sign),
 * timestamp, and last the message key: when key is not NULL it must be
 * exactly "sku:locationId" (the engine hashes the key bytes, so a key that
 * disagrees with the payload would file the event under another key).
 * Lengths in the struct are trusted to describe the pointers. */
inv_reason event_validate(const inv_event *ev);

/* Any thread. The unsigned quantity q the apply rules use: |quantityDelta|
 * for every type but ADJUSTMENT, for which it returns quantityDelta itself.
 * Valid only on an event that passed event_validate. */
int64_t event_quantity(const inv_event *ev);

#endif
