#!/usr/bin/env bash
# Dealpulse local dev: a real single-node Apache Kafka broker (KRaft mode,
# combined broker + controller), run from the official jars fetched from Maven
# Central with deploy/local/kafka/pom.xml. No Docker, no tarball download.
#
# Usage: deploy/local/kafka.sh {fetch|start|stop|restart|status|reset|logs}
#
#   fetch    download the jars into the cache (skipped when already cached)
#   start    fetch if needed, format storage on first run, start the broker in
#            the background and wait until it answers metadata requests;
#            a no-op when it is already running
#   stop     SIGTERM, wait up to 30 s, then SIGKILL; a no-op when stopped
#   restart  stop + start
#   status   exit 0 when running and ready, 1 otherwise
#   reset    stop, then delete the data (topics, offsets, cluster id)
#   logs     print the last 40 lines of the broker log
#
# Environment:
#   DEALPULSE_CACHE        jar cache root      (default: ~/.cache/dealpulse)
#   DEALPULSE_RUN          runtime state root  (default: <repo>/.run)
#   KAFKA_VERSION          Kafka version       (default: 4.1.1, pinned in the pom)
#   KAFKA_PORT             client listener     (default: 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller    (default: 9093)
#   KAFKA_HEAP_OPTS        broker JVM heap     (default: -Xms256m -Xmx1g)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default: 90)
#
# Files:
#   <cache>/kafka-<version>/libs/          jars (+ .fetched marker next to it)
#   <run>/kafka/data/                      KRaft metadata + topic data
#   <run>/kafka/server.properties          broker config (rewritten on start)
#   <run>/kafka/log4j2.xml                 broker logging config
#   <run>/kafka/cluster.id                 cluster id, generated once
#   <run>/kafka/kafka.pid                  broker pid
#   <run>/logs/kafka.log                   broker log
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT=30

POM="$SCRIPT_DIR/kafka/pom.xml"
CACHE_DIR="${DEALPULSE_CACHE:-$HOME/.cache/dealpulse}/kafka-$KAFKA_VERSION"
LIBS="$CACHE_DIR/libs"
FETCH_MARKER="$CACHE_DIR/.fetched"

RUN_DIR="${DEALPULSE_RUN:-$REPO_ROOT/.run}"
KAFKA_RUN="$RUN_DIR/kafka"
DATA_DIR="$KAFKA_RUN/data"
CONFIG="$KAFKA_RUN/server.properties"
LOG4J_CONFIG="$KAFKA_RUN/log4j2.xml"
TOOLS_LOG4J_CONFIG="$KAFKA_RUN/tools-log4j2.xml"
CLIENT_CONFIG="$KAFKA_RUN/client.properties"
CLUSTER_ID_FILE="$KAFKA_RUN/cluster.id"
PID_FILE="$KAFKA_RUN/kafka.pid"
LOCK_FILE="$KAFKA_RUN/.lock"
LOG_DIR="$RUN_DIR/logs"
LOG_FILE="$LOG_DIR/kafka.log"

COMPONENT=kafka
# shellcheck source=deploy/local/lib.sh
source "$SCRIPT_DIR/lib.sh"

BOOTSTRAP="127.0.0.1:$KAFKA_PORT"




