/* test_apply.c - the apply rules of DESIGN.md section 2 (engine/apply.c).
 *
 * The table is checked row by row for every event type and both sign
 * conventions, with every field of the resulting aggregate compared exactly.
 * Then the edges: min() on reserved and inTransit and the anomaly counters it
 * feeds, oversell detection, counter saturation, overflow of every field
 * (with *next left unchanged, also when cur and next alias), version
 * overflow, out-of-order event times, the offset watermark, and the
 * assertions that guard apply_event's preconditions (in a forked child). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apply.h"
#include "event.h"
#include "inv_limits.h"
#include "test_util.h"

#define TS_BASE 1795428930123LL /* 2026-11-23T10:15:30.123Z */

/* A valid event of type t and quantityDelta delta at the given offset and time. */
static inv_event ev_make(inv_event_type t, int64_t delta, int64_t offset, int64_t ts_ms) {
    inv_event e = {
        .event_id = "evt-1",
        .event_id_len = 5,
        .sku = "SKU-1",
        .sku_len = 5,
        .location_id = "store-1",
        .location_id_len = 7,
        .quantity_delta = delta,
        .timestamp_ms = ts_ms,
        .offset = offset,
        .partition = 0,
        .type = (uint8_t)t,
    };
    return e;
}

/* Applies (t, delta) to *a in place; the event must be valid and applicable. */
static void apply_ok(inv_agg *a, inv_event_type t, int64_t delta) {
    inv_event e = ev_make(t, delta, (int64_t)a->version, TS_BASE);
    assert_int_equal(event_validate(&e), INV_OK);
    assert_int_equal(apply_event(a, &e, a), INV_OK);
}

/* Applies (t, delta) to cur and expects the overflow reason want, with the
 * output untouched; both into a separate aggregate and in place. */
static void apply_overflow(const inv_agg *cur, inv_event_type t, int64_t delta, inv_reason want) {
    inv_event e = ev_make(t, delta, 99, TS_BASE);
    assert_int_equal(event_validate(&e), INV_OK);

    inv_agg next = tu_agg_with(11, 22, 33); /* a sentinel: must survive unchanged */
    next.version = 44;
    inv_agg next_before = next;
    assert_int_equal(apply_event(cur, &e, &next), want);
    assert_memory_equal(&next, &next_before, sizeof(next));

    inv_agg self = *cur;
    assert_int_equal(apply_event(&self, &e, &self), want);
    assert_memory_equal(&self, cur, sizeof(self));
}

static void test_agg_init(void **state) {
    (void)state;
    inv_agg a;
    memset(&a, 0x5a, sizeof(a));
    agg_init(&a);
    assert_int_equal(a.on_hand, 0);
    assert_int_equal(a.reserved, 0);
    assert_int_equal(a.in_transit, 0);
    assert_true(a.last_updated_ms == INT64_MIN);
    assert_int_equal(a.version, 0);
    assert_int_equal(a.offset, -1);
    assert_int_equal(a.oversell_count, 0);
    assert_int_equal(a.release_excess_count, 0);
    assert_int_equal(a.transfer_in_excess_count, 0);
    assert_int_equal(a.reserved0, 0);
    assert_int_equal(agg_available(&a), 0);
}

typedef struct apply_row {
    inv_event_type type;
    int64_t on_hand, reserved, in_transit; /* expected after |q| = 7 on {100, 10, 20} */
} apply_row;

/* DESIGN.md section 2, one row per type, from onHand 100, reserved 10,
 * inTransit 20 with q = 7 (no min() clamps, no anomalies). */
static const apply_row apply_table[] = {
    {INV_EV_RECEIPT, 107, 10, 20},     {INV_EV_TRANSFER_OUT, 93, 10, 20},
    {INV_EV_IN_TRANSIT, 100, 10, 27},  {INV_EV_TRANSFER_IN, 107, 10, 13},
    {INV_EV_SALE, 93, 10, 20},         {INV_EV_RETURN, 107, 10, 20},
    {INV_EV_RESERVATION, 100, 17, 20}, {INV_EV_RELEASE, 100, 3, 20},
    {INV_EV_FULFILLMENT, 93, 3, 20},
};

