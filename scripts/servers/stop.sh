#!/usr/bin/env bash
# Stop the test servers that scripts/servers/start.sh started (pid files only:
# never touches a process it did not start). Idempotent.
#
# Usage: scripts/servers/stop.sh [kafka|ferretdb|all] [--clean]
#   --clean  also delete the server's data and logs under $CRM_SERVERS_RUN
# Env:    CRM_SERVERS_RUN, CRM_SERVERS_STOP_TIMEOUT (30 s per server)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# stop_one NAME PIDFILE MARKER PORT
stop_one() {
  local name=$1 pidfile=$2 marker=$3 port=$4 pid t0 deadline
  if ! pid="$(running_pid "$pidfile" "$marker")"; then
    if port_open "$port"; then
      log "$name: not started by start.sh, but 127.0.0.1:$port is in use by another process; leaving it alone"
    else
      log "$name: not running"
    fi
    return 0
  fi
  t0="$(now_s)"
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  # (identity was checked above; from here on wait for the pid itself to go)
  while ! pid_gone "$pid" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if ! pid_gone "$pid"; then
    log "$name: still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while ! pid_gone "$pid" && ((SECONDS < deadline)); do
      sleep 0.2
    done
    pid_gone "$pid" || die "$name: pid $pid survived SIGKILL"
  fi
  rm -f "$pidfile"
  log "$name: stopped in $(elapsed "$t0") s"
}

stop_kafka() {
  stop_one kafka "$KAFKA_RUN/kafka.pid" "$(kafka_marker)" "$KAFKA_PORT"
  if ((CLEAN)); then
    rm -rf "$KAFKA_RUN"
    log "kafka: removed $KAFKA_RUN"
  fi
}

stop_ferretdb() {
  stop_one ferretdb "$FERRETDB_RUN/ferretdb.pid" "$(ferretdb_marker)" "$FERRETDB_PORT"
  if ((CLEAN)); then
    rm -rf "$FERRETDB_RUN"
    log "ferretdb: removed $FERRETDB_RUN"
  fi
}

CLEAN=0
main() {
  local target=all a t
  for a in "$@"; do
    case "$a" in
      --clean) CLEAN=1 ;;
      -h | --help)
        awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
        return 0
        ;;
      -*) die "unknown option $a" ;;
      *) target="$a" ;;
    esac
  done
  local targets
  targets="$(parse_target "$target")"
  mkdir -p "$RUN"
  for t in $targets; do
    with_lock "$RUN/.lock" "stop_$t"
  done
}

main "$@"
