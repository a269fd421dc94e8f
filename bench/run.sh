#!/usr/bin/env bash
# Every benchmark in one command, then bench/RESULTS.md and bench/latency.svg from their figures
# (bench/report/Report.java): each figure a median over alternating rounds with its spread, beside its
# target and the limit it is judged against. About 22 minutes on 2 cores; run it on a quiet machine.
#   bench/run.sh            the full run; writes bench/RESULTS.md and bench/latency.svg
#   bench/run.sh --smoke    each benchmark seconds long, to show they all still run (CI does this); the
#                           report goes to target/bench-smoke/ and the committed results are not touched
# The raw figures and each benchmark's output stay in target/bench-run/ (target/bench-smoke/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case "${1:-}" in
  --smoke) export FERRY_BENCH_SMOKE=1; out="$root/target/bench-smoke"; mode=smoke ;;
  "") unset FERRY_BENCH_SMOKE; out="$root/target/bench-run"; mode=full ;;
  *) echo "usage: bench/run.sh [--smoke]" >&2; exit 2 ;;
esac
rm -rf "$out"; mkdir -p "$out/latency"
export FERRY_BENCH_OUT="$out"
started=$(date +%s)

ensure_wrk
ensure_bench_classes   # the jar, its archive, and the programs under bench/java

stage() {   # NAME COMMAND...: runs one benchmark, its output shown and kept; a failure names the stage
  local name="$1"; shift
  echo "== $name: $*"
  local began; began=$(date +%s)
  if ! "$@" 2>&1 | tee "$out/$name.log"; then
    echo "bench/run.sh: the $name benchmark failed; its output is in $out/$name.log" >&2
    exit 1
  fi
  echo "== $name took $(( $(date +%s) - began )) s"
}

# Start-up first, while nothing else has warmed the page cache or the machine.
stage startup "$root/bench/startup.sh" 5
stage intake "$root/bench/intake.sh" 5 5 64
stage e2e "$root/bench/model.sh" 1000 10 3 echo
stage memory "$root/bench/memory.sh"
stage reload "$root/bench/reload.sh"
stage jmh "$root/bench/debouncer.sh"
stage shared "$root/bench/shared.sh" 3 10 100

{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with changes)')"
  echo "cores=$(nproc)"
  echo "cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "memory=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "jdk=$(java -version 2>&1 | head -1)"
  echo "duration_s=$(( $(date +%s) - started ))"
  echo "mode=$mode"
} > "$out/machine.txt"

if [[ "$mode" == smoke ]]; then
  report_root="$out/report"; mkdir -p "$report_root/bench"
else
  report_root="$root"
fi
java "$root/bench/report/Report.java" "$out" "$report_root"
echo "bench/run.sh: $mode run done in $(( $(date +%s) - started )) s; results in $report_root/bench/RESULTS.md"