static void test_table_rows_both_signs(void **state) {
    (void)state;
    size_t rows = sizeof(apply_table) / sizeof(apply_table[0]);
    assert_int_equal(rows, INV_EV_TYPE_COUNT - 2); /* every type but NONE and ADJUSTMENT */
    for (size_t i = 0; i < rows; i++) {
        const apply_row *row = &apply_table[i];
        for (int sign = -1; sign <= 1; sign += 2) {
            inv_agg cur = tu_agg_with(100, 10, 20);
            inv_agg next;
            memset(&next, 0xee, sizeof(next));
            inv_event e = ev_make(row->type, sign * 7, 1234, TS_BASE);
            assert_int_equal(event_validate(&e), INV_OK);
            assert_int_equal(apply_event(&cur, &e, &next), INV_OK);
            assert_int_equal(next.on_hand, row->on_hand);
            assert_int_equal(next.reserved, row->reserved);
            assert_int_equal(next.in_transit, row->in_transit);
            assert_int_equal(agg_available(&next), row->on_hand - row->reserved);
            assert_int_equal(next.version, 1);
            assert_int_equal(next.offset, 1234);
            assert_int_equal(next.last_updated_ms, TS_BASE);
            assert_int_equal(next.oversell_count, 0);
            assert_int_equal(next.release_excess_count, 0);
            assert_int_equal(next.transfer_in_excess_count, 0);
            assert_int_equal(next.reserved0, 0);
            /* cur is const and was not touched. */
            assert_int_equal(cur.on_hand, 100);
            assert_int_equal(cur.version, 0);
        }
    }
}

/* The SALE of the DESIGN example, both conventions: -2 and +2 remove 2. */
static void test_sale_both_conventions(void **state) {
    (void)state;
    inv_agg a = tu_agg_with(10, 0, 0);
    apply_ok(&a, INV_EV_SALE, -2);
    assert_int_equal(a.on_hand, 8);
    apply_ok(&a, INV_EV_SALE, 2);
    assert_int_equal(a.on_hand, 6);
    apply_ok(&a, INV_EV_RECEIPT, -5); /* a receipt sent as negative still adds */
    assert_int_equal(a.on_hand, 11);
    assert_int_equal(a.version, 3);
}

static void test_adjustment_signed(void **state) {
    (void)state;
    inv_agg a = tu_agg_with(100, 10, 20);
    apply_ok(&a, INV_EV_ADJUSTMENT, 7);
    assert_int_equal(a.on_hand, 107);
    apply_ok(&a, INV_EV_ADJUSTMENT, -50);
    assert_int_equal(a.on_hand, 57);
    assert_int_equal(a.reserved, 10);
    assert_int_equal(a.in_transit, 20);
    apply_ok(&a, INV_EV_ADJUSTMENT, -100); /* onHand may go negative: an oversell */
    assert_int_equal(a.on_hand, -43);
    assert_int_equal(agg_available(&a), -53);
    assert_int_equal(a.oversell_count, 1);
    assert_int_equal(a.version, 3);
}

/* |q| = 10^9 is accepted and applied exactly; 0, 10^9 + 1 and INT64_MIN are
 * rejected by validation (apply_event never sees them). */
