#!/usr/bin/env python3
"""invsync_model.py - event generator and ground-truth model for the invsync integration tests.

Three parts, Python 3 standard library only:

* murmur2 / partition_for: Kafka's Java Utils.murmur2 and DefaultPartitioner
  (toPositive(murmur2(key)) % partitions), the partitioner every producer of canonical events
  and stock levels uses (librdkafka partitioner=murmur2_random).

* EventGenerator: a seeded, deterministic stream of canonical events over S SKUs x L locations
  (warehouses wh-01.., stores store-001.., "online"), shaped like a retailer's day: WMS receipts,
  transfers (TRANSFER_OUT at the warehouse, IN_TRANSIT at the destination, TRANSFER_IN later,
  sometimes partial or beyond what shipped), POS baskets and returns, online reservations that
  are later fulfilled or released (sometimes beyond what was reserved), cycle-count adjustments.
  Both sign conventions for every non-ADJUSTMENT type, ISO-8601 and epoch-millisecond
  timestamps, some late (out of order) events, correlationId sometimes absent or null. Exact
  duplicates (same key, same bytes) and invalid messages come at configurable rates; each invalid
  message has exactly one defect and a known expected DLQ reason name (engine/reason.c).

* The model: classify() is the validity judgment of a Kafka record (key, partition, bytes) as the
  service must make it (engine/event.c event_validate plus the decoder and placement reasons of
  engine/reason.h); GroundTruth applies every valid, non-duplicate event in partition order with
  the rules of engine/apply.c (apply_event) and the per-partition dedup window of engine/dedup.c,
  exactly as engine/partition.c apply_one sequences them. It works on records read back from
  Kafka (partition, offset, key, value), never on what the generator meant to send, so
  offsets, producer retries and placement are whatever really happened.

`python3 tests/integration/invsync_model.py --self-test [--bootstrap HOST:PORT --topic T]`
runs the offline checks, then cross-checks murmur2 against librdkafka through kcat (see
kafka_util.py) on the given broker and scratch topic, or on a build/invsync-mock-kafka it starts
for the purpose (--offline skips that). Other commands: `gen` writes a generated stream as
KEY<TAB>JSON lines, `truth` computes the expected stock levels of a `kcat -C -J` dump.
"""

import argparse
import bisect
import collections
import datetime
import heapq
import json
import os
import random
import re
import sys

sys.dont_write_bytecode = True  # importing kafka_util must leave no __pycache__ in the tree

# ---------------------------------------------------------------------------------------------
# Limits: engine/limits.h (DESIGN.md section 2).

SKU_LEN_MAX = 64
LOCATION_LEN_MAX = 64
EVENT_ID_LEN_MAX = 128
CORRELATION_ID_LEN_MAX = 128
SOURCE_SYSTEM_LEN_MAX = 64
QUANTITY_ABS_MAX = 1_000_000_000
MESSAGE_BYTES_MAX = 64 * 1024
TIMESTAMP_MS_MIN = 0
TIMESTAMP_MS_MAX = 253402300799999  # 9999-12-31T23:59:59.999Z
JSON_DEPTH_MAX = 32
DEDUP_WINDOW_MS_DEFAULT = 24 * 3600 * 1000
DEDUP_IDS_MAX_DEFAULT = 1 << 20
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1
UINT32_MAX = (1 << 32) - 1
DEFAULT_PARTITIONS = 12

EVENT_TYPES = (
    "RECEIPT", "TRANSFER_OUT", "IN_TRANSIT", "TRANSFER_IN", "ADJUSTMENT",
    "SALE", "RETURN", "RESERVATION", "RELEASE", "FULFILLMENT",
)

# Field order of a stock-level record as the service writes it.
STOCK_FIELDS = (
    "sku", "locationId", "onHand", "reserved", "inTransit", "available", "lastUpdated",
    "version", "inputOffset", "oversells", "releaseExcesses", "transferInExcesses",
)

# Invalid kinds the generator makes. The first group is the brief's list; the second are further
# reasons of engine/reason.h whose trigger is unambiguous. Each maps to its reason name.
INVALID_KINDS_BASIC = (
    "json_syntax", "json_not_object", "event_id_missing", "event_type_unknown", "sku_bad_char",
    "quantity_zero", "quantity_too_large", "quantity_not_integer", "timestamp_format",
    "key_mismatch", "key_missing", "field_type", "field_duplicate", "partition_mismatch",
)
INVALID_KINDS_EXTRA = (
    "event_id_too_long", "sku_too_long", "location_bad_char", "correlation_id_too_long",
    "quantity_missing", "timestamp_missing", "timestamp_out_of_range",
)
INVALID_KINDS_ALL = INVALID_KINDS_BASIC + INVALID_KINDS_EXTRA

# ---------------------------------------------------------------------------------------------
# Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) and the default partitioner.

_M32 = 0xFFFFFFFF


def murmur2(data):
    """Returns Kafka's murmur2 of the bytes `data` as the signed 32-bit int Java returns."""
    assert isinstance(data, (bytes, bytearray)), "murmur2 hashes bytes"
    length = len(data)
    m = 0x5BD1E995
    h = (0x9747B28C ^ length) & _M32
    for i in range(0, length - length % 4, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * m) & _M32
        k ^= k >> 24
        k = (k * m) & _M32
        h = (h * m) & _M32
        h ^= k
    tail = length % 4
    base = length & ~3
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * m) & _M32
    h ^= h >> 13
    h = (h * m) & _M32
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key, partitions=DEFAULT_PARTITIONS):
    """The partition Java's DefaultPartitioner / librdkafka murmur2_random picks for a non-null
    key: toPositive(murmur2(key)) % partitions, toPositive(x) = x & 0x7fffffff."""
    assert partitions > 0
    if isinstance(key, str):
        key = key.encode()
    return (murmur2(key) & 0x7FFFFFFF) % partitions


# ---------------------------------------------------------------------------------------------
# Time helpers.

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|\+00:00)$")


def iso_from_ms(ms):
    """Epoch milliseconds -> "YYYY-MM-DDTHH:MM:SS.mmmZ" (the service's lastUpdated format)."""
    assert TIMESTAMP_MS_MIN <= ms <= TIMESTAMP_MS_MAX, ms
    dt = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond // 1000)


