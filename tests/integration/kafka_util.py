#!/usr/bin/env python3
"""kafka_util.py - the Kafka I/O of the integration tests, through kcat (Debian kcat 1.7.1).

Python 3 standard library only: every produce and consume is a kcat process.

* produce(): messages as (partition or None, key bytes or None, value bytes). Messages without
  an explicit partition go through one kcat with librdkafka's murmur2_random partitioner (the
  Java-compatible one every invsync producer uses), framed as KEY<TAB>VALUE lines; messages with
  an explicit partition go through one kcat per partition (-p N). A line without a TAB is a
  message with a NULL key (kcat 1.7 behaviour: no key delimiter found, no key). So keys may
  hold no TAB, CR or LF, and values no CR or LF (and no TAB when the key is NULL): produce()
  checks and refuses otherwise. Idempotence is on, so a retry never writes a record twice.
* consume_all(): every record of a topic from the beginning to its current end
  (`kcat -C -J -e -o beginning`), parsed into Record objects (partition, offset, key, value,
  headers). Non-UTF-8 bytes round-trip through surrogateescape.
* latest_by_key(), topic_partitions(), end_offsets(), wait_topics(), and the murmur2
  cross-check against librdkafka that `invsync_model.py --self-test --bootstrap` runs.

Every kcat call has a timeout and raises KafkaError with kcat's stderr when it fails.
"""

import json
import os
import subprocess
import sys
import time
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import invsync_model  # noqa: E402

KCAT = os.environ.get("KCAT", "kcat")
PARTITIONER = "murmur2_random"


class KafkaError(RuntimeError):
    pass


class Record:
    """One Kafka record as read back. key and value are bytes or None; headers is a list of
    (name str, value bytes or None) in record order."""
    __slots__ = ("topic", "partition", "offset", "key", "value", "headers", "ts")

    def __init__(self, topic, partition, offset, key, value, headers, ts):
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.ts = ts

    def header(self, name):
        """The last value of header `name` as str, or None when absent."""
        v = None
        for n, hv in self.headers:
            if n == name:
                v = hv
        return None if v is None else v.decode("utf-8", "surrogateescape")

    def header_count(self, name):
        return sum(1 for n, _ in self.headers if n == name)

    def __repr__(self):
        return "Record(%s[%d]@%d key=%r value=%r)" % (
            self.topic, self.partition, self.offset, self.key,
            None if self.value is None else self.value[:100])


def _b(s):
    return None if s is None else s.encode("utf-8", "surrogateescape")


def _run(args, stdin=None, timeout=60):
    try:
        p = subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise KafkaError("%s timed out after %s s; stderr: %s" % (
            " ".join(args[:8]), timeout, (e.stderr or b"").decode(errors="replace")[-2000:]))
    except FileNotFoundError:
        raise KafkaError("%s not found: install kcat (apt-get install kcat)" % args[0])
    if p.returncode != 0:
        raise KafkaError("%s exited %d: %s" % (" ".join(args[:8]), p.returncode,
                                               p.stderr.decode(errors="replace")[-2000:]))
    return p.stdout


def _base(bootstrap):
    return [KCAT, "-b", bootstrap, "-m", "30"]


def parse_kcat_json(data):
    """Records from `kcat -C -J` output (bytes, one JSON envelope per line)."""
    out = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            d = json.loads(line.decode("utf-8", "surrogateescape"))
        except ValueError:
            raise KafkaError("kcat printed a line that is not JSON: %r" % line[:200])
        h = d.get("headers") or []
        if isinstance(h, dict):  # kcat's help shows an object; 1.7.1 prints a flat list
            pairs = [(k, _b(v)) for k, v in h.items()]
        else:
            pairs = [(h[i], _b(h[i + 1])) for i in range(0, len(h) - 1, 2)]
        out.append(Record(d.get("topic"), d["partition"], d["offset"], _b(d.get("key")),
                          _b(d.get("payload")), pairs, d.get("ts")))
    return out


def _check_framing(key, value, partition):
    if key is not None and any(c in key for c in (b"\t", b"\n", b"\r")):
        raise ValueError("a key with TAB/CR/LF cannot be framed for kcat: %r" % key)
    if b"\n" in value or b"\r" in value:
        raise ValueError("a value with CR/LF cannot be framed for kcat: %r" % value[:80])
    if key is None and b"\t" in value:
        raise ValueError("a NULL-key value with a TAB would be split by kcat: %r" % value[:80])
    if len(value) == 0:
        raise ValueError("empty values are not supported (kcat skips empty lines)")


def produce(bootstrap, topic, msgs, timeout=180):
    """Produces msgs, an iterable of (partition or None, key or None, value), to topic.
    Unpartitioned messages keep their relative order (one kcat, murmur2_random); explicitly
    partitioned ones keep theirs per partition. Returns the number of messages sent."""
    plain = []
    explicit = {}
    n = 0
    for partition, key, value in msgs:
        _check_framing(key, value, partition)
        line = value if key is None else key + b"\t" + value
        if partition is None:
            plain.append(line)
        else:
            explicit.setdefault(partition, []).append(line)
        n += 1
    common = ["-P", "-t", topic, "-K", "\\t", "-X", "topic.partitioner=" + PARTITIONER,
              "-X", "enable.idempotence=true", "-X", "linger.ms=5"]
    if plain:
        _run(_base(bootstrap) + common, b"\n".join(plain) + b"\n", timeout)
    for p in sorted(explicit):
        _run(_base(bootstrap) + common + ["-p", str(p)], b"\n".join(explicit[p]) + b"\n",
             timeout)
    return n


