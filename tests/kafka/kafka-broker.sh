#!/usr/bin/env bash
# kafka-broker.sh - start, stop and inspect a single-node Apache Kafka broker for the tests.
#
# The integration tests run against a real broker in KRaft mode (DESIGN.md section 6), without
# Docker: the broker's jars come from Maven Central through tests/kafka/pom.xml, are cached in
# KAFKA_LIB_DIR (default build/kafka-lib in the repository), and run on the machine's java as one
# process that is both broker and controller, on 127.0.0.1 and two free ports. Everything a broker
# owns lives in its DIR (config, data, broker.log, pid, bootstrap), so several brokers can run at
# once in different DIRs, and a DIR that is started again keeps its topics and data.
#
#   kafka-broker.sh start DIR     start (or restart on DIR's data); prints KAFKA_BOOTSTRAP=HOST:PORT
#   kafka-broker.sh stop DIR      SIGTERM, bounded wait, then SIGKILL; idempotent
#   kafka-broker.sh status DIR    exit 0 and "running ..." if up, exit 3 and "stopped" if not
#   kafka-broker.sh topics TARGET create NAME PARTITIONS [compact] [KEY=VALUE...]
#   kafka-broker.sh topics TARGET list | describe [NAME] | delete NAME
#   kafka-broker.sh fetch         only download the jars into KAFKA_LIB_DIR (prints the path)
#
# TARGET is a broker DIR or a bootstrap address HOST:PORT (any cluster, e.g. $KAFKA_BOOTSTRAP).
# Only KAFKA_BOOTSTRAP=... goes to stdout (so `eval "$(kafka-broker.sh start DIR)"` works);
# progress and errors go to stderr. Exit codes: 0 ok, 1 failure, 2 usage, 3 status: stopped.
#
# Environment: KAFKA_LIB_DIR (jar cache), JAVA (java binary; else $JAVA_HOME/bin/java, else
# java on PATH), KAFKA_HEAP_OPTS (default -Xmx512m -Xms128m), KAFKA_JVM_OPTS (appended),
# KAFKA_START_TIMEOUT_S (default 120), KAFKA_STOP_TIMEOUT_S (default 30).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
POM="$SCRIPT_DIR/pom.xml"
LIB_DIR=${KAFKA_LIB_DIR:-$REPO_ROOT/build/kafka-lib}
START_TIMEOUT_S=${KAFKA_START_TIMEOUT_S:-120}
STOP_TIMEOUT_S=${KAFKA_STOP_TIMEOUT_S:-30}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m}
PORT_ATTEMPTS_MAX=3 # new free ports after a bind clash, then give up
LIB_MARKER=.invsync-kafka-lib # in LIB_DIR: sha256 of the pom the jars were fetched with

log() { echo "kafka-broker: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    echo "usage:" >&2
    grep '^#   kafka-broker.sh ' "${BASH_SOURCE[0]}" | sed 's/^# //' >&2
    exit 2
}

