/* apply.c - the apply rules of DESIGN.md section 2 on one key's aggregate.
 *
 * apply_event works in two steps. apply_effect turns (type, q, current
 * aggregate) into signed deltas for onHand, reserved and inTransit plus the
 * anomaly flags; it is the table of DESIGN.md section 2 written as a switch
 * and cannot overflow (every delta is bounded by 10^9 or by a current value).
 * apply_event then adds the deltas with __builtin_add_overflow into a local
 * copy and publishes it with one struct copy at the end, so an overflow
 * leaves *next untouched even when cur and next are the same aggregate.
 *
 * Invariants of every aggregate this file produces, asserted on the way in:
 * reserved >= 0, inTransit >= 0, onHand - reserved representable as int64.
 * Nothing is clamped: onHand and available may go negative; the anomalies
 * (oversell, release beyond reserved, transfer-in beyond in-transit) are
 * counted with saturating uint32 counters. */
#include "apply.h"

#include <string.h>

#include "inv_assert.h"

/* What one event does to an aggregate, before overflow checks. */
typedef struct apply_delta {
    int64_t on_hand;
    int64_t reserved;
    int64_t in_transit;
    bool release_excess;     /* RELEASE/FULFILLMENT with q > reserved */
    bool transfer_in_excess; /* TRANSFER_IN with q > inTransit */
} apply_delta;

/* Any thread. The aggregate of a key no event has touched yet: all zero,
 * last_updated_ms = INT64_MIN, offset = -1. */
void agg_init(inv_agg *a) {
    inv_assert(a != NULL);
    memset(a, 0, sizeof(*a));
    a->last_updated_ms = INT64_MIN;
    a->offset = -1;
    inv_assert(a->version == 0 && a->reserved0 == 0);
}

/* Any thread. Returns onHand - reserved. Asserts that it is representable,
 * which apply_event guarantees for every aggregate it produces. */
int64_t agg_available(const inv_agg *a) {
    inv_assert(a != NULL);
    int64_t avail;
    bool overflow = __builtin_sub_overflow(a->on_hand, a->reserved, &avail);
    inv_assert(!overflow);
    return avail;
}

/* File-local. Saturating increment of an anomaly counter. */
static inline uint32_t apply_counter_inc(uint32_t c) {
    return c == UINT32_MAX ? c : c + 1;
}

/* File-local. Fills d with the effect of an event of type t and quantity q
 * (signed for ADJUSTMENT, in [1, 10^9] otherwise) on cur, per the table of
 * DESIGN.md section 2. Every delta is bounded by 10^9 or by the current value
 * it reduces (min(q, reserved), min(q, inTransit)), so nothing here overflows. */
static inline void apply_effect(const inv_agg *cur, inv_event_type t, int64_t q, apply_delta *d) {
    inv_debug_assert(cur->reserved >= 0 && cur->in_transit >= 0);
    inv_debug_assert(t == INV_EV_ADJUSTMENT ? q != 0 : q > 0);
    *d = (apply_delta){0};
    switch (t) {
    case INV_EV_RECEIPT: d->on_hand = q; break;
    case INV_EV_TRANSFER_OUT: d->on_hand = -q; break;
    case INV_EV_IN_TRANSIT: d->in_transit = q; break;
    case INV_EV_TRANSFER_IN:
        d->on_hand = q;
        d->in_transit = -(q < cur->in_transit ? q : cur->in_transit);
        d->transfer_in_excess = q > cur->in_transit;
        break;
    case INV_EV_ADJUSTMENT: d->on_hand = q; break; /* signed */
    case INV_EV_SALE: d->on_hand = -q; break;
    case INV_EV_RETURN: d->on_hand = q; break;
    case INV_EV_RESERVATION: d->reserved = q; break;
    case INV_EV_RELEASE:
        d->reserved = -(q < cur->reserved ? q : cur->reserved);
        d->release_excess = q > cur->reserved;
        break;
    case INV_EV_FULFILLMENT:
        d->on_hand = -q;
        d->reserved = -(q < cur->reserved ? q : cur->reserved);
        d->release_excess = q > cur->reserved;
        break;
    case INV_EV_NONE:
    case INV_EV_TYPE_COUNT:
    default: inv_unreachable();
    }
}