def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (any year >= 0), with the
    400-year-cycle arithmetic of io/timestamp.c (Hinnant's days_from_civil)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468  # 719468: days from 0000-03-01 to 1970-01-01


def ms_from_iso(s):
    """ISO-8601 UTC "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+00:00)" -> epoch ms (fraction truncated,
    negative before 1970), or None when s is not such a timestamp (impossible dates and :60
    included), as io/timestamp.h. The generator's valid events only ever use
    "YYYY-MM-DDTHH:MM:SS.mmmZ"."""
    m = _ISO_RE.match(s)
    if not m:
        return None
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    if not 1 <= mo <= 12:
        return None
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    mdays = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[mo - 1]
    if not 1 <= d <= mdays or hh > 23 or mi > 59 or ss > 59:
        return None
    frac = (m.group(7) or "").ljust(3, "0")[:3]
    days = _days_from_civil(y, mo, d)
    return (days * 86400 + hh * 3600 + mi * 60 + ss) * 1000 + int(frac)


# ---------------------------------------------------------------------------------------------
# Classification of one Kafka record: the service's validity judgment.

class _JsonFloat:
    """A JSON number with a fraction or exponent, kept as its text."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return "_JsonFloat(%s)" % self.text


class _JsonPairs(list):
    """A JSON object as its list of (name, value) pairs, duplicates kept."""


class _JsonConstant(ValueError):
    pass


def _raise_constant(name):
    raise _JsonConstant(name)  # NaN, Infinity, -Infinity are not JSON (RFC 8259)


def _json_depth(v):
    if isinstance(v, _JsonPairs):
        return 1 + max((_json_depth(x) for _, x in v), default=0)
    if isinstance(v, list):
        return 1 + max((_json_depth(x) for x in v), default=0)
    return 0


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


KNOWN_FIELDS = ("eventId", "eventType", "sku", "locationId", "correlationId", "sourceSystem",
                "quantityDelta", "timestamp")
KEY_LEN_MAX = SKU_LEN_MAX + 1 + LOCATION_LEN_MAX


def _field_error(name, present, v):
    """The decode error of one known member (io/json_event.h step 5), or None."""
    if name in ("eventId", "eventType", "sku", "locationId"):
        return "field_type" if present and not isinstance(v, str) else None
    if name in ("correlationId", "sourceSystem"):
        return "field_type" if present and v is not None and not isinstance(v, str) else None
    if name == "quantityDelta":
        if not present:
            return "quantity_missing"
        if isinstance(v, _JsonFloat):
            return "quantity_not_integer"
        return None if _is_int(v) else "field_type"
    assert name == "timestamp"
    if not present:
        return "timestamp_missing"
    if isinstance(v, _JsonFloat):
        return "timestamp_format"
    if isinstance(v, str):
        return None if ms_from_iso(v) is not None else "timestamp_format"
    return None if _is_int(v) else "field_type"


def classify(partition, key, value, partitions=DEFAULT_PARTITIONS):
    """Judges one canonical-topic record as the service must.

    partition: the partition the record is in (None: not checked); key: bytes or None;
    value: bytes or None. Returns (reason, event): reason is None for a valid event, else the
    reason name the DLQ header invsync.reason must carry; event is a dict with eventId, type,
    sku, locationId, q (quantityDelta as sent), ts_ms when valid, else None.

    Order of checks, the service's: placement (io/kafka_worker.c take_message: NULL or empty
    key, message size, murmur2 partition, key longer than sku:loc can be), then the decoder
    (io/json_event.h: JSON syntax / UTF-8 / depth, not an object, a known member twice, then per
    member in the order eventId, eventType, sku, locationId, correlationId, sourceSystem,
    quantityDelta, timestamp: wrong type, fraction, missing, bad timestamp form), then
    event_validate in engine/event.c order (eventId, eventType, sku, locationId, correlationId,
    sourceSystem, quantity, timestamp range, key == sku:locationId). The generator gives every
    invalid message exactly one defect, so its expected reason does not hang on this order.
    """
    if not key:
        return "key_missing", None
    if value is None:
        value = b""  # a NULL value decodes as empty bytes: json_syntax
    if len(value) > MESSAGE_BYTES_MAX:
        return "message_too_large", None
    if partition is not None and partition != partition_for(key, partitions):
        return "partition_mismatch", None
    if len(key) > KEY_LEN_MAX:
        return "key_mismatch", None
    try:
        text = value.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return "json_bad_utf8", None
    try:
        doc = json.loads(text, object_pairs_hook=_JsonPairs, parse_float=_JsonFloat,
                         parse_constant=_raise_constant)
    except RecursionError:
        return "json_too_deep", None
    except ValueError:  # JSONDecodeError and _JsonConstant
        return "json_syntax", None
    if _json_depth(doc) > JSON_DEPTH_MAX:
        return "json_too_deep", None
    if not isinstance(doc, _JsonPairs):
        return "json_not_object", None
    names = [n for n, _ in doc if n in KNOWN_FIELDS]
    if len(set(names)) != len(names):
        return "field_duplicate", None
    f = dict(doc)
    for name in KNOWN_FIELDS:
        err = _field_error(name, name in f, f.get(name))
        if err is not None:
            return err, None
    ts = f["timestamp"]
    ts_ms = ms_from_iso(ts) if isinstance(ts, str) else ts
    # event_validate (engine/event.c), in its order.
    event_id = f.get("eventId") or ""
    if not event_id:
        return "event_id_missing", None
    if len(event_id.encode()) > EVENT_ID_LEN_MAX:
        return "event_id_too_long", None
    etype = f.get("eventType")
    if etype not in EVENT_TYPES:
        return "event_type_unknown", None
    for name, lmax, prefix in (("sku", SKU_LEN_MAX, "sku"),
                               ("locationId", LOCATION_LEN_MAX, "location")):
        v = (f.get(name) or "").encode()
        if not v:
            return prefix + "_missing", None
        if len(v) > lmax:
            return prefix + "_too_long", None
        if not _key_part_ok(v):
            return prefix + "_bad_char", None
    if len((f.get("correlationId") or "").encode()) > CORRELATION_ID_LEN_MAX:
        return "correlation_id_too_long", None
    if len((f.get("sourceSystem") or "").encode()) > SOURCE_SYSTEM_LEN_MAX:
        return "source_system_too_long", None
    q = f["quantityDelta"]
    if q == 0:
        return "quantity_zero", None
    if q > QUANTITY_ABS_MAX or q < -QUANTITY_ABS_MAX:
        return "quantity_too_large", None
    if not (TIMESTAMP_MS_MIN <= ts_ms <= TIMESTAMP_MS_MAX):
        return "timestamp_out_of_range", None
    if key != (f["sku"] + ":" + f["locationId"]).encode():
        return "key_mismatch", None
    return None, {"eventId": event_id, "type": etype, "sku": f["sku"],
                  "locationId": f["locationId"], "q": q, "ts_ms": ts_ms}


_KEY_PART_RE = re.compile(rb"^[A-Za-z0-9._-]+$")


def _key_part_ok(b):
    return _KEY_PART_RE.match(b) is not None


# ---------------------------------------------------------------------------------------------
# Apply rules (engine/apply.c) and the aggregate.

class Agg:
    """One key's aggregate, as engine/apply.h inv_agg."""
    __slots__ = ("on_hand", "reserved", "in_transit", "last_ms", "version", "offset",
                 "oversells", "release_excesses", "transfer_in_excesses")

    def __init__(self):
        self.on_hand = 0
        self.reserved = 0
        self.in_transit = 0
        self.last_ms = INT64_MIN
        self.version = 0
        self.offset = -1
        self.oversells = 0
        self.release_excesses = 0
        self.transfer_in_excesses = 0

    def available(self):
        return self.on_hand - self.reserved

    def copy(self):
        a = Agg()
        for s in Agg.__slots__:
            setattr(a, s, getattr(self, s))
        return a


def _in_int64(x):
    return INT64_MIN <= x <= INT64_MAX


def apply_event(agg, etype, quantity_delta, ts_ms, offset):
    """Applies one valid event to agg in place, exactly as engine/apply.c apply_event.

    Returns None when applied, or the overflow reason name (agg unchanged) when a field would
    leave int64 (onHand, reserved, inTransit, available, version checked in that order).
    q = quantityDelta for ADJUSTMENT, |quantityDelta| for every other type. Anomalies:
    oversell = available went down and ended < 0; release excess = RELEASE/FULFILLMENT with
    q > reserved (before); transfer-in excess = TRANSFER_IN with q > inTransit (before).
    Counters saturate at 2^32-1. Watermark and lastUpdated take the max."""
    assert etype in EVENT_TYPES, etype
    assert quantity_delta != 0 and abs(quantity_delta) <= QUANTITY_ABS_MAX
    assert agg.reserved >= 0 and agg.in_transit >= 0
    q = quantity_delta if etype == "ADJUSTMENT" else abs(quantity_delta)
    d_on = d_res = d_tr = 0
    rel_excess = tin_excess = False
    if etype in ("RECEIPT", "RETURN", "ADJUSTMENT"):
        d_on = q
    elif etype in ("TRANSFER_OUT", "SALE"):
        d_on = -q
    elif etype == "IN_TRANSIT":
        d_tr = q
    elif etype == "TRANSFER_IN":
        d_on = q
        d_tr = -min(q, agg.in_transit)
        tin_excess = q > agg.in_transit
    elif etype == "RESERVATION":
        d_res = q
    elif etype == "RELEASE":
        d_res = -min(q, agg.reserved)
        rel_excess = q > agg.reserved
    elif etype == "FULFILLMENT":
        d_on = -q
        d_res = -min(q, agg.reserved)
        rel_excess = q > agg.reserved
    on_hand = agg.on_hand + d_on
    reserved = agg.reserved + d_res
    in_transit = agg.in_transit + d_tr
    if not _in_int64(on_hand):
        return "overflow_on_hand"
    if not _in_int64(reserved):
        return "overflow_reserved"
    if not _in_int64(in_transit):
        return "overflow_in_transit"
    avail_cur = agg.on_hand - agg.reserved
    avail_next = on_hand - reserved
    if not _in_int64(avail_next):
        return "overflow_available"
    if agg.version + 1 > UINT64_MAX:
        return "overflow_version"
    oversell = avail_next < avail_cur and avail_next < 0
    agg.on_hand, agg.reserved, agg.in_transit = on_hand, reserved, in_transit
    agg.version += 1
    agg.offset = max(agg.offset, offset)
    agg.last_ms = max(agg.last_ms, ts_ms)
    if oversell:
        agg.oversells = min(agg.oversells + 1, UINT32_MAX)
    if rel_excess:
        agg.release_excesses = min(agg.release_excesses + 1, UINT32_MAX)
    if tin_excess:
        agg.transfer_in_excesses = min(agg.transfer_in_excesses + 1, UINT32_MAX)
    return None


def stock_record(key, agg):
    """The stock-level value (as a dict in the service's field order) of key with agg."""
    sku, _, loc = key.partition(":")
    return collections.OrderedDict((
        ("sku", sku), ("locationId", loc), ("onHand", agg.on_hand),
        ("reserved", agg.reserved), ("inTransit", agg.in_transit),
        ("available", agg.available()), ("lastUpdated", iso_from_ms(agg.last_ms)),
        ("version", agg.version), ("inputOffset", agg.offset), ("oversells", agg.oversells),
        ("releaseExcesses", agg.release_excesses),
        ("transferInExcesses", agg.transfer_in_excesses),
    ))


class DedupWindow:
    """engine/dedup.c semantics on eventIds (exact strings instead of 64-bit fingerprints):
    newest = max(newest, t) first; then ids whose time < newest - window leave from the oldest
    inserted (FIFO, so a late id behind a newer head waits), and when full the oldest is
    evicted. Only applied (and replayed) events are inserted."""

    def __init__(self, window_ms=DEDUP_WINDOW_MS_DEFAULT, ids_max=DEDUP_IDS_MAX_DEFAULT):
        self.window_ms = window_ms
        self.ids_max = ids_max
        self.ring = collections.deque()
        self.ids = set()
        self.newest = INT64_MIN
        self.expired = 0
        self.evicted = 0

    def contains(self, event_id):
        return event_id in self.ids

    def insert(self, event_id, ts_ms):
        assert event_id not in self.ids
        self.newest = max(self.newest, ts_ms)
        while self.ring and self.ring[0][1] < self.newest - self.window_ms:
            self.ids.discard(self.ring.popleft()[0])
            self.expired += 1
        if len(self.ring) >= self.ids_max:
            self.ids.discard(self.ring.popleft()[0])
            self.evicted += 1
        self.ring.append((event_id, ts_ms))
        self.ids.add(event_id)


