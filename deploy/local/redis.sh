#!/usr/bin/env bash
# Dealpulse local dev: a real, durable Redis on 127.0.0.1.
#
# Usage: deploy/local/redis.sh {install|start|stop|restart|status|cli}
#
#   install  apt-get install redis-server, only when redis-server is not on PATH
#   start    install if needed, start in the background, wait for PONG;
#            a no-op when it is already running
#   stop     SHUTDOWN through redis-cli (persists), falling back to
#            SIGTERM / SIGKILL; a no-op when stopped
#   restart  stop + start
#   status   exit 0 when running and answering PING, 1 otherwise
#   cli      redis-cli against this instance (extra args are passed on)
#
# Durability: append-only file with appendfsync=always, RDB snapshots off, so
# every acknowledged write is on disk before the client sees OK and survives a
# restart (even a SIGKILL).
#
# Environment:
#   DEALPULSE_RUN        runtime state root  (default: <repo>/.run)
#   REDIS_PORT           TCP port            (default: 6379)
#   REDIS_START_TIMEOUT  seconds to wait for PONG (default: 30)
#
# Files:
#   <run>/redis/               data dir (appendonlydir/), redis.pid
#   <run>/logs/redis.log       server log
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

REDIS_PORT="${REDIS_PORT:-6379}"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-30}"
REDIS_STOP_TIMEOUT=30

RUN_DIR="${DEALPULSE_RUN:-$REPO_ROOT/.run}"
REDIS_DIR="$RUN_DIR/redis"
PID_FILE="$REDIS_DIR/redis.pid"
LOCK_FILE="$REDIS_DIR/.lock"
LOG_DIR="$RUN_DIR/logs"
LOG_FILE="$LOG_DIR/redis.log"

COMPONENT=redis
# shellcheck source=deploy/local/lib.sh
source "$SCRIPT_DIR/lib.sh"



check_env() {
    if ! is_port "$REDIS_PORT"; then
        die "REDIS_PORT must be a TCP port number, got '$REDIS_PORT'"
    fi
    [[ "$REDIS_START_TIMEOUT" =~ ^[0-9]+$ ]] || die "REDIS_START_TIMEOUT must be a number of seconds, got '$REDIS_START_TIMEOUT'"
}

cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

ping_ok() { [[ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]; }


server_pid() { live_pid 'redis-server'; }



cmd_install() {
    if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
        log "redis-server already installed: $(redis-server --version | head -n1)"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "redis-server is not installed and apt-get is not available; install Redis 7+ by hand"
    local -a sudo=()
    if (( EUID != 0 )); then
        command -v sudo >/dev/null 2>&1 || die "installing redis-server needs root (or sudo)"
        sudo=(sudo)
    fi
    log "installing redis-server with apt-get ..."
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 ||
        die "apt-get update failed"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-server >&2 ||
        die "apt-get install redis-server failed"
    command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after apt-get install"
    log "installed: $(redis-server --version | head -n1)"
}

cmd_start() {
    check_env
    with_lock
    local pid
    if pid="$(server_pid)"; then
        if ping_ok; then
            log "already running (pid $pid) on 127.0.0.1:$REDIS_PORT"
            return 0
        fi
        log "process $pid is running but not answering yet; waiting"
    else
        port_open "$REDIS_PORT" &&
            die "127.0.0.1:$REDIS_PORT is already in use by another process (not the redis tracked by $PID_FILE; a system redis-server service?). Stop it or set REDIS_PORT."
        if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
            cmd_install
        fi
        mkdir -p "$REDIS_DIR" "$LOG_DIR"
        printf '\n===== redis.sh start %s (127.0.0.1:%s) =====\n' "$(date -Is)" "$REDIS_PORT" >>"$LOG_FILE"
        # The 9>&- keeps the lock fd out of the daemon.
        if ! redis-server \
                --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
                --daemonize yes --pidfile "$PID_FILE" \
                --dir "$REDIS_DIR" --logfile "$LOG_FILE" \
                --appendonly yes --appendfsync always --save '' \
                9>&- </dev/null; then
            tail_log
            die "redis-server failed to start"
        fi
    fi

    # --daemonize returns as soon as the daemon forks; a failure after that
    # (port taken, unreadable AOF, ...) only shows as a missing / dead pid.
    local started=$SECONDS deadline=$((SECONDS + REDIS_START_TIMEOUT))
    while (( SECONDS < deadline )); do
        if ping_ok; then
            pid="$(server_pid || echo '?')"
            log "ready on 127.0.0.1:$REDIS_PORT (pid $pid, data in $REDIS_DIR, log in $LOG_FILE)"
            return 0
        fi
        if [[ -f "$PID_FILE" ]]; then
            server_pid >/dev/null || { tail_log; die "redis-server exited during startup (see $LOG_FILE)"; }
        elif (( SECONDS - started > 5 )); then
            tail_log
            die "redis-server did not come up (no pid file after 5 s; see $LOG_FILE)"
        fi
        sleep 0.2
    done
    tail_log
    die "redis was not answering PING on 127.0.0.1:$REDIS_PORT after ${REDIS_START_TIMEOUT}s"
}

cmd_stop() {
    check_env
    with_lock
    local pid
    if ! pid="$(server_pid)"; then
        log "not running"
        return 0
    fi
    log "stopping (pid $pid) ..."
    # SHUTDOWN fsyncs the AOF and exits; the connection drops, so redis-cli's
    # own exit status is not meaningful -- watch the pid instead.
    if command -v redis-cli >/dev/null 2>&1; then
        timeout 10 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    fi
    local deadline=$((SECONDS + REDIS_STOP_TIMEOUT))
    local termed=0
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do
        # redis-server treats SIGTERM as a graceful SHUTDOWN too.
        if (( termed == 0 && SECONDS + REDIS_STOP_TIMEOUT - deadline >= 5 )); then
            log "SHUTDOWN did not stop it, sending SIGTERM"
            kill -TERM "$pid" 2>/dev/null || true
            termed=1
        fi
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "still running after ${REDIS_STOP_TIMEOUT}s, sending SIGKILL (no data lost: appendfsync always)"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 1
        kill -0 "$pid" 2>/dev/null && die "could not kill pid $pid"
    fi
    rm -f "$PID_FILE"
    log "stopped"
}

cmd_status() {
    check_env
    local pid
    if ! pid="$(server_pid)"; then
        log "not running"
        return 1
    fi
    if ping_ok; then
        log "running and ready (pid $pid) on 127.0.0.1:$REDIS_PORT"
        return 0
    fi
    log "running (pid $pid) but not answering PING on 127.0.0.1:$REDIS_PORT"
    return 1
}

main() {
    local cmd="${1:-}"
    case "$cmd" in
        install) cmd_install ;;
        start) cmd_start ;;
        stop) cmd_stop ;;
        restart) cmd_stop; cmd_start ;;
        status) cmd_status ;;
        cli) shift; check_env; cli "$@" ;;
        -h | --help | help) usage ;;
        "") usage; die "missing command" ;;
        *) usage; die "unknown command '$cmd'" ;;
    esac
}

main "$@"
