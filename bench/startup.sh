#!/usr/bin/env bash
# Start-up time and idle memory of the gateway, as an operator would see them, beside the floor of its
# stack: a bare Javalin server with one route (bench/floor/BareJavalin.java) on the same jar and JVM flags.
#
# Each round starts, in turn: the gateway with and without the class-data archive that ./ferry records,
# and the bare server with and without an archive of its own. Each is spawned on a free loopback port
# (the gateway with a throwaway state dir) and timed from spawn until GET /healthz answers 200 (wall
# clock, JVM boot included); then it idles and its resident memory (VmRSS) is read. Rounds alternate
# the four, so the machine's drift touches each alike. Prints every run, the medians, and the gateway's
# time as a multiple of the floor's. Not a test: nothing is asserted.
#
# Usage: bench/startup.sh [runs]   (default 7)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
runs="${1:-7}"
idle_seconds="${IDLE_SECONDS:-3}"
[[ -n "$smoke" ]] && { runs=1; idle_seconds=0; }
jar="$root/target/ferry.jar"
archive="$root/target/ferry.jsa"

ensure_jar   # and the archive, when they are missing or stale
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
javac -d "$work/bare" -cp "$jar" "$root/bench/floor/BareJavalin.java"
# A class-data archive takes jars only, no directories, on its class path.
jar cf "$work/bare.jar" -C "$work/bare" .
bare_cp="$jar:$work/bare.jar"

# Starts one server, waits for /healthz, idles, notes time and memory under $work/<key>.*, stops it.
# $1 = key, $2 = label, $3 = gateway|bare, rest = extra JVM flags
run_once() {
  local key="$1" label="$2" kind="$3"; shift 3
  local port; port="$(free_port)"
  local command
  if [[ "$kind" == gateway ]]; then
    printf '{ gateway: { port: %s }, state: { dir: "%s/state-%s" } }\n' "$port" "$work" "$key" > "$work/ferry.json5"
    command=(java "${jvm_flags[@]}" "$@" -jar "$jar" gateway --config "$work/ferry.json5")
  else
    command=(java "${jvm_flags[@]}" "$@" -cp "$bare_cp" BareJavalin "$port")
  fi
  local start; start=$(date +%s%N)
  "${command[@]}" > "$work/log" 2>&1 &
  local pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do
    kill -0 "$pid" 2>/dev/null || { echo "$label exited:"; cat "$work/log"; exit 1; }
    sleep 0.005
  done
  local end; end=$(date +%s%N)
  sleep "$idle_seconds"
  local rss_kb; rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  local ms=$(( (end - start) / 1000000 ))
  echo "$ms" >> "$work/$key.ms"; echo "$rss_kb" >> "$work/$key.rss"
  printf '  %-32s healthz after %4d ms, idle RSS %d MiB\n' "$label" "$ms" $((rss_kb / 1024))
}

# The bare server's own archive, recorded like the gateway's: one request, then an exit of its own.
record_bare_archive() {
  java -XX:ArchiveClassesAtExit="$work/bare.jsa" -cp "$bare_cp" BareJavalin "$(free_port)" record > "$work/log" 2>&1 \
    || { echo "the bare server's archive was not recorded:" >&2; cat "$work/log" >&2; exit 1; }
}
record_bare_archive
[[ -f "$work/bare.jsa" ]] || { echo "the bare server wrote no archive" >&2; exit 1; }
cds=(-Xlog:cds=off -Xlog:cds+dynamic=off)

echo "Ferry start-up and idle memory beside a bare Javalin server ($runs rounds, idle ${idle_seconds}s, $(nproc) cores)"
for ((i = 1; i <= runs; i++)); do
  echo "round $i"
  run_once ferry-cds "gateway, with CDS archive" gateway -XX:SharedArchiveFile="$archive" "${cds[@]}"
  run_once bare-cds "bare Javalin, with CDS archive" bare -XX:SharedArchiveFile="$work/bare.jsa" "${cds[@]}"
  run_once ferry "gateway, without archive" gateway
  run_once bare "bare Javalin, without archive" bare
done

summary() {   # $1 = key, $2 = label
  printf '%-32s median: healthz after %s ms, idle RSS %s MiB\n' "$2" "$(median < "$work/$1.ms")" \
    "$(median < "$work/$1.rss" | awk '{printf "%d", $1/1024}')"
}
summary ferry-cds "gateway, with CDS archive"
summary bare-cds "bare Javalin, with CDS archive"
summary ferry "gateway, without archive"
summary bare "bare Javalin, without archive"
printf 'gateway / floor: %.2fx with the archives, %.2fx without\n' \
  "$(awk -v a="$(median < "$work/ferry-cds.ms")" -v b="$(median < "$work/bare-cds.ms")" 'BEGIN {print a/b}')" \
  "$(awk -v a="$(median < "$work/ferry.ms")" -v b="$(median < "$work/bare.ms")" 'BEGIN {print a/b}')"
figure startup.gateway.cds ms "$work/ferry-cds.ms"
figure startup.bare.cds ms "$work/bare-cds.ms"
figure startup.gateway ms "$work/ferry.ms"
figure startup.bare ms "$work/bare.ms"
awk '{print $1/1024}' "$work/ferry-cds.rss" > "$work/idle.mib"
figure startup.idle.rss MiB "$work/idle.mib"