class GroundTruth:
    """Expected state from the records of the canonical topic, as read back.

    feed() takes records of one partition in offset order (any interleaving of partitions).
    Per record: classify; invalid -> expected DLQ entry; valid: duplicate eventId in the
    partition's window -> no effect; else apply_event to the key's aggregate (an overflow is a
    DLQ entry with that reason and the id stays out of the window, as engine/partition.c)."""

    def __init__(self, partitions=DEFAULT_PARTITIONS, dedup_window_ms=DEDUP_WINDOW_MS_DEFAULT,
                 dedup_ids_max=DEDUP_IDS_MAX_DEFAULT):
        self.partitions = partitions
        self.aggs = {}  # key str -> Agg
        self.key_partition = {}  # key str -> partition
        self.dlq = {}  # (partition, offset) -> (reason, key bytes|None, value bytes)
        self.dedup = collections.defaultdict(
            lambda: DedupWindow(dedup_window_ms, dedup_ids_max))
        self.last_offset = {}  # partition -> last offset fed
        self.counts = collections.Counter()

    def feed(self, partition, offset, key, value):
        assert 0 <= partition < self.partitions, partition
        assert offset > self.last_offset.get(partition, -1), "records must come in offset order"
        self.last_offset[partition] = offset
        reason, ev = classify(partition, key, value, self.partitions)
        if reason is not None:
            self.dlq[(partition, offset)] = (reason, key, value)
            self.counts["invalid"] += 1
            self.counts["invalid:" + reason] += 1
            return
        window = self.dedup[partition]
        if window.contains(ev["eventId"]):
            self.counts["duplicate"] += 1
            return
        k = key.decode()
        agg = self.aggs.get(k)
        if agg is None:
            agg = Agg()
        why = apply_event(agg, ev["type"], ev["q"], ev["ts_ms"], offset)
        if why is not None:
            self.dlq[(partition, offset)] = (why, key, value)
            self.counts["invalid"] += 1
            self.counts["invalid:" + why] += 1
            return
        self.aggs[k] = agg
        self.key_partition[k] = partition
        window.insert(ev["eventId"], ev["ts_ms"])
        self.counts["applied"] += 1
        self.counts["applied:" + ev["type"]] += 1

    def feed_records(self, records):
        """records: objects with partition, offset, key, value (kafka_util.Record)."""
        for r in sorted(records, key=lambda r: (r.partition, r.offset)):
            self.feed(r.partition, r.offset, r.key, r.value)
        return self

    def window_overflowed(self):
        return sum(w.expired + w.evicted for w in self.dedup.values())

    def expected_stock(self):
        """key str -> OrderedDict stock-level value."""
        return {k: stock_record(k, a) for k, a in self.aggs.items()}


# ---------------------------------------------------------------------------------------------
# Comparison with a clear diff.

def diff_stock(expected, got, limit=40):
    """expected, got: key -> dict of stock fields. Returns (lines, summary Counter). Each line:
    "key field: expected X, got Y" (or missing/unexpected key)."""
    lines = []
    summary = collections.Counter()
    for k in sorted(set(expected) | set(got)):
        e, g = expected.get(k), got.get(k)
        if g is None:
            summary["missing key"] += 1
            lines.append("%s: missing from stock-levels (expected version %s, onHand %s)"
                         % (k, e["version"], e["onHand"]))
            continue
        if e is None:
            summary["unexpected key"] += 1
            lines.append("%s: unexpected key in stock-levels (got %s)"
                         % (k, json.dumps(g, sort_keys=False)))
            continue
        for field in STOCK_FIELDS:
            if field not in g:
                summary["field " + field] += 1
                lines.append("%s %s: expected %r, got <absent>" % (k, field, e[field]))
            elif g[field] != e[field] or type(g[field]) is not type(e[field]):
                summary["field " + field] += 1
                lines.append("%s %s: expected %r, got %r" % (k, field, e[field], g[field]))
        for field in g:
            if field not in e:
                summary["extra field " + field] += 1
                lines.append("%s: unexpected field %s=%r" % (k, field, g[field]))
    if len(lines) > limit:
        more = len(lines) - limit
        lines = lines[:limit] + ["... and %d more differences" % more]
    return lines, summary


# ---------------------------------------------------------------------------------------------
# Generator.

class Msg:
    """One message to produce. partition: explicit partition or None (murmur2 of the key);
    key: bytes or None; value: bytes; kind: "valid", "duplicate" or "invalid"; reason: the
    expected DLQ reason of an invalid message; event_id: the eventId when there is one."""
    __slots__ = ("partition", "key", "value", "kind", "reason", "event_id", "variant")

    def __init__(self, partition, key, value, kind, reason=None, event_id=None, variant=None):
        self.partition = partition
        self.key = key
        self.value = value
        self.kind = kind
        self.reason = reason
        self.event_id = event_id
        self.variant = variant

    def __repr__(self):
        return "Msg(%s, p=%s, key=%r, value=%r, reason=%s)" % (
            self.kind, self.partition, self.key, self.value[:80], self.reason)


def make_locations(n):
    """n locations: about 10 % warehouses (at least one), one "online" when n >= 3, the rest
    stores. Returns (warehouses, stores, online_or_None)."""
    assert n >= 1
    n_wh = max(1, round(n * 0.1))
    n_online = 1 if n >= 3 else 0
    n_store = n - n_wh - n_online
    wh = ["wh-%02d" % (i + 1) for i in range(n_wh)]
    stores = ["store-%03d" % (i + 1) for i in range(n_store)]
    return wh, stores, ("online" if n_online else None)


START_MS_DEFAULT = 1795413600000  # 2026-11-23T06:00:00.000Z


