#!/usr/bin/env bash
# Sets everything up, builds, and runs the headless demo on the built-in toy data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/app/ticketlab-cli demo --out "${1:-demo-out}"
