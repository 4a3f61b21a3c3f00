#!/usr/bin/env bash
# Start the real test servers on 127.0.0.1 (installing them first if needed):
#   kafka    - Apache Kafka 4.x, single node, KRaft broker+controller
#   ferretdb - FerretDB v1 (MongoDB wire protocol) with the SQLite backend
# Idempotent: a server already started by this script (pid file + port) is left
# alone. Progress goes to stderr; connection strings go to stdout.
#
# Usage: scripts/servers/start.sh [kafka|ferretdb|all] [--env]
#   --env   print `export NAME=value` lines, for: eval "$(scripts/servers/start.sh --env)"
# Env:    CRM_SERVERS_CACHE, CRM_SERVERS_RUN, CRM_KAFKA_PORT (19092),
#         CRM_KAFKA_CONTROLLER_PORT (19093), CRM_FERRETDB_PORT (27017),
#         CRM_SERVERS_START_TIMEOUT (60 s), CRM_KAFKA_HEAP (512m)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# launch PIDFILE LOGFILE CMD...: run CMD detached (own session, no stdin, output
# to LOGFILE, so `$(start.sh)` never hangs on it); CMD's pid goes to PIDFILE.
launch() {
  local pidfile=$1 logfile=$2
  shift 2
  rm -f "$pidfile"
  # 9>&- : do not hand the start/stop lock (fd 9, see with_lock) to the server,
  # or it would hold the lock for its whole life.
  # shellcheck disable=SC2016
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.1
  done
  die "process did not write its pid file $pidfile"
}

# wait_ready NAME PIDFILE MARKER TIMEOUT CHECK_FN LOGS...: wait (bounded) until
# CHECK_FN succeeds; on death or timeout print the log tails, kill, and fail.
wait_ready() {
  local name=$1 pidfile=$2 marker=$3 timeout=$4 check=$5
  shift 5
  local deadline pid f
  deadline=$((SECONDS + timeout))
  pid="$(cat "$pidfile")"
  while ((SECONDS < deadline)); do
    if ! pid_matches "$pid" "$marker"; then
      for f in "$@"; do [[ -f "$f" ]] && { log "---- tail of $f"; tail -n 40 "$f" >&2; }; done
      rm -f "$pidfile"
      die "$name exited during start-up (logs above)"
    fi
    "$check" && return 0
    sleep 0.25
  done
  for f in "$@"; do [[ -f "$f" ]] && { log "---- tail of $f"; tail -n 40 "$f" >&2; }; done
  kill -TERM "$pid" 2>/dev/null || true
  for ((f = 0; f < 50; f++)); do pid_gone "$pid" && break; sleep 0.2; done
  pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  die "$name not ready within ${timeout}s (logs above; process killed)"
}

# ---------------------------------------------------------------- kafka
kafka_ready() {
  port_open "$KAFKA_PORT" || return 1
  # "Kafka Server started" is logged by KafkaRaftServer (kept at INFO in
  # log4j2.properties); the log is rotated before each launch.
  grep -q 'Kafka Server started' "$KAFKA_RUN/logs/server.log" 2>/dev/null
}

# rotate FILE...: keep one previous generation (FILE.1) so that the log tails
# printed on failure only show the current attempt.
rotate() {
  local f
  for f in "$@"; do
    if [[ -f "$f" ]]; then mv -f "$f" "$f.1"; fi
  done
}