class EventGenerator:
    """Seeded, deterministic canonical event stream; see the module comment.

    generate(n) returns n Msg objects in the order to produce them. The same arguments always
    give the same bytes. run_tag (default "") goes into every eventId's source so that two runs
    sharing one topic do not collide on eventIds.

    Event time starts at start_ms and advances doc_gap_ms per document on average (about
    0.3 s per message by default), so 20k messages cover under two hours of event time: well
    inside the 24 h dedup window, as is every duplicate (re-sent at most 400 messages later)."""

    def __init__(self, seed=1, skus=200, locations=20, partitions=DEFAULT_PARTITIONS,
                 dup_rate=0.03, invalid_rate=0.02, invalid_kinds=INVALID_KINDS_ALL,
                 start_ms=START_MS_DEFAULT, run_tag="", doc_gap_ms=600):
        assert skus >= 1 and locations >= 1
        assert 0 <= dup_rate < 1 and 0 <= invalid_rate < 1 and dup_rate + invalid_rate < 1
        for k in invalid_kinds:
            assert k in INVALID_KINDS_ALL, k
        self.rng = random.Random(seed)
        self.partitions = partitions
        self.dup_rate = dup_rate
        self.invalid_rate = invalid_rate
        self.invalid_kinds = tuple(invalid_kinds)
        self.skus = ["SKU-%06d" % (100000 + i * 37) for i in range(skus)]
        # Zipf-like popularity: a few SKUs sell a lot.
        weights = [1.0 / (i + 1) ** 0.8 for i in range(skus)]
        self.sku_cum = []
        acc = 0.0
        for w in weights:
            acc += w
            self.sku_cum.append(acc)
        self.wh, self.stores, self.online = make_locations(locations)
        self.locations = self.wh + self.stores + ([self.online] if self.online else [])
        self.tag = (run_tag + "-") if run_tag else ""
        self.clock_ms = start_ms
        self.doc_gap_ms = doc_gap_ms  # mean event-time gap between documents
        self.doc_no = collections.Counter()
        self.pending = []  # heap of (due message index, seq, event dict)
        self.pending_seq = 0
        self.doc_lines = collections.deque()  # lines of the current document
        self.recent_valid = collections.deque(maxlen=400)
        self.invalid_cycle = []
        self.est = collections.Counter()  # notional onHand per key, to keep sales plausible
        self.in_stock = collections.defaultdict(dict)  # loc -> SKUs with est > 0 (ordered)
        self.replenish = collections.deque()  # (store, sku) running low: transfer soon
        self.index = 0

    # -- helpers ------------------------------------------------------------------------------

    def _sku(self):
        x = self.rng.random() * self.sku_cum[-1]
        return self.skus[min(bisect.bisect_left(self.sku_cum, x), len(self.skus) - 1)]

    def _skus(self, n):
        out = []
        for _ in range(n * 4):
            s = self._sku()
            if s not in out:
                out.append(s)
            if len(out) == n:
                break
        return out

    def _est_add(self, sku, loc, d):
        """Notional stock: what the generator believes is on the shelf, to keep the stream
        plausible (sales of what is there, transfers of what the warehouse holds)."""
        self.est[(sku, loc)] += d
        if self.est[(sku, loc)] > 0:
            self.in_stock[loc][sku] = True
        else:
            self.in_stock[loc].pop(sku, None)

    def _stocked_sku(self, loc, p_any):
        """A popular SKU that loc holds, or with probability p_any (or when loc holds
        nothing) any SKU: those are the oversells and write-offs of real shops."""
        held = self.in_stock[loc]
        if not held or self.rng.random() < p_any:
            return self._sku()
        for _ in range(8):
            s = self._sku()
            if s in held:
                return s
        return self.rng.choice(list(held))

    def _stocked_skus(self, loc, n, p_any):
        out = []
        for _ in range(n * 4):
            s = self._stocked_sku(loc, p_any)
            if s not in out:
                out.append(s)
            if len(out) == n:
                break
        return out

    def _store(self):
        return self.rng.choice(self.stores) if self.stores else self.rng.choice(self.locations)

    def _dest(self):
        if self.online and self.rng.random() < 0.2:
            return self.online
        return self._store()

    def _doc(self, source):
        self.doc_no[source] += 1
        base = {"pos": 88000, "web": 51000, "wms-rcv": 7000, "wms-xfer": 5000,
                "pos-ret": 3000, "wms-adj": 900, "pos-cnt": 400, "bad": 100}.get(source, 1)
        return base + self.doc_no[source]

    def _doc_time(self):
        self.clock_ms += int(self.rng.expovariate(1.0 / self.doc_gap_ms)) + 1
        t = self.clock_ms
        if self.rng.random() < 0.04:  # late arrival: event time behind the stream
            t -= self.rng.randint(1000, 15 * 60 * 1000)
        return t

    def _event(self, event_id, etype, sku, loc, qd, source_system, t_ms, corr):
        return {"eventId": event_id, "eventType": etype, "sku": sku, "locationId": loc,
                "quantityDelta": qd, "sourceSystem": source_system, "timestamp": t_ms,
                "correlationId": corr}

    def _signed(self, q, natural_negative, p_other):
        """q with the producer's sign: the natural one (negative for types that reduce) or,
        with probability p_other, the other convention."""
        neg = natural_negative if self.rng.random() >= p_other else not natural_negative
        return -q if neg else q

    def _corr(self, value):
        r = self.rng.random()
        if r < 0.15:
            return ("absent",)
        if r < 0.22:
            return None
        return value

    def _schedule(self, delay, ev):
        self.pending_seq += 1
        heapq.heappush(self.pending, (self.index + delay, self.pending_seq, ev))

    # -- documents ----------------------------------------------------------------------------

    def _new_document(self):
        if self.replenish and self.rng.random() < 0.1:
            store, sku = self.replenish.popleft()
            lines = [sku]
            while self.replenish and self.replenish[0][0] == store and len(lines) < 4:
                lines.append(self.replenish.popleft()[1])
            srcs = [w for w in self.wh if any(self.est[(k, w)] > 0 for k in lines)]
            if not srcs:  # no warehouse holds them: the supplier delivers first
                self._doc_receipt(skus=lines)
                self.replenish.extend((store, k) for k in lines)
                return
            src = self.rng.choice(srcs)
            self._doc_transfer(dst=store, skus=[k for k in lines if self.est[(k, src)] > 0],
                               src=src)
            return
        r = self.rng.random()
        if r < 0.08:
            self._doc_receipt()
        elif r < 0.18:
            self._doc_transfer()
        elif r < 0.74:
            self._doc_basket()
        elif r < 0.79:
            self._doc_return()
        elif r < 0.95 and self.online:
            self._doc_online_order()
        else:
            self._doc_adjustment()

    def _doc_receipt(self, skus=None):
        n = self._doc("wms-rcv")
        t = self._doc_time()
        loc = self.rng.choice(self.wh)
        if self.online and self.rng.random() < 0.1 and not skus:
            loc = self.online
        corr = self._corr("po-%d" % n)
        for i, sku in enumerate(skus or self._skus(self.rng.randint(1, 5)), 1):
            q = self.rng.randint(2, 20) * 10
            self._est_add(sku, loc, q)
            self.doc_lines.append(self._event(
                "%swms-rcv-%d:%d" % (self.tag, n, i), "RECEIPT", sku, loc,
                self._signed(q, False, 0.1), "WMS", t + i, corr))

    def _stocked_loc(self, locs):
        held = [l for l in locs if self.in_stock[l]]
        return self.rng.choice(held) if held else None

    def _doc_transfer(self, dst=None, skus=None, src=None):
        src = src or self.rng.choice(self.wh)
        if not self.in_stock[src]:
            src = self._stocked_loc(self.wh)
            if src is None:  # nothing to ship yet: the morning's first receipts
                self._doc_receipt()
                return
        dst = dst or self._dest()
        if dst == src:
            self._doc_receipt()
            return
        n = self._doc("wms-xfer")
        t = self._doc_time()
        corr = self._corr("xfer-%d" % n)
        lines = skus or self._stocked_skus(src, self.rng.randint(1, 4), 0.03)
        for i, sku in enumerate(lines, 1):
            q = self.rng.randint(2, 24)
            if 0 < self.est[(sku, src)] < q:
                q = self.est[(sku, src)]
            self._est_add(sku, src, -q)
            self.doc_lines.append(self._event(
                "%swms-xfer-%d:%d" % (self.tag, n, i), "TRANSFER_OUT", sku, src,
                self._signed(q, True, 0.4), "WMS", t + i, corr))
            r = self.rng.random()
            if r < 0.93:  # shipped: in transit at the destination
                self.doc_lines.append(self._event(
                    "%swms-ship-%d:%d" % (self.tag, n, i), "IN_TRANSIT", sku, dst,
                    self._signed(q, False, 0.15), "WMS", t + 5 + i, corr))
            got = q
            if r > 0.85:
                got = q + self.rng.randint(1, 3)  # the store counts more than shipped
            elif r > 0.78:
                got = self.rng.randint(1, q)  # partial receipt
            ev = self._event("%spos-recv-%d:%d" % (self.tag, n, i), "TRANSFER_IN", sku, dst,
                             self._signed(got, False, 0.15),
                             "POS" if dst != self.online else "WEB", None, corr)
            ev["_est"] = got  # on the shelf when it arrives
            self._schedule(self.rng.randint(30, 1500), ev)

    def _doc_basket(self):
        store = self._store()
        if not self.in_stock[store] and self.rng.random() < 0.95:
            store = self._stocked_loc(self.stores)
            if store is None:  # no shelf holds anything yet: stock them first
                self._doc_transfer()
                return
        n = self._doc("pos")
        t = self._doc_time()
        corr = self._corr("basket-%d" % n)
        # Shoppers buy what is on the shelf; a few scans are of SKUs the system thinks are
        # out (the oversells), and the notional stock lags the transfers still in transit.
        for i, sku in enumerate(self._stocked_skus(store, self.rng.choice((1, 1, 1, 2, 2, 3, 4)),
                                                   0.02), 1):
            q = self.rng.choice((1, 1, 1, 1, 2, 2, 3))
            if 0 < self.est[(sku, store)] < q and self.rng.random() < 0.9:
                q = self.est[(sku, store)]  # the last ones on the shelf
            self._est_add(sku, store, -q)
            if self.est[(sku, store)] <= 2 and self.rng.random() < 0.7:
                self.replenish.append((store, sku))  # the store orders more
            self.doc_lines.append(self._event(
                "%spos-%d:%d" % (self.tag, n, i), "SALE", sku, store,
                self._signed(q, True, 0.4), "POS", t + i, corr))

    def _doc_return(self):
        n = self._doc("pos-ret")
        t = self._doc_time()
        store = self._store()
        sku = self._stocked_sku(store, 0.3)
        q = self.rng.choice((1, 1, 2))
        self._est_add(sku, store, q)
        self.doc_lines.append(self._event(
            "%spos-ret-%d:1" % (self.tag, n), "RETURN", sku, store,
            self._signed(q, False, 0.2), "POS", t, self._corr("basket-%d" % (n + 80000))))

    def _doc_online_order(self):
        loc = self.online
        if not self.in_stock[loc] and self.rng.random() < 0.95:
            self._doc_transfer(dst=loc)
            return
        n = self._doc("web")
        t = self._doc_time()
        corr = self._corr("order-%d" % n)
        for i, sku in enumerate(self._stocked_skus(loc, self.rng.choice((1, 1, 2, 3)), 0.05), 1):
            q = self.rng.choice((1, 1, 2, 3))
            self.doc_lines.append(self._event(
                "%sweb-%d:%d" % (self.tag, n, i), "RESERVATION", sku, loc,
                self._signed(q, False, 0.2), "WEB", t + i, corr))
            r = self.rng.random()
            delay = self.rng.randint(20, 800)
            if r < 0.72:  # shipped to the customer
                fq = q + 1 if self.rng.random() < 0.05 else q
                self._est_add(sku, loc, -fq)  # promised to the customer now
                self._schedule(delay, self._event(
                    "%sweb-ful-%d:%d" % (self.tag, n, i), "FULFILLMENT", sku, loc,
                    self._signed(fq, True, 0.5), "WEB", None, corr))
            elif r < 0.94:  # cancelled
                self._schedule(delay, self._event(
                    "%sweb-rel-%d:%d" % (self.tag, n, i), "RELEASE", sku, loc,
                    self._signed(q, True, 0.5), "WEB", None, corr))
            else:  # cancelled twice by a retrying checkout: the second is an excess
                self._schedule(delay, self._event(
                    "%sweb-rel-%d:%d" % (self.tag, n, i), "RELEASE", sku, loc,
                    self._signed(q, True, 0.5), "WEB", None, corr))
                self._schedule(delay + self.rng.randint(1, 50), self._event(
                    "%sweb-rel2-%d:%d" % (self.tag, n, i), "RELEASE", sku, loc,
                    self._signed(q, True, 0.5), "WEB", None, corr))

    def _doc_adjustment(self):
        source = self.rng.choice(("wms-adj", "pos-cnt"))
        n = self._doc(source)
        t = self._doc_time()
        loc = self.rng.choice(self.wh) if source == "wms-adj" else self._store()
        for i, sku in enumerate(self._stocked_skus(loc, self.rng.randint(1, 2), 0.2), 1):
            d = self.rng.choice((-3, -2, -1, -1, 1, 1, 2, 5))
            if self.rng.random() < 0.05:
                d *= 25  # a found pallet or a write-off
            self._est_add(sku, loc, d)
            self.doc_lines.append(self._event(
                "%s%s-%d:%d" % (self.tag, source, n, i), "ADJUSTMENT", sku, loc, d,
                "WMS" if source == "wms-adj" else "POS", t + i, None))

    # -- serialization ------------------------------------------------------------------------

    def _ts_json(self, t_ms):
        if self.rng.random() < 0.5:
            return json.dumps(iso_from_ms(t_ms))
        return str(t_ms)

    def _pairs(self, ev):
        """The (name, JSON text) pairs of a valid event, with the generator's variations:
        ISO or epoch timestamp, correlationId absent / null / a string, sourceSystem
        sometimes null, field order sometimes shuffled."""
        pairs = [("eventId", json.dumps(ev["eventId"])),
                 ("eventType", json.dumps(ev["eventType"])),
                 ("sku", json.dumps(ev["sku"])),
                 ("locationId", json.dumps(ev["locationId"])),
                 ("quantityDelta", str(ev["quantityDelta"]))]
        ss = ev["sourceSystem"]
        pairs.append(("sourceSystem", "null" if self.rng.random() < 0.03 else json.dumps(ss)))
        pairs.append(("timestamp", self._ts_json(ev["timestamp"])))
        corr = ev["correlationId"]
        if corr != ("absent",):
            pairs.append(("correlationId", "null" if corr is None else json.dumps(corr)))
        if self.rng.random() < 0.1:
            self.rng.shuffle(pairs)
        return pairs

    def _render(self, pairs):
        if self.rng.random() < 0.05:
            return ("{" + ", ".join("%s: %s" % (json.dumps(n), v) for n, v in pairs)
                    + "}").encode()
        return ("{" + ",".join("%s:%s" % (json.dumps(n), v) for n, v in pairs) + "}").encode()

    # -- the stream ---------------------------------------------------------------------------

    def _next_valid_event(self):
        if self.pending and self.pending[0][0] <= self.index:
            ev = heapq.heappop(self.pending)[2]
            ev["timestamp"] = self._doc_time()  # follow-ups happen when they are sent
            if "_est" in ev:
                self._est_add(ev["sku"], ev["locationId"], ev.pop("_est"))
            return ev
        while not self.doc_lines:
            self._new_document()
        return self.doc_lines.popleft()

    def generate(self, n):
        out = []
        while len(out) < n:
            self.index = len(out)
            r = self.rng.random()
            if r < self.dup_rate and self.recent_valid:
                m = self.rng.choice(self.recent_valid)
                out.append(Msg(None, m.key, m.value, "duplicate", None, m.event_id))
            elif r < self.dup_rate + self.invalid_rate and self.invalid_kinds:
                out.append(self._invalid())
            else:
                ev = self._next_valid_event()
                key = ("%s:%s" % (ev["sku"], ev["locationId"])).encode()
                m = Msg(None, key, self._render(self._pairs(ev)), "valid", None, ev["eventId"])
                self.recent_valid.append(m)
                out.append(m)
        return out

    # -- invalid messages ---------------------------------------------------------------------

    def _invalid(self):
        if not self.invalid_cycle:
            self.invalid_cycle = list(self.invalid_kinds)
            self.rng.shuffle(self.invalid_cycle)
        kind = self.invalid_cycle.pop()
        n = self._doc("bad")
        sku = self._sku()
        loc = self.rng.choice(self.locations)
        etype = self.rng.choice(EVENT_TYPES)
        qd = self.rng.randint(1, 5) * (1 if etype == "ADJUSTMENT" else self.rng.choice((1, -1)))
        ev = self._event("%spos-%d:1" % (self.tag, self._doc("pos")), etype, sku, loc, qd,
                         "POS", self._doc_time(), "bad-%d" % n)
        key = ("%s:%s" % (sku, loc)).encode()
        pairs = [("eventId", json.dumps(ev["eventId"])), ("eventType", json.dumps(etype)),
                 ("sku", json.dumps(sku)), ("locationId", json.dumps(loc)),
                 ("quantityDelta", str(qd)), ("sourceSystem", '"POS"'),
                 ("timestamp", self._ts_json(ev["timestamp"])),
                 ("correlationId", json.dumps(ev["correlationId"]))]
        partition = None
        value = None
        variant = None

        def setf(name, text):
            for i, (nm, _) in enumerate(pairs):
                if nm == name:
                    pairs[i] = (name, text)
                    return
            pairs.append((name, text))

        def dropf(name):
            pairs[:] = [(nm, v) for nm, v in pairs if nm != name]

        pick = self.rng.choice
        if kind == "json_syntax":
            good = "{" + ",".join("%s:%s" % (json.dumps(nm), v) for nm, v in pairs) + "}"
            variant = pick(("truncated", "missing_comma", "single_quotes", "prose",
                            "trailing_comma", "unquoted_names"))
            if variant == "truncated":
                value = good[:self.rng.randint(1, len(good) - 1)]
            elif variant == "missing_comma":
                value = good.replace(',"eventType"', ' "eventType"', 1)
            elif variant == "single_quotes":
                value = good.replace('"', "'")
            elif variant == "prose":
                value = "SALE %s at %s qty %d" % (sku, loc, abs(qd))
            elif variant == "trailing_comma":
                value = good[:-1] + ",}"
            else:
                value = re.sub(r'"(\w+)":', r"\1:", good)
        elif kind == "json_not_object":
            variant = pick(("array_of_event", "string", "number", "null", "true"))
            value = {"array_of_event": "[" + self._render(pairs).decode() + "]",
                     "string": json.dumps("SALE %s" % sku), "number": "42",
                     "null": "null", "true": "true"}[variant]
        elif kind == "event_id_missing":
            variant = pick(("absent", "empty"))
            if variant == "absent":
                dropf("eventId")
            else:
                setf("eventId", '""')
        elif kind == "event_type_unknown":
            variant = pick(("SHIPMENT", "sale", "Receipt", "TRANSFER", "", "absent"))
            if variant == "absent":
                dropf("eventType")
            else:
                setf("eventType", json.dumps(variant))
        elif kind == "sku_bad_char":
            variant = pick(("space", "slash", "hash", "non_ascii", "plus"))
            bad = {"space": sku.replace("-", " "), "slash": sku.replace("-", "/"),
                   "hash": sku + "#2", "non_ascii": sku + "\u00e9", "plus": sku + "+1"}[variant]
            setf("sku", json.dumps(bad, ensure_ascii=False))
            key = ("%s:%s" % (bad, loc)).encode()
        elif kind == "quantity_zero":
            variant = pick(("0", "-0"))
            setf("quantityDelta", variant)
        elif kind == "quantity_too_large":
            variant = pick(("1000000001", "-1000000001", "123456789012",
                            str(INT64_MAX), str(INT64_MIN)))
            setf("quantityDelta", variant)
        elif kind == "quantity_not_integer":
            variant = pick(("2.5", "-1.5", "3.0", "1e2", "2E1"))
            setf("quantityDelta", variant)
        elif kind == "timestamp_format":
            variant = pick(("23/11/2026 10:15:30", "yesterday",
                            "Mon, 23 Nov 2026 10:15:30 GMT", "2026-11-23T10:15:30.123Zjunk"))
            setf("timestamp", json.dumps(variant))
        elif kind == "key_mismatch":
            variant, key = self._mismatched_key(sku, loc, key)
        elif kind == "key_missing":
            variant = "null_key"
            partition = partition_for(key, self.partitions)
            key = None
        elif kind == "field_type":
            variant = pick(("quantity_string", "sku_number", "location_bool", "event_id_number",
                            "event_type_array", "timestamp_bool", "correlation_number",
                            "source_system_object"))
            name, text = {"quantity_string": ("quantityDelta", json.dumps(str(qd))),
                          "sku_number": ("sku", "123456"),
                          "location_bool": ("locationId", "true"),
                          "event_id_number": ("eventId", "88123"),
                          "event_type_array": ("eventType", json.dumps([etype])),
                          "timestamp_bool": ("timestamp", "false"),
                          "correlation_number": ("correlationId", "7"),
                          "source_system_object": ("sourceSystem", '{"name":"POS"}')}[variant]
            setf(name, text)
        elif kind == "field_duplicate":
            variant = pick(("sku_same", "quantity_different", "event_id_same",
                            "correlation_same", "timestamp_same"))
            name = {"sku_same": "sku", "quantity_different": "quantityDelta",
                    "event_id_same": "eventId", "correlation_same": "correlationId",
                    "timestamp_same": "timestamp"}[variant]
            text = dict(pairs)[name]
            if variant == "quantity_different":
                text = str(qd + 1 if qd + 1 != 0 else 2)
            pairs.insert(self.rng.randint(0, len(pairs)), (name, text))
        elif kind == "partition_mismatch":
            variant = "wrong_partition"
            right = partition_for(key, self.partitions)
            partition = (right + self.rng.randint(1, self.partitions - 1)) % self.partitions \
                if self.partitions > 1 else 0
            assert self.partitions > 1, "partition_mismatch needs 2+ partitions"
        elif kind == "event_id_too_long":
            variant = "129_bytes"
            setf("eventId", json.dumps("pos-%d:" % n + "x" * (EVENT_ID_LEN_MAX + 1 - 5
                                                              - len(str(n)))))
        elif kind == "sku_too_long":
            variant = "65_bytes"
            bad = "SKU-" + "9" * (SKU_LEN_MAX + 1 - 4)
            setf("sku", json.dumps(bad))
            key = ("%s:%s" % (bad, loc)).encode()
        elif kind == "location_bad_char":
            variant = pick(("space", "star"))
            bad = loc[:3] + " " + loc[3:] if variant == "space" else loc + "*"
            setf("locationId", json.dumps(bad))
            key = ("%s:%s" % (sku, bad)).encode()
        elif kind == "correlation_id_too_long":
            variant = "129_bytes"
            setf("correlationId", json.dumps("basket-" + "7" * (CORRELATION_ID_LEN_MAX + 1 - 7)))
        elif kind == "quantity_missing":
            variant = "absent"
            dropf("quantityDelta")
        elif kind == "timestamp_missing":
            variant = "absent"
            dropf("timestamp")
        elif kind == "timestamp_out_of_range":
            variant = pick(("negative_epoch", "after_9999"))
            setf("timestamp", {"negative_epoch": "-1",
                               "after_9999": str(TIMESTAMP_MS_MAX + 1)}[variant])
        else:
            raise AssertionError(kind)
        if value is None:
            value = self._render(pairs).decode() if kind != "field_duplicate" else \
                "{" + ",".join("%s:%s" % (json.dumps(nm), v) for nm, v in pairs) + "}"
        vb = value.encode() if isinstance(value, str) else value
        assert b"\n" not in vb and b"\t" not in vb and b"\r" not in vb
        return Msg(partition, key, vb, "invalid", kind, None, variant)

    def _mismatched_key(self, sku, loc, right_key):
        """A key that is not sku:loc of the payload but that murmur2 puts in the same partition,
        so that no partition check can preempt key_mismatch, whatever order the service checks
        in. Realistic near-misses: another location, lower-case sku, padded or reordered."""
        want = partition_for(right_key, self.partitions)
        cands = [("other_location", "%s:%s" % (sku, l)) for l in self.locations if l != loc]
        cands += [("lower_case_sku", "%s:%s" % (sku.lower(), loc)),
                  ("reversed", "%s:%s" % (loc, sku)),
                  ("dash_separator", "%s-%s" % (sku, loc))]
        cands += [("suffix", "%s:%s-%d" % (sku, loc, i)) for i in range(200)]
        self.rng.shuffle(cands)
        for variant, k in cands:
            kb = k.encode()
            if kb != right_key and partition_for(kb, self.partitions) == want:
                return variant, kb
        raise AssertionError("no mismatched key in partition %d" % want)


