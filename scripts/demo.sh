#!/usr/bin/env bash
# The demo: builds TicketLab, runs the engine on the built-in toy data (pre-trains a tiny BERT,
# IMP on two tasks with baselines and a transfer, all stored in OUT/lab.db), then opens the
# desktop app on that database. Without a display it writes every figure to OUT/figures instead.
#   scripts/demo.sh [OUT]        (default OUT: demo-out)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-demo-out}"
scripts/build.sh
start=$(date +%s)
build/app/ticketlab-cli demo --out "$out" --threads "${TICKETLAB_THREADS:-0}"
if [[ -x build/app/ticketlab && ( -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ) && -z "${TICKETLAB_HEADLESS:-}" ]]; then
  echo "demo lab ready after $(( $(date +%s) - start )) s: opening $out/lab.db in the TicketLab app"
  exec build/app/ticketlab "$out/lab.db"
fi
if [[ -x build/app/ticketlab ]]; then
  build/app/ticketlab export-figure --db "$out/lab.db" --figure all --out-dir "$out/figures"
  echo "no display: figures of $out/lab.db written to $out/figures/ ($(( $(date +%s) - start )) s after the build)"
else
  echo "the desktop app was not built (TICKETLAB_BUILD_GUI=OFF): the demo lab is in $out/lab.db"
fi