/* Any thread; pure. Computes in *next the effect of the valid event ev on cur
 * (cur and next may alias). Returns INV_OK, or the INV_R_OVERFLOW_* reason of
 * the first field (onHand, reserved, inTransit, available, version, in that
 * order) that would leave its range, with *next unchanged. Asserts that ev is
 * valid (type, quantity) and that cur satisfies the aggregate invariants.
 *
 * On the hot path: every result is computed into locals first and each field
 * of *next is written exactly once at the end (no struct copies), which is
 * what keeps aliasing safe and the rejection side-effect free. */
inv_reason apply_event(const inv_agg *cur, const inv_event *ev, inv_agg *next) {
    inv_assert(cur != NULL && ev != NULL && next != NULL);
    inv_assert(ev->type != INV_EV_NONE && ev->type < INV_EV_TYPE_COUNT);
    inv_debug_assert(event_validate(ev) == INV_OK);
    const int64_t qd = ev->quantity_delta;
    inv_assert(qd != 0 && qd >= -INV_QUANTITY_ABS_MAX && qd <= INV_QUANTITY_ABS_MAX);
    inv_assert(cur->reserved >= 0 && cur->in_transit >= 0);
    const int64_t q = ev->type == INV_EV_ADJUSTMENT ? qd : (qd < 0 ? -qd : qd);
    int64_t avail_cur;
    const bool avail_unrepresentable = __builtin_sub_overflow(cur->on_hand, cur->reserved, &avail_cur);
    inv_assert(!avail_unrepresentable); /* every aggregate apply_event produced satisfies it */
    apply_delta d;
    apply_effect(cur, (inv_event_type)ev->type, q, &d);
    int64_t on_hand, reserved, in_transit, avail_next;
    uint64_t version;
    if (__builtin_add_overflow(cur->on_hand, d.on_hand, &on_hand)) return INV_R_OVERFLOW_ON_HAND;
    if (__builtin_add_overflow(cur->reserved, d.reserved, &reserved))
        return INV_R_OVERFLOW_RESERVED;
    if (__builtin_add_overflow(cur->in_transit, d.in_transit, &in_transit))
        return INV_R_OVERFLOW_IN_TRANSIT;
    if (__builtin_sub_overflow(on_hand, reserved, &avail_next)) return INV_R_OVERFLOW_AVAILABLE;
    if (__builtin_add_overflow(cur->version, (uint64_t)1, &version)) return INV_R_OVERFLOW_VERSION;
    inv_debug_assert(reserved >= 0 && in_transit >= 0);
    const bool oversell = avail_next < avail_cur && avail_next < 0;
    /* The watermark only moves forward: an event that came without an input
     * offset (-1, not from Kafka) must not reopen offsets already applied. */
    const int64_t offset = ev->offset > cur->offset ? ev->offset : cur->offset;
    const int64_t last_ms =
        ev->timestamp_ms > cur->last_updated_ms ? ev->timestamp_ms : cur->last_updated_ms;
    const uint32_t oversells = oversell ? apply_counter_inc(cur->oversell_count)
                                        : cur->oversell_count;
    const uint32_t releases = d.release_excess ? apply_counter_inc(cur->release_excess_count)
                                               : cur->release_excess_count;
    const uint32_t transfers = d.transfer_in_excess
                                   ? apply_counter_inc(cur->transfer_in_excess_count)
                                   : cur->transfer_in_excess_count;
    next->on_hand = on_hand;
    next->reserved = reserved;
    next->in_transit = in_transit;
    next->last_updated_ms = last_ms;
    next->version = version;
    next->offset = offset;
    next->oversell_count = oversells;
    next->release_excess_count = releases;
    next->transfer_in_excess_count = transfers;
    next->reserved0 = 0;
    return INV_OK;
}
