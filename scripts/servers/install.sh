#!/usr/bin/env bash
# Install the real test servers used by our test suites into a project cache:
#   - Apache Kafka 4.x (KRaft) jars from Maven Central  -> $CACHE/kafka/lib/
#   - FerretDB v1 (SQLite backend) built from Go modules -> $CACHE/bin/ferretdb
# Idempotent: a warm cache is a fast no-op (stamps hash the inputs).
#
# Usage: scripts/servers/install.sh [kafka|ferretdb|all]   (default: all)
# Env:   CRM_SERVERS_CACHE (default: <repo>/.cache/servers)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# need_cmd CMD APT_PACKAGE: make sure CMD is on PATH. Installs the Debian package
# only when the command is missing and we are root on a Debian-like system.
need_cmd() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [[ -n "$pkg" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "'$cmd' not found; installing Debian package $pkg"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null >&2
    apt-get install -y -qq --no-install-recommends "$pkg" </dev/null >&2
    command -v "$cmd" >/dev/null 2>&1 && return 0
  fi
  die "'$cmd' is required but not on PATH${pkg:+ (Debian package: $pkg)}"
}

install_kafka() {
  need_cmd java openjdk-17-jre-headless
  need_cmd mvn maven
  local jv
  jv="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')"
  [[ "${jv%%.*}" =~ ^[0-9]+$ && "${jv%%.*}" -ge 17 ]] || die "Kafka 4.x needs Java 17+, found '$jv'"

  local pom="$SERVERS_DIR/kafka/pom.xml" stamp="$KAFKA_HOME/.stamp" want
  want="$(sha_of "$pom")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && compgen -G "$KAFKA_LIB/kafka_2.13-*.jar" >/dev/null; then
    log "kafka: up to date ($KAFKA_LIB)"
    return 0
  fi

  local t0 tmp
  t0="$(now_s)"
  log "kafka: collecting jars with Maven (first run downloads ~40 MB)"
  mkdir -p "$KAFKA_HOME"
  tmp="$KAFKA_HOME/lib.tmp"
  rm -rf "$tmp"
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" </dev/null >"$KAFKA_HOME/mvn.log" 2>&1; then
    tail -n 40 "$KAFKA_HOME/mvn.log" >&2 || true
    die "kafka: mvn dependency:copy-dependencies failed (log: $KAFKA_HOME/mvn.log)"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || die "kafka: kafka_2.13 jar missing after mvn"
  compgen -G "$tmp/log4j-slf4j*-impl-*.jar" >/dev/null || die "kafka: log4j SLF4J bridge missing after mvn"
  rm -rf "$KAFKA_LIB"
  mv "$tmp" "$KAFKA_LIB"
  echo "$want" >"$stamp"
  local jars=("$KAFKA_LIB"/*.jar) core=("$KAFKA_LIB"/kafka_2.13-*.jar)
  log "kafka: installed ${#jars[@]} jars in $(elapsed "$t0") s ($(basename "${core[0]}"))"
}

install_ferretdb() {
  need_cmd go ""
  local src="$SERVERS_DIR/ferretdb" stamp="$FERRETDB_BIN.stamp" want
  want="$(
    {
      cat "$src/go.mod" "$src/go.sum" "$src/main.go"
      go version
    } | sha256sum | awk '{print $1}'
  )"
  if [[ -x "$FERRETDB_BIN" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "ferretdb: up to date ($FERRETDB_BIN)"
    return 0
  fi

  local t0
  t0="$(now_s)"
  log "ferretdb: building $FERRETDB_BIN (cold build takes a few minutes)"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  rm -f "$FERRETDB_BIN.tmp"
  if ! (cd "$src" && CGO_ENABLED=0 nice -n 10 go build -mod=readonly -buildvcs=false -trimpath \
    -o "$FERRETDB_BIN.tmp" .) </dev/null >"$CACHE/bin/ferretdb-build.log" 2>&1; then
    tail -n 40 "$CACHE/bin/ferretdb-build.log" >&2 || true
    die "ferretdb: go build failed (log: $CACHE/bin/ferretdb-build.log)"
  fi
  mv -f "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  echo "$want" >"$stamp"
  log "ferretdb: built in $(elapsed "$t0") s"
}

main() {
  local targets t
  targets="$(parse_target "${1:-all}")"
  mkdir -p "$CACHE"
  for t in $targets; do
    with_lock "$CACHE/.install.lock" "install_$t"
  done
}

main "$@"