start_kafka() {
  local pidfile="$KAFKA_RUN/kafka.pid" marker pid
  marker="$(kafka_marker)"
  if pid="$(running_pid "$pidfile" "$marker")"; then
    if port_open "$KAFKA_PORT"; then
      log "kafka: already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
      return 0
    fi
    log "kafka: pid $pid alive but port $KAFKA_PORT closed; waiting for it"
    wait_ready kafka "$pidfile" "$marker" "$START_TIMEOUT" kafka_ready \
      "$KAFKA_RUN/logs/server.log" "$KAFKA_RUN/logs/kafka.out"
    return 0
  fi
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$p" && die "kafka: port 127.0.0.1:$p is in use by a process not started by start.sh"
  done

  local t0 data="$KAFKA_RUN/data" logs="$KAFKA_RUN/logs" conf="$KAFKA_RUN/server.properties"
  t0="$(now_s)"
  mkdir -p "$data" "$logs"

  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@KAFKA_DATA_DIR@|$data|g" \
    "$SERVERS_DIR/kafka/server.properties" >"$conf.tmp"
  mv -f "$conf.tmp" "$conf"

  local java=(java -Xms128m "-Xmx${CRM_KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true -Dkafka.logs.dir="$logs"
    -Dlog4j2.configurationFile="$SERVERS_DIR/kafka/log4j2.properties"
    -cp "$KAFKA_LIB/*")

  # The quorum's voter endpoint is written at format time: re-format when the
  # ports changed since (test data only).
  local ports_stamp="$KAFKA_PORT:$KAFKA_CONTROLLER_PORT"
  if [[ -f "$data/meta.properties" && "$(cat "$KAFKA_RUN/ports" 2>/dev/null || true)" != "$ports_stamp" ]]; then
    log "kafka: ports changed since the storage was formatted; wiping $data"
    rm -rf "$data"
    mkdir -p "$data"
  fi
  if [[ ! -f "$data/meta.properties" ]]; then
    local cid
    [[ -s "$KAFKA_RUN/cluster.id" ]] ||
      "${java[@]}" kafka.tools.StorageTool random-uuid </dev/null 2>>"$logs/format.log" | tr -d '[:space:]' >"$KAFKA_RUN/cluster.id"
    cid="$(cat "$KAFKA_RUN/cluster.id")"
    [[ -n "$cid" ]] || die "kafka: StorageTool random-uuid gave no id (see $logs/format.log)"
    if ! "${java[@]}" kafka.tools.StorageTool format -t "$cid" -c "$conf" --standalone -g \
      </dev/null >>"$logs/format.log" 2>&1; then
      tail -n 40 "$logs/format.log" >&2
      die "kafka: storage format failed"
    fi
    echo "$ports_stamp" >"$KAFKA_RUN/ports"
    log "kafka: formatted storage (cluster id $cid)"
  fi

  rotate "$logs/server.log" "$logs/kafka.out"
  launch "$pidfile" "$logs/kafka.out" "${java[@]}" kafka.Kafka "$conf"
  wait_ready kafka "$pidfile" "$marker" "$START_TIMEOUT" kafka_ready "$logs/server.log" "$logs/kafka.out"
  log "kafka: started (pid $(cat "$pidfile")) on 127.0.0.1:$KAFKA_PORT in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------- ferretdb
ferretdb_ready() { port_open "$FERRETDB_PORT"; }

start_ferretdb() {
  local pidfile="$FERRETDB_RUN/ferretdb.pid" marker pid
  marker="$(ferretdb_marker)"
  if pid="$(running_pid "$pidfile" "$marker")"; then
    if [[ "$(cmdline "$pid")" != *"-listen-addr 127.0.0.1:$FERRETDB_PORT "* ]]; then
      die "ferretdb: already running (pid $pid) on another port: $(cmdline "$pid"); stop it first"
    fi
    if port_open "$FERRETDB_PORT"; then
      log "ferretdb: already running (pid $pid) on 127.0.0.1:$FERRETDB_PORT"
      return 0
    fi
    wait_ready ferretdb "$pidfile" "$marker" "$START_TIMEOUT" ferretdb_ready "$FERRETDB_RUN/logs/ferretdb.log"
    return 0
  fi
  port_open "$FERRETDB_PORT" && die "ferretdb: port 127.0.0.1:$FERRETDB_PORT is in use by a process not started by start.sh"

  local t0
  t0="$(now_s)"
  mkdir -p "$FERRETDB_RUN/data" "$FERRETDB_RUN/logs"
  rotate "$FERRETDB_RUN/logs/ferretdb.log"
  launch "$pidfile" "$FERRETDB_RUN/logs/ferretdb.log" "$FERRETDB_BIN" \
    -listen-addr "127.0.0.1:$FERRETDB_PORT" -sqlite-dir "$FERRETDB_RUN/data" -log-level warn
  wait_ready ferretdb "$pidfile" "$marker" "$START_TIMEOUT" ferretdb_ready "$FERRETDB_RUN/logs/ferretdb.log"
  log "ferretdb: started (pid $(cat "$pidfile")) on 127.0.0.1:$FERRETDB_PORT in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------- main
main() {
  local target=all env=0 a t
  for a in "$@"; do
    case "$a" in
      --env) env=1 ;;
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

  "$SERVERS_DIR/install.sh" "$target" </dev/null >&2
  mkdir -p "$RUN"
  for t in $targets; do
    with_lock "$RUN/.lock" "start_$t"
  done

  local prefix=""
  ((env)) && prefix="export "
  for t in $targets; do
    case "$t" in
      kafka) echo "${prefix}KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT" ;;
      ferretdb) echo "${prefix}MONGO_URL=mongodb://127.0.0.1:$FERRETDB_PORT/" ;;
    esac
  done
}

main "$@"
