#!/usr/bin/env bash
# The ceiling under bench/intake.sh's ratio: how fast a durable acknowledgement can be on this machine
# before any journal, parser or pipeline does any work. bench/ceiling/AckCeiling.java serves, on the
# gateway's own Jetty, Javalin, thread pool and GC, the same webhook bodies three ways: answered at
# once (/sync, as the gateway's no-op), answered from another thread (/deferred), and answered from
# another thread after one group fdatasync of the bodies (/durable). Rounds rotate the three; medians.
# Usage: bench/ack-ceiling.sh [rounds] [seconds] [connections]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds="${1:-5}"; seconds="${2:-5}"; connections="${3:-64}"
(( rounds >= 1 )) || { echo "rounds must be at least 1" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
"$root/ferry" --version >/dev/null   # builds target/ferry.jar, whose classpath the harness runs on
work="$(mktemp -d)"
trap 'kill ${pid:-} 2>/dev/null; wait ${pid:-} 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
java -XX:+UseSerialGC -cp "$root/target/ferry.jar" "$root/bench/ceiling/AckCeiling.java" "$port" "$work" javalin \
  > "$work/log" 2>&1 &
pid=$!
until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do
  kill -0 "$pid" 2>/dev/null || { echo "the harness did not start:" >&2; cat "$work/log" >&2; exit 1; }
  sleep 0.05
done

run() {   # $1 = endpoint, $2 = round
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$root/bench/wrk/webhook.lua" \
      "http://127.0.0.1:$port/$1" -- "$1$2" > "$work/$1.$2.txt"
  if grep -qE 'Non-2xx|Socket errors' "$work/$1.$2.txt"; then
    echo "errors on /$1:" >&2; cat "$work/$1.$2.txt" >&2; exit 1
  fi
  awk '/Requests\/sec/ {print $2}' "$work/$1.$2.txt" >> "$work/$1.rps"
  printf '  round %d %-9s %10s req/s   p50 %8s   p99 %8s\n' "$2" "$1" "$(tail -1 "$work/$1.rps")" \
    "$(awk '$1=="50%" {print $2}' "$work/$1.$2.txt")" "$(awk '$1=="99%" {print $2}' "$work/$1.$2.txt")"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "Acknowledgement ceiling, $rounds rounds x ${seconds}s, $connections keep-alive connections, wrk -t2, $(nproc) cores"
for w in 1 2 3; do for endpoint in sync deferred durable; do run "$endpoint" "$w" >/dev/null; done; done
rm -f "$work"/*.rps
for ((r = 1; r <= rounds; r++)); do
  for endpoint in sync deferred durable; do run "$endpoint" "$r"; done
done
sync_rps=$(median < "$work/sync.rps"); deferred=$(median < "$work/deferred.rps"); durable=$(median < "$work/durable.rps")
awk -v s="$sync_rps" -v d="$deferred" -v f="$durable" 'BEGIN {
  printf "median: sync %.0f, deferred %.0f (%.0f%%), durable %.0f req/s = %.0f%% of sync\n", s, d, 100*d/s, f, 100*f/s }'