check_env() {
    is_port "$KAFKA_PORT" || die "KAFKA_PORT must be a TCP port number, got '$KAFKA_PORT'"
    is_port "$KAFKA_CONTROLLER_PORT" || die "KAFKA_CONTROLLER_PORT must be a TCP port number, got '$KAFKA_CONTROLLER_PORT'"
    [[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ (both are $KAFKA_PORT)"
    [[ "$KAFKA_START_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_START_TIMEOUT must be a number of seconds, got '$KAFKA_START_TIMEOUT'"
}

need_java() {
    command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka $KAFKA_VERSION needs Java 17+; on Debian: apt-get install -y openjdk-17-jre-headless)"
    local v
    v="$(java -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n1)"
    [[ -n "$v" && "$v" -ge 17 ]] || die "Kafka $KAFKA_VERSION needs Java 17+, found: $(java -version 2>&1 | head -n1)"
}

# ---------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------

# The marker records what was fetched: the version and the pom's checksum, so
# editing the pom (or KAFKA_VERSION) triggers a new fetch.
marker_content() {
    printf 'kafka=%s pom-sha256=%s\n' "$KAFKA_VERSION" "$(sha256sum "$POM" | cut -d' ' -f1)"
}

is_fetched() {
    [[ -f "$FETCH_MARKER" && -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]] &&
        [[ "$(cat "$FETCH_MARKER")" == "$(marker_content)" ]]
}

cmd_fetch() {
    [[ -f "$POM" ]] || die "missing $POM"
    if is_fetched; then
        log "Kafka $KAFKA_VERSION jars already cached in $LIBS"
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH (needed once to fetch the Kafka jars; on Debian: apt-get install -y maven)"
    need_java
    mkdir -p "$CACHE_DIR"
    # One fetch at a time per cache dir (released below, or at exit).
    exec 8>"$CACHE_DIR/.lock"
    flock -w 600 8 || die "another fetch has held $CACHE_DIR/.lock for 600 s; giving up"
    if is_fetched; then
        exec 8>&-
        log "Kafka $KAFKA_VERSION jars already cached in $LIBS"
        return 0
    fi
    log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS ..."
    local tmp start
    start=$SECONDS
    tmp="$(mktemp -d "$CACHE_DIR/libs.tmp.XXXXXX")"
    # Download into a temp dir and swap it in only on success, so an
    # interrupted fetch never leaves a half-filled libs dir behind.
    # (Maven 3.8 prints bare ANSI resets even with -q -B; the sed drops them.)
    if ! mvn -q -B -Dstyle.color=never -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
            dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 |
            sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2; then
        rm -rf "$tmp"
        die "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (is Maven Central reachable? see the mvn output above)"
    fi
    local jar
    for jar in "kafka_2.13-$KAFKA_VERSION.jar" "kafka-tools-$KAFKA_VERSION.jar" log4j-core-*.jar log4j-slf4j-impl-*.jar; do
        compgen -G "$tmp/$jar" >/dev/null || { rm -rf "$tmp"; die "fetch incomplete: $jar missing from the Maven output"; }
    done
    rm -rf "$LIBS" "$FETCH_MARKER"
    mv "$tmp" "$LIBS"
    marker_content >"$FETCH_MARKER"
    exec 8>&-
    log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $((SECONDS - start)) s"
}

# ---------------------------------------------------------------------------
# process helpers
# ---------------------------------------------------------------------------

broker_pid() { live_pid 'kafka\.Kafka'; }


# Runs a Kafka CLI class in a small, fast-starting, quiet JVM (bounded by a
# timeout so a hung tool can never hang this script).
tools_java() {
    timeout "${TOOLS_TIMEOUT:-60}" java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$TOOLS_LOG4J_CONFIG" \
        -cp "$LIBS/*" "$@"
}

have_tools() { compgen -G "$LIBS/kafka-tools-*.jar" >/dev/null; }

# Ready = TCP port open AND the broker answers a metadata request.
broker_ready() {
    port_open "$KAFKA_PORT" || return 1
    if have_tools; then
        TOOLS_TIMEOUT=30 tools_java org.apache.kafka.tools.TopicCommand \
            --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --list >/dev/null 2>&1
    else
        grep -q 'Kafka Server started' "$LOG_FILE" 2>/dev/null
    fi
}


# ---------------------------------------------------------------------------
# config
# ---------------------------------------------------------------------------

write_configs() {
    mkdir -p "$KAFKA_RUN" "$DATA_DIR" "$LOG_DIR"
    # Rewritten on every start so KAFKA_PORT / KAFKA_CONTROLLER_PORT changes
    # take effect. Static controller quorum (controller.quorum.voters): with a
    # single node there is nothing to reconfigure, and unlike a --standalone
    # dynamic quorum the controller endpoint is not written into the metadata
    # log, so changing KAFKA_CONTROLLER_PORT later does not break an existing
    # data dir.
    cat >"$CONFIG" <<EOF
# Generated by deploy/local/kafka.sh on every start -- edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR

# Topics are created explicitly by the platform, never implicitly.
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1

# Single node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# Small footprint for a 2-core dev box.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=33554432
log.segment.bytes=16777216
log.retention.hours=168
log.retention.check.interval.ms=300000
EOF

    cat >"$CLIENT_CONFIG" <<'EOF'
# Used by the CLI tools that kafka.sh runs (readiness check).
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF

    # Broker logging: everything to stdout, which start() appends to the log
    # file (so JVM crash output lands in the same file). The shutdown hook is
    # disabled so Kafka's own shutdown messages are still logged.
    cat >"$LOG4J_CONFIG" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN" shutdownHook="disable">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="stdout"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="kafka.network.RequestChannel$" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="kafka.authorizer.logger" level="WARN"/>
    <Logger name="org.apache.kafka.common.config.AbstractConfig" level="WARN"/>
    <Logger name="org.apache.kafka.common.utils.AppInfoParser" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Logger name="org.apache.kafka.server.purgatory.DelayedOperationPurgatory$ExpiredOperationReaper" level="WARN"/>
    <Logger name="kafka.server.ClientQuotaManager$ThrottledChannelReaper" level="WARN"/>
    <Logger name="org.apache.kafka.server.util.timer.SystemTimerReaper$Reaper" level="WARN"/>
    <Logger name="org.apache.kafka.coordinator.common.runtime.CoordinatorRuntime" level="WARN"/>
  </Loggers>
</Configuration>
EOF

    cat >"$TOOLS_LOG4J_CONFIG" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
EOF
}

format_storage() {
    if [[ -f "$DATA_DIR/meta.properties" ]]; then
        return 0
    fi
    local cluster_id
    if [[ -s "$CLUSTER_ID_FILE" ]]; then
        cluster_id="$(cat "$CLUSTER_ID_FILE")"
    else
        cluster_id="$(tools_java kafka.tools.StorageTool random-uuid 2>>"$LOG_FILE" | tail -n1)" ||
            die "could not generate a cluster id (kafka.tools.StorageTool random-uuid failed; see $LOG_FILE)"
        [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "unexpected cluster id from StorageTool: '$cluster_id'"
        printf '%s\n' "$cluster_id" >"$CLUSTER_ID_FILE"
    fi
    log "formatting $DATA_DIR (cluster id $cluster_id)"
    if ! tools_java kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" >>"$LOG_FILE" 2>&1; then
        tail_log
        die "formatting the storage failed"
    fi
}

# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------


cmd_start() {
    check_env
    with_lock
    local pid p
    if pid="$(broker_pid)"; then
        if broker_ready; then
            log "already running (pid $pid) on $BOOTSTRAP"
            return 0
        fi
        log "process $pid is running but not ready yet; waiting"
    else
        for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
            port_open "$p" && die "127.0.0.1:$p is already in use by another process (not the broker tracked by $PID_FILE). Stop it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT."
        done
        cmd_fetch
        need_java
        write_configs
        format_storage

        # Keep the log from growing without bound across many restarts.
        if [[ -f "$LOG_FILE" ]] && (( $(stat -c %s "$LOG_FILE") > 50 * 1024 * 1024 )); then
            mv -f "$LOG_FILE" "$LOG_FILE.1"
        fi
        printf '\n===== kafka.sh start %s (Kafka %s, %s) =====\n' "$(date -Is)" "$KAFKA_VERSION" "$BOOTSTRAP" >>"$LOG_FILE"

        local -a heap
        read -r -a heap <<<"$KAFKA_HEAP_OPTS"
        # setsid: own session, immune to the terminal's SIGHUP; 8>&- 9>&- keep the
        # lock fds out of the broker (else it would hold the lock forever). The inner bash
        # records its own pid and execs java, so the pid file holds the JVM pid.
        # shellcheck disable=SC2016  # $$ / $0 are expanded by the inner bash
        setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
            java "${heap[@]}" \
            -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
            -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
            -Dkafka.logs.dir="$LOG_DIR" \
            -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
            -cp "$LIBS/*" kafka.Kafka "$CONFIG" \
            >>"$LOG_FILE" 2>&1 </dev/null 8>&- 9>&- &
        # Wait for the inner bash to write the pid file.
        for _ in $(seq 1 50); do
            [[ -s "$PID_FILE" ]] && break
            sleep 0.1
        done
        pid="$(cat "$PID_FILE" 2>/dev/null || true)"
        [[ -n "$pid" ]] || die "the broker process did not start (no pid file at $PID_FILE)"
        log "started Kafka $KAFKA_VERSION (pid $pid), waiting up to ${KAFKA_START_TIMEOUT}s for $BOOTSTRAP ..."
    fi

    local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    while (( SECONDS < deadline )); do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            tail_log
            die "the broker exited during startup (see $LOG_FILE)"
        fi
        if broker_ready; then
            log "ready on $BOOTSTRAP (pid $pid, data in $DATA_DIR, log in $LOG_FILE)"
            return 0
        fi
        sleep 1
    done
    tail_log
    die "the broker (pid $pid) was not ready after ${KAFKA_START_TIMEOUT}s; it is left running -- run '$0 stop' to stop it"
}

cmd_stop() {
    with_lock
    local pid
    if ! pid="$(broker_pid)"; then
        log "not running"
        return 0
    fi
    log "stopping (pid $pid) ..."
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "still running after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && die "could not kill pid $pid"
    fi
    rm -f "$PID_FILE"
    log "stopped"
}

cmd_status() {
    check_env
    local pid
    if ! pid="$(broker_pid)"; then
        log "not running"
        return 1
    fi
    if broker_ready; then
        log "running and ready (pid $pid) on $BOOTSTRAP"
        return 0
    fi
    log "running (pid $pid) but not answering on $BOOTSTRAP"
    return 1
}

cmd_reset() {
    cmd_stop
    log "deleting $DATA_DIR and $CLUSTER_ID_FILE"
    rm -rf "$DATA_DIR" "$CLUSTER_ID_FILE"
}

main() {
    local cmd="${1:-}"
    case "$cmd" in
        fetch) cmd_fetch ;;
        start) cmd_start ;;
        stop) cmd_stop ;;
        restart) cmd_stop; cmd_start ;;
        status) cmd_status ;;
        reset) cmd_reset ;;
        logs) tail -n 40 "$LOG_FILE" ;;
        -h | --help | help) usage ;;
        "") usage; die "missing command" ;;
        *) usage; die "unknown command '$cmd'" ;;
    esac
}

main "$@"
