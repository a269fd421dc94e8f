#!/usr/bin/env bash
# Durable intake beside its ceiling, in one run with rounds alternating. Three processes run side by side:
#   - the ceiling (bench/ceiling/AckCeiling.java), on the gateway jar's Jetty and Javalin: /sync answers at
#     once (the HTTP stack alone), /durable after one group fdatasync of the bodies (the fastest a durable
#     acknowledgement can be here, before any journal, parser or pipeline works);
#   - the gateway with journal.sync=full (every 202 after the SQLite commit is on disk), and one with
#     sync=normal. The inbound debouncer holds every message for the whole run (a 10-minute window), so only
#     intake writes the journal. Both are killed at the end, not drained.
# Each round posts unique webhook messages with wrk (keep-alive, loopback) to the four in turn; a round's
# throughput is its req/s, its latency wrk's ack latency under that closed-loop load. Medians are printed.
# Usage: bench/intake.sh [rounds] [seconds] [connections]   (defaults 5, 5, 64; smoke: 1 round of 1 s)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rounds="${1:-5}"; seconds="${2:-5}"; connections="${3:-64}"; warmups=3
[[ -n "$smoke" ]] && { rounds=1; seconds=1; warmups=0; }
(( rounds >= 1 )) || { echo "rounds must be at least 1" >&2; exit 2; }
ensure_wrk
ensure_jar
work="$(mktemp -d)"
pids=()
trap 'kill -KILL ${pids[@]+"${pids[@]}"} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

ceiling_port=$(free_port)
java -XX:+UseSerialGC -cp "$root/target/ferry.jar" "$root/bench/ceiling/AckCeiling.java" "$ceiling_port" "$work" javalin \
  > "$work/ceiling.log" 2>&1 &
pids+=($!); ceiling_pid=$!

start_gateway() {   # $1 = sync mode; sets the port in $work/<mode>.port
  local port; port=$(free_port)
  mkdir -p "$work/$1"
  printf '{ gateway: { port: %s }, state: { dir: "%s/%s/state" }, journal: { sync: "%s" },
    messages: { inbound: { debounceMs: 600000, maxBatch: 1000000, maxTrackedKeys: 1000000 } } }\n' \
    "$port" "$work" "$1" "$1" > "$work/$1/ferry.json5"
  FERRY_LOG_LEVEL=WARN "$root/ferry" gateway --config "$work/$1/ferry.json5" 2> "$work/$1/log" &
  pids+=($!)
  echo "$port" > "$work/$1.port"
  await_healthy "$port" $! "$work/$1/log"
}
start_gateway full
start_gateway normal
await_healthy "$ceiling_port" "$ceiling_pid" "$work/ceiling.log"

# run KEY URL ROUND: one wrk round; its req/s and p99 go to $work/KEY.rps and $work/KEY.p99.
run() {
  local key="$1" url="$2" round="$3"
  FERRY_WRK_SPECTRUM="$work/$key.$round.spectrum" wrk -t2 -c"$connections" -d"${seconds}s" --latency \
    -s "$root/bench/wrk/webhook.lua" "$url" -- "$key$round" > "$work/$key.$round.txt"
  if grep -qE 'Non-2xx|Socket errors' "$work/$key.$round.txt"; then
    echo "errors from $url:" >&2; cat "$work/$key.$round.txt" >&2; exit 1
  fi
  [[ "$round" == w* ]] && return
  awk '/Requests\/sec/ {print $2}' "$work/$key.$round.txt" >> "$work/$key.rps"
  awk '$1=="99%" {v=$2; if (v ~ /us$/) v=v/1000; else if (v ~ /ms$/) v=v+0; else if (v ~ /s$/) v=v*1000; print v}' \
    "$work/$key.$round.txt" >> "$work/$key.p99"
  printf '  round %d %-17s %10s req/s   p50 %8s   p99 %8s\n' "$round" "$key" "$(tail -1 "$work/$key.rps")" \
    "$(awk '$1=="50%" {print $2}' "$work/$key.$round.txt")" "$(awk '$1=="99%" {print $2}' "$work/$key.$round.txt")"
}
round() {   # ROUND: the four in turn
  run intake.ceiling.sync "http://127.0.0.1:$ceiling_port/sync" "$1"
  run intake.ceiling.durable "http://127.0.0.1:$ceiling_port/durable" "$1"
  run intake.full "http://127.0.0.1:$(cat "$work/full.port")/channels/webhook/inbound" "$1"
  run intake.normal "http://127.0.0.1:$(cat "$work/normal.port")/channels/webhook/inbound" "$1"
}

echo "Durable intake beside its ceiling: $rounds rounds x ${seconds}s, $connections keep-alive connections, wrk -t2, $(nproc) cores"
# The JIT needs about half a minute of this load before the figures settle; warm-up rounds are not counted.
for ((w = 1; w <= warmups; w++)); do round "w$w"; done
for ((r = 1; r <= rounds; r++)); do round "$r"; done

for key in intake.ceiling.sync intake.ceiling.durable intake.full intake.normal; do
  figure "$key" req/s "$work/$key.rps"
  figure "$key.p99" ms "$work/$key.p99"
done
awk -v f="$(median < "$work/intake.full.rps")" -v n="$(median < "$work/intake.normal.rps")" \
    -v d="$(median < "$work/intake.ceiling.durable.rps")" \
    'BEGIN { printf "sync=full is %.0f%% of the durable ceiling, sync=normal %.0f%%\n", 100*f/d, 100*n/d }'
# The spectra of the round whose throughput was the median one, for the picture.
if [[ -n "${FERRY_BENCH_OUT:-}" ]]; then
  mkdir -p "$FERRY_BENCH_OUT/latency"
  for key in intake.ceiling.durable intake.full intake.normal; do
    median_rps=$(median < "$work/$key.rps")
    r=$(awk -v m="$median_rps" '{d=$1-m; if (d<0) d=-d; if (best=="" || d<best) {best=d; r=NR}} END {print r}' "$work/$key.rps")
    label=${key#intake.}
    { echo "# $label"; cat "$work/$key.$r.spectrum"; } > "$FERRY_BENCH_OUT/latency/intake-${label//./-}.tsv"
  done
fi