static void test_quantity_bounds(void **state) {
    (void)state;
    inv_agg a;
    agg_init(&a);
    apply_ok(&a, INV_EV_RECEIPT, INV_QUANTITY_ABS_MAX);
    assert_int_equal(a.on_hand, 1000000000LL);
    apply_ok(&a, INV_EV_SALE, -INV_QUANTITY_ABS_MAX);
    assert_int_equal(a.on_hand, 0);
    apply_ok(&a, INV_EV_ADJUSTMENT, -INV_QUANTITY_ABS_MAX);
    assert_int_equal(a.on_hand, -1000000000LL);

    static const int64_t bad[] = {0, INV_QUANTITY_ABS_MAX + 1, -INV_QUANTITY_ABS_MAX - 1,
                                  INT64_MIN, INT64_MAX};
    static const inv_reason why[] = {INV_R_QUANTITY_ZERO, INV_R_QUANTITY_TOO_LARGE,
                                     INV_R_QUANTITY_TOO_LARGE, INV_R_QUANTITY_TOO_LARGE,
                                     INV_R_QUANTITY_TOO_LARGE};
    for (int t = INV_EV_RECEIPT; t < INV_EV_TYPE_COUNT; t++) {
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            inv_event e = ev_make((inv_event_type)t, bad[i], 0, TS_BASE);
            assert_int_equal(event_validate(&e), why[i]);
        }
    }
}

static void test_transfer_in_excess(void **state) {
    (void)state;
    inv_agg a = tu_agg_with(0, 0, 20);
    apply_ok(&a, INV_EV_TRANSFER_IN, 20); /* exactly what is in transit: no anomaly */
    assert_int_equal(a.on_hand, 20);
    assert_int_equal(a.in_transit, 0);
    assert_int_equal(a.transfer_in_excess_count, 0);
    a.in_transit = 5;
    apply_ok(&a, INV_EV_TRANSFER_IN, -8); /* 3 more than in transit */
    assert_int_equal(a.on_hand, 28);
    assert_int_equal(a.in_transit, 0);
    assert_int_equal(a.transfer_in_excess_count, 1);
    apply_ok(&a, INV_EV_TRANSFER_IN, 1); /* nothing in transit at all */
    assert_int_equal(a.on_hand, 29);
    assert_int_equal(a.in_transit, 0);
    assert_int_equal(a.transfer_in_excess_count, 2);
    assert_int_equal(a.release_excess_count, 0);
    assert_int_equal(a.oversell_count, 0);
}

static void test_release_excess(void **state) {
    (void)state;
    inv_agg a = tu_agg_with(50, 10, 0);
    apply_ok(&a, INV_EV_RELEASE, 10); /* exactly what is reserved */
    assert_int_equal(a.reserved, 0);
    assert_int_equal(a.release_excess_count, 0);
    a.reserved = 4;
    apply_ok(&a, INV_EV_RELEASE, -9);
    assert_int_equal(a.reserved, 0);
    assert_int_equal(a.on_hand, 50);
    assert_int_equal(a.release_excess_count, 1);
    assert_int_equal(a.oversell_count, 0);
    assert_int_equal(a.transfer_in_excess_count, 0);
}

static void test_fulfillment_excess(void **state) {
    (void)state;
    inv_agg a = tu_agg_with(50, 10, 0);
    apply_ok(&a, INV_EV_FULFILLMENT, 10); /* ships exactly the reservation */
    assert_int_equal(a.on_hand, 40);
    assert_int_equal(a.reserved, 0);
    assert_int_equal(a.release_excess_count, 0);
    a.reserved = 3;
    apply_ok(&a, INV_EV_FULFILLMENT, -5); /* ships 2 more than reserved */
    assert_int_equal(a.on_hand, 35);
    assert_int_equal(a.reserved, 0);
    assert_int_equal(a.release_excess_count, 1);
    apply_ok(&a, INV_EV_FULFILLMENT, 1); /* nothing reserved */
    assert_int_equal(a.on_hand, 34);
    assert_int_equal(a.release_excess_count, 2);
    assert_int_equal(a.oversell_count, 0);
}

