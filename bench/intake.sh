#!/usr/bin/env bash
# Durable intake over HTTP: webhook messages per second with journal.sync=full (every 202 is after the
# SQLite commit), side by side in the same run with the same server's no-op endpoint (/bench/noop, the
# HTTP stack alone), keep-alive connections from wrk on loopback, and wrk's p50/p99 ack latency.
# Rounds alternate no-op and webhook; medians are printed.
# Usage: bench/intake.sh [rounds] [seconds] [connections] [live|held]
#   live (default): the whole pipeline runs behind intake (echo turns, completion, delivery), sharing the
#                   journal's one writer and the two cores with intake: the end-to-end sustained rate.
#   held:           the inbound debouncer holds every message for the whole run (a 10-minute window), so
#                   only intake writes: its own ceiling. The gateway is killed at the end, not drained.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-3}"; seconds="${2:-10}"; connections="${3:-64}"; downstream="${4:-live}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
"$root/ferry" --version >/dev/null
work="$(mktemp -d)"
# Waits for the stop: a graceful stop drains the backlog and would otherwise load the next measurement.
trap 'kill ${signal:-} ${pid:-} 2>/dev/null; wait ${pid:-} 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
case "$downstream" in
  live) messages='' ;;
  held) messages=', messages: { inbound: { debounceMs: 600000, maxBatch: 1000000, maxTrackedKeys: 1000000 } }' ;;
  *) echo "downstream must be live or held, got: $downstream" >&2; exit 2 ;;
esac
printf '{ gateway: { port: %s }, state: { dir: "%s/state" }, journal: { sync: "full" }%s }\n' \
  "$port" "$work" "$messages" > "$work/ferry.json5"
FERRY_LOG_LEVEL=WARN "$root/ferry" gateway --config "$work/ferry.json5" 2> "$work/log" &
pid=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do
  kill -0 "$pid" 2>/dev/null || { echo "the gateway did not start:" >&2; cat "$work/log" >&2; exit 1; }
  sleep 0.05
done

run() {   # $1 = path, $2 = label, $3 = round
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$root/bench/wrk/webhook.lua" \
      "http://127.0.0.1:$port$1" -- "$2$3" > "$work/$2.$3.txt"
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$2.$3.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/$2.$3.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/$2.$3.txt")
  non2xx=$(awk '/Non-2xx/ {print $4}' "$work/$2.$3.txt")
  echo "$rps" >> "$work/$2.rps"
  printf '  round %d %-8s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$3" "$2" "$rps" "$p50" "$p99" "${non2xx:-0}"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

[[ "$downstream" == held ]] && signal=-KILL   # a drain of everything held would only delay the exit
echo "Ferry durable intake, downstream $downstream, $rounds rounds x ${seconds}s, $connections keep-alive connections, wrk -t2, $(nproc) cores"
# The JIT needs about half a minute of this load before the figures settle; warm-up rounds are not counted.
for w in 1 2; do
  run /bench/noop warmup "$w" >/dev/null
  run /channels/webhook/inbound warmup "$w" >/dev/null
done
for ((r = 1; r <= rounds; r++)); do
  run /bench/noop noop "$r"
  run /channels/webhook/inbound webhook "$r"
done
noop=$(median < "$work/noop.rps"); hook=$(median < "$work/webhook.rps")
printf 'median: no-op %.0f req/s, durable webhook %.0f msg/s = %.0f%% of no-op\n' "$noop" "$hook" \
  "$(awk -v a="$hook" -v b="$noop" 'BEGIN {print 100*a/b}')"
curl -s -X POST "http://127.0.0.1:$port/rpc" -H 'Content-Type: application/json' -d '{"method":"status"}' | python3 -c \
  'import json,sys; j=json.load(sys.stdin)["payload"]["journal"]; print("journal after the run:", j)'
