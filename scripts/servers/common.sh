# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared settings and helpers for scripts/servers/{install,start,stop}.sh.
# Sourced, never run. Everything here talks to 127.0.0.1 only.

SERVERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SERVERS_DIR/../.." && pwd)"

CACHE="${CRM_SERVERS_CACHE:-$REPO/.cache/servers}"
RUN="${CRM_SERVERS_RUN:-$REPO/.cache/servers/run}"

KAFKA_PORT="${CRM_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${CRM_KAFKA_CONTROLLER_PORT:-19093}"
FERRETDB_PORT="${CRM_FERRETDB_PORT:-27017}"

START_TIMEOUT="${CRM_SERVERS_START_TIMEOUT:-60}" # seconds, per server
STOP_TIMEOUT="${CRM_SERVERS_STOP_TIMEOUT:-30}"   # seconds, per server

KAFKA_HOME="$CACHE/kafka"
KAFKA_LIB="$KAFKA_HOME/lib"
KAFKA_RUN="$RUN/kafka"
FERRETDB_BIN="$CACHE/bin/ferretdb"
FERRETDB_RUN="$RUN/ferretdb"

log() { printf '[servers] %s\n' "$*" >&2; }
die() {
  printf '[servers] ERROR: %s\n' "$*" >&2
  exit 1
}

# parse_target ARG -> echoes the list of components ("kafka", "ferretdb" or both).
parse_target() {
  case "${1:-all}" in
    kafka) echo kafka ;;
    ferretdb | mongo | mongodb) echo ferretdb ;;
    all) echo "kafka ferretdb" ;;
    *) die "unknown server '$1' (expected kafka, ferretdb or all)" ;;
  esac
}

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# cmdline PID: the process's command line, NULs turned into spaces.
cmdline() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# pid_matches PID MARKER: PID is alive (not a zombie) and its command line
# contains MARKER. Guards against a stale pid file whose pid was reused.
pid_matches() {
  local pid=$1 marker=$2 state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/stat" ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  [[ "$(cmdline "$pid")" == *"$marker"* ]]
}

# pid_gone PID: the process has exited (no /proc entry, or only a zombie left).
pid_gone() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -z "$state" || "$state" == Z || "$state" == X ]]
}

# running_pid PIDFILE MARKER: echoes the pid recorded in PIDFILE if that
# process is still ours and alive; removes a stale pid file.
running_pid() {
  local pidfile=$1 marker=$2 pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if pid_matches "$pid" "$marker"; then
    echo "$pid"
    return 0
  fi
  rm -f "$pidfile"
  return 1
}

# Markers that identify our processes in /proc/PID/cmdline.
kafka_marker() { echo "kafka.Kafka $KAFKA_RUN/server.properties"; }
ferretdb_marker() { echo "$FERRETDB_BIN"; }

# with_lock FILE CMD...: run CMD under an exclusive flock on FILE (bounded wait),
# so that concurrent install/start/stop calls do not trip over each other.
with_lock() {
  local lockfile=$1
  shift
  mkdir -p "$(dirname "$lockfile")"
  (
    flock -w 300 9 || die "timed out (300 s) waiting for lock $lockfile"
    "$@"
  ) 9>"$lockfile"
}

sha_of() { cat "$@" | sha256sum | awk '{print $1}'; }

now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN{printf "%.1f", b-a}'; }
