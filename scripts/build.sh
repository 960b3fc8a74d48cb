#!/usr/bin/env bash
# Installs dependencies, configures and builds TicketLab into ./build (Release, -j2).
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${TICKETLAB_CMAKE_ARGS:-}
cmake --build build -j "${TICKETLAB_JOBS:-2}"
