#!/usr/bin/env bash
# Compares the import of two commits on this host: builds each (a git worktree under .cache/ab, sharing this
# checkout's node_modules), then imports the bench file with each in turn, ROUNDS times, alternating, and prints
# every run and the medians of wall time and per-thread CPU. This host's speed drifts by ±30% within minutes, so
# only alternating runs compare; a difference smaller than the spread between rounds is noise.
#
#   scripts/bench-ab.sh <commit-a> <commit-b> [rounds=3]      (e.g. scripts/bench-ab.sh HEAD~1 HEAD 4; an even number
#                                                              of rounds runs each side first equally often)
#
# The bench file is the one `npm run bench` generates (.cache/bench/events-$BENCH_EVENTS.ndjson); run that first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 <commit-a> <commit-b> [rounds]" >&2; exit 2; }
rounds=${3:-3}
file=.cache/bench/events-${BENCH_EVENTS:-1000000}.ndjson
[ -f "$file" ] || { echo "bench-ab: $file is missing; run npm run bench once first" >&2; exit 1; }
file=$(realpath "$file")

build() { # commit -> directory with its dist
  local sha dir
  sha=$(git rev-parse --verify "$1^{commit}")
  dir=.cache/ab/$sha
  if [ ! -f "$dir/dist/test/bench/import-runner.js" ]; then
    rm -rf "$dir"
    git worktree prune
    git worktree add --detach "$dir" "$sha" >/dev/null
    ln -s "$(pwd)/node_modules" "$dir/node_modules"
    (cd "$dir" && npx tsc -p tsconfig.build.json && npx tsc-alias -p tsconfig.build.json) >&2
  fi
  realpath "$dir"
}

a=$(build "$1")
b=$(build "$2")
out=$(mktemp)
trap 'rm -rf "$out" "$out.data"' EXIT
# a b, then b a, and so on (ABBA): while the host speeds up or slows down, the side run second in every round would
# look better (seen in session 16: 5 of 5 rounds for one change, mixed once the order alternated).
for ((i = 1; i <= rounds; i++)); do
  order="a b"
  [ $((i % 2)) = 0 ] && order="b a"
  for side in $order; do
    dir=$a
    [ "$side" = b ] && dir=$b
    rm -rf "$out.data"
    # With the flags `npm run crm` runs the CLI with at that commit.
    flags=$(cd "$dir" && node -p 'require("./package.json").scripts.crm.split(/\s+/).filter((a) => a.startsWith("--")).join(" ")')
    report=$(cd "$dir" && node $flags dist/test/bench/import-runner.js "$out.data" "$file")
    echo "$side $report" | tee -a "$out"
  done
done
node -e '
const runs = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => ({ side: l.slice(0, 1), ...JSON.parse(l.slice(2)) }));
const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[Math.floor((s.length - 1) / 2)]; };
for (const side of ["a", "b"]) {
  const r = runs.filter((x) => x.side === side);
  console.log(JSON.stringify({ side, commit: process.argv[side === "a" ? 2 : 3], runs: r.length,
    medianSeconds: +median(r.map((x) => x.seconds)).toFixed(2),
    medianMainCpu: median(r.map((x) => x.threadCpuSeconds[0])), medianSecondThreadCpu: median(r.map((x) => x.threadCpuSeconds[1])),
    medianPeakRssMiB: Math.round(median(r.map((x) => x.peakRssBytes)) / 2 ** 20) }));
}
const pairs = runs.filter((x) => x.side === "a").map((x, i) => +(runs.filter((y) => y.side === "b")[i].seconds - x.seconds).toFixed(2));
console.log(JSON.stringify({ "b minus a, seconds, per round": pairs }));
' "$out" "$1" "$2"
