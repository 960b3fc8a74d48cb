#!/usr/bin/env bash
# Installs every Debian 12 package TicketLab needs to build, test and run. Idempotent:
# packages already present are not fetched again. Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git clang-format
  # The libFuzzer harnesses (scripts/fuzz.sh): clang with its sanitizer and fuzzer runtimes.
  clang libclang-rt-14-dev
  libtorch-dev
  # Debian's libtorch otherwise runs on the reference BLAS: about 10x slower training.
  libopenblas0-pthread
  qt6-base-dev qt6-svg-dev libqcustomplot-dev
  libsqlite3-dev nlohmann-json3-dev libcli11-dev libzstd-dev libicu-dev
  # Tests and benchmarks: reference PyTorch (HF parity, torch.save files, baselines).
  python3-torch python3-numpy
  # Headless GUI tests and screenshots; the packaging validators.
  xvfb xauth desktop-file-utils appstream
  # Studies on a cluster: the end-to-end test starts a real single-node SLURM.
  slurm-wlm munge
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
