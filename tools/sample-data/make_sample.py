#!/usr/bin/env python3
"""make_sample.py - writes tools/sample-data/canonical.txt, the bundled sample stream.

A morning at a small retailer (06:00 to about noon of 2026-11-23, UTC): two warehouses take
supplier receipts and ship transfers to twelve stores and the online channel (TRANSFER_OUT at
the warehouse, IN_TRANSIT at the destination, TRANSFER_IN when it arrives, sometimes partial or
more than shipped), stores ring up POS baskets and returns, the web shop reserves stock for
orders and then fulfils or releases it, and cycle counts adjust a few shelves. A few messages
are re-sent (exact duplicates, which must change nothing) and a few are broken (each lands in
the DLQ with its reason).

The events come from the integration tests' seeded generator (tests/integration/
invsync_model.py), so the sample follows the same rules the tests check. Deterministic: the
same script writes the same bytes.

    python3 tools/sample-data/make_sample.py           # rewrite canonical.txt
    python3 tools/sample-data/make_sample.py --check   # exit 1 when canonical.txt is stale
"""

import argparse
import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import invsync_model as model  # noqa: E402

OUT = os.path.join(HERE, "canonical.txt")
EVENTS = 2000
SEED = 20261123
# Every invalid kind that a KEY<TAB>JSON line can carry: a line has a key (a NULL key needs a
# line without a TAB) and goes where murmur2 puts it (a wrong partition needs kcat -p).
INVALID_KINDS = tuple(k for k in model.INVALID_KINDS_ALL
                      if k not in ("key_missing", "partition_mismatch"))


def build():
    gen = model.EventGenerator(seed=SEED, skus=40, locations=15, dup_rate=0.01,
                               invalid_rate=0.006, invalid_kinds=INVALID_KINDS,
                               doc_gap_ms=20000)  # a document every 20 s: about six hours
    msgs = gen.generate(EVENTS)
    return msgs, b"".join(line + b"\n" for line in model.messages_as_lines(msgs))


def main():
    ap = argparse.ArgumentParser(description="write the bundled canonical sample")
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args()
    msgs, data = build()
    kinds = collections.Counter(m.kind for m in msgs)
    if args.check:
        with open(OUT, "rb") as f:
            same = f.read() == data
        print("%s is %s" % (OUT, "up to date" if same else "STALE: run make_sample.py"))
        return 0 if same else 1
    with open(OUT + ".tmp", "wb") as f:
        f.write(data)
    os.replace(OUT + ".tmp", OUT)
    print("wrote %s: %d messages (%d events, %d duplicates, %d invalid)"
          % (OUT, len(msgs), kinds["valid"], kinds["duplicate"], kinds["invalid"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
