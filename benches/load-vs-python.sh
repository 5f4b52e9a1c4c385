#!/usr/bin/env bash
# Side-by-side load benchmark (issue 5): the same generated airport-shaped rows (1 node + 2 related nodes +
# 2 relationships per row), the same project file and the same key constraints, loaded into the same server by
#   1. this project's `nodestream run` (release build), APOC envelope (the default);
#   2. the same, with the target option `use_apoc: false` (our plain `UNWIND` chunks: no APOC on the server);
#   3. Python Nodestream 0.16 + its Neo4j plugin 0.16 (the venv of scripts/python-env);
#   4. the server alone: the same per-row statements fed by rows generated inside the server
#      (apoc.periodic.iterate over UNWIND range(...)), no client in the way = the ceiling;
#   5. on a local server, the server's CPU floor: the same statements inside the server without APOC.
# The server is warmed up first (each kind of load --warmups times), so that no load pays for the JVM's JIT
# compilation; our loads and the ceiling are measured --repeat times and the median run is reported (Python, which
# takes minutes and is bound by its own process, once).
# Prints rows/s, nodes/s, relationships/s, client CPU seconds, server CPU seconds (local servers), peak RSS, and
# the ratios to Python and to the ceiling.
#
# Usage: benches/load-vs-python.sh [--rows N] [--uri bolt://host:port] [--skip-python] [--python-rows M] [--no-build]
#                                  [--warmups W] [--repeat K]
#   --rows N        rows to load (default 200000)
#   --uri URI       server to use (default: start/reuse the instance `bench` on port 7699 via scripts/neo4j)
#   --skip-python   only ours and the ceiling (Python takes minutes at 200k rows)
#   --python-rows M load only the first M rows with Python and report its rate (default: all rows)
#   --no-build      use the existing target/release/nodestream
#   --warmups W     rounds of warm-up loads (each kind once per round; default 3: after one round the server's
#                   JIT compiler still took 1.7-3 s of CPU per load, see the jit_s column)
#   --repeat K      measured runs of our loads and of the ceiling, median reported (default 3)
# Environment: NEO4J_PASSWORD (default "password"); BENCH_HEAP / BENCH_PAGECACHE size the `bench` server
# (default 8000m / 4g; it is restarted with them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

rows=200000; uri=""; skip_py=0; py_rows=""; build=1; warmups=3; repeat=3
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --uri) uri="$2"; shift 2 ;;
    --skip-python) skip_py=1; shift ;;
    --python-rows) py_rows="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --warmups) warmups="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    *) echo "load-vs-python.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
pw="${NEO4J_PASSWORD:-password}"
heap="${BENCH_HEAP:-8000m}"; pagecache="${BENCH_PAGECACHE:-4g}"
server_pid=""
if [ -z "$uri" ]; then
  # A fresh server with the heap `neo4j-admin server memory-recommendation` gives for this 24 GiB machine
  # (8000m; the test servers' 1g heap spends a quarter of a load in GC pauses).
  scripts/neo4j stop --name bench >/dev/null 2>&1 || true
  uri="$(NEO4J_HEAP="$heap" NEO4J_PAGECACHE="$pagecache" scripts/neo4j start --name bench --port 7699)"
  server_pid="$(cat "${NEO4J_HOME_ROOT:-$HOME/.local/state/nodestream-rs}/bench/run/neo4j.pid" 2>/dev/null || true)"
