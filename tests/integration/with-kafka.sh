#!/usr/bin/env bash
# with-kafka.sh CMD [ARG...] - runs CMD against a real Apache Kafka broker,
# with every @BOOTSTRAP@ in the arguments replaced by its address.
#
# The broker is KAFKA_BOOTSTRAP when set (any cluster you run), otherwise a
# single-node KRaft broker started from Maven Central jars by
# tests/kafka/kafka-broker.sh in a temporary directory and stopped afterwards.
# If it cannot start, this fails (exit 1) with the reason: the real-broker
# tests are never skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

dir=""
cleanup() {
    if [ -n "$dir" ]; then
        bash "$root/tests/kafka/kafka-broker.sh" stop "$dir" >/dev/null 2>&1 || true
        rm -rf "$dir"
    fi
}
trap cleanup EXIT

if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then
    bootstrap=$KAFKA_BOOTSTRAP
    echo "with-kafka: using KAFKA_BOOTSTRAP=$bootstrap" >&2
else
    dir=$(mktemp -d /tmp/invsync-kafka.XXXXXX)
    echo "with-kafka: starting a real Kafka broker (KRaft) in $dir" >&2
    if ! out=$(bash "$root/tests/kafka/kafka-broker.sh" start "$dir"); then
        echo "with-kafka: FAILED to start a real Kafka broker; see the reason above." >&2
        echo "with-kafka: fix Java 17 / Maven access to Maven Central, or point KAFKA_BOOTSTRAP at a cluster." >&2
        exit 1
    fi
    bootstrap=${out#KAFKA_BOOTSTRAP=}
    echo "with-kafka: broker at $bootstrap" >&2
fi

args=()
for a in "$@"; do args+=("${a//@BOOTSTRAP@/$bootstrap}"); done
"${args[@]}"
