#!/usr/bin/env bash
# Long fuzzing runs, recorded. Seeds the corpora from the conformance
# scenarios, runs each target (all, or those named) for SECONDS with JOBS
# workers, and appends one row per target to fuzz/LEDGER.md: date, commit,
# target, CPU-seconds (user and system time of the fuzzer processes, as
# measured, not the wall time), executions, findings (new crash, timeout,
# out-of-memory or leak inputs under artifacts/; a slow unit is not one).
# RELIABILITY.md's R4 sums the ledger.
#
#   SECONDS_PER_TARGET=3600 JOBS=2 fuzz/long.sh            # every target, an hour each
#   SECONDS_PER_TARGET=14400 fuzz/long.sh response_stream  # one target, four hours
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")"
seconds="${SECONDS_PER_TARGET:-600}"
jobs="${JOBS:-1}"
if cargo +nightly --version >/dev/null 2>&1; then
  fuzz() { cargo +nightly fuzz "$@"; }
else
  fuzz() { RUSTC_BOOTSTRAP=1 cargo fuzz "$@"; }
fi
(cd .. && cargo run -q -p roundtrip-conformance --example fuzz_corpus fuzz/corpus)
fuzz build
targets=("$@")
[ ${#targets[@]} -eq 0 ] && mapfile -t targets < <(fuzz list)
commit="$(git rev-parse --short HEAD)"
[ -f LEDGER.md ] || printf '# Fuzzing ledger\n\n| date | commit | target | CPU-seconds | executions | findings |\n|---|---|---|---|---|---|\n' > LEDGER.md
for target in "${targets[@]}"; do
  mkdir -p "artifacts/$target"
  findings_now() { find "artifacts/$target" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l; }
  before=$(findings_now)
  log="$(mktemp)"
  status=0
  cpu="$(mktemp)"
  TIMEFORMAT='%U %S'
  { time fuzz run "$target" -- -max_total_time="$seconds" -jobs="$jobs" -workers="$jobs" -print_final_stats=1 >"$log" 2>&1 || status=$?; } 2>"$cpu"
  cpu_seconds=$(awk '{printf "%d", $1 + $2}' "$cpu")
  rm -f "$cpu"
  # With -jobs, each worker writes fuzz-N.log; their stats are summed.
  runs=$(cat "$log" fuzz-*.log 2>/dev/null | sed -n 's/^stat::number_of_executed_units: *//p' | awk '{s+=$1} END {print s+0}')
  rm -f fuzz-*.log
  after=$(findings_now)
  findings=$((after - before))
  echo "$target: ${runs} executions in ${cpu_seconds} CPU-seconds, ${findings} findings (exit ${status})"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$(date -u +%F)" "$commit" "$target" "$cpu_seconds" "$runs" "$findings" >> LEDGER.md
  rm -f "$log"
done