# Prints the java binary to use, or fails with how to install one. Kafka 3.7 needs Java 11+.
find_java() {
    local java=${JAVA:-}
    if [ -z "$java" ] && [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
        java=$JAVA_HOME/bin/java
    fi
    [ -n "$java" ] || java=$(command -v java || true)
    [ -n "$java" ] && [ -x "$java" ] || \
        die "java not found. Install a JRE 11 or newer (Debian: apt-get install openjdk-17-jre-headless," \
            "or 'make deps'), or set JAVA=/path/to/java, or point the tests at an existing cluster" \
            "with KAFKA_BOOTSTRAP=HOST:PORT."
    local major
    major=$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\)[."].*/\1/p' | head -n 1)
    if [ -z "$major" ] || [ "$major" -lt 11 ]; then
        die "$java is Java '${major:-unknown}'; Kafka 3.7 needs Java 11 or newer (set JAVA=...)."
    fi
    echo "$java"
}

# Makes sure LIB_DIR holds the jars of the current pom; fetches them once, under a lock, into a
# temporary directory that is renamed into place only when complete.
ensure_lib() {
    local want have=""
    want=$(sha256sum "$POM" | cut -d' ' -f1)
    [ -f "$LIB_DIR/$LIB_MARKER" ] && have=$(cat "$LIB_DIR/$LIB_MARKER")
    if [ "$have" = "$want" ]; then return 0; fi
    if [ -z "$have" ] && compgen -G "$LIB_DIR/kafka_2.13-*.jar" >/dev/null; then
        return 0 # jars put there by hand (an offline machine): trust them
    fi
    mkdir -p "$(dirname "$LIB_DIR")"
    exec 9>"$LIB_DIR.lock"
    flock -w 600 9 || die "timed out waiting for another fetch into $LIB_DIR (lock $LIB_DIR.lock)"
    have=""
    [ -f "$LIB_DIR/$LIB_MARKER" ] && have=$(cat "$LIB_DIR/$LIB_MARKER")
    if [ "$have" != "$want" ]; then fetch_lib "$want"; fi
    flock -u 9
    exec 9>&-
}

# Called by ensure_lib with the lock held: mvn copy-dependencies into LIB_DIR.tmp, then rename.
fetch_lib() {
    local want=$1 tmp="$LIB_DIR.tmp.$$" mvnlog="$LIB_DIR.mvn.log"
    command -v mvn >/dev/null || \
        die "mvn not found; it fetches the Kafka jars once. Install it (Debian: apt-get install" \
            "maven, or 'make deps'), or copy the jars into $LIB_DIR by hand (see tests/kafka/README.md)."
    log "fetching Apache Kafka jars into $LIB_DIR (once; mvn output in $mvnlog)"
    rm -rf "$tmp"
    # The plugin by its coordinates (version from the pom): no prefix lookup, so a warm ~/.m2
    # is enough without the network.
    if ! mvn -B -Dstyle.color=never -f "$POM" \
        org.apache.maven.plugins:maven-dependency-plugin:copy-dependencies \
        -DoutputDirectory="$tmp" >"$mvnlog" 2>&1; then
        rm -rf "$tmp"
        tail -n 15 "$mvnlog" | sed 's/^/    mvn: /' >&2
        if grep -qiE 'unknownhost|could not transfer|connect(ion)? (timed out|refused)|network is unreachable|offline' "$mvnlog"; then
            die "mvn could not reach Maven Central (repo.maven.apache.org). Check the network or" \
                "proxy (~/.m2/settings.xml <proxies>), or copy the jars into $LIB_DIR from a machine" \
                "that can (tests/kafka/README.md), or use an existing cluster: KAFKA_BOOTSTRAP=HOST:PORT."
        fi
        die "mvn failed to copy the Kafka jars (full log: $mvnlog)"
    fi
    if ! compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null; then
        rm -rf "$tmp"
        die "mvn succeeded but copied no kafka_2.13 jar (log: $mvnlog); is $POM intact?"
    fi
    echo "$want" >"$tmp/$LIB_MARKER"
    rm -rf "$LIB_DIR"
    mv "$tmp" "$LIB_DIR"
    log "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l) jars"
}

# Prints N distinct TCP ports that were free on 127.0.0.1 a moment ago (bind to port 0).
free_ports() {
    local n=$1
    if command -v python3 >/dev/null; then
        python3 - "$n" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
        return
    fi
    # No python3: random ports below the ephemeral range that nobody answers on.
    local ports=() p tries=0
    while [ ${#ports[@]} -lt "$n" ] && [ $tries -lt 200 ]; do
        tries=$((tries + 1))
        p=$((20000 + RANDOM % 12000))
        if ! port_open "$p" && [[ " ${ports[*]} " != *" $p "* ]]; then ports+=("$p"); fi
    done
    [ ${#ports[@]} -eq "$n" ] || die "could not find $n free ports on 127.0.0.1"
    echo "${ports[*]}"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when $1 is alive and is the broker of DIR $2 (a recycled pid is not ours).
is_our_broker() {
    local pid=$1 dir=$2
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "-Dinvsync.kafka.dir=$dir"
}

read_pid() { cat "$1/pid" 2>/dev/null || true; }

# Writes DIR/server.properties for broker port $2 and controller port $3.
write_config() {
    local dir=$1 bport=$2 cport=$3
    cat >"$dir/server.properties" <<EOF
# Written by tests/kafka/kafka-broker.sh: a single-node KRaft broker for invsync's tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data

# One node: every internal topic has one replica.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4

# Topics are created explicitly, as invsyncd does at start-up (DESIGN.md section 1).
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1

# Tests: no rebalance delay, short session timeouts allowed.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000

# Compaction on (inventory.stock-levels), checked every second. Segments keep Kafka's default
# size (1 GiB): the active segment is never cleaned, so a test that wants to see compaction
# creates its topic with a small segment.bytes (topics ... segment.bytes=1048576). A broker-wide
# 1 MiB made every fetch stop at a segment end and kept the cleaner busy compacting
# stock-levels while it was written: bench-e2e measured that artefact, not invsyncd
# (README.md, "The Kafka pipeline").
log.cleaner.enable=true
log.cleaner.threads=1
log.cleaner.backoff.ms=1000
log.cleaner.dedupe.buffer.size=16777216
log.retention.check.interval.ms=10000

# Small machine: few threads.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
EOF
    cat >"$dir/log4j.properties" <<'EOF'
# Written by tests/kafka/kafka-broker.sh: everything to stdout, which goes to DIR/broker.log.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
}

# Formats DIR/data with a fresh cluster id, unless a previous start already did.
format_storage() {
    local dir=$1 java=$2 cid
    [ -f "$dir/data/meta.properties" ] && return 0
    if command -v python3 >/dev/null; then
        cid=$(python3 -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode())')
    else
        cid=$("$java" -cp "$LIB_DIR/*" kafka.tools.StorageTool random-uuid)
    fi
    # A short-lived JVM: C1 only and the serial collector start faster (about 0.6 s less).
    if ! "$java" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData \
        -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$LIB_DIR/*" \
        kafka.tools.StorageTool format -t "$cid" -c "$dir/server.properties" >>"$dir/broker.log" 2>&1; then
        tail -n 20 "$dir/broker.log" | sed 's/^/    /' >&2
        die "formatting $dir/data failed (kafka.tools.StorageTool format; log: $dir/broker.log)"
    fi
    echo "$cid" >"$dir/cluster-id"
}

# Kills the java of a failed start: SIGTERM, 10 s, SIGKILL. Called by cmd_start's failure paths.
kill_started() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# Launches the broker in the background; sets STARTED_PID.
launch() {
    local dir=$1 java=$2
    # shellcheck disable=SC2086 # HEAP_OPTS and KAFKA_JVM_OPTS are word lists
    "$java" $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -XX:-UsePerfData -Djava.awt.headless=true -Dinvsync.kafka.dir="$dir" \
        -Dlog4j.configuration="file:$dir/log4j.properties" -Dkafka.logs.dir="$dir" \
        ${KAFKA_JVM_OPTS:-} -cp "$LIB_DIR/*" kafka.Kafka "$dir/server.properties" \
        </dev/null >>"$dir/broker.log" 2>&1 &
    STARTED_PID=$!
}

# Waits until the broker at 127.0.0.1:$3 answers metadata. Returns 0 ready, 1 exited, 2 timeout.
wait_ready() {
    local dir=$1 pid=$2 port=$3 deadline=$((SECONDS + START_TIMEOUT_S)) out
    while [ $SECONDS -lt $deadline ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        if port_open "$port"; then
            out=$(kcat -L -b "127.0.0.1:$port" -m 5 2>&1 || true)
            if grep -q ' 1 brokers:' <<<"$out"; then return 0; fi
        fi
        sleep 0.2
    done
    return 2
}

cmd_start() {
    local dir=$1 java bport cport attempt rc pid
    command -v kcat >/dev/null || die "kcat not found (Debian: apt-get install kcat, or 'make deps')"
    java=$(find_java)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    pid=$(read_pid "$dir")
    if is_our_broker "$pid" "$dir"; then
        log "already running in $dir (pid $pid)"
        echo "KAFKA_BOOTSTRAP=$(cat "$dir/bootstrap")"
        return 0
    fi
    rm -f "$dir/pid" "$dir/bootstrap"
    ensure_lib

    for ((attempt = 1; attempt <= PORT_ATTEMPTS_MAX; attempt++)); do
        # A restart keeps the previous ports when they are still free, so clients reconnect.
        bport="" cport=""
        if [ -f "$dir/ports" ]; then read -r bport cport <"$dir/ports" || true; fi
        if [ -z "$bport" ] || [ -z "$cport" ] || port_open "$bport" || port_open "$cport" ||
            [ "$attempt" -gt 1 ]; then
            read -r bport cport <<<"$(free_ports 2)"
        fi
        echo "$bport $cport" >"$dir/ports"
        write_config "$dir" "$bport" "$cport"
        echo "==== kafka-broker.sh start $(date -u +%FT%TZ) ports $bport $cport" >>"$dir/broker.log"
        format_storage "$dir" "$java"
        launch "$dir" "$java"
        pid=$STARTED_PID
        echo "$pid" >"$dir/pid"
        trap 'kill_started '"$pid"'; rm -f "'"$dir"'/pid"; exit 130' INT TERM
        rc=0
        wait_ready "$dir" "$pid" "$bport" || rc=$?
        trap - INT TERM
        if [ $rc -eq 0 ]; then
            echo "127.0.0.1:$bport" >"$dir/bootstrap.tmp"
            mv "$dir/bootstrap.tmp" "$dir/bootstrap"
            log "started in $dir: pid $pid, bootstrap 127.0.0.1:$bport (${SECONDS} s)"
            echo "KAFKA_BOOTSTRAP=127.0.0.1:$bport"
            return 0
        fi
        kill_started "$pid"
        rm -f "$dir/pid"
        if [ $rc -eq 1 ] && tail -n 200 "$dir/broker.log" | grep -q 'Address already in use'; then
            log "port clash on $bport/$cport (attempt $attempt of $PORT_ATTEMPTS_MAX); new ports"
            continue
        fi
        # The tail without the tab-indented configuration dump that opens every start.
        grep -v $'^\t' "$dir/broker.log" | tail -n 25 | sed 's/^/    broker.log: /' >&2
        if [ $rc -eq 1 ]; then
            die "the broker exited during start-up (log: $dir/broker.log). If the data in $dir/data" \
                "is from another Kafka version or cluster, remove $dir and start again."
        fi
        die "the broker did not answer metadata requests within ${START_TIMEOUT_S} s (stopped it;" \
            "log: $dir/broker.log). A slow machine: raise KAFKA_START_TIMEOUT_S."
    done
    die "ports kept clashing ($PORT_ATTEMPTS_MAX attempts); is something grabbing ports on 127.0.0.1?"
}

cmd_stop() {
    local dir=$1 pid i
    [ -d "$dir" ] || { log "stop: $dir does not exist: nothing to stop"; return 0; }
    dir=$(cd "$dir" && pwd)
    pid=$(read_pid "$dir")
    if ! is_our_broker "$pid" "$dir"; then
        rm -f "$dir/pid" "$dir/bootstrap"
        log "not running in $dir"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
        is_our_broker "$pid" "$dir" || break
        sleep 0.1
    done
    if is_our_broker "$pid" "$dir"; then
        log "pid $pid still running after ${STOP_TIMEOUT_S} s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            is_our_broker "$pid" "$dir" || break
            sleep 0.1
        done
    fi
    rm -f "$dir/pid" "$dir/bootstrap"
    log "stopped $dir (pid $pid)"
}

cmd_status() {
    local dir=$1 pid
    [ -d "$dir" ] && dir=$(cd "$dir" && pwd)
    pid=$(read_pid "$dir")
    if is_our_broker "$pid" "$dir"; then
        echo "running pid $pid bootstrap $(cat "$dir/bootstrap" 2>/dev/null || echo starting)"
        return 0
    fi
    echo "stopped"
    return 3
}

# topics TARGET SUBCOMMAND...: org.apache.kafka.tools.TopicCommand against TARGET.
cmd_topics() {
    [ $# -ge 2 ] || usage
    local target=$1 sub=$2 bootstrap java
    shift 2
    if [ -d "$target" ]; then
        bootstrap=$(cat "$target/bootstrap" 2>/dev/null) || die "no broker running in $target"
    elif [[ "$target" == *:* ]]; then
        bootstrap=$target
    else
        die "topics: '$target' is neither a broker DIR nor HOST:PORT"
    fi
    java=$(find_java)
    ensure_lib
    local args=(--bootstrap-server "$bootstrap")
    case "$sub" in
    create)
        [ $# -ge 2 ] || usage
        local name=$1 parts=$2
        shift 2
        [[ "$parts" =~ ^[1-9][0-9]*$ ]] || die "topics create: PARTITIONS must be a positive integer"
        args+=(--create --if-not-exists --topic "$name" --partitions "$parts" --replication-factor 1)
        local c
        for c in "$@"; do
            case "$c" in
            compact) args+=(--config cleanup.policy=compact) ;;
            *=*) args+=(--config "$c") ;;
            *) die "topics create: '$c' is neither 'compact' nor KEY=VALUE" ;;
            esac
        done
        ;;
    list) args+=(--list) ;;
    describe)
        args+=(--describe)
        if [ $# -ge 1 ]; then args+=(--topic "$1"); fi
        ;;
    delete)
        [ $# -ge 1 ] || usage
        args+=(--delete --topic "$1")
        ;;
    *) usage ;;
    esac
    # The admin client logs warnings only, to stderr.
    local l4j rc=0
    l4j=$(mktemp "${TMPDIR:-/tmp}/kafka-broker-log4j.XXXXXX")
    printf '%s\n' 'log4j.rootLogger=WARN, stderr' \
        'log4j.appender.stderr=org.apache.log4j.ConsoleAppender' \
        'log4j.appender.stderr.Target=System.err' \
        'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout' \
        'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n' >"$l4j"
    "$java" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData \
        -Dlog4j.configuration="file:$l4j" \
        -cp "$LIB_DIR/*" org.apache.kafka.tools.TopicCommand "${args[@]}" || rc=$?
    rm -f "$l4j"
    return $rc
}

main() {
    [ $# -ge 1 ] || usage
    local cmd=$1
    shift
    case "$cmd" in
    start) [ $# -eq 1 ] || usage; cmd_start "$1" ;;
    stop) [ $# -eq 1 ] || usage; cmd_stop "$1" ;;
    status) [ $# -eq 1 ] || usage; cmd_status "$1" ;;
    topics) cmd_topics "$@" ;;
    fetch) [ $# -eq 0 ] || usage; ensure_lib; echo "$LIB_DIR" ;;
    -h | --help | help) usage ;;
    *) usage ;;
    esac
}

main "$@"
