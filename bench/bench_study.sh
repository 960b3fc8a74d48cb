#!/usr/bin/env bash
# Studies, measured (a benchmark, not a test): wall time of the same small study with
# `study run --jobs 1` and `--jobs 2` on this machine, side by side in one run, then the planner,
# merge and open costs of a 500-run study of BERT-base shape (build/bench/bench-lab).
#   bench/bench_study.sh [BUILD_DIR] [--runs 500] [--scratch DIR]
set -euo pipefail
build=${1:-build}
shift || true
runs=500
scratch=${TMPDIR:-/tmp}/ticketlab-bench-lab
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --scratch) scratch=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
CLI=$build/app/ticketlab-cli
DATA=${TICKETLAB_DATA:-$(dirname "$0")/../../shared/data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$CLI" init --preset tiny --vocab "$DATA/vocab/bert-base-uncased/vocab.txt" --out "$T/model" --seed 0 >/dev/null
for jobs in 1 2; do
  cat >"$T/study-$jobs.json" <<JSON
{"name": "bench", "model": "model", "tasks": {"RTE": "$DATA/glue/RTE", "MRPC": "$DATA/glue/MRPC"},
 "seeds": [0, 1], "prune": {"step": 0.2, "rounds": 2},
 "train": {"epochs": 1, "max_steps": 20, "batch_size": 16, "max_seq_len": 64, "eval_batch_size": 128},
 "baselines": ["full", "random", "reinit", "shuffle"], "transfer": {"sparsity": 0.4}}
JSON
done
declare -A wall
for jobs in 1 2; do
  start=$(date +%s.%N)
  "$CLI" study run "$T/study-$jobs.json" --db "$T/lab-$jobs.db" --jobs "$jobs" 2>/dev/null
  wall[$jobs]=$(echo "$(date +%s.%N) - $start" | bc)
done
echo "study of $("$CLI" study plan "$T/study-1.json" | wc -l) runs (tiny model, shared GLUE): --jobs 1 ${wall[1]} s, --jobs 2 ${wall[2]} s (x$(echo "scale=2; ${wall[1]} / ${wall[2]}" | bc))"
"$build/bench/bench-lab" --out "$scratch" --runs "$runs"
