# Helpers shared by deploy/local/kafka.sh and redis.sh. Source it after setting
# COMPONENT (the prefix of every message), LOG_FILE and LOCK_FILE.
# shellcheck shell=bash

log() { printf '%s: %s\n' "$COMPONENT" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$COMPONENT" "$*" >&2; exit 1; }

# Prints the calling script's header comment (its usage text).
usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
}

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (( $1 > 0 && $1 < 65536 )); }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

tail_log() {
    if [[ -f "$LOG_FILE" ]]; then
        log "last 40 lines of $LOG_FILE:"
        tail -n 40 "$LOG_FILE" >&2
    else
        log "no log file at $LOG_FILE"
    fi
}

# Serialises start/stop of one component; fd 9 is closed for the server process
# itself, so a running server never holds the lock.
with_lock() {
    mkdir -p "$(dirname "$LOCK_FILE")"
    exec 9>"$LOCK_FILE"
    flock -w 300 9 || die "another $COMPONENT script has held $LOCK_FILE for 300 s; giving up"
}

# Prints the pid in $PID_FILE when it is a live process whose command line matches
# the pattern ($1); removes a stale pid file.
live_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$1"; then
        printf '%s\n' "$pid"
        return 0
    fi
    rm -f "$PID_FILE"
    return 1
}
