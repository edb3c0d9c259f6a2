#!/usr/bin/env python3
"""test_e2e.py - end-to-end tests of invsyncd against Kafka, judged by a ground-truth model.

    python3 tests/integration/test_e2e.py --invsyncd build/invsyncd [--case NAME]... [--seed N]
        [--bootstrap HOST:PORT [--fresh-topics-prefix [PREFIX]]] [--real-broker]

Brokers: with --bootstrap (or KAFKA_BOOTSTRAP) the tests use that cluster; with --real-broker
they start one Apache Kafka broker (tests/kafka/kafka-broker.sh) for the run; otherwise each case
starts its own librdkafka mock cluster (build/invsync-mock-kafka), which outlives every kill of
invsyncd. On a real or external broker every case uses fresh topics named PREFIX + the default
names (invsyncd creates them) unless --shared-topics says to use the default topics as they are.

Cases (default: every one but harness; backpressure, broker_outage and topic_mismatch are
described in their functions):
  exact          a generated stream with duplicates and invalid messages, then one invsyncd;
                 stock levels must equal the model exactly, every invalid message must be in the
                 DLQ exactly once with its reason, key and bytes; SIGTERM must exit 0.
  kill9          events stream in while invsyncd is killed with SIGKILL at seeded random moments
                 and restarted (once with its data directory wiped: a move to a new host).
  two_instances  two invsyncd in one group; one is killed -9 mid-stream and the survivor takes its
                 partitions.
  harness        no invsyncd: produce a stream and check that what the broker holds is what the
                 generator meant (the test's own plumbing).
  delivery_failure  (mock) Produce requests fail for good while records wait in the producer:
                 their partitions stop; a restart replays them and the result is exact.
  sigterm_startup  SIGTERM during start-up and the first rebalance must exit 0.

The ground truth is computed from the canonical topic as read back (partition, offset, key,
bytes), never from what the generator intended. Exit status 0 when every case passed, else 1.
"""

import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import invsync_model as model  # noqa: E402
import kafka_util as ku  # noqa: E402

DEFAULT_TOPICS = ("inventory.events.canonical", "inventory.stock-levels", "inventory.events.dlq")
PARTITIONS = 12
DLQ_HEADERS = ("invsync.reason", "invsync.reason.text", "invsync.source.topic",
               "invsync.source.partition", "invsync.source.offset", "invsync.version")
T0 = time.monotonic()


def log(case, msg):
    print("[%6.1fs] [%s] %s" % (time.monotonic() - T0, case, msg), flush=True)


class CaseFailed(Exception):
    pass


class CaseNotApplicable(Exception):
    """The case cannot run on this broker (e.g. it needs the mock's fault injection): reported
    as such, neither passed nor failed."""


# ---------------------------------------------------------------------------------------------
# Brokers.

class Broker:
    """Where a case's topics live: bootstrap, topic names, and the invsyncd flags naming them.
    fresh: the topics are new and invsyncd creates them (real or external broker)."""

    def __init__(self, bootstrap, topics, fresh, stop=None):
        self.mock_pid = None
        self.bootstrap = bootstrap
        self.canonical, self.stock, self.dlq = topics
        self.fresh = fresh
        self._stop = stop

    def topic_flags(self):
        if (self.canonical, self.stock, self.dlq) == DEFAULT_TOPICS:
            return []
        return ["--topic-canonical", self.canonical, "--topic-stock-levels", self.stock,
                "--topic-dlq", self.dlq]

    def stop(self):
        if self._stop:
            self._stop()
            self._stop = None


