#!/usr/bin/env bash
# The gateway's resident memory (VmRSS), as ./ferry runs it: idle after start-up; after 10,000 messages over
# 10 conversations, all answered (the heap, code and buffers that traffic grows into, with next to no
# sessions); after 10,000 more conversations have each sent one message and been answered (10,000 idle
# sessions: their own cost is the growth over the reading before); and after 1,000,000 journaled messages
# over 1,000 conversations, all answered. Then that journal's open time: a graceful stop, and a start on the
# same state dir timed from spawn to GET /healthz 200, beside a start on an empty one.
# The million go through the whole pipeline with journal.sync=full, in collect mode with a 1 s debounce and
# a cap above any conversation's backlog, so each turn answers a conversation's queued messages together and
# none is summarised away. Intake and completion are read from the gateway's status, never waited for by the clock.
# Usage: bench/memory.sh   (IDLE_SECONDS, default 5; smoke: 200 sessions and 20,000 messages)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
idle_seconds="${IDLE_SECONDS:-5}"; sessions=10000; million=1000000; conversations=1000
patience=300   # seconds for every message sent to be answered
[[ -n "$smoke" ]] && { idle_seconds=1; sessions=200; million=20000; conversations=100; patience=60; }
ensure_wrk
ensure_jar
work="$(mktemp -d)"
pid=""
trap 'kill -KILL $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

# start NAME CONFIG_EXTRA: a gateway on its own port and state dir $work/NAME; sets $pid and $port, and
# $open_ms, the time from spawn to healthy.
start() {
  port=$(free_port)
  printf '{ gateway: { port: %s }, state: { dir: "%s/%s" }%s }\n' "$port" "$work" "$1" "$2" > "$work/$1.json5"
  local began; began=$(date +%s%N)
  FERRY_LOG_LEVEL=WARN "$root/ferry" gateway --config "$work/$1.json5" 2>> "$work/$1.log" &
  pid=$!
  await_healthy "$port" "$pid" "$work/$1.log"
  open_ms=$(( ($(date +%s%N) - began) / 1000000 ))
}
stop() {
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}
rss_mib() {
  awk '/VmRSS/ {printf "%.1f\n", $2/1024}' "/proc/$pid/status"
}
record() {   # ID UNIT VALUE
  echo "$3" > "$work/value"; figure "$1" "$2" "$work/value"
}
# journal_holds WHAT EXPECTED: whether the gateway's status shows EXPECTED unique messages journaled
# (WHAT=received), or all of them answered with nothing queued or running (WHAT=answered). Fails the
# benchmark when any message was dropped or superseded.
journal_holds() {
  curl -s -X POST "http://127.0.0.1:$port/rpc" -H 'Content-Type: application/json' -d '{"method":"status"}' \
    | python3 -c '
import json, sys
p = json.load(sys.stdin)["payload"]; j = p["journal"]; what = sys.argv[1]; expected = int(sys.argv[2])
if j["dropped"] or j["superseded"]:
    sys.exit("messages were dropped or superseded: " + json.dumps(j))
# received counts the messages in the journal, each id once; duplicates are counted apart, not in it.
held = j["received"] == expected
if what == "answered":
    held = held and j["done"] == expected and j["pending"] == 0 and p["runningTurns"] == 0
sys.exit(0 if held else 1)
' "$1" "$2" 2> "$work/status.err" && return 0
  [[ -s "$work/status.err" ]] && { cat "$work/status.err" >&2; exit 1; }
  return 1
}
# await WHAT EXPECTED: until journal_holds WHAT EXPECTED, for at most $patience seconds.
await() {
  local deadline=$(( $(date +%s) + patience ))
  until journal_holds "$1" "$2"; do
    (( $(date +%s) < deadline )) || { echo "the journal did not hold $2 messages $1 in $patience s" >&2; exit 1; }
    sleep 0.2
  done
}
# send PREFIX TOTAL CONVERSATIONS: exactly TOTAL unique messages over CONVERSATIONS conversations; wrk
# repeats the ids until the journal has taken every one, then is interrupted. $journaled counts the
# messages sent to the current state dir.
send() {
  wrk -t2 -c32 -d3600s -s "$root/bench/wrk/webhook.lua" "http://127.0.0.1:$port/channels/webhook/inbound" \
    -- "$1" $(( $2 / 2 )) $(( $3 / 2 )) > "$work/wrk.txt" &
  local wrk_pid=$!
  journaled=$(( journaled + $2 ))
  await received "$journaled"
  kill -INT "$wrk_pid"; wait "$wrk_pid"
  grep -qE 'Non-2xx|Socket errors' "$work/wrk.txt" && { echo "intake errors:" >&2; cat "$work/wrk.txt" >&2; exit 1; }
  return 0
}

echo "Ferry's resident memory, $(nproc) cores, idle ${idle_seconds}s before each reading"
queue=', messages: { queue: { mode: "collect", debounceMs: 1000, cap: 1000000 } }'
journaled=0
start sessions "$queue"
sleep "$idle_seconds"
record memory.idle MiB "$(rss_mib)"
send w "$sessions" 10
await answered "$journaled"
sleep "$idle_seconds"
record memory.traffic10k MiB "$(rss_mib)"
send s "$sessions" "$sessions"
await answered "$journaled"
sleep "$idle_seconds"
record memory.sessions10k MiB "$(rss_mib)"
stop

start empty ""
record memory.open0 ms "$open_ms"
stop
journaled=0
start million "$queue"
began=$(date +%s)
send m "$million" "$conversations"
await answered "$journaled"
echo "  $million messages over $conversations conversations taken in and answered in $(( $(date +%s) - began )) s"
sleep "$idle_seconds"
record memory.after1m MiB "$(rss_mib)"
stop
record memory.journal1m MiB "$(du -cm "$work/million"/journal.db* | awk 'END {print $1}')"
start million "$queue"
record memory.open1m ms "$open_ms"
sleep "$idle_seconds"
record memory.reopen1m MiB "$(rss_mib)"
stop