fi
# The server's CPU seconds so far (user + system), when it runs here; "-" otherwise.
server_cpu() {
  if [ -n "$server_pid" ] && [ -r "/proc/$server_pid/stat" ]; then
    awk '{print ($14 + $15) / 100}' "/proc/$server_pid/stat"
  else echo "-"; fi
}
# CPU seconds the server's JIT compiler threads have used so far (threads that ended are not counted).
jit_cpu() {
  [ -n "$server_pid" ] && [ -d "/proc/$server_pid/task" ] || { echo "-"; return; }
  local t n ticks=0
  for t in /proc/"$server_pid"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in "C1 Compiler"* | "C2 Compiler"*) ;; *) continue ;; esac
    # A compiler thread can end between the two reads: then it counts 0 (an empty read would abort the script).
    n=$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}')
    ticks=$((ticks + ${n:-0}))
  done
  python3 -c "print($ticks / 100)"
}
cpu_delta() { [ "$1" = - ] || [ "$2" = - ] && echo - || python3 -c "print(max(0, round($2 - $1, 2)))"; }
venv="$(scripts/python-env)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== building (release) and generating $rows rows" >&2
[ "$build" = 0 ] || cargo build --release --bin nodestream -q
cargo bench -q --bench gen_load_data -- "$work/data" "$rows" "$uri" "$pw" Bench > "$work/expect.json"
read -r airports countries regions within < <(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["airports"], e["countries"], e["regions"], e["within"])' "$work/expect.json")
nodes=$((airports + countries + regions))

cy() { "$root/scripts/cypher" "$uri" "$pw" "$1"; }
echo "== constraints (as migrations would create them)" >&2
cy "CREATE CONSTRAINT BenchAirport_node_key IF NOT EXISTS FOR (n:BenchAirport) REQUIRE n.identifier IS UNIQUE" >/dev/null
cy "CREATE CONSTRAINT BenchCountry_node_key IF NOT EXISTS FOR (n:BenchCountry) REQUIRE n.code IS UNIQUE" >/dev/null
cy "CREATE CONSTRAINT BenchRegion_node_key IF NOT EXISTS FOR (n:BenchRegion) REQUIRE n.code IS UNIQUE" >/dev/null

clean() {
  cy "CALL apoc.periodic.iterate('MATCH (n) WHERE n:BenchAirport OR n:BenchCountry OR n:BenchRegion RETURN n', 'DETACH DELETE n', {batchSize: 10000})" >/dev/null
}
counts() {
  cy "MATCH (a:BenchAirport) WITH count(a) AS a OPTIONAL MATCH ()-[r:BenchWITHIN]->() RETURN a, count(r) AS r" \
    | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["a"], d["r"])'
}

declare -A WALL CPU SCPU JIT RSS ROWS OK
# measure NAME ROWS cmd...: clean, run under /usr/bin/time, check the graph.
measure() {
  local name="$1" n="$2"; shift 2
  clean
  echo "== $name: $n rows" >&2
  local t0 t1 c0 c1 j0
  c0=$(server_cpu); j0=$(jit_cpu); t0=$(date +%s.%N)
  if ! /usr/bin/time -f "%U %S %M" -o "$work/time.$name" "$@" > "$work/$name.log" 2>&1; then
    echo "$name failed; last lines of its output:" >&2; tail -20 "$work/$name.log" >&2; OK[$name]="FAILED"
  fi
  t1=$(date +%s.%N); c1=$(server_cpu)
  WALL[$name]=$(python3 -c "print(round($t1 - $t0, 2))")
  SCPU[$name]=$(cpu_delta "$c0" "$c1")
  JIT[$name]=$(cpu_delta "$j0" "$(jit_cpu)")
  read -r u s m < <(tail -1 "$work/time.$name")
  CPU[$name]=$(python3 -c "print(round($u + $s, 2))")
  RSS[$name]=$(python3 -c "print(round($m / 1024, 1))")
  ROWS[$name]="$n"
  read -r a r < <(counts)
  if [ "$a" = "$n" ] && [ "$r" = "$((2 * n))" ]; then OK[$name]="${OK[$name]:-ok}"; else OK[$name]="WRONG GRAPH ($a airports, $r WITHIN)"; fi
}

