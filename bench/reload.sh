#!/usr/bin/env bash
# Reload latency (SIGUSR1 -> serving the next generation) with idle queues and with 1,000 buffered
# messages; then, under a paced intake load, ten reloads a minute, with the acknowledgement latency
# during reloads beside the latency between them (bench/java/dev/ferry/bench/ReloadBenchmark.java),
# against the real jar as a child process on loopback. Usage: bench/reload.sh   (RUNS=n, RATE=msg/s)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_bench_classes
FERRY_LOG_LEVEL=WARN java -Druns="${RUNS:-${smoke:+1}}" -Drate="${RATE:-}" -Dsmoke="$smoke" \
  -Dout="${FERRY_BENCH_OUT:-}" -cp "$bench_cp" dev.ferry.bench.ReloadBenchmark
