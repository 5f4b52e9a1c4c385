#!/usr/bin/env bash
# Interpretation throughput with the null target: our `nodestream run` vs Python Nodestream 0.16 on the same
# airports-shaped project (spec §8.2: one source node, two related nodes, two relationships per record).
#
# Usage: benches/interpret-vs-python.sh [ROWS] [PYTHON_ROWS]
#   ROWS         rows for the Rust run (default 1000000)
#   PYTHON_ROWS  rows for the Python run (default 50000; Python does a few thousand rows/s, so its rate is
#                measured on fewer rows and compared per record)
# Prints a Markdown table: wall time, records/s, CPU seconds (user+sys), CPU µs per record, peak RSS, and the
# ratios. Both runs read the same generated CSV shape (scripts/gen-airports, deterministic).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rows="${1:-1000000}"
py_rows="${2:-50000}"
work="${BENCH_DIR:-$(mktemp -d)}"
cargo build --release --bin nodestream >&2
rust_bin="$PWD/target/release/nodestream"
py_bin="$(scripts/python-env)/bin/nodestream"

make_project() { # dir rows
  mkdir -p "$1/pipelines" "$1/data"
  cp examples/airports/pipelines/airports.yaml "$1/pipelines/"
  cat > "$1/nodestream.yaml" <<'YAML'
scopes:
  default:
    pipelines:
      - {path: pipelines/airports.yaml, name: airports}
targets:
  null-target:
    database: "null"
YAML
  [ -f "$1/data/airport-codes.csv" ] || scripts/gen-airports "$2" "$1/data/airport-codes.csv"
}

measure() { # label dir rows command...
  local label="$1" dir="$2" n="$3"; shift 3
  (cd "$dir" && /usr/bin/time -v "$@" > /dev/null 2> "$work/$label.time") || { cat "$work/$label.time" >&2; exit 1; }
  python3 - "$label" "$n" "$work/$label.time" <<'PY'
import re, sys
label, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t = open(path).read()
def num(pat):
    return float(re.search(pat, t).group(1))
wall_txt = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", t).group(1)
parts = [float(p) for p in wall_txt.split(":")]
wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
cpu = num(r"User time \(seconds\): ([\d.]+)") + num(r"System time \(seconds\): ([\d.]+)")
rss = num(r"Maximum resident set size \(kbytes\): (\d+)") / 1024
print(f"{label}\t{n}\t{wall:.2f}\t{cpu:.2f}\t{rss:.1f}")
PY
}

make_project "$work/rust" "$rows"
make_project "$work/python" "$py_rows"
echo "benchmark directory: $work ($(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
{
  measure rust "$work/rust" "$rows" "$rust_bin" run airports -t null-target
  measure python "$work/python" "$py_rows" "$py_bin" run airports -t null-target
} > "$work/results.tsv"

python3 - "$work/results.tsv" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    label, n, wall, cpu, rss = line.split("\t")
    rows[label] = dict(n=int(n), wall=float(wall), cpu=float(cpu), rss=float(rss))
print("| implementation | records | wall s | records/s | CPU s (user+sys) | CPU µs/record | peak RSS MiB |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label in ("rust", "python"):
    r = rows[label]
    rate = r["n"] / r["wall"]
    print(f"| {label} | {r['n']:,} | {r['wall']:.2f} | {rate:,.0f} | {r['cpu']:.2f} | {r['cpu'] / r['n'] * 1e6:.2f} | {r['rss']:.1f} |")
rs, py = rows["rust"], rows["python"]
print()
print(f"ratio (records/s, wall): {(rs['n'] / rs['wall']) / (py['n'] / py['wall']):.0f}x; "
      f"ratio (CPU per record): {(py['cpu'] / py['n']) / (rs['cpu'] / rs['n']):.0f}x")
PY