# sample DIR M: the project on the first M rows only, in DIR.
sample() {
  mkdir -p "$1"; head -n $(($2 + 1)) "$work/data/airports.csv" > "$1/airports.csv"
  sed "s#$work/data/airports.csv#$1/airports.csv#" "$work/data/airports.yaml" > "$1/airports.yaml"
  sed "s#$work/data/airports.yaml#$1/airports.yaml#" "$work/data/nodestream.yaml" > "$1/nodestream.yaml"
}
# plain DIR: the project of DIR with the target option `use_apoc: false`, as plain.yaml.
plain() { sed 's/^\(    password: .*\)$/\1\n    use_apoc: false/' "$1/nodestream.yaml" > "$1/plain.yaml"; }
ours="$root/target/release/nodestream"
plain "$work/data"

# median NAME K: of the runs NAME#1..NAME#K, the one with the median wall time becomes NAME; SPREAD[NAME] is
# the range of their wall times.
median() {
  local name="$1" k="$2" i best
  best=$(for i in $(seq 1 "$k"); do echo "${WALL[$name#$i]} $i"; done | sort -n | sed -n "$(((k + 1) / 2))p" | cut -d' ' -f2)
  WALL[$name]="${WALL[$name#$best]}"; CPU[$name]="${CPU[$name#$best]}"; SCPU[$name]="${SCPU[$name#$best]}"
  JIT[$name]="${JIT[$name#$best]}"; RSS[$name]="${RSS[$name#$best]}"; ROWS[$name]="${ROWS[$name#$best]}"
  OK[$name]=ok
  for i in $(seq 1 "$k"); do [ "${OK[$name#$i]}" = ok ] || OK[$name]="run $i: ${OK[$name#$i]}"; done
  SPREAD[$name]=$(for i in $(seq 1 "$k"); do echo "${WALL[$name#$i]}"; done | sort -n | sed -n '1p;$p' | paste -sd-)
}
declare -A SPREAD

# Warm-up: each kind of load on all the rows, --warmups rounds, so that no measured load pays for the server's
# JIT compilation (after one round the compiler threads still took 1.7-3 s of CPU per load; Python sends the
# same statements as our APOC load).
echo "== warming the server up: $warmups rounds ($airports rows per load)" >&2
for _ in $(seq 1 "$warmups"); do
  (cd "$work/data" && clean && "$ours" run airports -p nodestream.yaml -t bench >/dev/null 2>&1 \
    && clean && "$ours" run airports -p plain.yaml -t bench >/dev/null 2>&1) \
    || echo "warning: a warm-up load failed" >&2
done

cd "$work/data"
for i in $(seq 1 "$repeat"); do
  measure "rust#$i" "$airports" "$ours" run airports -p nodestream.yaml -t bench
  measure "plain#$i" "$airports" "$ours" run airports -p plain.yaml -t bench
done
median rust "$repeat"
median plain "$repeat"
if [ "$skip_py" = 0 ]; then
  if [ -n "$py_rows" ] && [ "$py_rows" -lt "$airports" ]; then
    sample "$work/py" "$py_rows"
    cd "$work/py"
    measure python "$py_rows" "$venv/bin/nodestream" run airports -p nodestream.yaml -t bench
    cd "$work/data"
  else
    measure python "$airports" "$venv/bin/nodestream" run airports -p nodestream.yaml -t bench
  fi
fi
cd "$root"

