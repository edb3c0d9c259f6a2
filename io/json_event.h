/* json_event.h - decoder of one canonical event message (DESIGN.md section 2).
 *
 * One call turns the bytes of one Kafka message value into an inv_event,
 * single pass, no allocation, no locale. Strings point into the message
 * (zero copy) unless they contain escapes; then their decoded bytes go to a
 * caller-provided scratch buffer of at least len bytes (decoded strings are
 * never longer than their raw form, so it cannot run out).
 *
 * The message must be one JSON object (RFC 8259, json_scan.h rules; nesting
 * at most INV_JSON_DEPTH_MAX = 32 deep) with these members, names exact and
 * case-sensitive; a name written with escapes counts as the name it decodes
 * to ("sk\u0075" is "sku"):
 *   eventId, eventType, sku, locationId   string
 *   correlationId, sourceSystem           string, or null (= absent)
 *   quantityDelta                         integer (no fraction, no exponent)
 *   timestamp                             ISO-8601 UTC string (timestamp.h),
 *                                         or an integer of epoch milliseconds
 * Unknown members are skipped (any valid JSON). Integers of any length are
 * read without overflow and saturate at INT64_MIN/INT64_MAX, so a huge
 * quantity ends as quantity_too_large and a huge timestamp as
 * timestamp_out_of_range, both from event_validate. "-0" is 0.
 *
 * The reason returned is the first of, in this order:
 *   1. message_too_large          len > INV_MESSAGE_BYTES_MAX
 *   2. json_syntax, json_bad_utf8, json_too_deep
 *                                 the first such error in the bytes; invalid
 *                                 JSON is always reported as one of these,
 *                                 whatever else is wrong with the event
 *   3. json_not_object            valid JSON whose top-level value is not an object
 *   4. field_duplicate            a known member appears twice
 *   5. per member, in the order eventId, eventType, sku, locationId,
 *      correlationId, sourceSystem, quantityDelta, timestamp:
 *      field_type (wrong JSON type), quantity_not_integer, quantity_missing,
 *      timestamp_format (a string that is not the ISO form, or a number with
 *      a fraction or exponent), timestamp_missing
 *   6. event_validate(ev)         with the caller's key; everything else,
 *                                 missing strings included (event_id_missing...)
 */
#ifndef INV_JSON_EVENT_H
#define INV_JSON_EVENT_H

#include <stddef.h>

#include "event.h"
#include "reason.h"

/* Any thread (no shared state). Decodes the len bytes at buf into *ev.
 * ev->key, ev->key_len, ev->partition and ev->offset are not touched: the
 * caller sets them before the call (key = the Kafka message key or NULL),
 * since event_validate checks the key against the payload. Every other field
 * of *ev is overwritten (absent strings are NULL with length 0). scratch must
 * have room for len bytes; *scratch_used is set to the bytes used (0 when no
 * known field has escapes). The strings of *ev stay valid while buf and
 * scratch do. Returns INV_OK or the rejection reason described above; on a
 * rejection the fields of *ev are unspecified. */
inv_reason json_event_decode(const char *buf, size_t len, char *scratch, size_t *scratch_used,
                             inv_event *ev);

#endif