def consume_all(bootstrap, topic, timeout=120):
    """Every record of topic, from the beginning to the end it has when kcat reaches it, in
    (partition, offset) order. Uses read_committed (librdkafka's default), so on a real broker
    aborted transactional records are not returned."""
    out = _run(_base(bootstrap) + ["-C", "-J", "-e", "-q", "-o", "beginning", "-t", topic,
                                   "-X", "isolation.level=read_committed",
                                   "-X", "fetch.wait.max.ms=10"], None, timeout)
    recs = parse_kcat_json(out)
    recs.sort(key=lambda r: (r.partition, r.offset))
    return recs


def latest_by_key(records):
    """key bytes -> the record with the highest offset for that key; and the keys seen in more
    than one partition (a co-partitioning violation), key -> sorted partitions."""
    latest = {}
    parts = {}
    for r in records:
        parts.setdefault(r.key, set()).add(r.partition)
        cur = latest.get(r.key)
        if cur is None or (r.partition, r.offset) > (cur.partition, cur.offset):
            latest[r.key] = r
    multi = {k: sorted(v) for k, v in parts.items() if len(v) > 1}
    return latest, multi


def topic_partitions(bootstrap, topic, timeout=30):
    """Partition count of topic, or None when the broker does not have it. Note: librdkafka's
    mock cluster auto-creates a queried topic with 4 partitions; callers compare counts."""
    # No auto-creation by this query: a broker with auto.create.topics.enable would otherwise
    # create the topic with its default partition count before invsyncd creates it.
    out = _run(_base(bootstrap) + ["-L", "-J", "-t", topic, "-X", "allow.auto.create.topics=false"],
               None, timeout)
    try:
        md = json.loads(out)
    except ValueError:
        raise KafkaError("kcat -L printed no JSON: %r" % out[:200])
    for t in md.get("topics", []):
        if t.get("topic") == topic:
            if t.get("error") or not t.get("partitions"):
                return None
            return len(t["partitions"])
    return None


def wait_topics(bootstrap, topics, partitions, timeout=60):
    """Waits until every topic exists with `partitions` partitions. Raises KafkaError naming
    the topic and what it has when the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        have = {}
        for t in topics:
            try:
                have[t] = topic_partitions(bootstrap, t)
            except KafkaError as e:
                have[t] = "error: %s" % e
        if all(v == partitions for v in have.values()):
            return
        if time.monotonic() > deadline:
            raise KafkaError("topics not ready after %d s (want %d partitions each): %s"
                             % (timeout, partitions, have))
        time.sleep(0.5)


def end_offsets(bootstrap, topic, partitions, timeout=30):
    """partition -> end offset (the offset the next record will get)."""
    args = _base(bootstrap) + ["-Q", "-J"]
    for p in range(partitions):
        args += ["-t", "%s:%d:-1" % (topic, p)]
    out = json.loads(_run(args, None, timeout))
    t = out.get(topic, {})
    res = {}
    for p in range(partitions):
        e = t.get(str(p))
        if e is None or "offset" not in e:
            raise KafkaError("no end offset for %s[%d]: %r" % (topic, p, out))
        res[p] = e["offset"]
    return res


def check_murmur2_against_kcat(bootstrap, topic, partitions=12, keys=400):
    """Produces keys through kcat with partitioner=murmur2_random to topic (which must have
    `partitions` partitions) and checks that librdkafka put each where partition_for() says.
    Returns (ok, message)."""
    have = topic_partitions(bootstrap, topic)
    if have != partitions:
        return False, "topic %s has %r partitions, want %d" % (topic, have, partitions)
    marker = "murmur2-check-" + uuid.uuid4().hex[:12]
    ks = [k for k, _ in invsync_model.KNOWN_MURMUR2 if k] + [b"21", b"foobar", b"abc"]
    gen = invsync_model.EventGenerator(seed=99)
    ks += [("%s:%s" % (gen._sku(), loc)).encode() for loc in gen.locations for _ in range(2)]
    ks += [("SKU-%06d:store-%03d" % (i * 7919 % 1000000, i % 500)).encode()
           for i in range(keys)]
    ks = list(dict.fromkeys(k for k in ks if b"\t" not in k and b"\n" not in k))
    produce(bootstrap, topic, [(None, k, (marker + " %d" % i).encode())
                               for i, k in enumerate(ks)])
    got = {}
    for r in consume_all(bootstrap, topic):
        if r.value and r.value.startswith(marker.encode()):
            got[r.key] = r.partition
    bad = [(k, got.get(k), invsync_model.partition_for(k, partitions)) for k in ks
           if got.get(k) != invsync_model.partition_for(k, partitions)]
    if bad:
        return False, "%d of %d keys disagree (key, librdkafka, ours): %r" % (
            len(bad), len(ks), bad[:10])
    return True, "%d keys, all in the same partition as librdkafka put them" % len(ks)