# The ceiling: the per-row statements our writer (and Python) send, fed inside the server.
ident="['K','PA','Z'][i % 3] + apoc.text.lpad(toString(i), 6, '0') + 'X'"
country="['US','PR','MH','CA','GB','DE','FR','JP','BR','AU','NZ','IS'][(i * 7 + i / 13) % 12]"
region="$country + '-R' + apoc.text.lpad(toString((i * 11) % 17), 2, '0')"
props="last_ingested_at: datetime(), last_ingested_by_airports_at: datetime(), was_ingested_by_airports: true"
# One Python process runs the five statements in order and reports the time the server took for them.
iterate() { # iterable batched
  printf '%s\t%s\n' "$1" "$2" >> "$work/ceiling.tsv"
}
: > "$work/ceiling.tsv"
ceiling() {
  iterate "UNWIND range(0, \$n - 1) AS i RETURN {__node_identifier: toLower($ident), __node_properties: {$props, name: 'Airport ' + i + ' Heliport, Area Iii', elevation_in_feet: toString((i * 37) % 9000), iata_code: CASE WHEN i % 4 = 0 THEN '' ELSE 'I' + (i % 1000) END, local_code: $ident}} AS params" \
    "MERGE (node: BenchAirport {identifier : params.__node_identifier}) SET node += params.__node_properties"
  iterate "UNWIND range(0, \$n - 1) AS i WITH DISTINCT toLower($country) AS c RETURN {__node_code: c, __node_properties: {$props}} AS params" \
    "MERGE (node: BenchCountry {code : params.__node_code}) SET node += params.__node_properties"
  iterate "UNWIND range(0, \$n - 1) AS i WITH DISTINCT toLower($region) AS c RETURN {__node_code: c, __node_properties: {$props}} AS params" \
    "MERGE (node: BenchRegion {code : params.__node_code}) SET node += params.__node_properties"
  iterate "UNWIND range(0, \$n - 1) AS i RETURN {__from_node_identifier: toLower($ident), __to_node_code: toLower($country), __rel_properties: {$props}} AS params" \
    "MATCH (from_node: BenchAirport) WHERE from_node.identifier = params.__from_node_identifier MATCH (to_node: BenchCountry) WHERE to_node.code = params.__to_node_code MERGE (from_node)-[rel: BenchWITHIN]->(to_node) SET rel += params.__rel_properties"
  iterate "UNWIND range(0, \$n - 1) AS i RETURN {__from_node_identifier: toLower($ident), __to_node_code: toLower($region), __rel_properties: {$props}} AS params" \
    "MATCH (from_node: BenchAirport) WHERE from_node.identifier = params.__from_node_identifier MATCH (to_node: BenchRegion) WHERE to_node.code = params.__to_node_code MERGE (from_node)-[rel: BenchWITHIN]->(to_node) SET rel += params.__rel_properties"
}
ceiling
# run_ceiling N: the five statements on N rows, in order, in one Python process; prints the server's time for them.
run_ceiling() {
  "$venv/bin/python" - "$uri" "$pw" "$1" "$work/ceiling.tsv" <<'PY'
import sys, time
from neo4j import GraphDatabase
uri, pw, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
stmts = [line.rstrip("\n").split("\t") for line in open(path)]
with GraphDatabase.driver(uri, auth=("neo4j", pw)) as d:
    d.verify_connectivity()
    t0 = time.time()
    for it, batched in stmts:
        recs, _, _ = d.execute_query(
            "CALL apoc.periodic.iterate($it, $b, {batchSize: 1000, parallel: true, retries: 3, params: {n: $n}}) "
            "YIELD failedBatches RETURN failedBatches", it=it, b=batched, n=n, database_="neo4j")
        assert recs[0]["failedBatches"] == 0, (it, recs)
    print(round(time.time() - t0, 2))
PY
}
clean; run_ceiling "$airports" >/dev/null
for i in $(seq 1 "$repeat"); do
  clean
  echo "== ceiling#$i: $airports rows (server only)" >&2
  c0=$(server_cpu); j0=$(jit_cpu)
  run_ceiling "$airports" > "$work/ceiling.out"
  SCPU[ceiling#$i]=$(cpu_delta "$c0" "$(server_cpu)"); JIT[ceiling#$i]=$(cpu_delta "$j0" "$(jit_cpu)")
  WALL[ceiling#$i]=$(tail -1 "$work/ceiling.out"); ROWS[ceiling#$i]="$airports"
  read -r a r < <(counts)
  if [ "$a" = "$airports" ] && [ "$r" = "$within" ]; then OK[ceiling#$i]=ok; else OK[ceiling#$i]="WRONG GRAPH ($a airports, $r WITHIN)"; fi
  CPU[ceiling#$i]="-"; RSS[ceiling#$i]="-"
done
median ceiling "$repeat"
clean

# The server's CPU floor for the plain statements: the same rows and statements run inside the server with no
# APOC and no Bolt parameters, one transaction of 1,000 rows at a time (so its wall time is no ceiling; its CPU
# is the least work the server can do for this load).
run_floor() {
  "$venv/bin/python" - "$uri" "$pw" "$1" "$work/ceiling.tsv" <<'PY'
import sys
from neo4j import GraphDatabase
uri, pw, n, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
stmts = [line.rstrip("\n").split("\t") for line in open(path)]
with GraphDatabase.driver(uri, auth=("neo4j", pw)) as d, d.session(database="neo4j") as s:
    for it, batched in stmts:
        head, _, tail = it.rpartition(" RETURN ")
        s.run(f"{head} WITH {tail} CALL {{ WITH params {batched} }} IN TRANSACTIONS OF 1000 ROWS", n=n).consume()
PY
}
floor_cpu="-"
if [ -n "$server_pid" ]; then
  run_floor "$airports" >/dev/null 2>&1 || true
  clean
  echo "== server CPU floor: $airports rows inside the server, no APOC" >&2
  c0=$(server_cpu)
  if run_floor "$airports" >/dev/null 2>"$work/floor.err"; then
    floor_cpu=$(cpu_delta "$c0" "$(server_cpu)")
    read -r a r < <(counts)
    [ "$a" = "$airports" ] && [ "$r" = "$within" ] || floor_cpu="WRONG GRAPH ($a airports, $r WITHIN)"
  else
    echo "the floor measurement failed:" >&2; tail -5 "$work/floor.err" >&2
  fi
  clean
fi

rate() { python3 -c "print(round($1 / ${WALL[$2]}))"; }
echo
echo "Neo4j at $uri, $(nproc) cores; $airports rows = $nodes nodes + $within relationships (Python: ${ROWS[python]:-skipped} rows)"
echo "rust = ours (APOC envelope, the default); plain = ours with use_apoc: false; ceiling = the server alone (APOC)"
echo "rust, plain, ceiling: median of $repeat runs (wall_range: fastest-slowest) after $warmups warm-up rounds; jit_s: server CPU in JIT compiler threads"
printf '%-8s %9s %8s %12s %9s %9s %9s %8s %9s %6s %8s %9s %10s  %s\n' load rows wall_s wall_range rows/s nodes/s rels/s cpu_s srv_cpu_s jit_s rss_MB vs_python vs_ceiling graph
for name in rust plain python ceiling; do
  [ -n "${WALL[$name]:-}" ] || continue
  n="${ROWS[$name]}"
  r=$(rate "$n" "$name")
  ns=$(python3 -c "print(round($n * $nodes / $airports / ${WALL[$name]}))")
  rs=$(rate "$((2 * n))" "$name")
  vp="-"; [ -n "${WALL[python]:-}" ] && vp=$(python3 -c "print(round($r / ($(rate "${ROWS[python]}" python)), 1))")
  vc=$(python3 -c "print(round($r / ($(rate "${ROWS[ceiling]}" ceiling)), 2))")
  printf '%-8s %9s %8s %12s %9s %9s %9s %8s %9s %6s %8s %9s %10s  %s\n' "$name" "$n" "${WALL[$name]}" "${SPREAD[$name]:--}" "$r" "$ns" "$rs" "${CPU[$name]}" "${SCPU[$name]}" "${JIT[$name]:--}" "${RSS[$name]}" "$vp" "$vc" "${OK[$name]}"
done
echo "server CPU floor for these rows (same statements inside the server, no APOC, no Bolt parameters): $floor_cpu s"
