#!/usr/bin/env bash
# Reload latency (SIGUSR1 -> serving the next generation) with idle queues and with 1,000 buffered
# messages, and intake acknowledgement latency during reloads next to between them, against the real
# jar as a child process on loopback. Usage: bench/reload.sh   (RUNS=n to change the number of runs)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mvn -B -q -Pbench -DskipTests package dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile=target/bench-classpath.txt
cp="target/test-classes:target/classes:$(cat target/bench-classpath.txt)"
FERRY_LOG_LEVEL=WARN java -Druns="${RUNS:-7}" -cp "$cp" dev.ferry.bench.ReloadBenchmark
