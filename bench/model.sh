#!/usr/bin/env bash
# Turns through the openai backend against a model server that answers at once (bench/model/ModelTurns.java):
# sustained turns per second over many sessions, and the latency Ferry adds over the model's own time at
# half that rate (p50, p99), per turn, with sends paced at their planned times.
# Usage: bench/model.sh [sessions] [seconds] [rounds] [echo]   (defaults 100, 10, 3; "echo" skips the model call)
# Each round first warms up for FERRY_BENCH_WARM_S seconds (default 30: on two cores the JIT compilers take a
# third of a core or more for the first half minute, and a shorter warm-up measures them, not Ferry).
# FERRY_BENCH_RATE sets the paced phase's rate instead of half the sustained one, FERRY_BENCH_PACED_S its length;
# FERRY_BENCH_METRICS=1 keeps the round's directory with the gateway's /metrics and log;
# FERRY_BENCH_GATEWAY_OPTS passes JVM options to the gateway (a flight recording, a GC log).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sessions="${1:-100}"; seconds="${2:-10}"; rounds="${3:-3}"
"$root/ferry" --version >/dev/null   # builds target/ferry.jar
for ((r = 1; r <= rounds; r++)); do
  work="$(mktemp -d)"
  echo "round $r"
  java -XX:+UseSerialGC -cp "$root/target/ferry.jar" "$root/bench/model/ModelTurns.java" "$root/target/ferry.jar" \
    "$work" "$sessions" "$seconds" ${4:+"$4"} | sed -u "s/^/  /"
  if [[ -z "${FERRY_BENCH_METRICS:-}" ]]; then rm -rf "$work"; fi
done
