#!/usr/bin/env bash
# Debouncer throughput (messages/s, two threads) and submit latency (p50/p99), window 0 and 300 ms,
# with JMH. The window-0 latency is what the debouncer adds to every message when debouncing is off.
# Usage: bench/debouncer.sh [extra JMH args]   e.g. bench/debouncer.sh -f 3
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_bench_classes
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
short=()
[[ -n "$smoke" ]] && short=(-wi 1 -w 1s -i 1 -r 1s)
FERRY_LOG_LEVEL=WARN java -cp "$bench_cp" org.openjdk.jmh.Main DebouncerBenchmark -rf csv -rff "$work/jmh.csv" \
  ${short[@]+"${short[@]}"} "$@"
# One figure per benchmark and parameter, plus the sample-time percentiles JMH reports as secondary rows.
if [[ -n "${FERRY_BENCH_OUT:-}" ]]; then
  python3 - "$work/jmh.csv" >> "$FERRY_BENCH_OUT/figures.tsv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head, body = rows[0], rows[1:]
params = [i for i, name in enumerate(head) if name.startswith("Param: ")]
for row in body:
    # "dev.ferry.bench.DebouncerBenchmark.submitLatency:p0.99" -> "submitLatency.p0.99"
    name = row[0].rsplit("DebouncerBenchmark.", 1)[-1].replace(":", ".").replace("·", "")
    label = "jmh.debouncer." + name + "".join("." + head[i][7:] + "=" + row[i] for i in params)
    score = float(row[4])
    print(f"{label}\t{score:.6g}\t{score:.6g}\t{score:.6g}\t1\t{row[6]}")
PY
fi