static void test_oversell(void **state) {
    (void)state;
    inv_agg a = tu_agg_with(5, 0, 0);
    apply_ok(&a, INV_EV_SALE, 5); /* down to exactly 0: not an oversell */
    assert_int_equal(a.on_hand, 0);
    assert_int_equal(a.oversell_count, 0);
    apply_ok(&a, INV_EV_SALE, 1);
    assert_int_equal(a.on_hand, -1);
    assert_int_equal(a.oversell_count, 1);
    apply_ok(&a, INV_EV_TRANSFER_OUT, 1); /* lowers an already negative available */
    assert_int_equal(a.oversell_count, 2);
    apply_ok(&a, INV_EV_RECEIPT, 1); /* raises available, still negative: no */
    assert_int_equal(agg_available(&a), -1);
    assert_int_equal(a.oversell_count, 2);
    apply_ok(&a, INV_EV_IN_TRANSIT, 9); /* available unchanged: no */
    assert_int_equal(a.oversell_count, 2);
    apply_ok(&a, INV_EV_RETURN, 3);
    assert_int_equal(agg_available(&a), 2);
    apply_ok(&a, INV_EV_RESERVATION, 3); /* reserving more than available oversells */
    assert_int_equal(agg_available(&a), -1);
    assert_int_equal(a.oversell_count, 3);
    apply_ok(&a, INV_EV_FULFILLMENT, 3); /* q <= reserved: available unchanged */
    assert_int_equal(agg_available(&a), -1);
    assert_int_equal(a.oversell_count, 3);
    apply_ok(&a, INV_EV_FULFILLMENT, 2); /* nothing reserved: available drops */
    assert_int_equal(agg_available(&a), -3);
    assert_int_equal(a.oversell_count, 4);
    assert_int_equal(a.release_excess_count, 1);
    apply_ok(&a, INV_EV_ADJUSTMENT, -1);
    assert_int_equal(a.oversell_count, 5);
    apply_ok(&a, INV_EV_ADJUSTMENT, 1);
    assert_int_equal(a.oversell_count, 5);
    apply_ok(&a, INV_EV_RELEASE, 1);
    assert_int_equal(a.oversell_count, 5);
    assert_int_equal(a.release_excess_count, 2);
}

static void test_counters_saturate(void **state) {
    (void)state;
    inv_agg a = tu_agg_with(0, 0, 0);
    a.oversell_count = UINT32_MAX - 1;
    a.release_excess_count = UINT32_MAX - 1;
    a.transfer_in_excess_count = UINT32_MAX - 1;
    for (int i = 0; i < 3; i++) {
        apply_ok(&a, INV_EV_SALE, 1);
        apply_ok(&a, INV_EV_RELEASE, 1);
        apply_ok(&a, INV_EV_TRANSFER_IN, 1);
    }
    assert_int_equal(a.oversell_count, UINT32_MAX);
    assert_int_equal(a.release_excess_count, UINT32_MAX);
    assert_int_equal(a.transfer_in_excess_count, UINT32_MAX);
    assert_int_equal(a.version, 9);
    assert_int_equal(a.on_hand, 0);
}

static void test_overflow_on_hand(void **state) {
    (void)state;
    inv_agg hi = tu_agg_with(INT64_MAX - 5, 0, 0);
    static const inv_event_type up[] = {INV_EV_RECEIPT, INV_EV_TRANSFER_IN, INV_EV_RETURN,
                                        INV_EV_ADJUSTMENT};
    for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
        apply_overflow(&hi, up[i], 6, INV_R_OVERFLOW_ON_HAND);
        apply_overflow(&hi, up[i], INV_QUANTITY_ABS_MAX, INV_R_OVERFLOW_ON_HAND);
        inv_agg a = hi;
        apply_ok(&a, up[i], 5);
        assert_true(a.on_hand == INT64_MAX);
    }
    inv_agg lo = tu_agg_with(INT64_MIN + 5, 0, 0);
    static const inv_event_type down[] = {INV_EV_TRANSFER_OUT, INV_EV_SALE, INV_EV_FULFILLMENT};
    for (size_t i = 0; i < sizeof(down) / sizeof(down[0]); i++) {
        apply_overflow(&lo, down[i], 6, INV_R_OVERFLOW_ON_HAND);
        apply_overflow(&lo, down[i], -6, INV_R_OVERFLOW_ON_HAND);
        inv_agg a = lo;
        apply_ok(&a, down[i], 5);
        assert_true(a.on_hand == INT64_MIN);
        assert_true(agg_available(&a) == INT64_MIN);
    }
    apply_overflow(&lo, INV_EV_ADJUSTMENT, -6, INV_R_OVERFLOW_ON_HAND);
}

