/* apply.h - the per-key aggregate and the apply rules of DESIGN.md section 2.
 *
 * apply_event is a pure function: from the current aggregate and one valid
 * event it computes the next aggregate, or the reason the event cannot be
 * applied (an int64 field would overflow). Nothing is clamped to hide a
 * problem: onHand and available may go negative, and the three anomalies
 * (oversell, release beyond reserved, transfer-in beyond in-transit) are
 * counted on the key. The table stores the result; callers never write an
 * aggregate field by hand. */
#ifndef INV_APPLY_H
#define INV_APPLY_H

#include <stdint.h>

#include "event.h"

typedef struct inv_agg {
    int64_t on_hand;         /* physical units */
    int64_t reserved;        /* never negative */
    int64_t in_transit;      /* never negative */
    int64_t last_updated_ms; /* max event time applied; INT64_MIN before the first */
    uint64_t version;        /* applied events; 0 = never applied */
    int64_t offset;          /* input offset of the last applied event (the watermark); -1 before */
    /* Anomaly counters; saturate at UINT32_MAX (documented, never wrap). */
    uint32_t oversell_count;           /* events that lowered available to < 0 */
    uint32_t release_excess_count;     /* RELEASE/FULFILLMENT with q > reserved */
    uint32_t transfer_in_excess_count; /* TRANSFER_IN with q > inTransit */
    uint32_t reserved0;                /* zero; keeps the struct free of padding */
} inv_agg;

_Static_assert(sizeof(inv_agg) == 64, "inv_agg is one cache line and has no padding");

/* Any thread. The aggregate of a key no event has touched yet. */
void agg_init(inv_agg *a);

/* Any thread. available = onHand - reserved; never overflows on an aggregate
 * produced by apply_event (it checks). */
int64_t agg_available(const inv_agg *a);

/* Any thread. Computes in *next the effect of the valid event ev on cur
 * (cur and next may alias). Returns INV_OK, or an INV_R_OVERFLOW_* reason
 * with *next left unchanged when any field (onHand, reserved, inTransit,
 * available, version) would leave int64/uint64 range. Sets next->offset =
 * max(cur, ev->offset) (the watermark never moves back, e.g. for an event
 * without an input offset) and next->last_updated_ms = max(cur, event time).
 * Precondition: event_validate(ev) == INV_OK. */
inv_reason apply_event(const inv_agg *cur, const inv_event *ev, inv_agg *next);

#endif
