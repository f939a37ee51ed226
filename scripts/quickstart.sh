#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install what tp-mlir needs, build
# it, and run the bundled GPT-2 MLP on 4 CPU ranks, checked against the
# unsharded program, with the plan report.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
exec "$root/build/bin/tp-run" "$root/examples/gpt2-mlp.mlir" \
  --tp-size=4 --check --report
