#!/usr/bin/env bash
# Debouncer throughput (messages/s, two threads) and submit latency (p50/p99), window 0 and 300 ms,
# with JMH. The window-0 latency is what the debouncer adds to every message when debouncing is off.
# Usage: bench/debouncer.sh [extra JMH args]   e.g. bench/debouncer.sh -f 3
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mvn -B -q -Pbench -DskipTests test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench-classpath.txt
cp="target/test-classes:target/classes:$(cat target/bench-classpath.txt)"
FERRY_LOG_LEVEL=WARN java -cp "$cp" org.openjdk.jmh.Main DebouncerBenchmark -rf text -rff target/debouncer-bench.txt "$@"
