#!/usr/bin/env bash
# Installs the Debian packages tp-mlir needs to build and test (Debian 12).
# Idempotent: does nothing when everything is already installed.
# CUDA 13 + NCCL are expected at /usr/local/cuda (not a Debian package).
set -euo pipefail

packages=(
  cmake ninja-build g++ python3 file
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  mpich libmpich-dev
  libopenblas-dev
  python3-numpy
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "tp-mlir: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
