#!/usr/bin/env bash
# Turns through the openai backend against a model server that answers at once (bench/model/ModelTurns.java):
# sustained turns per second over many sessions, and the latency Ferry adds over the model's own time at
# half that rate (p50, p99), per turn, with sends paced at their planned times.
# Usage: bench/model.sh [sessions] [seconds] [rounds]   (defaults 100, 10, 3)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sessions="${1:-100}"; seconds="${2:-10}"; rounds="${3:-3}"
"$root/ferry" --version >/dev/null   # builds target/ferry.jar
for ((r = 1; r <= rounds; r++)); do
  work="$(mktemp -d)"
  echo "round $r"
  java -XX:+UseSerialGC -cp "$root/target/ferry.jar" "$root/bench/model/ModelTurns.java" "$root/target/ferry.jar" \
    "$work" "$sessions" "$seconds" | sed -u "s/^/  /"
  rm -rf "$work"
done
