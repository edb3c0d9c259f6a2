#!/usr/bin/env bash
# run.sh mock|kafka [test_e2e.py options] - the integration tests of `make test`.
#
#   mock:  librdkafka's mock cluster in its own process (build/invsync-mock-kafka),
#          so it outlives every kill -9 of invsyncd;
#   kafka: a real Apache Kafka broker (with-kafka.sh: KAFKA_BOOTSTRAP or one
#          started from Maven Central jars); invsyncd creates the topics itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
mode=${1:?usage: run.sh mock|kafka [options]}
shift

case "$mode" in
mock)
    tmp=$(mktemp -d /tmp/invsync-mock.XXXXXX)
    "$root/$build/invsync-mock-kafka" --bootstrap-file "$tmp/bootstrap" >"$tmp/mock.log" 2>&1 &
    mock=$!
    trap 'kill -TERM $mock 2>/dev/null || true; wait $mock 2>/dev/null || true; rm -rf "$tmp"' EXIT
    for _ in $(seq 1 100); do [ -s "$tmp/bootstrap" ] && break; sleep 0.1; done
    if [ ! -s "$tmp/bootstrap" ]; then
        echo "run.sh: the mock cluster did not start:" >&2
        cat "$tmp/mock.log" >&2
        exit 1
    fi
    bootstrap=$(cat "$tmp/bootstrap")
    echo "== integration tests on the mock cluster at $bootstrap"
    python3 "$here/test_e2e.py" --bootstrap "$bootstrap" --invsyncd "$root/$build/invsyncd" \
        --broker-kind mock "$@"
    ;;
kafka)
    echo "== integration tests on a real Kafka broker"
    bash "$here/with-kafka.sh" python3 "$here/test_e2e.py" --bootstrap @BOOTSTRAP@ \
        --invsyncd "$root/$build/invsyncd" --broker-kind kafka \
        --fresh-topics-prefix "it-$$-$(date +%s)" "$@"
    ;;
*)
    echo "run.sh: unknown mode '$mode' (mock or kafka)" >&2
    exit 2
    ;;
esac
