#!/usr/bin/env bash
# Start-up time and idle memory of the gateway, as an operator would see them.
#
# For each run: spawn `java -jar target/ferry.jar gateway` on a free loopback port with a throwaway
# state dir, time from spawn until GET /healthz answers 200 (wall clock, JVM boot included), then let
# it idle and read its resident memory (VmRSS). Prints every run and the medians, with and without the
# class-data archive that ./ferry records. Not a test: nothing is asserted.
#
# Usage: bench/startup.sh [runs]   (default 7)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-7}"
idle_seconds="${IDLE_SECONDS:-3}"
jar="$root/target/ferry.jar"
archive="$root/target/ferry.jsa"

"$root/ferry" --version >/dev/null   # builds the jar and the archive when they are missing or stale
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

median() {
  sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

measure() {   # $1 = label, rest = extra JVM flags
  local label="$1"; shift
  : > "$work/ms"; : > "$work/rss"; : > "$work/ready"
  for ((i = 1; i <= runs; i++)); do
    local port; port="$(free_port)"
    printf '{ gateway: { port: %s }, state: { dir: "%s/state" } }\n' "$port" "$work" > "$work/ferry.json5"
    local start; start=$(date +%s%N)
    java -XX:+UseSerialGC "$@" -jar "$jar" gateway --config "$work/ferry.json5" 2> "$work/log" &
    local pid=$!
    until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do
      kill -0 "$pid" 2>/dev/null || { echo "gateway exited:"; cat "$work/log"; exit 1; }
      sleep 0.005
    done
    local end; end=$(date +%s%N)
    sleep "$idle_seconds"
    local rss_kb; rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    local ready; ready=$(grep -o 'startupMs=[0-9]*' "$work/log" | cut -d= -f2)
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    local ms=$(( (end - start) / 1000000 ))
    echo "$ms" >> "$work/ms"; echo "$rss_kb" >> "$work/rss"; echo "$ready" >> "$work/ready"
    printf '  %-18s run %d: healthz after %4d ms (JVM uptime at ready %s ms), idle RSS %d MiB\n' \
      "$label" "$i" "$ms" "$ready" $((rss_kb / 1024))
  done
  printf '%-20s median: healthz after %s ms, JVM uptime at ready %s ms, idle RSS %s MiB\n' "$label" \
    "$(median < "$work/ms")" "$(median < "$work/ready")" "$(median < "$work/rss" | awk '{printf "%d", $1/1024}')"
}

echo "Ferry start-up and idle memory ($runs runs each, idle ${idle_seconds}s, $(nproc) cores)"
measure "with CDS archive" -XX:SharedArchiveFile="$archive" -Xlog:cds=off -Xlog:cds+dynamic=off
measure "without archive"