static void test_overflow_reserved(void **state) {
    (void)state;
    inv_agg cur = tu_agg_with(INT64_MAX, INT64_MAX - 5, 0); /* available 5 */
    apply_overflow(&cur, INV_EV_RESERVATION, 6, INV_R_OVERFLOW_RESERVED);
    apply_overflow(&cur, INV_EV_RESERVATION, -INV_QUANTITY_ABS_MAX, INV_R_OVERFLOW_RESERVED);
    inv_agg a = cur;
    apply_ok(&a, INV_EV_RESERVATION, 5);
    assert_true(a.reserved == INT64_MAX);
    assert_int_equal(agg_available(&a), 0);
}

static void test_overflow_in_transit(void **state) {
    (void)state;
    inv_agg cur = tu_agg_with(0, 0, INT64_MAX - 5);
    apply_overflow(&cur, INV_EV_IN_TRANSIT, 6, INV_R_OVERFLOW_IN_TRANSIT);
    apply_overflow(&cur, INV_EV_IN_TRANSIT, -6, INV_R_OVERFLOW_IN_TRANSIT);
    inv_agg a = cur;
    apply_ok(&a, INV_EV_IN_TRANSIT, 5);
    assert_true(a.in_transit == INT64_MAX);
    apply_ok(&a, INV_EV_TRANSFER_IN, INV_QUANTITY_ABS_MAX);
    assert_true(a.in_transit == INT64_MAX - INV_QUANTITY_ABS_MAX);
    assert_int_equal(a.on_hand, INV_QUANTITY_ABS_MAX);
}

/* onHand and reserved each in range, but onHand - reserved below INT64_MIN. */
static void test_overflow_available(void **state) {
    (void)state;
    inv_agg cur = tu_agg_with(-10, INT64_MAX - 10, 0); /* available = INT64_MIN + 1 */
    assert_true(agg_available(&cur) == INT64_MIN + 1);
    apply_overflow(&cur, INV_EV_RESERVATION, 2, INV_R_OVERFLOW_AVAILABLE);
    apply_overflow(&cur, INV_EV_SALE, 2, INV_R_OVERFLOW_AVAILABLE);
    apply_overflow(&cur, INV_EV_TRANSFER_OUT, -2, INV_R_OVERFLOW_AVAILABLE);
    apply_overflow(&cur, INV_EV_ADJUSTMENT, -2, INV_R_OVERFLOW_AVAILABLE);
    /* FULFILLMENT with q <= reserved moves onHand and reserved together: available
     * is unchanged, so it fits. */
    inv_agg f = cur;
    apply_ok(&f, INV_EV_FULFILLMENT, INV_QUANTITY_ABS_MAX);
    assert_true(agg_available(&f) == INT64_MIN + 1);
    assert_int_equal(f.on_hand, -10 - INV_QUANTITY_ABS_MAX);
    assert_int_equal(f.oversell_count, 0);
    /* One unit fits exactly: available becomes INT64_MIN. */
    inv_agg a = cur;
    apply_ok(&a, INV_EV_RESERVATION, 1);
    assert_true(agg_available(&a) == INT64_MIN);
    assert_int_equal(a.oversell_count, 1);
    /* Raising available is always fine. */
    a = cur;
    apply_ok(&a, INV_EV_RELEASE, 5);
    assert_true(agg_available(&a) == INT64_MIN + 6);
}

static void test_overflow_version(void **state) {
    (void)state;
    inv_agg cur = tu_agg_with(1, 0, 0);
    cur.version = UINT64_MAX;
    for (int t = INV_EV_RECEIPT; t < INV_EV_TYPE_COUNT; t++) {
        apply_overflow(&cur, (inv_event_type)t, 1, INV_R_OVERFLOW_VERSION);
    }
    cur.version = UINT64_MAX - 1;
    apply_ok(&cur, INV_EV_RECEIPT, 1);
    assert_true(cur.version == UINT64_MAX);
    assert_int_equal(cur.on_hand, 2);
}