def messages_as_lines(msgs):
    """KEY<TAB>JSON lines (bytes) for keyed, unpartitioned messages (the sample format)."""
    out = []
    for m in msgs:
        assert m.partition is None and m.key is not None, "sample lines carry keyed messages only"
        out.append(m.key + b"\t" + m.value)
    return out


# ---------------------------------------------------------------------------------------------
# Self-test.

KNOWN_MURMUR2 = (  # Kafka UtilsTest.testMurmur2 and the values tests/test_partitioner.c uses
    (b"21", -973932308), (b"foobar", -790332482), (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971), (b"abc", 479470107),
    (b"", 275646681), (b"1", -1993445489), (b"12", 126087238), (b"123", -267702483),
    (b"1234", -1614185708), (b"12345", -1188365604),
) + tuple((k, v - (1 << 32) if v & 0x80000000 else v) for k, v in (  # librdkafka's vectors
    (b"kafka", 0xd067cf64), (b"giberish123456789", 0x8f552b0c), (b"234", 0xe7c009ca),
    (b"34", 0x873930da), (b"4", 0x5a4b5ca1),
    (b"PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1c),
    (b"reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62b377),
    (b"eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4e09e),
    (b"AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8b43f), (b"", 0x106e08d9)))
KNOWN_PARTITIONS = ((b"21", 12, 0), (b"21", 7, 3), (b"21", 1024, 236), (b"foobar", 12, 6),
                    (b"foobar", 1024, 958), (b"abc", 7, 4), (b"abc", 12, 3), (b"abc", 1024, 539),
                    (b"kafka", 12, 4), (b"kafka", 1024, 868))


class _SelfTest:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what)


def _self_test_murmur2(t):
    for data, want in KNOWN_MURMUR2:
        got = murmur2(data)
        t.check(got == want, "murmur2(%r) = %d, want %d" % (data, got, want))
    for data, n, want in KNOWN_PARTITIONS:
        got = partition_for(data, n)
        t.check(got == want, "partition_for(%r, %d) = %d, want %d" % (data, n, got, want))


def _apply_seq(events):
    a = Agg()
    for off, (etype, qd) in enumerate(events):
        r = apply_event(a, etype, qd, 1000 + off, off)
        assert r is None, r
    return a


def _self_test_apply(t):
    # Every type, both signs where the type takes either.
    for qd in (7, -7):
        a = _apply_seq([("RECEIPT", qd)])
        t.check((a.on_hand, a.available()) == (7, 7), "RECEIPT %d" % qd)
        a = _apply_seq([("RECEIPT", 10), ("SALE", qd)])
        t.check(a.on_hand == 3 and a.oversells == 0, "SALE %d" % qd)
        a = _apply_seq([("RECEIPT", 10), ("TRANSFER_OUT", qd)])
        t.check(a.on_hand == 3, "TRANSFER_OUT %d" % qd)
        a = _apply_seq([("IN_TRANSIT", qd)])
        t.check((a.in_transit, a.on_hand) == (7, 0), "IN_TRANSIT %d" % qd)
        a = _apply_seq([("RETURN", qd)])
        t.check(a.on_hand == 7, "RETURN %d" % qd)
        a = _apply_seq([("RESERVATION", qd)])
        t.check((a.reserved, a.available(), a.oversells) == (7, -7, 1), "RESERVATION %d" % qd)
    a = _apply_seq([("ADJUSTMENT", 5), ("ADJUSTMENT", -8)])
    t.check((a.on_hand, a.oversells) == (-3, 1), "ADJUSTMENT signed: %d" % a.on_hand)
    # TRANSFER_IN: inTransit -= min(q, inTransit); excess counted.
    a = _apply_seq([("IN_TRANSIT", 5), ("TRANSFER_IN", -3)])
    t.check((a.on_hand, a.in_transit, a.transfer_in_excesses) == (3, 2, 0), "TRANSFER_IN part")
    a = _apply_seq([("IN_TRANSIT", 5), ("TRANSFER_IN", 8)])
    t.check((a.on_hand, a.in_transit, a.transfer_in_excesses) == (8, 0, 1), "TRANSFER_IN excess")
    a = _apply_seq([("IN_TRANSIT", 5), ("TRANSFER_IN", 5)])
    t.check((a.in_transit, a.transfer_in_excesses) == (0, 0), "TRANSFER_IN exact: no excess")
    # RELEASE / FULFILLMENT.
    a = _apply_seq([("RECEIPT", 10), ("RESERVATION", 4), ("RELEASE", -6)])
    t.check((a.reserved, a.on_hand, a.release_excesses) == (0, 10, 1), "RELEASE excess")
    a = _apply_seq([("RECEIPT", 10), ("RESERVATION", 4), ("RELEASE", 4)])
    t.check((a.reserved, a.release_excesses) == (0, 0), "RELEASE exact: no excess")
    a = _apply_seq([("RECEIPT", 10), ("RESERVATION", 4), ("FULFILLMENT", -3)])
    t.check((a.on_hand, a.reserved, a.available(), a.release_excesses) == (7, 1, 6, 0),
            "FULFILLMENT")
    a = _apply_seq([("RECEIPT", 10), ("RESERVATION", 4), ("FULFILLMENT", 6)])
    t.check((a.on_hand, a.reserved, a.release_excesses, a.oversells) == (4, 0, 1, 0),
            "FULFILLMENT excess: available 4 -> 4, no oversell")
    # Oversell: available went down AND ended < 0; an event that raises a negative available
    # is not one, nor is one that leaves it unchanged.
    a = _apply_seq([("SALE", 2), ("SALE", 1), ("RECEIPT", 1), ("RESERVATION", 1)])
    t.check((a.available(), a.oversells) == (-3, 3), "oversell count %d" % a.oversells)
    a = _apply_seq([("RESERVATION", 2), ("FULFILLMENT", 2)])
    # RESERVATION: avail 0 -> -2 (oversell); FULFILLMENT: onHand -2, reserved 0: avail -2 -> -2.
    t.check((a.on_hand, a.available(), a.oversells) == (-2, -2, 1), "fulfillment keeps avail")
    a = _apply_seq([("RECEIPT", 3), ("SALE", 3)])
    t.check(a.oversells == 0 and a.available() == 0, "available 0 is no oversell")
    # Version, watermark, lastUpdated = max event time.
    a = Agg()
    apply_event(a, "RECEIPT", 1, 5000, 10)
    apply_event(a, "SALE", 1, 3000, 11)
    t.check((a.version, a.offset, a.last_ms) == (2, 11, 5000), "version/offset/lastUpdated")
    # Overflow leaves the aggregate unchanged.
    a = Agg()
    a.on_hand = INT64_MAX - 1
    t.check(apply_event(a, "RECEIPT", 5, 1, 1) == "overflow_on_hand" and a.version == 0,
            "overflow_on_hand")
    a = Agg()
    a.on_hand = INT64_MIN + 2
    t.check(apply_event(a, "RESERVATION", 5, 1, 1) == "overflow_available", "overflow_available")
    # Stock record and time format.
    t.check(iso_from_ms(1795429530123) == "2026-11-23T10:25:30.123Z",
            "iso_from_ms %s" % iso_from_ms(1795429530123))
    t.check(ms_from_iso("2026-11-23T10:25:30.123Z") == 1795429530123, "ms_from_iso")
    t.check(ms_from_iso("2026-02-30T00:00:00.000Z") is None, "impossible date")
    t.check(ms_from_iso("1970-01-01T00:00:00Z") == 0, "no fraction")
    t.check(ms_from_iso("1970-01-01T00:00:00.5+00:00") == 500, "+00:00 zone")
    t.check(ms_from_iso("1969-12-31T23:59:59.999Z") == -1, "before 1970")
    t.check(ms_from_iso("2000-02-29T00:00:00Z") == 951782400000, "2000 is leap")
    t.check(ms_from_iso("1900-02-29T00:00:00Z") is None, "1900 is not leap")
    t.check(ms_from_iso("2026-11-23T10:15:60Z") is None, "no leap second")
    t.check(ms_from_iso("9999-12-31T23:59:59.999999999Z") == TIMESTAMP_MS_MAX, "max, 9 digits")
    t.check(ms_from_iso("0000-01-01T00:00:00Z") == -62167219200000, "year 0")
    for ms in (0, 1, 951782400000, 1795429530123, TIMESTAMP_MS_MAX):
        t.check(ms_from_iso(iso_from_ms(ms)) == ms, "iso round trip %d" % ms)
    t.check(iso_from_ms(0) == "1970-01-01T00:00:00.000Z", "epoch")
    t.check(iso_from_ms(TIMESTAMP_MS_MAX) == "9999-12-31T23:59:59.999Z", "max time")
    rec = stock_record("SKU-1:store-1", _apply_seq([("RECEIPT", 10), ("RESERVATION", 2)]))
    t.check(list(rec) == list(STOCK_FIELDS), "stock record field order")
    t.check(json.dumps(rec, separators=(",", ":")) ==
            '{"sku":"SKU-1","locationId":"store-1","onHand":10,"reserved":2,"inTransit":0,'
            '"available":8,"lastUpdated":"1970-01-01T00:00:01.001Z","version":2,'
            '"inputOffset":1,"oversells":0,"releaseExcesses":0,"transferInExcesses":0}',
            "stock record " + json.dumps(rec, separators=(",", ":")))


def _self_test_dedup(t):
    w = DedupWindow(window_ms=1000, ids_max=3)
    w.insert("a", 100)
    w.insert("b", 500)
    t.check(w.contains("a") and w.contains("b"), "dedup holds ids")
    w.insert("c", 1100)  # newest 1100: a (100) < 100 expires? 100 < 1100-1000 = 100: no
    t.check(w.contains("a"), "equal stays")
    w.insert("d", 1101)  # 100 < 101: a expires; then 3 ids b c d
    t.check(not w.contains("a") and w.contains("b"), "time expiry")
    w.insert("e", 1102)  # full: b evicted
    t.check(not w.contains("b") and w.contains("e") and w.evicted == 1, "count eviction")
    # A duplicate in the ground truth changes nothing; a key's version counts applied events.
    g = GroundTruth()
    ev = b'{"eventId":"pos-1:1","eventType":"SALE","sku":"S","locationId":"L",' \
         b'"quantityDelta":-2,"timestamp":"2026-11-23T10:15:30.123Z"}'
    p = partition_for(b"S:L")
    g.feed(p, 0, b"S:L", ev)
    g.feed(p, 1, b"S:L", ev)
    g.feed(p, 5, b"S:L", ev.replace(b"pos-1:1", b"pos-1:2"))
    st = g.expected_stock()["S:L"]
    t.check((st["onHand"], st["version"], st["inputOffset"], st["oversells"]) == (-4, 2, 5, 2),
            "ground truth with a duplicate: %r" % dict(st))
    t.check(st["lastUpdated"] == "2026-11-23T10:15:30.123Z", "lastUpdated")
    # The same eventId in another partition is not a duplicate (the window is per partition).
    k2 = b"S:M"
    p2 = partition_for(k2)
    if p2 != p:
        g.feed(p2, 0, k2, ev.replace(b'"L"', b'"M"'))
        t.check(g.expected_stock()["S:M"]["version"] == 1, "dedup is per partition")


def _self_test_classify(t):
    base = {"eventId": "pos-88123:2", "eventType": "SALE", "sku": "SKU-000123",
            "locationId": "store-045", "quantityDelta": -2, "sourceSystem": "POS",
            "timestamp": "2026-11-23T10:15:30.123Z", "correlationId": "basket-88123"}
    key = b"SKU-000123:store-045"
    p = partition_for(key)

    def c(v, k=key, part=None):
        if part is None and k is not None:
            part = partition_for(k)  # where a murmur2 producer puts it
        if isinstance(v, dict):
            v = json.dumps(v)
        return classify(part, k, v.encode() if isinstance(v, str) else v)[0]

    t.check(c(base) is None, "valid base event")
    t.check(c(dict(base, correlationId=None, sourceSystem=None)) is None, "null optionals")
    b2 = dict(base)
    del b2["correlationId"]
    t.check(c(b2) is None, "absent correlationId")
    t.check(c(dict(base, timestamp=1795429530123)) is None, "epoch timestamp")
    t.check(c(dict(base, eventType="ADJUSTMENT", quantityDelta=-5)) is None, "adjustment")
    t.check(c(base, part=(p + 1) % 12) == "partition_mismatch", "partition_mismatch")
    t.check(c(base, k=None) == "key_missing", "key_missing")
    t.check(c(base, k=b"") == "key_missing", "empty key is missing")
    t.check(c("{bad", k=b"K" * 130) == "key_mismatch", "overlong key before JSON")
    t.check(c(dict(base, unknownField=[1, {"a": None}])) is None, "unknown members skipped")
    t.check(c(json.dumps(base)[:-1] + ',"x":1,"x":2}') is None, "unknown duplicate ok")
    t.check(c(dict(base, timestamp=1.5e12)) == "timestamp_format", "float timestamp")
    t.check(c(dict(base, quantityDelta=10 ** 30)) == "quantity_too_large", "huge quantity")
    t.check(c(dict(base, timestamp=10 ** 30)) == "timestamp_out_of_range", "huge timestamp")
    t.check(c(dict(base, eventId=5, quantityDelta=2.5)) == "field_type", "member order")
    b3 = dict(base)
    del b3["quantityDelta"]
    t.check(c(dict(b3, sku=1)) == "field_type" and c(b3) == "quantity_missing", "missing q")
    t.check(c(base, k=b"SKU-000123:store-046") == "key_mismatch", "key_mismatch")
    t.check(c(json.dumps(base)[:-1]) == "json_syntax", "json_syntax")
    t.check(c('{"eventId":NaN}') == "json_syntax", "NaN is not JSON")
    t.check(c("[1]") == "json_not_object", "json_not_object")
    t.check(c(json.dumps(base)[:-1] + ',"sku":"SKU-000123"}') == "field_duplicate", "duplicate")
    t.check(c(dict(base, quantityDelta="2")) == "field_type", "field_type quantity")
    t.check(c(dict(base, quantityDelta=True)) == "field_type", "bool is no integer")
    t.check(c(dict(base, quantityDelta=2.5)) == "quantity_not_integer", "not integer")
    t.check(c(json.dumps(base).replace("-2", "1e2")) == "quantity_not_integer", "exponent")
    t.check(c(dict(base, quantityDelta=0)) == "quantity_zero", "zero")
    t.check(c(dict(base, quantityDelta=-1000000000)) is None, "10^9 is allowed")
    t.check(c(dict(base, quantityDelta=-1000000001)) == "quantity_too_large", "too large")
    t.check(c(dict(base, timestamp="2026-11-23 10:15:30")) == "timestamp_format", "ts format")
    t.check(c(dict(base, timestamp=-1)) == "timestamp_out_of_range", "ts range")
    t.check(c(dict(base, eventId="")) == "event_id_missing", "empty eventId")
    t.check(c(dict(base, eventId="x" * 128)) is None, "128-byte eventId")
    t.check(c(dict(base, eventId="x" * 129)) == "event_id_too_long", "129-byte eventId")
    t.check(c(dict(base, eventType="sale")) == "event_type_unknown", "lower-case type")
    t.check(c(dict(base, sku="SKU 000123"), k=b"SKU 000123:store-045") == "sku_bad_char",
            "sku_bad_char")
    t.check(c(dict(base, sku="A" * 64), k=b"A" * 64 + b":store-045") is None, "64-byte sku")
    t.check(c(b'\xff', k=key) == "json_bad_utf8", "bad utf-8")
    t.check(c("[" * 40 + "]" * 40) == "json_too_deep", "too deep")


def _self_test_generator(t):
    n = 6000
    a = EventGenerator(seed=7, dup_rate=0.03, invalid_rate=0.04).generate(n)
    b = EventGenerator(seed=7, dup_rate=0.03, invalid_rate=0.04).generate(n)
    t.check([(m.partition, m.key, m.value) for m in a] ==
            [(m.partition, m.key, m.value) for m in b], "generator is deterministic")
    c = EventGenerator(seed=8).generate(200)
    t.check([m.value for m in a[:200]] != [m.value for m in c], "seed matters")
    kinds = collections.Counter(m.kind for m in a)
    t.check(kinds["valid"] + kinds["duplicate"] + kinds["invalid"] == n, "kinds")
    t.check(0.02 * n < kinds["duplicate"] < 0.04 * n, "duplicate rate %d" % kinds["duplicate"])
    t.check(0.03 * n < kinds["invalid"] < 0.05 * n, "invalid rate %d" % kinds["invalid"])
    reasons = collections.Counter(m.reason for m in a if m.kind == "invalid")
    for k in INVALID_KINDS_ALL:
        t.check(reasons[k] >= 3, "invalid kind %s generated %d times" % (k, reasons[k]))
    # Every message is judged as the generator meant it, with its real partition.
    ids = collections.Counter()
    types = collections.Counter()
    signs = collections.Counter()
    ts_forms = collections.Counter()
    corr_forms = collections.Counter()
    late = 0
    last_ts = None
    for m in a:
        part = m.partition if m.partition is not None else \
            (partition_for(m.key) if m.key is not None else 0)
        reason, ev = classify(part, m.key, m.value)
        if m.kind == "invalid":
            t.check(reason == m.reason, "invalid %s (%s) judged %s: %r"
                    % (m.reason, m.variant, reason, m.value[:120]))
            continue
        t.check(reason is None, "%s message judged %s: %r" % (m.kind, reason, m.value[:120]))
        if m.kind == "valid":
            ids[ev["eventId"]] += 1
            types[ev["type"]] += 1
            signs[(ev["type"], ev["q"] > 0)] += 1
            doc = json.loads(m.value)
            ts_forms[type(doc["timestamp"]).__name__] += 1
            corr_forms["absent" if "correlationId" not in doc else
                       "null" if doc["correlationId"] is None else "str"] += 1
            if last_ts is not None and ev["ts_ms"] < last_ts:
                late += 1
            last_ts = ev["ts_ms"]
            t.check(m.key.count(b":") == 1, "key has one colon")
            t.check(b"\t" not in m.value and b"\n" not in m.value, "no tab/newline in value")
    t.check(all(v == 1 for v in ids.values()), "valid eventIds are unique")
    for et in EVENT_TYPES:
        t.check(types[et] > 0, "type %s generated" % et)
        if et != "ADJUSTMENT":
            t.check(signs[(et, True)] > 0 and signs[(et, False)] > 0,
                    "both signs for %s: %r" % (et, (signs[(et, True)], signs[(et, False)])))
    t.check(signs[("ADJUSTMENT", True)] > 0 and signs[("ADJUSTMENT", False)] > 0, "adj signs")
    t.check(ts_forms["str"] > 0 and ts_forms["int"] > 0, "both timestamp forms")
    t.check(min(corr_forms.values()) > 0 and len(corr_forms) == 3, "correlationId forms")
    t.check(late > 10, "late events: %d" % late)
    # Ground truth on the generated stream with offsets as a broker would assign them: realistic
    # anomalies appear, duplicates change nothing, the dedup window never expires anything.
    offsets = collections.Counter()
    g = GroundTruth()
    for m in a:
        part = m.partition if m.partition is not None else \
            (partition_for(m.key) if m.key is not None else 0)
        g.feed(part, offsets[part], m.key, m.value)
        offsets[part] += 1
    st = g.expected_stock()
    t.check(g.counts["applied"] == kinds["valid"], "applied %d == valid %d"
            % (g.counts["applied"], kinds["valid"]))
    t.check(g.counts["duplicate"] == kinds["duplicate"], "duplicates skipped")
    t.check(len(g.dlq) == kinds["invalid"], "every invalid message expected in the DLQ")
    t.check(g.window_overflowed() == 0, "stream inside the dedup window")
    t.check(sum(r["version"] for r in st.values()) == kinds["valid"], "versions add up")
    for f in ("oversells", "releaseExcesses", "transferInExcesses"):
        t.check(sum(r[f] for r in st.values()) > 0, "some %s in a realistic stream" % f)
    t.check(sum(1 for r in st.values() if r["inTransit"] > 0) > 0, "some stock in transit")
    t.check(sum(1 for r in st.values() if r["reserved"] > 0) > 0, "some reserved stock")
    t.check(len(st) > 300, "keys touched: %d" % len(st))
    onhand = [r["onHand"] for r in st.values()]
    t.check(sum(1 for x in onhand if x > 0) > len(onhand) / 2,
            "most keys hold stock (%d of %d)" % (sum(1 for x in onhand if x > 0), len(onhand)))
    # The diff names key, field, expected and got.
    k0 = sorted(st)[0]
    got = {k: dict(v) for k, v in st.items()}
    got[k0]["onHand"] += 1
    lines, summary = diff_stock(st, got)
    t.check(len(lines) == 1 and k0 in lines[0] and "onHand" in lines[0], "diff: %r" % lines)
    lines, _ = diff_stock(st, {})
    t.check(len(lines) == 41, "diff is bounded")


def _start_mock_for_check():
    """Starts build/invsync-mock-kafka with one 12-partition scratch topic, for the live murmur2
    check. Returns (bootstrap, topic, stop) or None when the mock is not built."""
    import subprocess
    import tempfile
    import time
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    mock = os.path.join(root, "build", "invsync-mock-kafka")
    if not os.access(mock, os.X_OK):
        return None
    d = tempfile.mkdtemp(prefix="invsync-murmur2-")
    bfile = os.path.join(d, "bootstrap")
    p = subprocess.Popen([mock, "--topic", "murmur2-check:%d" % DEFAULT_PARTITIONS,
                          "--bootstrap-file", bfile],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop():
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)

    deadline = time.monotonic() + 15
    while not os.path.exists(bfile):
        if p.poll() is not None or time.monotonic() > deadline:
            stop()
            return None
        time.sleep(0.05)
    with open(bfile) as f:
        return f.read().strip(), "murmur2-check", stop


def self_test(bootstrap=None, topic=None, live=True):
    """Offline checks, then murmur2 against librdkafka through kcat: on bootstrap/topic when
    given, else on a build/invsync-mock-kafka started for the purpose (skipped when it is not
    built or live is False)."""
    t = _SelfTest()
    _self_test_murmur2(t)
    _self_test_apply(t)
    _self_test_dedup(t)
    _self_test_classify(t)
    _self_test_generator(t)
    stop = None
    if live and not bootstrap:
        started = _start_mock_for_check()
        if started:
            bootstrap, topic, stop = started
    if live and bootstrap:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import kafka_util  # noqa: E402 (only the live check needs kcat)
        try:
            if not topic:
                raise kafka_util.KafkaError("--topic names the scratch topic (12 partitions)")
            ok, msg = kafka_util.check_murmur2_against_kcat(bootstrap, topic)
        except kafka_util.KafkaError as e:
            ok, msg = False, str(e)
        finally:
            if stop:
                stop()
        t.check(ok, msg)
        print("murmur2 vs librdkafka (kcat, partitioner=murmur2_random, %s): %s"
              % ("own mock broker" if stop else bootstrap, msg))
    else:
        print("murmur2 vs librdkafka: SKIPPED (no build/invsync-mock-kafka and no --bootstrap)"
              if live else "murmur2 vs librdkafka: skipped (--offline)")
    print("self-test: %d passed, %d failed" % (t.passed, t.failed))
    return t.failed == 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--self-test", action="store_true", help="run the checks and exit")
    ap.add_argument("--bootstrap", help="broker for the live murmur2 check (with --self-test)")
    ap.add_argument("--topic", help="a 12-partition scratch topic for the live murmur2 check")
    ap.add_argument("--offline", action="store_true",
                    help="with --self-test: no broker (skip the murmur2 check against kcat)")
    sub = ap.add_subparsers(dest="cmd")
    g = sub.add_parser("gen", help="write a generated stream as KEY<TAB>JSON lines")
    g.add_argument("--events", type=int, default=1000)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--skus", type=int, default=200)
    g.add_argument("--locations", type=int, default=20)
    g.add_argument("--dup-rate", type=float, default=0.03)
    g.add_argument("--invalid-rate", type=float, default=0.0,
                   help="invalid messages (keyed, unpartitioned kinds only in this format)")
    tr = sub.add_parser("truth", help="expected stock levels of a `kcat -C -J` dump (stdin)")
    tr.add_argument("--partitions", type=int, default=DEFAULT_PARTITIONS)
    args = ap.parse_args(argv)
    if args.self_test:
        return 0 if self_test(args.bootstrap, args.topic, not args.offline) else 1
    if args.cmd == "gen":
        kinds = tuple(k for k in INVALID_KINDS_ALL
                      if k not in ("key_missing", "partition_mismatch"))
        gen = EventGenerator(seed=args.seed, skus=args.skus, locations=args.locations,
                             dup_rate=args.dup_rate, invalid_rate=args.invalid_rate,
                             invalid_kinds=kinds)
        out = sys.stdout.buffer
        for line in messages_as_lines(gen.generate(args.events)):
            out.write(line + b"\n")
        return 0
    if args.cmd == "truth":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import kafka_util  # noqa: E402
        recs = kafka_util.parse_kcat_json(sys.stdin.buffer.read())
        g = GroundTruth(args.partitions).feed_records(recs)
        for k in sorted(g.aggs):
            print(k + "\t" + json.dumps(stock_record(k, g.aggs[k]), separators=(",", ":")))
        print("# %s" % dict(g.counts), file=sys.stderr)
        return 0
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
