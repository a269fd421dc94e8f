#!/usr/bin/env bash
# Several gateways on one PostgreSQL beside one on SQLite, in one run with rounds alternating
# (bench/java/dev/ferry/bench/SharedJournal.java): durable intake (acknowledgements per second, the
# debouncer holding every message) and end-to-end replies per second (echo backend, one message in flight per session, each
# message to the next gateway in turn), for SQLite with one gateway, PostgreSQL with one and with three.
# The PostgreSQL server is a throwaway cluster made here: Debian's binaries, data on tmpfs, fsync left on,
# a loopback port, stopped and deleted at the end. On two cores the three gateways share the cores with
# each other, the database and the load, so "three" measures what the shared journal costs, not scale-out.
# Usage: bench/shared.sh [rounds] [seconds] [sessions]   (defaults 3, 10, 100; smoke: 1 round of 2 s)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rounds="${1:-3}"; seconds="${2:-10}"; sessions="${3:-100}"
if [[ -n "$smoke" ]]; then
  rounds=1; seconds=2; export FERRY_BENCH_WARM_S="${FERRY_BENCH_WARM_S:-1}"
fi
ensure_bench_classes   # the jar, and the harness under bench/java
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$bin/initdb" ]] || { echo "bench/shared.sh: needs Debian's postgresql (apt-get install postgresql)" >&2; exit 1; }
tmpfs=/dev/shm; [[ -d "$tmpfs" && -w "$tmpfs" ]] || tmpfs="${TMPDIR:-/tmp}"
pg="$(mktemp -d "$tmpfs/ferry-bench-pg-XXXXXX")"
work="$(mktemp -d)"
as_postgres=()
if [[ "$(id -u)" -eq 0 ]]; then chown postgres "$pg"; as_postgres=(runuser -u postgres --); fi
pg_port=$(free_port)
stop_pg() { ${as_postgres[@]+"${as_postgres[@]}"} "$bin/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null 2>&1 || true; }
trap 'stop_pg; rm -rf "$pg" "$work"' EXIT
${as_postgres[@]+"${as_postgres[@]}"} "$bin/initdb" -D "$pg/data" -U ferry --auth=trust -E UTF8 --no-sync >/dev/null
${as_postgres[@]+"${as_postgres[@]}"} "$bin/pg_ctl" -D "$pg/data" -w -t 60 -l "$pg/server.log" \
  -o "-p $pg_port -k $pg -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
url="jdbc:postgresql://127.0.0.1:$pg_port/bench"

results="$work/results"; mkdir -p "$results"
one() {   # KEY GATEWAYS [URL USER]
  local key="$1" gateways="$2"; shift 2
  local dir="$work/$key"; rm -rf "$dir"; mkdir -p "$dir"
  java -XX:+UseSerialGC -cp "$bench_cp" dev.ferry.bench.SharedJournal "$root/target/ferry.jar" \
    "$dir" "$gateways" "$seconds" "$sessions" "$@" \
    | tee "$dir/out" | grep -v '^RESULT' | sed -u "s/^/  $key: /"
  awk '$1=="RESULT" && $2=="intake" {print $3}' "$dir/out" >> "$results/$key.intake"
  awk '$1=="RESULT" && $2=="e2e" {print $3}' "$dir/out" >> "$results/$key.e2e"
}

echo "One journal, several gateways: $rounds rounds x ${seconds}s, $sessions sessions, $(nproc) cores"
for ((r = 1; r <= rounds; r++)); do
  echo "round $r"
  one sqlite.1 1
  one postgres.1 1 "$url" ferry
  one postgres.3 3 "$url" ferry
done
for key in sqlite.1 postgres.1 postgres.3; do
  figure "shared.$key.intake" msg/s "$results/$key.intake"
  figure "shared.$key.e2e" replies/s "$results/$key.e2e"
done
awk -v s="$(median < "$results/sqlite.1.intake")" -v p="$(median < "$results/postgres.1.intake")" \
    -v q="$(median < "$results/postgres.3.intake")" -v se="$(median < "$results/sqlite.1.e2e")" \
    -v pe="$(median < "$results/postgres.1.e2e")" -v qe="$(median < "$results/postgres.3.e2e")" \
    'BEGIN { printf "PostgreSQL x1 is %.0f%% of SQLite in intake and %.0f%% in replies; x3 is %.0f%% and %.0f%%\n",
             100*p/s, 100*pe/se, 100*q/s, 100*qe/se }'
