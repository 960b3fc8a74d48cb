#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite (CTest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure -j "${TICKETLAB_TEST_JOBS:-2}" --timeout 1200
