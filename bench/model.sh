#!/usr/bin/env bash
# Turns end to end (bench/java/dev/ferry/bench/ModelTurns.java): webhook POST in, the turn, the reply POSTed
# to a sink written for speed. Sustained turns per second over many sessions (one message in flight per session), and
# the latency Ferry adds at half that rate (p50, p99, p99.9), per turn, with sends paced at planned times.
# With the openai backend the turn calls a model server that answers at once (its own time is subtracted);
# with "echo" there is no model call, and the figure is webhook POST to reply received.
# Usage: bench/model.sh [sessions] [seconds] [rounds] [echo]   (defaults 100, 10, 3; smoke: 1 round of 2 s)
# Each round first warms up for FERRY_BENCH_WARM_S seconds (default 30: on two cores the JIT compilers take a
# third of a core or more for the first half minute, and a shorter warm-up measures them, not Ferry).
# FERRY_BENCH_RATE sets the paced phase's rate instead of half the sustained one, FERRY_BENCH_PACED_S its length;
# FERRY_BENCH_METRICS=1 keeps the round's directory with the gateway's /metrics and log;
# FERRY_BENCH_GATEWAY_OPTS passes JVM options to the gateway (a flight recording, a GC log).
# Figures are recorded as e2e.* with echo, model.* with openai.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
sessions="${1:-100}"; seconds="${2:-10}"; rounds="${3:-3}"; backend="${4:-}"
if [[ -n "$smoke" ]]; then
  seconds=2; rounds=1; export FERRY_BENCH_WARM_S="${FERRY_BENCH_WARM_S:-2}"
fi
prefix=model
[[ "$backend" == echo ]] && prefix=e2e
ensure_bench_classes   # the jar, and the harness under bench/java
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
for ((r = 1; r <= rounds; r++)); do
  work="$(mktemp -d)"
  echo "round $r"
  java -XX:+UseSerialGC -cp "$bench_cp" dev.ferry.bench.ModelTurns "$root/target/ferry.jar" \
    "$work" "$sessions" "$seconds" ${backend:+"$backend"} \
    | tee "$results/round.$r" | grep -v '^RESULT' | sed -u "s/^/  /"
  for key in sustained rate p50 p99 p999 max dropped; do
    awk -v k="$key" '$1=="RESULT" && $2==k {print $3}' "$results/round.$r" >> "$results/$key"
  done
  cp "$work/spectrum.tsv" "$results/spectrum.$r" 2>/dev/null || true
  if [[ -z "${FERRY_BENCH_METRICS:-}" ]]; then rm -rf "$work"; fi
done
unit="turns/s"; [[ "$prefix" == e2e ]] && unit="replies/s"
for key in sustained rate; do figure "$prefix.$key" "$unit" "$results/$key"; done
for key in p50 p99 p999 max; do figure "$prefix.$key" ms "$results/$key"; done
figure "$prefix.dropped" count "$results/dropped"
# The spectrum of the round whose p99 was the median one, for the picture.
if [[ -n "${FERRY_BENCH_OUT:-}" ]]; then
  mkdir -p "$FERRY_BENCH_OUT/latency"
  r=$(awk -v m="$(median < "$results/p99")" '{d=$1-m; if (d<0) d=-d; if (best=="" || d<best) {best=d; r=NR}} END {print r}' "$results/p99")
  { echo "# $prefix, $sessions sessions, paced at half the sustained rate"; cat "$results/spectrum.$r"; } \
    > "$FERRY_BENCH_OUT/latency/$prefix.tsv"
fi
