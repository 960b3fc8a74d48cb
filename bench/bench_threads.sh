#!/usr/bin/env bash
# Threads, measured (a benchmark, not a test): training throughput of MiniLM-L6's shape (6 layers,
# hidden 384, batch 32, sequences of 128) for two runs side by side, as `study run --jobs 2` runs
# them, at `--threads 1` each (LibTorch's and OpenBLAS's pools both at one thread) and at the
# libraries' defaults (each run takes every core), and for one run alone at each setting.
#   bench/bench_threads.sh [BUILD_DIR] [--steps 5]
set -euo pipefail
build=${1:-build}
shift || true
steps=5
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
CLI=$build/app/ticketlab-cli
shape="--layers 6 --hidden 384 --heads 12 --intermediate 1536 --batch 32 --seq 128 --steps $steps --warmup-steps 1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rate() { sed -n 's/.*"seq_per_s":\([0-9.]*\).*/\1/p' "$1" | tail -1; }
echo "$(nproc) cores; sequences per second (each run)"
for threads in 1 0; do
  "$CLI" bench-train $shape --threads $threads >"$T/a" 2>/dev/null & a=$!
  "$CLI" bench-train $shape --threads $threads >"$T/b" 2>/dev/null & b=$!
  wait $a $b
  awk -v t="$threads" -v a="$(rate "$T/a")" -v b="$(rate "$T/b")" \
    'BEGIN { printf "  two runs side by side, --threads %s: %6.2f and %6.2f (together %.2f)\n", t, a, b, a + b }'
done
for threads in 1 0; do
  "$CLI" bench-train $shape --threads $threads >"$T/a" 2>/dev/null
  printf '  one run alone, --threads %s:        %6.2f\n' "$threads" "$(rate "$T/a")"
done