def start_mock(path, workdir, case):
    """Starts build/invsync-mock-kafka (the invsync topics, 12 partitions each) and returns a
    Broker that stops it."""
    if not os.access(path, os.X_OK):
        raise CaseFailed("mock broker %s not found or not executable (run make)" % path)
    bfile = os.path.join(workdir, "mock.bootstrap")
    logf = open(os.path.join(workdir, "mock.log"), "ab")
    p = subprocess.Popen([path, "--bootstrap-file", bfile], stdout=logf, stderr=logf,
                         stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not os.path.exists(bfile):
        if p.poll() is not None:
            raise CaseFailed("mock broker exited %d at start; see %s/mock.log"
                             % (p.returncode, workdir))
        if time.monotonic() > deadline:
            p.kill()
            raise CaseFailed("mock broker wrote no %s within 20 s" % bfile)
        time.sleep(0.05)
    with open(bfile) as f:
        bootstrap = f.read().strip()

    def stop():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        logf.close()

    log(case, "mock broker pid %d at %s" % (p.pid, bootstrap))
    b = Broker(bootstrap, DEFAULT_TOPICS, False, stop)
    b.mock_pid = p.pid  # SIGUSR1 takes its broker down, SIGUSR2 brings it back
    return b


BROKER_SCRIPT = os.path.join(ROOT, "tests", "kafka", "kafka-broker.sh")


def start_real_broker(workdir):
    d = os.path.join(workdir, "kafka")
    p = subprocess.run(["bash", BROKER_SCRIPT, "start", d], stdout=subprocess.PIPE, timeout=600)
    out = p.stdout.decode()
    if p.returncode != 0 or "KAFKA_BOOTSTRAP=" not in out:
        raise CaseFailed("kafka-broker.sh start failed (exit %d)" % p.returncode)
    bootstrap = out.split("KAFKA_BOOTSTRAP=", 1)[1].split()[0]

    def stop():
        subprocess.run(["bash", BROKER_SCRIPT, "stop", d], timeout=60)

    return bootstrap, stop


# ---------------------------------------------------------------------------------------------
# invsyncd processes.

class Service:
    """One invsyncd identity (its data directory and log); restartable."""

    def __init__(self, args, broker, case, name, group, data_dir, extra):
        self.args = args
        self.broker = broker
        self.case = case
        self.name = name
        self.group = group
        self.data_dir = data_dir
        self.extra = extra
        self.proc = None
        self.starts = 0
        self.log_path = data_dir.rstrip("/") + ".log"
        self.logf = open(self.log_path, "ab")

    def cmd(self):
        return ([self.args.invsyncd, "--brokers", self.broker.bootstrap, "--group", self.group,
                 "--data-dir", self.data_dir, "--flush-interval-ms", "50", "--http", "off",
                 "--workers", str(self.args.workers)]
                + self.broker.topic_flags() + self.extra + self.args.invsyncd_arg)

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        self.starts += 1
        self.logf.write(("\n=== start #%d: %s\n" % (self.starts, " ".join(self.cmd()))).encode())
        self.logf.flush()
        self.proc = subprocess.Popen(self.cmd(), stdout=self.logf, stderr=self.logf,
                                     stdin=subprocess.DEVNULL)
        self.started_at = time.monotonic()
        log(self.case, "%s started (pid %d, start #%d)" % (self.name, self.proc.pid, self.starts))
        return self.proc

    def uptime(self):
        return time.monotonic() - self.started_at if self.proc else 0.0

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        assert self.alive()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.logf.write(b"\n=== SIGKILL by the test\n")
        self.logf.flush()

    def terminate(self, timeout=30):
        """SIGTERM; returns the exit code, or None when it did not exit within timeout (then
        it is killed)."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def cleanup(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self.logf.close()

    def last_run_log(self):
        """The log text of this identity's last run, or None when it cannot be read."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace").rsplit("\n=== start #", 1)[-1]
        except OSError:
            return None

    def owned(self):
        """Partitions this incarnation owns as its log says ("partition N assigned" minus
        "partition N: revoked/lost"), or None when the log has no such lines yet."""
        text = self.last_run_log()
        if text is None:
            return None
        owned, seen = set(), False
        for m in re.finditer(r"partition (\d+)(?: assigned|: (revoked|lost))", text):
            seen = True
            if m.group(2):
                owned.discard(int(m.group(1)))
            else:
                owned.add(int(m.group(1)))
        return owned if seen else None

    def tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join("    | " + x for x in lines[-n:])


# ---------------------------------------------------------------------------------------------
# Expectations and the check.

class Expectation:
    """What the topics must hold: the ground truth of the canonical topic as read back."""

    def __init__(self, broker, case, since=None):
        recs = ku.consume_all(broker.bootstrap, broker.canonical)
        self.canonical = recs
        self.truth = model.GroundTruth(PARTITIONS).feed_records(recs)
        self.stock = self.truth.expected_stock()
        since = since or {}
        # The invalid records this case is judged on (all, unless the topics are shared).
        self.dlq = {po: v for po, v in self.truth.dlq.items() if po[1] >= since.get(po[0], 0)}
        self.since = since
        c = self.truth.counts
        log(case, "ground truth: %d records read back, %d applied, %d duplicates, %d invalid, "
                  "%d keys" % (len(recs), c["applied"], c["duplicate"], c["invalid"],
                               len(self.stock)))
        if self.truth.window_overflowed():
            log(case, "WARNING: the stream left the dedup window (%d ids expired or evicted)"
                % self.truth.window_overflowed())


def verify_produced(case, exp, msgs):
    """The harness check: the canonical records at offsets >= exp.since hold exactly the
    generated messages (key and bytes), explicitly partitioned ones in their partition, each
    judged by the model as the generator meant. Raises CaseFailed with the differences."""
    recs = [r for r in exp.canonical if r.offset >= exp.since.get(r.partition, 0)]
    want = collections.Counter((m.key, m.value) for m in msgs)
    got = collections.Counter((r.key, r.value) for r in recs)
    problems = []
    for kv in (want - got):
        problems.append("generated but not read back: key=%r value=%r" % (kv[0], kv[1][:100]))
    for kv in (got - want):
        problems.append("read back but not generated: key=%r value=%r" % (kv[0], kv[1][:100]))
    intended = {}
    for m in msgs:
        intended.setdefault((m.key, m.value), m)
    for r in recs:
        m = intended.get((r.key, r.value))
        if m is None:
            continue
        if m.partition is not None and r.partition != m.partition:
            problems.append("%r produced to partition %d is in %d" % (m, m.partition,
                                                                      r.partition))
        reason, _ = model.classify(r.partition, r.key, r.value, PARTITIONS)
        if reason != m.reason:
            problems.append("%s@%d judged %s, generated as %s (%s)" % (
                r.partition, r.offset, reason, m.reason, m.variant))
    if problems:
        raise CaseFailed("the produced stream is not what was generated (%d problems):\n  %s"
                         % (len(problems), "\n  ".join(problems[:20])))
    log(case, "harness: %d records read back = the %d generated messages, each judged as meant"
        % (len(recs), len(msgs)))


def check_state(exp, broker, variants, final=False):
    """Compares the stock-levels and DLQ topics with exp. Returns (ok, lines, progress)."""
    lines = []
    stock_recs = ku.consume_all(broker.bootstrap, broker.stock)
    latest, multi = ku.latest_by_key(stock_recs)
    for k, parts in sorted(multi.items()):
        lines.append("stock-levels key %r is in partitions %s (must be one, the input's)"
                     % (k, parts))
    misplaced = [r for r in stock_recs
                 if r.key is not None and r.partition != model.partition_for(r.key, PARTITIONS)]
    for r in misplaced[:10]:
        lines.append("stock-levels record %r in partition %d, murmur2 says %d"
                     % (r.key, r.partition, model.partition_for(r.key, PARTITIONS)))
    if misplaced:
        lines.append("%d stock-level records in a partition other than their key's"
                     % len(misplaced))
    got = {}
    order_bad = []
    for k, r in latest.items():
        if r.key is None:
            lines.append("stock-levels record without a key at %d@%d" % (r.partition, r.offset))
            continue
        if r.value is None:
            continue  # a tombstone: the key is absent
        try:
            v = json.loads(r.value, object_pairs_hook=collections.OrderedDict)
        except ValueError:
            lines.append("stock-levels %r: value is not JSON: %r" % (k, r.value[:200]))
            continue
        got[k.decode(errors="replace")] = v
        if list(v) != list(model.STOCK_FIELDS):
            order_bad.append(k)
    diff, summary = model.diff_stock(exp.stock, got)
    equal_keys = sum(1 for k in exp.stock if got.get(k) == dict(exp.stock[k])
                     and all(type(got[k][f]) is type(exp.stock[k][f]) for f in exp.stock[k]))
    if diff:
        lines.append("stock-levels differ from the model: %s" % ", ".join(
            "%s: %d" % kv for kv in sorted(summary.items())))
        lines += ["  " + x for x in diff]
    if order_bad and final:  # informative: the contract compares parsed fields
        print("note: %d stock-level records do not have the field order %s (e.g. %r)"
              % (len(order_bad), ",".join(model.STOCK_FIELDS), order_bad[0]), flush=True)
    # DLQ.
    dlq_recs = ku.consume_all(broker.bootstrap, broker.dlq)
    by_src = collections.defaultdict(list)
    dlq_problems = []
    for r in dlq_recs:
        try:
            src = (int(r.header("invsync.source.partition")),
                   int(r.header("invsync.source.offset")))
        except (TypeError, ValueError):
            dlq_problems.append("DLQ record %d@%d has no usable invsync.source.partition/offset "
                                "headers: %r" % (r.partition, r.offset, r.headers))
            continue
        if src[1] < exp.since.get(src[0], 0):
            continue  # shared topics: not this case's
        by_src[src].append(r)
    dlq_ok = 0
    for src, (reason, key, value) in sorted(exp.dlq.items()):
        rs = by_src.get(src, [])
        what = "canonical %d@%d (expected %s%s)" % (
            src[0], src[1], reason,
            ", variant " + variants[(key, value)] if variants.get((key, value)) else "")
        if not rs:
            dlq_problems.append("DLQ missing: %s key=%r value=%r" % (what, key, value[:80]))
            continue
        if len(rs) > 1:
            dlq_problems.append("DLQ has %d records for %s (at %s): exactly once is broken"
                                % (len(rs), what, ", ".join("%d@%d" % (x.partition, x.offset)
                                                             for x in rs)))
        r = rs[0]
        bad = []
        if r.header("invsync.reason") != reason:
            bad.append("invsync.reason %r, expected %r" % (r.header("invsync.reason"), reason))
        if r.header("invsync.source.topic") != broker.canonical:
            bad.append("invsync.source.topic %r, expected %r"
                       % (r.header("invsync.source.topic"), broker.canonical))
        for h in DLQ_HEADERS:
            if r.header_count(h) != 1:
                bad.append("header %s present %d times" % (h, r.header_count(h)))
        if not r.header("invsync.reason.text"):
            bad.append("empty invsync.reason.text")
        if r.key != key:
            bad.append("key %r, expected the original %r" % (r.key, key))
        if r.value != value:
            bad.append("value %r, expected the original %r" % (r.value, value))
        if bad:
            dlq_problems.append("DLQ %d@%d for %s: %s" % (r.partition, r.offset, what,
                                                           "; ".join(bad)))
        elif len(rs) == 1:
            dlq_ok += 1
    for src in sorted(set(by_src) - set(exp.dlq)):
        r = by_src[src][0]
        dlq_problems.append("DLQ has %d record(s) for canonical %d@%d, which the model applies "
                            "(reason %r, key %r)" % (len(by_src[src]), src[0], src[1],
                                                    r.header("invsync.reason"), r.key))
    if dlq_problems:
        lines.append("DLQ differs from the model (%d problems):" % len(dlq_problems))
        lines += ["  " + x for x in dlq_problems[:40]]
        if len(dlq_problems) > 40:
            lines.append("  ... and %d more" % (len(dlq_problems) - 40))
    progress = "stock %d/%d keys equal (%d records), DLQ %d/%d exact (%d records)" % (
        equal_keys, len(exp.stock), len(stock_recs), dlq_ok, len(exp.dlq), len(dlq_recs))
    return not lines, lines, progress


def wait_converged(case, exp, broker, variants, services, timeout):
    """Polls until the topics equal the model, or fails with the diff after timeout s. Fails at
    once when a service that should run has exited."""
    deadline = time.monotonic() + timeout
    last_print = 0
    while True:
        for s in services:
            if not s.alive():
                hint = ""
                if s.proc.returncode == 0 and "stop requested" in s.tail(40):
                    hint = " (a clean stop: something outside the test sent it SIGTERM/SIGINT)"
                raise CaseFailed("%s exited with %s while the test waited for it%s; log tail:\n%s"
                                 % (s.name, s.proc.returncode, hint, s.tail()))
        ok, lines, progress = check_state(exp, broker, variants)
        if ok:
            log(case, "converged: " + progress)
            return
        now = time.monotonic()
        if now > deadline:
            raise CaseFailed("no convergence within %d s: %s\n%s\n%s" % (
                timeout, progress, "\n".join(lines),
                "\n".join("%s log tail:\n%s" % (s.name, s.tail(15)) for s in services)))
        if now - last_print > 5:
            log(case, "waiting: " + progress)
            last_print = now
        time.sleep(1.0)


def wait_in_group(case, svc, timeout=30):
    """Waits until svc's log shows it owns partitions (bounded; a log without such lines is
    taken as owning after 10 s). A SIGTERM before that is the separate sigterm_startup case."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and svc.alive():
        owned = svc.owned()
        if owned or (owned is None and svc.uptime() > 10):
            return
        time.sleep(0.2)
    log(case, "note: %s shows no owned partitions after %d s" % (svc.name, timeout))


# An idle worker polls its queue about once per flush interval (50 ms here) or pull timeout
# (100 ms); a busy loop polls thousands of times per second. The bound has ample room above
# the first and far below the second.
EMPTY_POLLS_PER_WORKER_SECOND_MAX = 200


def last_run_log(svc):
    """The log text of svc's last run; a case failure when it cannot be read."""
    text = svc.last_run_log()
    if text is None:
        raise CaseFailed("%s: cannot read the log %s" % (svc.name, svc.log_path))
    return text


def check_allocator(case, svc):
    """With --expect-allocator NAME: svc's start-up line names that allocator (the plain build
    links mimalloc; a link flag that quietly stopped loading it would show here)."""
    want = svc.args.expect_allocator
    if not want:
        return
    m = re.search(r"invsyncd \S+ starting \(pid \d+, ([^)]*)\)", last_run_log(svc))
    if not m:
        raise CaseFailed("%s: no start-up line naming the allocator; tail:\n%s"
                         % (svc.name, svc.tail()))
    log(case, "%s: allocator %s" % (svc.name, m.group(1)))
    if not m.group(1).startswith(want):
        raise CaseFailed("%s: runs with %s, want %s" % (svc.name, m.group(1), want))


def check_idle_polls(case, svc, uptime):
    """The stats line of svc's last run: its workers did not poll in a busy loop."""
    text = last_run_log(svc)
    m = re.findall(r"stats: .* (\d+) empty polls", text)
    if not m:
        raise CaseFailed("%s: no stats line with empty polls in the log; tail:\n%s"
                         % (svc.name, svc.tail()))
    empty, limit = int(m[-1]), EMPTY_POLLS_PER_WORKER_SECOND_MAX * svc.args.workers * uptime
    log(case, "%s: %d empty polls in %.1f s (limit %.0f)" % (svc.name, empty, uptime, limit))
    if empty > limit:
        raise CaseFailed("%s: %d empty consumer polls in %.1f s: a worker polls in a busy loop"
                         % (svc.name, empty, uptime))


def final_check(case, exp, broker, variants, services):
    """After every service stopped: the topics must still equal the model (a late duplicate
    stock record or DLQ record would show here)."""
    for s in services:
        wait_in_group(case, s)
    for s in services:
        log(case, "%s: SIGTERM" % s.name)
        t = time.monotonic()
        uptime = s.uptime()
        rc = s.terminate(30)
        if rc is None:
            raise CaseFailed("%s did not exit within 30 s of SIGTERM; log tail:\n%s"
                             % (s.name, s.tail()))
        if rc != 0:
            raise CaseFailed("%s exited %d after SIGTERM (want 0); log tail:\n%s"
                             % (s.name, rc, s.tail()))
        log(case, "%s exited 0 after %.1f s" % (s.name, time.monotonic() - t))
        check_idle_polls(case, s, uptime)
        check_allocator(case, s)
    ok, lines, progress = check_state(exp, broker, variants, final=True)
    if not ok:
        raise CaseFailed("after shutdown the topics differ from the model: %s\n%s"
                         % (progress, "\n".join(lines)))
    log(case, "final state equals the model: " + progress)


# ---------------------------------------------------------------------------------------------
# Cases.

class Case:
    def __init__(self, args, name, workdir, broker, seed):
        self.args = args
        self.name = name
        self.workdir = workdir
        self.broker = broker
        self.seed = seed
        self.services = []
        self.rng = random.Random(seed * 7919 + sum(map(ord, name)))
        self.group = "invsync-e2e-%s-%s" % (name, uuid.uuid4().hex[:8])
        self.tag = "" if broker.fresh or not args.bootstrap else uuid.uuid4().hex[:6]

    def service(self, name, extra=()):
        s = Service(self.args, self.broker, self.name, name, self.group,
                    os.path.join(self.workdir, name + "-data"), list(extra))
        self.services.append(s)
        return s

    def generate(self, n):
        gen = model.EventGenerator(seed=self.seed, skus=self.args.skus,
                                   locations=self.args.locations, partitions=PARTITIONS,
                                   dup_rate=self.args.dup_rate,
                                   invalid_rate=self.args.invalid_rate, run_tag=self.tag)
        msgs = gen.generate(n)
        kinds = collections.Counter(m.kind for m in msgs)
        log(self.name, "generated %d messages (seed %d): %d valid, %d duplicates, %d invalid "
                       "of %d kinds" % (n, self.seed, kinds["valid"], kinds["duplicate"],
                                        kinds["invalid"],
                                        len({m.reason for m in msgs if m.reason})))
        return msgs

    def topics_ready(self):
        ku.wait_topics(self.broker.bootstrap,
                       (self.broker.canonical, self.broker.stock, self.broker.dlq), PARTITIONS,
                       timeout=60 if self.broker.fresh else 15)

    def start_offsets(self):
        if self.broker.fresh or not self.args.bootstrap:
            return {}
        return ku.end_offsets(self.broker.bootstrap, self.broker.canonical, PARTITIONS)

    def produce(self, msgs):
        ku.produce(self.broker.bootstrap, self.broker.canonical,
                   [(m.partition, m.key, m.value) for m in msgs])

    def cleanup(self):
        for s in self.services:
            s.cleanup()


def variants_of(msgs):
    return {(m.key, m.value): "%s/%s" % (m.reason, m.variant) for m in msgs if m.reason}


def chunked(msgs, rng, lo, hi):
    out = []
    i = 0
    while i < len(msgs):
        n = rng.randint(lo, hi)
        out.append(msgs[i:i + n])
        i += n
    return out


class Producer(threading.Thread):
    """Streams chunks to the canonical topic with pauses; records any failure."""

    def __init__(self, case, chunks, pause):
        super().__init__(daemon=True)
        self.case = case
        self.chunks = chunks
        self.pause = pause
        self.error = None
        self.sent_chunks = 0
        self.half = threading.Event()

    def run(self):
        try:
            for i, ch in enumerate(self.chunks):
                self.case.produce(ch)
                self.sent_chunks = i + 1
                log(self.case.name, "produced chunk %d/%d (%d messages)"
                    % (i + 1, len(self.chunks), len(ch)))
                if self.sent_chunks * 2 >= len(self.chunks):
                    self.half.set()
                time.sleep(self.case.rng.uniform(*self.pause))
        except Exception as e:  # reported by the case
            self.error = e
        finally:
            self.half.set()


def case_harness(c):
    msgs = c.generate(c.args.events or 5000)
    if c.broker.fresh:
        raise CaseFailed("the harness case needs existing topics (mock or --shared-topics)")
    c.topics_ready()
    since = c.start_offsets()
    c.produce(msgs)
    exp = Expectation(c.broker, c.name, since)
    verify_produced(c.name, exp, msgs)
    if len(exp.dlq) != sum(1 for m in msgs if m.kind == "invalid"):
        raise CaseFailed("model expects %d DLQ records, generator made %d invalid messages"
                         % (len(exp.dlq), sum(1 for m in msgs if m.kind == "invalid")))


def start_with_input(c, svc, msgs):
    """Starts svc and produces msgs. On a fresh broker invsyncd creates the topics, so it
    starts first and the stream arrives live; otherwise the backlog is produced first.
    Returns the topics' start offsets the expectation counts from."""
    if c.broker.fresh:
        svc.start()
        c.topics_ready()
        since = {}
        c.produce(msgs)
    else:
        c.topics_ready()
        since = c.start_offsets()
        c.produce(msgs)
        svc.start()
    log(c.name, "produced %d messages" % len(msgs))
    return since


def case_exact(c):
    msgs = c.generate(c.args.events or 20000)
    svc = c.service("invsyncd")
    since = start_with_input(c, svc, msgs)
    exp = Expectation(c.broker, c.name, since)
    verify_produced(c.name, exp, msgs)
    wait_converged(c.name, exp, c.broker, variants_of(msgs), [svc], c.args.timeout)
    final_check(c.name, exp, c.broker, variants_of(msgs), [svc])


def group_timeouts(args):
    """Short consumer-group session timeouts, so that a killed member leaves the group in
    seconds instead of librdkafka's default 45 s (a restart waits for that in its rebalance).

    On the mock the timeout must stay well above 3000 ms: librdkafka 2.0.2's mock holds a
    JoinGroup into an empty group for 3000 ms, and its once-a-second session check may drop that
    member first when the timeout is 3000 ms too (a late timer on a loaded machine). The member
    is then freed with its connection still blocked, and the consumer waits in wait-join for
    max.poll.interval.ms (5 min): invsyncd owns nothing and the case times out. See
    rd_kafka_mock_cgrp_member_destroy in librdkafka 2.0.2's src/rdkafka_mock_cgrp.c."""
    return ["-X", "session.timeout.ms=%d" % args.session_timeout_ms,
            "-X", "heartbeat.interval.ms=%d" % max(100, args.session_timeout_ms // 6)]


def stock_end(c):
    return sum(ku.end_offsets(c.broker.bootstrap, c.broker.stock, PARTITIONS).values())


# A real broker keeps Kafka's 1 GiB segments (tests/kafka/kafka-broker.sh) and never cleans the
# active one, so a case that wants invsyncd to restore from a compacted changelog, as it does in
# production, creates stock-levels itself with segments that ~20k events fill several times over
# (they write ~3k stock-level records, ~60 KiB per partition).
COMPACT_SEGMENT_BYTES = 8192
COMPACTION_WAIT_S = 60


def create_compacting_stock_topic(c):
    """Fresh real or external broker only: creates the case's stock-levels topic (12 partitions,
    compacted, COMPACT_SEGMENT_BYTES segments, cleaned at any dirty ratio) before invsyncd
    would create it with the default settings. Fails the case if the topic cannot be made."""
    p = subprocess.run(["bash", BROKER_SCRIPT, "topics", c.broker.bootstrap, "create",
                        c.broker.stock, str(PARTITIONS), "compact",
                        "segment.bytes=%d" % COMPACT_SEGMENT_BYTES,
                        "min.cleanable.dirty.ratio=0.01"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    if p.returncode != 0:
        raise CaseFailed("creating %s with small segments failed (exit %d):\n%s"
                         % (c.broker.stock, p.returncode, p.stdout.decode(errors="replace")))
    log(c.name, "created %s with %d-byte segments, so the cleaner compacts it during the case"
        % (c.broker.stock, COMPACT_SEGMENT_BYTES))


def wait_compacted(c, timeout=COMPACTION_WAIT_S):
    """Waits until the log cleaner removed records from the stock-levels topic (fewer records
    than its offsets span: compaction never moves the start offset). Returns (removed, span);
    fails the case after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        span = stock_end(c)
        kept = len(ku.consume_all(c.broker.bootstrap, c.broker.stock))
        if kept < span:
            return span - kept, span
        if time.monotonic() >= deadline:
            raise CaseFailed("the log cleaner removed nothing from %s in %d s (%d records, %d "
                             "offsets): the case would not test recovery from a compacted "
                             "changelog" % (c.broker.stock, timeout, kept, span))
        time.sleep(1.0)


def require_alive(svc):
    """Fails the case, with svc's log tail, if svc exited by itself."""
    if not svc.alive():
        raise CaseFailed("%s exited %s by itself; log tail:\n%s"
                         % (svc.name, svc.proc.returncode, svc.tail()))


def wait_progress(c, svc, before, prod, timeout=20):
    """Waits until svc owns partitions (per its log) and the stock-levels topic grew past
    `before` records; once the producer is done (there may be nothing left to flush), owning
    partitions is enough. Returns a description of what was seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        require_alive(svc)
        owned = svc.owned()
        grown = stock_end(c) - before
        # No "assigned" log line yet: not in the group yet, unless the log format changed
        # (then 10 s of uptime stand in for it).
        in_group = bool(owned) if owned is not None else svc.uptime() > 10
        if in_group and (grown > 0 or not prod.is_alive()):
            return "%s partitions, +%d stock records%s" % (
                "?" if owned is None else len(owned), grown,
                "" if prod.is_alive() else ", stream complete")
        time.sleep(0.2)
    return "no progress within %d s" % timeout


def case_kill9(c):
    msgs = c.generate(c.args.events or 20000)
    svc = c.service("invsyncd", group_timeouts(c.args))
    since = {}
    if not c.broker.fresh:
        c.topics_ready()
        since = c.start_offsets()
    else:  # a real broker compacts: the last restart below reads a compacted changelog
        create_compacting_stock_topic(c)
    # On a real broker the last tenth is held back until invsyncd restarted on the compacted
    # changelog: applied on what it restored, it shows whether that was right.
    cut = len(msgs) - len(msgs) // 10 if c.broker.fresh else len(msgs)
    streamed, held = msgs[:cut], msgs[cut:]
    svc.start()
    if c.broker.fresh:
        c.topics_ready()
    prod = Producer(c, chunked(streamed, c.rng, 500, 1500), (0.6, 1.6))
    prod.start()
    kills = c.args.kills
    wipe_at = c.rng.randrange(kills) if kills and not c.args.no_wipe else -1
    for i in range(kills):
        before = stock_end(c)
        if c.rng.random() < 0.25:  # while it restores, joins the group or replays
            time.sleep(c.rng.uniform(0.05, 1.0))
            seen = "during start-up"
        else:  # mid-stream: after it owned partitions and flushed something
            seen = wait_progress(c, svc, before, prod)
            time.sleep(c.rng.uniform(0.0, 1.5))
        require_alive(svc)
        svc.kill9()
        what = "SIGKILL #%d/%d %s (after chunk %d/%d)" % (
            i + 1, kills, seen, prod.sent_chunks, len(prod.chunks))
        if i == wipe_at:
            shutil.rmtree(svc.data_dir, ignore_errors=True)
            what += "; data directory wiped (recovery without local snapshots)"
        log(c.name, what)
        time.sleep(c.rng.uniform(0.0, 0.5))
        svc.start()
    prod.join()
    if prod.error:
        raise CaseFailed("producer failed: %s" % prod.error)
    if c.broker.fresh:
        removed, span = wait_compacted(c)
        require_alive(svc)
        svc.kill9()
        log(c.name, "SIGKILL after the cleaner removed %d of %d stock-level records: the "
            "restart restores from a compacted changelog" % (removed, span))
        svc.start()
        c.produce(held)
        log(c.name, "produced the %d held-back messages" % len(held))
    exp = Expectation(c.broker, c.name, since)
    verify_produced(c.name, exp, msgs)
    wait_converged(c.name, exp, c.broker, variants_of(msgs), [svc], c.args.timeout)
    final_check(c.name, exp, c.broker, variants_of(msgs), [svc])


def case_two_instances(c):
    msgs = c.generate(c.args.events or 16000)
    a = c.service("invsyncd-A", group_timeouts(c.args))
    b = c.service("invsyncd-B", group_timeouts(c.args))
    since = {}
    if not c.broker.fresh:
        c.topics_ready()
        since = c.start_offsets()
    a.start()
    b.start()
    if c.broker.fresh:
        c.topics_ready()
    prod = Producer(c, chunked(msgs, c.rng, 500, 1500), (0.3, 0.9))
    started = time.monotonic()
    prod.start()
    prod.half.wait()
    # Both members must own partitions before one dies (per their logs; without such log
    # lines, give the two-member rebalance 8 s of streaming).
    deadline = time.monotonic() + 30
    while True:
        for s in (a, b):
            require_alive(s)
        oa, ob = a.owned(), b.owned()
        if oa is None or ob is None:
            if time.monotonic() - started > 8:
                break
        elif oa and ob and not (oa & ob) and len(oa | ob) == PARTITIONS:
            break
        if time.monotonic() > deadline:
            raise CaseFailed("the two instances did not split the partitions within 30 s "
                             "(A owns %s, B owns %s)" % (sorted(oa or ()), sorted(ob or ())))
        time.sleep(0.2)
    time.sleep(c.rng.uniform(0, 1.5))
    victim, survivor = (a, b) if c.rng.random() < 0.5 else (b, a)
    owned = victim.owned()
    victim.kill9()
    log(c.name, "SIGKILL %s (owning partitions %s) after chunk %d/%d; %s must take them over"
        % (victim.name, "?" if owned is None else sorted(owned), prod.sent_chunks,
           len(prod.chunks), survivor.name))
    prod.join()
    if prod.error:
        raise CaseFailed("producer failed: %s" % prod.error)
    exp = Expectation(c.broker, c.name, since)
    verify_produced(c.name, exp, msgs)
    wait_converged(c.name, exp, c.broker, variants_of(msgs), [survivor], c.args.timeout)
    owned = survivor.owned()
    if owned is not None and len(owned) != PARTITIONS:
        raise CaseFailed("%s owns partitions %s at the end, not all %d"
                         % (survivor.name, sorted(owned), PARTITIONS))
    final_check(c.name, exp, c.broker, variants_of(msgs), [survivor])


def case_backpressure(c):
    """A producer queue of 20 records (-X queue.buffering.max.messages=20): every flush
    fills it, so workers must stall consumption until deliveries free space. The result
    must still be exact, and the service's final stats line must count flush stalls."""
    msgs = c.generate(c.args.events or 8000)
    svc = c.service("invsyncd", ["-X", "queue.buffering.max.messages=20"])
    since = start_with_input(c, svc, msgs)
    exp = Expectation(c.broker, c.name, since)
    verify_produced(c.name, exp, msgs)
    wait_converged(c.name, exp, c.broker, variants_of(msgs), [svc], c.args.timeout)
    final_check(c.name, exp, c.broker, variants_of(msgs), [svc])
    with open(svc.log_path, "rb") as f:
        stalls = re.findall(rb"(\d+) flush stalls", f.read())
    if not stalls or int(stalls[-1]) == 0:
        raise CaseFailed("no flush stall was logged: the tiny producer queue never filled, so "
                         "backpressure was not exercised (stats: %r)" % (stalls[-1:],))
    log(c.name, "backpressure exercised: %d flush stalls" % int(stalls[-1]))


def start_owning(c, svc):
    """Starts svc on the existing topics and waits (at most 30 s) until it owns partitions, so
    that what the case produces next arrives live. Returns the topics' start offsets."""
    c.topics_ready()
    since = c.start_offsets()
    svc.start()
    deadline = time.monotonic() + 30
    while not svc.owned() and time.monotonic() < deadline:
        if not svc.alive():
            raise CaseFailed("invsyncd exited at start; log tail:\n%s" % svc.tail(12))
        time.sleep(0.1)
    return since


def case_broker_outage(c):
    """The broker goes down twice while invsyncd is working (mock only: SIGUSR1/SIGUSR2 to
    build/invsync-mock-kafka). Events arrive in three chunks, each just before an outage, so
    flushes, DLQ writes and commits are in flight when it goes down. The first outage outlasts
    the group session: the assignment is lost with records still in the producer, and the
    partitions come back to the same process, whose restore must wait for those records (else a
    late DLQ record escapes the DLQ scan and is written twice). The second is shorter than the
    session: producer and consumer retry. Nothing is skipped or applied twice: the final state
    is exact and each invalid event is in the DLQ exactly once."""
    if c.broker.mock_pid is None:
        raise CaseNotApplicable("needs the mock broker's fault injection")
    msgs = c.generate(c.args.events or 20000)
    # linger.ms: invsyncd's records wait 40 s in its producer (unless it flushes on purpose), so
    # the records of chunk 1 are still unsent when the lost partitions come back after outage 1.
    svc = c.service("invsyncd", group_timeouts(c.args) + ["-X", "linger.ms=40000"])
    since = start_owning(c, svc)
    third = len(msgs) // 3
    chunks = [msgs[:third], msgs[third:2 * third], msgs[2 * third:]]
    for i, chunk in enumerate(chunks):
        c.produce(chunk)
        log(c.name, "produced chunk %d/3 (%d messages)" % (i + 1, len(chunk)))
        if i == len(chunks) - 1:
            break
        # Before outage 1, time for invsyncd to fetch and apply chunk 1 (its records then wait
        # in linger); before outage 2, a moment when flushes and acks may be under way.
        time.sleep(c.rng.uniform(1.0, 1.5) if i == 0 else c.rng.uniform(0.05, 0.3))
        os.kill(c.broker.mock_pid, signal.SIGUSR1)
        session_s = c.args.session_timeout_ms / 1000.0
        down = session_s + c.rng.uniform(0.5, 1.5) if i == 0 else c.rng.uniform(1.0, 0.6 * session_s)
        log(c.name, "broker down for %.1f s (outage %d)" % (down, i + 1))
        time.sleep(down)
        os.kill(c.broker.mock_pid, signal.SIGUSR2)
        log(c.name, "broker up")
        if not svc.alive():
            raise CaseFailed("invsyncd exited during the outage; log tail:\n%s" % svc.tail(12))
    exp = Expectation(c.broker, c.name, since)
    verify_produced(c.name, exp, msgs)
    wait_converged(c.name, exp, c.broker, variants_of(msgs), [svc], c.args.timeout)
    final_check(c.name, exp, c.broker, variants_of(msgs), [svc])
    with open(svc.log_path, "rb") as f:
        text = f.read()
    losses = len(re.findall(rb"partition \d+: lost", text))
    waits = len(re.findall(rb"earlier records acknowledged", text))
    log(c.name, "%d partition losses, %d restores that waited for earlier records" % (losses, waits))
    if losses == 0 or waits == 0:
        raise CaseFailed("the scenario did not happen (%d losses, %d restores that waited): the "
                         "session outlived outage 1, or chunk 1 was not applied before it" %
                         (losses, waits))


def case_delivery_failure(c):
    """Records fail for good (mock only: SIGHUP to build/invsync-mock-kafka makes its next
    Produce requests fail with TOPIC_AUTHORIZATION_FAILED, which librdkafka does not retry). The
    first half of the input is applied, acknowledged and committed; the second half's stock-level
    and DLQ records wait in invsyncd's producer (linger.ms) when the failures are turned on. Each
    partition whose records failed must stop, saying so, and store no offset past them; after the
    failures are turned off and the service restarted, it replays from the last commit: the final
    state is exact and each invalid event is in the DLQ exactly once. (invsyncd learns of a
    success from an interceptor and of a failure from a report; a failure counted as a success
    would commit input whose output was lost, and the check would see stale stock levels.)"""
    if c.broker.mock_pid is None:
        raise CaseNotApplicable("needs the mock broker's fault injection")
    msgs = c.generate(c.args.events or 6000)
    half = len(msgs) // 2
    svc = c.service("invsyncd", group_timeouts(c.args) + ["-X", "linger.ms=2000"])
    since = start_owning(c, svc)
    c.produce(msgs[:half])
    time.sleep(4.0)  # applied, flushed, 2 s of linger, acknowledged, committed
    c.produce(msgs[half:])
    time.sleep(0.5)  # applied and flushed: the records now wait in the producer
    os.kill(c.broker.mock_pid, signal.SIGHUP)
    log(c.name, "produce failures on")
    deadline = time.monotonic() + 30
    stopped = []
    while time.monotonic() < deadline and not stopped:
        time.sleep(0.2)
        stopped = re.findall(r"partition (\d+) stopped at offset \d+: delivery to",
                             svc.last_run_log() or "")
    os.kill(c.broker.mock_pid, signal.SIGHUP)
    log(c.name, "produce failures off; partitions stopped: %s" % sorted(set(map(int, stopped))))
    if not stopped:
        raise CaseFailed("no partition stopped on a failed delivery within 30 s; log tail:\n%s"
                         % svc.tail(20))
    rc = svc.terminate(30)
    if rc != 0:
        raise CaseFailed("SIGTERM with stopped partitions: exit %s (want 0); log tail:\n%s"
                         % (rc, svc.tail(20)))
    failures = re.findall(r"(\d+) failed deliveries", svc.last_run_log() or "")
    if not failures or int(failures[-1]) == 0:
        raise CaseFailed("the stats line counts no failed delivery (%r)" % failures[-1:])
    log(c.name, "%s failed deliveries; restarting without linger" % failures[-1])
    svc.extra = group_timeouts(c.args)  # the restart joins once the old member's session ends
    svc.start()
    exp = Expectation(c.broker, c.name, since)
    verify_produced(c.name, exp, msgs)
    wait_converged(c.name, exp, c.broker, variants_of(msgs), [svc], c.args.timeout)
    final_check(c.name, exp, c.broker, variants_of(msgs), [svc])


def case_topic_mismatch(c):
    """A stock-levels topic whose partition count differs from the canonical topic's must stop
    invsyncd at start-up (exit 1) with a message naming both counts: co-partitioning is what
    lets a worker own a key's input and output. The mock creates an unknown topic with 4
    partitions when asked for its metadata; on a real broker the test creates it with 5."""
    bad = "%s.mismatch-%s" % (c.broker.stock, uuid.uuid4().hex[:6])
    if c.broker.fresh:
        p = subprocess.run(["bash", BROKER_SCRIPT, "topics", c.broker.bootstrap, "create",
                            bad, "5"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            raise CaseFailed("could not create %s: %s" % (bad, p.stdout.decode()[-500:]))
    svc = c.service("invsyncd", ["--topic-stock-levels", bad])
    svc.start()
    try:
        rc = svc.proc.wait(60)
    except subprocess.TimeoutExpired:
        svc.terminate(10)
        raise CaseFailed("invsyncd kept running with a mismatched stock-levels topic")
    with open(svc.log_path, "rb") as f:
        text = f.read().decode(errors="replace")
    if rc != 1 or "partition counts differ" not in text or bad not in text:
        raise CaseFailed("want exit 1 and 'partition counts differ ... %s'; got exit %s, log "
                         "tail:\n%s" % (bad, rc, svc.tail(8)))
    log(c.name, "refused to start: exit 1, the log names %s and both counts" % bad)


def case_sigterm_startup(c):
    """SIGTERM at seeded moments of start-up (before and while the consumer group assigns
    partitions) must still stop invsyncd cleanly: exit 0 within 30 s."""
    for i, delay in enumerate((0.2, 1.0, 2.0, 3.5)):
        delay += c.rng.uniform(0, 0.5)
        svc = c.service("invsyncd-%d" % (i + 1))
        svc.start()
        time.sleep(delay)
        owned = svc.owned()
        rc = svc.terminate(30)
        what = "SIGTERM %.1f s after start (%s)" % (
            delay, "owning %d partitions" % len(owned) if owned else "no partitions yet")
        if rc != 0:
            raise CaseFailed("%s: exit %s (want 0); log tail:\n%s" % (what, rc, svc.tail(12)))
        log(c.name, what + ": exit 0")


CASES = collections.OrderedDict((
    ("exact", case_exact), ("kill9", case_kill9), ("two_instances", case_two_instances),
    ("backpressure", case_backpressure), ("broker_outage", case_broker_outage),
    ("delivery_failure", case_delivery_failure), ("topic_mismatch", case_topic_mismatch),
    ("harness", case_harness),
    ("sigterm_startup", case_sigterm_startup),
))
DEFAULT_CASES = ("exact", "kill9", "two_instances", "backpressure", "broker_outage",
                 "delivery_failure", "topic_mismatch", "sigterm_startup")


# ---------------------------------------------------------------------------------------------

def run_case(args, name, root, shared_broker):
    """Runs one case. Returns None when it passed, a CaseNotApplicable when it cannot run on
    this broker, else the reason it failed (one line, for the summary: CI keeps only the tail of
    the output)."""
    workdir = os.path.join(root, name)
    os.makedirs(workdir)
    broker = None
    c = None
    t = time.monotonic()
    try:
        if shared_broker is not None:
            if args.shared_topics:
                topics = DEFAULT_TOPICS
            else:
                prefix = (args.fresh_topics_prefix or "e2e-%s." % uuid.uuid4().hex[:8]) + \
                    name + "."
                topics = tuple(prefix + x for x in DEFAULT_TOPICS)
            broker = Broker(shared_broker, topics, not args.shared_topics)
            log(name, "broker %s, topics %s" % (shared_broker, ", ".join(topics)))
        else:
            broker = start_mock(args.mock, workdir, name)
        c = Case(args, name, workdir, broker, args.seed)
        if name != "harness" and not os.access(args.invsyncd, os.X_OK):
            raise CaseFailed("%s not found or not executable (run make)" % args.invsyncd)
        CASES[name](c)
        log(name, "PASS (%.1f s)" % (time.monotonic() - t))
        return None
    except CaseNotApplicable as e:
        log(name, "not applicable here: %s" % e)
        return e
    except CaseFailed as e:
        why = str(e)
    except ku.KafkaError as e:
        why = "Kafka I/O: %s" % e
    except Exception:
        why = "test error:\n%s" % traceback.format_exc()
    finally:
        if c is not None:
            c.cleanup()
        if broker is not None:
            broker.stop()
    log(name, "FAIL (%.1f s): %s" % (time.monotonic() - t, why))
    log(name, "kept for inspection: %s (logs: *.log)" % workdir)
    return "%s (after %.0f s)" % (why.splitlines()[0][:300], time.monotonic() - t)


def main():
    ap = argparse.ArgumentParser(description="invsync end-to-end tests (see the module doc)")
    ap.add_argument("--invsyncd", default=os.path.join(ROOT, "build", "invsyncd"))
    ap.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP"),
                    help="an existing cluster (default: $KAFKA_BOOTSTRAP; else a mock per case)")
    ap.add_argument("--real-broker", action="store_true",
                    help="start a real Apache Kafka broker (tests/kafka/kafka-broker.sh)")
    ap.add_argument("--mock", default=os.path.join(ROOT, "build", "invsync-mock-kafka"))
    ap.add_argument("--fresh-topics-prefix", nargs="?", const="", default=None,
                    help="topic-name prefix on a real/external broker (default: a random one)")
    ap.add_argument("--shared-topics", action="store_true",
                    help="use the default topic names as they are on --bootstrap")
    ap.add_argument("--case", action="append", choices=list(CASES),
                    help="run this case (repeatable; default: %s)" % ", ".join(DEFAULT_CASES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--events", type=int, default=0, help="messages per case (default per case)")
    ap.add_argument("--skus", type=int, default=200)
    ap.add_argument("--locations", type=int, default=20)
    ap.add_argument("--dup-rate", type=float, default=0.03)
    ap.add_argument("--invalid-rate", type=float, default=0.02)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kills", type=int, default=5, help="SIGKILLs in the kill9 case")
    ap.add_argument("--no-wipe", action="store_true",
                    help="kill9: never wipe the data directory on a restart")
    ap.add_argument("--timeout", type=int, default=120, help="convergence timeout per case, s")
    ap.add_argument("--session-timeout-ms", type=int, default=0,
                    help="consumer-group session timeout for kill9, two_instances and broker_outage "
                         "(default 4500 on the mock, see group_timeouts; 6000 with --bootstrap, "
                         "the broker default minimum)")
    ap.add_argument("--invsyncd-arg", action="append", default=[],
                    help="extra argument for every invsyncd (repeatable)")
    ap.add_argument("--expect-allocator", default="",
                    help="fail unless invsyncd's start-up line names this allocator (mimalloc)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory on success")
    args = ap.parse_args()
    args.invsyncd = os.path.abspath(args.invsyncd)
    if not args.session_timeout_ms:
        args.session_timeout_ms = 6000 if args.bootstrap else 4500  # see group_timeouts
    cases = args.case or list(DEFAULT_CASES)
    if args.shared_topics and not args.bootstrap:
        ap.error("--shared-topics needs --bootstrap")
    if shutil.which(ku.KCAT) is None:
        print("kcat not found: apt-get install kcat", file=sys.stderr)
        return 1
    root = tempfile.mkdtemp(prefix="invsync-e2e-")
    print("invsync e2e: cases %s, seed %d, work directory %s" % (", ".join(cases), args.seed,
                                                                  root), flush=True)
    shared, stop_real = args.bootstrap, None
    results = collections.OrderedDict()
    try:
        if args.real_broker and not shared:
            shared, stop_real = start_real_broker(root)
            print("real Kafka broker at %s" % shared, flush=True)
        for name in cases:
            results[name] = run_case(args, name, root, shared)
    except CaseFailed as e:
        print("setup failed: %s" % e, flush=True)
    finally:
        if stop_real:
            stop_real()
    passed = sum(1 for v in results.values() if v is None)
    skipped = sum(1 for v in results.values() if isinstance(v, CaseNotApplicable))
    failed = len(cases) - passed - skipped
    for name in cases:
        if name not in results:
            print("  %-14s NOT RUN" % name)
        elif results[name] is None:
            print("  %-14s PASS" % name)
        elif isinstance(results[name], CaseNotApplicable):
            print("  %-14s NOT APPLICABLE: %s" % (name, results[name]))
        else:
            print("  %-14s FAIL: %s" % (name, results[name]))
    if failed == 0 and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print("work directory kept: %s" % root)
    print("e2e: %d passed, %d failed%s" % (passed, failed, ", %d not applicable to this broker"
                                           % skipped if skipped else ""), flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
