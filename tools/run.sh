#!/usr/bin/env bash
# tools/run.sh - what `make run` calls after building: invsync on a fresh machine, nothing else
# installed but kcat.
#
# 1. Starts build/invsyncd --data-dir ./data in the background. Without --brokers it hosts an
#    embedded Kafka (librdkafka's mock cluster) and, once it consumes, writes that cluster's
#    address to ./data/embedded-kafka.bootstrap.
# 2. Waits for that file (bounded: RUN_START_TIMEOUT_S, default 60 s), failing with the reason
#    and the log's last lines if invsyncd exits or the time runs out.
# 3. Produces tools/sample-data/canonical.txt (a retailer's morning, KEY<TAB>JSON lines) to the
#    canonical topic with kcat and the Java-compatible murmur2 partitioner.
# 4. Prints what to run next, then waits for invsyncd in the foreground. Ctrl-C (SIGINT) or
#    SIGTERM is passed on to invsyncd, which stops gracefully (final flush and commit); the
#    script exits with invsyncd's exit code.
#
# Extra arguments go to invsyncd (e.g. tools/run.sh --workers 2). Environment: INVSYNCD (the
# binary), DATA_DIR (default ./data), SAMPLE (the file to produce), KCAT, RUN_START_TIMEOUT_S,
# INVSYNC_TOPIC_CANONICAL (where the sample goes, default inventory.events.canonical).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INVSYNCD=${INVSYNCD:-$ROOT/build/invsyncd}
DATA_DIR=${DATA_DIR:-./data}
SAMPLE=${SAMPLE:-$ROOT/tools/sample-data/canonical.txt}
KCAT=${KCAT:-kcat}
START_TIMEOUT_S=${RUN_START_TIMEOUT_S:-60}
TOPIC=${INVSYNC_TOPIC_CANONICAL:-inventory.events.canonical}
BOOTSTRAP_FILE=$DATA_DIR/embedded-kafka.bootstrap
LOG=$DATA_DIR/invsyncd.log

die() {
    echo "run: $*" >&2
    exit 1
}

[ -x "$INVSYNCD" ] || die "$INVSYNCD is not built: run make first"
command -v "$KCAT" >/dev/null || die "kcat not found: install it (make deps, or apt-get install kcat)"
[ -r "$SAMPLE" ] || die "no sample $SAMPLE (python3 tools/sample-data/make_sample.py writes it)"
mkdir -p "$DATA_DIR" || die "cannot create $DATA_DIR"
# A file left by an earlier run names a cluster that died with it: only a new one counts.
rm -f "$BOOTSTRAP_FILE"

# invsyncd logs to the terminal and to $LOG (tee keeps it readable after a failure). tee
# ignores INT and TERM, so a Ctrl-C, which the terminal sends to every process of the group,
# does not cut off the log of the graceful stop. $! is the pid of invsyncd itself.
"$INVSYNCD" --data-dir "$DATA_DIR" "$@" > >(trap '' INT TERM; exec tee -a "$LOG") 2>&1 &
pid=$!
stopping=0
forward() {
    stopping=1
    echo "run: $1: stopping invsyncd (pid $pid) gracefully" >&2
    kill -s "$1" "$pid" 2>/dev/null || true
}
trap 'forward INT' INT
trap 'forward TERM' TERM

# Waits for invsyncd to exit (bash's wait returns early when a trapped signal arrives) and
# exits with its status.
wait_invsyncd() {
    local rc
    while :; do
        wait "$pid"
        rc=$?
        kill -0 "$pid" 2>/dev/null || break
    done
    exit "$rc"
}

deadline=$((SECONDS + START_TIMEOUT_S))
while [ ! -s "$BOOTSTRAP_FILE" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        rc=$?
        [ "$stopping" = 1 ] && exit "$rc"
        echo "run: invsyncd exited with status $rc before its embedded Kafka was ready;" \
            "last lines of $LOG:" >&2
        tail -n 20 "$LOG" >&2
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "run: $BOOTSTRAP_FILE did not appear within ${START_TIMEOUT_S} s" \
            "(invsyncd writes it once it consumes); stopping invsyncd. Last lines of $LOG:" >&2
        tail -n 20 "$LOG" >&2
        kill -TERM "$pid" 2>/dev/null
        wait "$pid"
        exit 1
    fi
    [ "$stopping" = 1 ] && wait_invsyncd
    sleep 0.2
done
B=$(head -n 1 "$BOOTSTRAP_FILE")

events=$(wc -l < "$SAMPLE")
echo "run: producing $events sample events from $SAMPLE to $TOPIC at $B"
if ! "$KCAT" -P -b "$B" -t "$TOPIC" -K '\t' -X topic.partitioner=murmur2_random \
    -X enable.idempotence=true -l "$SAMPLE"; then
    echo "run: producing the sample failed; invsyncd keeps running (Ctrl-C stops it)" >&2
fi

# An example key from the sample, for the commands below.
key=$(head -n 1 "$SAMPLE" | cut -f 1)
sku=${key%%:*}
loc=${key#*:}
cat <<EOF

invsync is running (pid $pid) on its embedded Kafka at $B.
Next, in another terminal:

  # stock levels, one line per update (the topic is a changelog: the last line per key wins)
  $KCAT -C -b $B -t inventory.stock-levels -e -q -f '%k %s\n'
  # one key's latest level
  $KCAT -C -b $B -t inventory.stock-levels -e -q -f '%k %s\n' | grep '^$key ' | tail -n 1
  # rejected events with their reason (headers invsync.reason, invsync.source.offset, ...)
  $KCAT -C -b $B -t inventory.events.dlq -e -q -J
  # more events: one KEY<TAB>JSON line each, keyed sku:locationId
  $KCAT -P -b $B -t $TOPIC -K '\t' -X topic.partitioner=murmur2_random

  # the query API (coming with the HTTP layer):
  curl http://127.0.0.1:8080/v1/stock/$sku/$loc

Ctrl-C stops invsyncd gracefully. Log: $LOG
EOF

wait_invsyncd
