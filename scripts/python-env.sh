#!/usr/bin/env bash
# A private Python environment (a venv, never the system's Python) with current PyPI torch,
# transformers and numpy: the reference the parity tests compare TicketLab with. Idempotent;
# prints the environment's python on stdout.
#   scripts/python-env.sh            # create or reuse $TICKETLAB_PYENV (~/.cache/ticketlab/pyenv)
# The default Linux torch wheel is a CUDA build (about 5 GB installed with its NVIDIA
# libraries); tests only use its CPU path.
set -euo pipefail
env_dir="${TICKETLAB_PYENV:-$HOME/.cache/ticketlab/pyenv}"
py="$env_dir/bin/python"
if [ -x "$py" ] && "$py" -c "import torch, transformers, numpy" 2>/dev/null; then
  echo "$py"
  exit 0
fi
echo "python-env: installing torch, transformers and numpy into $env_dir" >&2
python3 -m venv "$env_dir" >&2
"$py" -m pip install --quiet --disable-pip-version-check torch transformers numpy >&2
"$py" -c "import torch, transformers, numpy" >&2
echo "$py"
