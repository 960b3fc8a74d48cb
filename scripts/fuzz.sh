#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) into ./build-fuzz and runs each for
# SECONDS (default 30) from its committed corpus, as CTest tests, with libFuzzer seed 1 (the same
# mutations every run: a repeatable check). A longer campaign, on a random seed:
#   TICKETLAB_FUZZ_SEED=0 scripts/fuzz.sh 600        # ten minutes a harness
# Findings (crash-*, timeout-*, oom-* files) land in build-fuzz/fuzz-findings/<harness>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
packaging/install-deps.sh >/dev/null
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DTICKETLAB_FUZZ=ON -DTICKETLAB_FUZZ_SECONDS="$seconds" -DTICKETLAB_FUZZ_SEED="${TICKETLAB_FUZZ_SEED:-1}" >/dev/null
cmake --build build-fuzz -j "${TICKETLAB_JOBS:-2}"
cd build-fuzz
ctest --output-on-failure -j "${TICKETLAB_TEST_JOBS:-2}"
