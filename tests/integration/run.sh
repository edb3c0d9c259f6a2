#!/usr/bin/env bash
# run.sh mock|kafka [test_e2e.py options] - the integration tests of `make test`.
#
#   mock:  librdkafka's mock cluster in its own process (build/invsync-mock-kafka,
#          one per case), so it outlives every kill -9 of invsyncd;
#   kafka: a real Apache Kafka broker (with-kafka.sh: KAFKA_BOOTSTRAP or one
#          started from Maven Central jars); invsyncd creates the topics itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
mode=${1:?usage: run.sh mock|kafka [options]}
shift

python3 "$here/invsync_model.py" --self-test --offline

case "$mode" in
mock)
    # Each case hosts its own build/invsync-mock-kafka (it outlives kill -9 of invsyncd).
    echo "== integration tests on librdkafka's mock cluster"
    python3 "$here/test_e2e.py" --invsyncd "$root/$build/invsyncd" \
        --mock "$root/$build/invsync-mock-kafka" "$@"
    ;;
kafka)
    echo "== integration tests on a real Kafka broker"
    bash "$here/with-kafka.sh" python3 "$here/test_e2e.py" --bootstrap @BOOTSTRAP@ \
        --invsyncd "$root/$build/invsyncd" --fresh-topics-prefix "it-$$-$(date +%s)" "$@"
    ;;
*)
    echo "run.sh: unknown mode '$mode' (mock or kafka)" >&2
    exit 2
    ;;
esac
