#!/usr/bin/env bash
# Run the suites that need real servers (jest.servers.config.js: every *.servers-spec.ts) against the
# Kafka broker and FerretDB that start.sh installs and starts, with KAFKA_BROKERS / MONGO_URL exported.
# Afterwards it stops the servers it started, also when tests fail or the run is interrupted; servers
# that were already running (started by hand) are left alone. Concurrent runs share the servers: the
# last run to finish stops the ones a run started.
#
# Usage: scripts/servers/run-tests.sh [jest args...]     (npm run test:servers -- [jest args...])
# Env:   CRM_SERVERS_TEST_TIMEOUT (1800 s) bound on the jest run; CRM_SERVERS_KEEP=1 leaves them running;
#        CRM_SERVERS_COMMAND runs that shell command instead of jest (npm run bench:servers);
#        and those of start.sh / stop.sh (ports, cache and run directories, start/stop timeouts).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TEST_TIMEOUT="${CRM_SERVERS_TEST_TIMEOUT:-1800}"
USERS="$RUN/test-runs"          # one file per live run (named by its pid)
COMPONENTS=(kafka ferretdb)

pidfile_of() {
  case "$1" in
    kafka) echo "$KAFKA_RUN/kafka.pid" ;;
    ferretdb) echo "$FERRETDB_RUN/ferretdb.pid" ;;
  esac
}
marker_of() {
  case "$1" in
    kafka) kafka_marker ;;
    ferretdb) ferretdb_marker ;;
  esac
}
is_running() { running_pid "$(pidfile_of "$1")" "$(marker_of "$1")" >/dev/null; }

# Under the lock: record this run, mark the servers that are not running as started by a test run
# (`<name>.test-run` files), then start everything.
register_and_start() {
  mkdir -p "$USERS"
  echo $$ >"$USERS/$$"
  local c
  for c in "${COMPONENTS[@]}"; do
    if ! is_running "$c"; then touch "$RUN/$c.test-run"; fi
  done
  "$SERVERS_DIR/start.sh" all --env </dev/null >"$RUN/test-run-env.$$"
}

# Under the lock: forget this run (and runs that died without cleaning up); when no run is left, stop
# the servers a test run started.
unregister_and_stop() {
  rm -f "$USERS/$$" "$RUN/test-run-env.$$"
  local f pid c
  for f in "$USERS"/*; do
    [[ -e "$f" ]] || continue
    pid="$(basename "$f")"
    if ! pid_matches "$pid" run-tests.sh; then rm -f "$f"; fi
  done
  if compgen -G "$USERS/*" >/dev/null; then
    log "test run $$: other test runs still use the servers; leaving them running"
    return 0
  fi
  for c in "${COMPONENTS[@]}"; do
    if [[ -f "$RUN/$c.test-run" ]]; then
      if [[ "${CRM_SERVERS_KEEP:-0}" == 1 ]]; then
        log "$c: left running (CRM_SERVERS_KEEP=1); stop it with scripts/servers/stop.sh $c"
      else
        "$SERVERS_DIR/stop.sh" "$c" </dev/null || log "$c: stop failed (see above)"
      fi
      rm -f "$RUN/$c.test-run"
    fi
  done
}

JEST_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  with_lock "$RUN/.test-runs.lock" unregister_and_stop || true
  exit "$rc"
}

# On Ctrl-C / SIGTERM: stop jest (timeout forwards the signal to it), then exit through cleanup.
on_signal() {
  if [[ -n "$JEST_PID" ]]; then
    kill -TERM "$JEST_PID" 2>/dev/null || true
    wait "$JEST_PID" 2>/dev/null || true
  fi
  exit "$1"
}

main() {
  mkdir -p "$RUN"
  trap cleanup EXIT
  trap 'on_signal 130' INT
  trap 'on_signal 143' TERM
  with_lock "$RUN/.test-runs.lock" register_and_start
  # shellcheck disable=SC1090
  source "$RUN/test-run-env.$$" # export KAFKA_BROKERS=... MONGO_URL=...
  log "running ${CRM_SERVERS_COMMAND:-jest -c jest.servers.config.js} (KAFKA_BROKERS=$KAFKA_BROKERS MONGO_URL=$MONGO_URL, limit ${TEST_TIMEOUT}s)"
  cd "$REPO"
  local rc=0
  # In the background so that a signal to this script is handled at once (bash defers traps while it
  # waits for a foreground child, and timeout runs jest in its own process group).
  if [[ -n "${CRM_SERVERS_COMMAND:-}" ]]; then
    # Another command against the same servers (npm run bench:servers), e.g. CRM_SERVERS_COMMAND="node dist/test/bench/kafka-mongo.bench.js".
    timeout --kill-after=30 "$TEST_TIMEOUT" bash -c "$CRM_SERVERS_COMMAND" </dev/null &
  else
    timeout --kill-after=30 "$TEST_TIMEOUT" "$REPO/node_modules/.bin/jest" -c jest.servers.config.js "$@" </dev/null &
  fi
  JEST_PID=$!
  wait "$JEST_PID" || rc=$?
  JEST_PID=""
  if ((rc == 124 || rc == 137)); then log "jest did not finish within ${TEST_TIMEOUT}s"; fi
  return "$rc"
}

main "$@"