/* Events arrive out of event-time order: lastUpdated is the maximum seen. */
static void test_out_of_order_timestamps(void **state) {
    (void)state;
    inv_agg a;
    agg_init(&a);
    inv_event e = ev_make(INV_EV_RECEIPT, 1, 0, INV_TIMESTAMP_MS_MIN);
    assert_int_equal(apply_event(&a, &e, &a), INV_OK);
    assert_int_equal(a.last_updated_ms, 0); /* from INT64_MIN to epoch 0 */
    e = ev_make(INV_EV_RECEIPT, 1, 1, TS_BASE);
    assert_int_equal(apply_event(&a, &e, &a), INV_OK);
    assert_int_equal(a.last_updated_ms, TS_BASE);
    e = ev_make(INV_EV_SALE, 1, 2, TS_BASE - 60000);
    assert_int_equal(apply_event(&a, &e, &a), INV_OK);
    assert_int_equal(a.last_updated_ms, TS_BASE); /* stays the max */
    assert_int_equal(a.on_hand, 1);               /* but the event was applied */
    assert_int_equal(a.version, 3);
    e = ev_make(INV_EV_SALE, 1, 3, INV_TIMESTAMP_MS_MAX);
    assert_int_equal(apply_event(&a, &e, &a), INV_OK);
    assert_int_equal(a.last_updated_ms, INV_TIMESTAMP_MS_MAX);
}

/* next.offset is the offset of the event just applied (the watermark); -1 for
 * an event not from Kafka. apply_event does not judge the order of offsets:
 * skipping replays is the caller's job. */
static void test_offset_watermark(void **state) {
    (void)state;
    inv_agg a;
    agg_init(&a);
    inv_event e = ev_make(INV_EV_RECEIPT, 1, 41, TS_BASE);
    assert_int_equal(apply_event(&a, &e, &a), INV_OK);
    assert_int_equal(a.offset, 41);
    e.offset = 1000000000000LL;
    assert_int_equal(apply_event(&a, &e, &a), INV_OK);
    assert_int_equal(a.offset, 1000000000000LL);
    /* Regression (found by test_partition's review): an event without an
     * input offset (-1) must not move the watermark back, or a replay of
     * offsets already applied would apply them again. */
    e.offset = -1;
    assert_int_equal(apply_event(&a, &e, &a), INV_OK);
    assert_int_equal(a.offset, 1000000000000LL);
    /* Nor does an older offset (the caller skips those; apply stays monotone). */
    e.offset = 5;
    assert_int_equal(apply_event(&a, &e, &a), INV_OK);
    assert_int_equal(a.offset, 1000000000000LL);
    /* A rejected event does not move the watermark. */
    a.version = UINT64_MAX;
    e.offset = 2000000000000LL;
    assert_int_equal(apply_event(&a, &e, &a), INV_R_OVERFLOW_VERSION);
    assert_int_equal(a.offset, 1000000000000LL);
}

/* cur == next: the result is the same as into a separate aggregate. */
static void test_aliasing(void **state) {
    (void)state;
    for (int t = INV_EV_RECEIPT; t < INV_EV_TYPE_COUNT; t++) {
        for (int64_t q = -3; q <= 3; q++) {
            if (q == 0) continue;
            inv_agg cur = tu_agg_with(2, 1, 1);
            cur.version = 7;
            inv_event e = ev_make((inv_event_type)t, q, 5, TS_BASE);
            inv_agg sep;
            assert_int_equal(apply_event(&cur, &e, &sep), INV_OK);
            inv_agg self = cur;
            assert_int_equal(apply_event(&self, &e, &self), INV_OK);
            assert_memory_equal(&self, &sep, sizeof(self));
            assert_int_equal(self.version, 8);
        }
    }
}

