# Shared by the scripts in bench/ (sourced, not run). Sets $root; gives the steps every benchmark repeats.
#
# FERRY_BENCH_OUT=DIR  each figure is also appended to DIR/figures.tsv (id, median, min, max, rounds, unit),
#                      and latency spectra go to DIR/latency/NAME.tsv; bench/run.sh reads them.
# FERRY_BENCH_SMOKE=1  every benchmark runs seconds long, only to show that it still works.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
smoke="${FERRY_BENCH_SMOKE:-}"
# The JVM flags ./ferry runs the gateway with (its java_opts line, the archive aside), for the benchmarks
# that start a JVM of their own, so that each measures what an operator runs.
read -ra jvm_flags <<< "$(sed -n 's/^java_opts=(\(.*\))$/\1/p' "$root/ferry")"
export FERRY_BENCH_JVM_FLAGS="${jvm_flags[*]}"

# A loopback port nothing listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# The median of the numbers on stdin, one per line.
median() {
  sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

# figure ID UNIT VALUES_FILE: prints the median of the file's values with their spread, and records it.
figure() {
  local id="$1" unit="$2" file="$3"
  local med min max n
  med=$(median < "$file"); min=$(sort -n "$file" | head -1); max=$(sort -n "$file" | tail -1); n=$(wc -l < "$file")
  printf '  %-28s median %s %s (min %s, max %s, %d rounds)\n' "$id" "$med" "$unit" "$min" "$max" "$n"
  if [[ -n "${FERRY_BENCH_OUT:-}" ]]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$med" "$min" "$max" "$n" "$unit" >> "$FERRY_BENCH_OUT/figures.tsv"
  fi
}

# await_healthy PORT PID LOG: waits until GET /healthz answers 200, or fails with the process's log.
await_healthy() {
  local port="$1" pid="$2" log="$3"
  until curl -fs -o /dev/null "http://127.0.0.1:$port/healthz"; do
    kill -0 "$pid" 2>/dev/null || { echo "the process on port $port exited:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.005
  done
}

# wrk from Debian's packages, installed when missing.
ensure_wrk() {
  command -v wrk >/dev/null && return
  local as_root=()
  [[ "$(id -u)" -ne 0 ]] && command -v sudo >/dev/null && as_root=(sudo)
  ${as_root[@]+"${as_root[@]}"} apt-get install -y -qq wrk >/dev/null 2>&1 \
    || { ${as_root[@]+"${as_root[@]}"} apt-get update -qq && ${as_root[@]+"${as_root[@]}"} apt-get install -y -qq wrk; }
}

# The jar (and its class-data archive), built by ./ferry when missing or older than the sources.
ensure_jar() {
  "$root/ferry" --version >/dev/null
}

# The programs under bench/java, compiled into target/bench-classes against the test classpath that the
# build writes down (target/bench-classpath.txt); JMH's generator runs as javac's annotation processor.
# Sets $bench_cp, the classpath to run them on.
ensure_bench_classes() {
  ensure_jar
  if [[ ! -f "$root/target/bench-classpath.txt" || ! -d "$root/target/test-classes" \
        || -n "$(find "$root/src" "$root/pom.xml" -newer "$root/target/bench-classpath.txt" -print -quit)" ]]; then
    (cd "$root" && mvn -B -q -DskipTests package) >&2
  fi
  local deps; deps="$(cat "$root/target/bench-classpath.txt")"
  local classes="$root/target/bench-classes"
  if [[ ! -d "$classes" || -n "$(find "$root/bench/java" "$root/target/bench-classpath.txt" -newer "$classes" -print -quit)" ]]; then
    rm -rf "$classes"; mkdir -p "$classes"
    javac -nowarn -d "$classes" -cp "$root/target/test-classes:$root/target/classes:$deps" \
      $(find "$root/bench/java" -name '*.java')
  fi
  bench_cp="$classes:$root/target/test-classes:$root/target/classes:$deps"
}
