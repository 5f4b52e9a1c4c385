#!/usr/bin/env bash
# Side-by-side `copy` benchmark (issue 7): a generated graph (benches/copy-gen.py, default 200 000 people x 5 =
# 1 000 000 relationships to 10 000 companies) is copied from one server to another by
#   1. this project's `nodestream copy` (release build), all relationships,
#   2. Python Nodestream 0.16 `nodestream copy` on a 1/N sample of the relationships (sample_ratio=N; at full size
#      it would take far longer than the rest of the run), rate scaled per relationship,
# both in the §9 scenario: relationships with their endpoint nodes (relationships_only=true), same shard size,
# concurrency, batch size and destination constraints. Optionally (--whole) also ours copying the whole graph.
# Prints relationships/s, client CPU seconds (user+sys), CPU per 1000 relationships, and the ratios.
#
# Usage: benches/copy-vs-python.sh [--people N] [--per K] [--companies C] [--sample N] [--skip-python] [--whole]
#   --src URI / --dst URI   servers (default: start/reuse `copybench-src` 7792 and `copybench-dst` 7793)
#   -c N / --batch-size N / --shard-size N   copy options for both implementations (default 4 / 10000 / 10000)
# Environment: NEO4J_PASSWORD (default "password").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

people=200000; per=5; companies=10000; sample=20; skip_py=0; whole=0; src=""; dst=""
conc=4; batch=10000; shard=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --people) people="$2"; shift 2 ;;
    --per) per="$2"; shift 2 ;;
    --companies) companies="$2"; shift 2 ;;
    --sample) sample="$2"; shift 2 ;;
    --skip-python) skip_py=1; shift ;;
    --whole) whole=1; shift ;;
    --src) src="$2"; shift 2 ;;
    --dst) dst="$2"; shift 2 ;;
    -c) conc="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --shard-size) shard="$2"; shift 2 ;;
    *) echo "copy-vs-python.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
pw="${NEO4J_PASSWORD:-password}"
[ -n "$src" ] || src="$(scripts/neo4j start --name copybench-src --port 7792 | tail -1)"
[ -n "$dst" ] || dst="$(scripts/neo4j start --name copybench-dst --port 7793 | tail -1)"
venv="$(scripts/python-env)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
P=CopyBench

echo "== building (release)" >&2
cargo build --release --bin nodestream -q
echo "== generating $people people x $per relationships on $src" >&2
"$venv/bin/python" benches/copy-gen.py "$src" "$pw" "$people" "$companies" "$per" "$P" >&2
rels=$((people * per))

cy() { # cy URI QUERY: auto-commit, prints the single value of the first row
  "$venv/bin/python" - "$1" "$pw" "$2" <<'PY'
import sys
from neo4j import GraphDatabase
with GraphDatabase.driver(sys.argv[1], auth=("neo4j", sys.argv[2])) as d, d.session(database="neo4j") as s:
    r = list(s.run(sys.argv[3]))
    print(r[0][0] if r and len(r[0]) else "")
PY
}
cy "$dst" "CREATE CONSTRAINT ${P}Person_node_key IF NOT EXISTS FOR (n:${P}Person) REQUIRE n.id IS UNIQUE" >/dev/null
cy "$dst" "CREATE CONSTRAINT ${P}Company_node_key IF NOT EXISTS FOR (n:${P}Company) REQUIRE n.id IS UNIQUE" >/dev/null
clean() { cy "$dst" "MATCH (n) WHERE n:${P}Person OR n:${P}Company CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS" >/dev/null; }
dst_rels() { cy "$dst" "MATCH ()-[r:${P}WORKS_AT]->() RETURN count(r)"; }
sampled=$(cy "$src" "MATCH ()-[r:${P}WORKS_AT]->() WHERE toInteger(split(elementId(r), ':')[-1]) % $sample = 0 RETURN count(r)")

cat > "$work/schema.yaml" <<EOF
- implementation: nodestream.pipeline:IterableExtractor
  arguments:
    iterable: []
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: ${P}Person
        key:
          id: !jmespath id
      - type: relationship
        node_type: ${P}Company
        relationship_type: ${P}WORKS_AT
        node_key:
          id: !jmespath company
EOF
cat > "$work/nodestream.yaml" <<EOF
scopes:
  default:
    pipelines:
      - path: $work/schema.yaml
        name: schema
targets:
  src:
    database: neo4j
    uri: $src
    username: neo4j
    password: $pw
  dst:
    database: neo4j
    uri: $dst
    username: neo4j
    password: $pw
EOF

common=(-p "$work/nodestream.yaml" -f src -t dst -c "$conc" --batch-size "$batch" --shard-size "$shard")
declare -a ROWS
# measure NAME EXPECTED_RELS cmd...: clean the destination, run under /usr/bin/time, check the relationship count.
measure() {
  local name="$1" expect="$2"; shift 2
  clean
  echo "== $name: $*" >&2
  if ! /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err"; then
    tail -20 "$work/err" >&2; echo "$name failed" >&2; exit 1
  fi
  read -r wall user sys rss < "$work/time"
  cp "$work/err" "${TMPDIR:-/tmp}/copy-bench-${name%% *}.log"
  local got; got=$(dst_rels)
  [ "$got" = "$expect" ] || { echo "$name: expected $expect relationships at the destination, found $got" >&2; tail -5 "$work/err" >&2; exit 1; }
  ROWS+=("$(python3 -c 'import sys; n,w,u,s,r=sys.argv[1:6]; w,u,s,n=float(w),float(u),float(s),int(n); print(f"{sys.argv[6]}|{n}|{w:.1f}|{n/w:.0f}|{u+s:.1f}|{1000*(u+s)/n:.3f}|{int(r)//1024}")' \
    "$expect" "$wall" "$user" "$sys" "$rss" "$name")")
}

measure "rust (relationships_only)" "$rels" target/release/nodestream copy "${common[@]}" \
  --retriever-option relationships_only=true
if [ "$whole" = 1 ]; then
  measure "rust (whole graph)" "$rels" target/release/nodestream copy "${common[@]}"
fi
if [ "$skip_py" = 0 ]; then
  measure "python 0.16 (relationships_only, 1/$sample sample)" "$sampled" "$venv/bin/nodestream" copy "${common[@]}" \
    --retriever-option relationships_only=true --retriever-option sample_ratio="$sample"
fi
clean

echo
echo "graph: $people people, $companies companies, $rels relationships; -c $conc --batch-size $batch --shard-size $shard"
python3 - "${ROWS[@]}" <<'PY'
import sys
head = ["run", "relationships", "wall s", "relationships/s", "client CPU s", "CPU s / 1k rels", "peak RSS MB"]
rows = [r.split("|") for r in sys.argv[1:]]
w = [max(len(x) for x in col) for col in zip(head, *rows)]
line = lambda cells: "| " + " | ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cells)) + " |"
print(line(head))
print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in rows:
    print(line(r))
PY
if [ "${#ROWS[@]}" -ge 2 ] && [ "$skip_py" = 0 ]; then
  python3 - "${ROWS[0]}" "${ROWS[-1]}" <<'PY'
import sys
a, b = (r.split("|") for r in sys.argv[1:3])
print(f"\nrelationships/s ratio (rust / python): {float(a[3]) / float(b[3]):.1f}x; "
      f"client CPU per relationship ratio (python / rust): {float(b[5]) / float(a[5]):.1f}x")
PY
fi