/* A key's life, end to end, with every field checked at the end. */
static void test_lifecycle(void **state) {
    (void)state;
    inv_agg a;
    agg_init(&a);
    apply_ok(&a, INV_EV_IN_TRANSIT, 100);   /* 0/0/100 */
    apply_ok(&a, INV_EV_TRANSFER_IN, 60);   /* 60/0/40 */
    apply_ok(&a, INV_EV_RECEIPT, 40);       /* 100/0/40 */
    apply_ok(&a, INV_EV_RESERVATION, -30);  /* 100/30/40 */
    apply_ok(&a, INV_EV_FULFILLMENT, 20);   /* 80/10/40 */
    apply_ok(&a, INV_EV_RELEASE, 10);       /* 80/0/40 */
    apply_ok(&a, INV_EV_SALE, -85);         /* -5/0/40: oversell */
    apply_ok(&a, INV_EV_RETURN, 2);         /* -3/0/40 */
    apply_ok(&a, INV_EV_ADJUSTMENT, 3);     /* 0/0/40 */
    apply_ok(&a, INV_EV_TRANSFER_OUT, -10); /* -10/0/40: oversell */
    assert_int_equal(a.on_hand, -10);
    assert_int_equal(a.reserved, 0);
    assert_int_equal(a.in_transit, 40);
    assert_int_equal(agg_available(&a), -10);
    assert_int_equal(a.version, 10);
    assert_int_equal(a.offset, 9);
    assert_int_equal(a.oversell_count, 2);
    assert_int_equal(a.release_excess_count, 0);
    assert_int_equal(a.transfer_in_excess_count, 0);
    assert_int_equal(a.last_updated_ms, TS_BASE);
}

/* Runs fn in a child and expects it to die of SIGABRT (an inv_assert). */
static void expect_abort(void (*fn)(void)) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *devnull = freopen("/dev/null", "w", stderr); /* keep the log quiet */
        (void)devnull;
        signal(SIGABRT, SIG_DFL);
        fn();
        _exit(0); /* not reached when the assertion fires */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void apply_type_none(void) {
    inv_agg a;
    agg_init(&a);
    inv_event e = ev_make(INV_EV_NONE, 1, 0, TS_BASE);
    (void)apply_event(&a, &e, &a);
}

static void apply_quantity_zero(void) {
    inv_agg a;
    agg_init(&a);
    inv_event e = ev_make(INV_EV_RECEIPT, 0, 0, TS_BASE);
    (void)apply_event(&a, &e, &a);
}

static void apply_quantity_int64_min(void) {
    inv_agg a;
    agg_init(&a);
    inv_event e = ev_make(INV_EV_SALE, INT64_MIN, 0, TS_BASE);
    (void)apply_event(&a, &e, &a);
}

static void apply_negative_reserved(void) {
    inv_agg a = tu_agg_with(0, -1, 0);
    inv_event e = ev_make(INV_EV_RECEIPT, 1, 0, TS_BASE);
    (void)apply_event(&a, &e, &a);
}

static void test_preconditions_asserted(void **state) {
    (void)state;
    expect_abort(apply_type_none);
    expect_abort(apply_quantity_zero);
    expect_abort(apply_quantity_int64_min);
    expect_abort(apply_negative_reserved);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agg_init),
        cmocka_unit_test(test_table_rows_both_signs),
        cmocka_unit_test(test_sale_both_conventions),
        cmocka_unit_test(test_adjustment_signed),
        cmocka_unit_test(test_quantity_bounds),
        cmocka_unit_test(test_transfer_in_excess),
        cmocka_unit_test(test_release_excess),
        cmocka_unit_test(test_fulfillment_excess),
        cmocka_unit_test(test_oversell),
        cmocka_unit_test(test_counters_saturate),
        cmocka_unit_test(test_overflow_on_hand),
        cmocka_unit_test(test_overflow_reserved),
        cmocka_unit_test(test_overflow_in_transit),
        cmocka_unit_test(test_overflow_available),
        cmocka_unit_test(test_overflow_version),
        cmocka_unit_test(test_out_of_order_timestamps),
        cmocka_unit_test(test_offset_watermark),
        cmocka_unit_test(test_aliasing),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_preconditions_asserted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
