#!/usr/bin/env bash
# The device check of tp-mlir's GPU path. Runs ON A GPU MACHINE (CUDA, NCCL
# and PyTorch there; no LLVM, maybe no MPI) from a folder made HERE by
# scripts/gpu-artifacts.sh, within about 9 minutes:
#
#   bash ARTIFACTS/scripts/gpu-check.sh [ARTIFACTS]     (default: the folder
#                                                        above this script)
#
#  1. names the GPU(s) (nvidia-smi) and finds the CUDA / cuBLAS / NCCL
#     libraries (/usr/local/cuda, ldconfig, or the nvidia-* Python wheels);
#     if the prebuilt binaries cannot load there, rebuilds the runtime from
#     src/ with cmake + g++ (no LLVM) and uses that;
#  2. tp_gpu_selftest: mgpu*, tp_rt_gemm against the CPU, collectives on
#     1..N GPUs;
#  3. the launcher end to end with the hand-written GPU model at tp 1, 2, 4;
#  4. every model in models/ at tp 1 (2, 4 if there are that many GPUs) with
#     tp-launch --spawn, compared with the CPU reference shipped with it;
#  5. tp_gemm_bench: tp_rt_gemm vs cuBLAS on GPT-2's local GEMMs (TFLOP/s);
#  6. PyTorch eager on the same shapes (torch_layer.py, ms).
# All figures go to $OUT/gpu-results.md (./gpu-results.md without OUT), the
# full log to gpu-check.log beside it. Exit 0 when steps 2-4 passed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
art="$(cd "${1:-$here/..}" && pwd)"
dest="${OUT:-$PWD}"
mkdir -p "$dest"
results="$dest/gpu-results.md"
log="$dest/gpu-check.log"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
: > "$log"
status=0
started=$(date +%s)

say() { echo "gpu-check: $*" | tee -a "$log"; }
md() { echo "$*" >> "$results"; }
elapsed() { echo $(( $(date +%s) - started )); }

{
  echo "# tp-mlir GPU check"
  echo
  echo "Artifacts: \`$art\` ($(sed -n 's/^Built \(.*\)\.$/\1/p' "$art/ARTIFACTS.md" 2>/dev/null | head -1))."
  echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(hostname)."
  echo
} > "$results"

# ---------------------------------------------------------------------------
# 1. The GPU and the libraries
# ---------------------------------------------------------------------------
md "## GPU"
md
if ! nvidia-smi -L > "$work/gpus" 2>&1; then
  md "no GPU: \`nvidia-smi -L\` failed: $(cat "$work/gpus")"
  say "no GPU on this machine"; exit 1
fi
ngpu=$(grep -c '^GPU ' "$work/gpus")
md '```'
nvidia-smi --query-gpu=index,name,driver_version,memory.total \
  --format=csv >> "$results" 2>&1
md '```'
md
gpu_name="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
say "$ngpu GPU(s): $gpu_name"

# Library folders: CUDA's, the linker cache's, and the Python wheels'.
libdirs=()
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$d" ] && libdirs+=("$d")
done
wheels="$(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null)"
for name in libcudart.so.13 libcublasLt.so.13 libcublas.so.13 libnccl.so.2; do
  found=""
  for d in "${libdirs[@]}"; do [ -e "$d/$name" ] && found="$d" && break; done
  if [ -z "$found" ] && ldconfig -p 2>/dev/null | grep -q "$name"; then
    found="system"
  fi
  if [ -z "$found" ]; then
    for s in $wheels; do
      hit="$(find "$s/nvidia" -name "$name" 2>/dev/null | head -1)"
      if [ -n "$hit" ]; then found="$(dirname "$hit")"; libdirs+=("$found"); break; fi
    done
  fi
  say "$name: ${found:-NOT FOUND}"
done
export LD_LIBRARY_PATH="$(IFS=:; echo "${libdirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

bin="$art/bin"; lib="$art/lib"; origin="prebuilt (shipped)"
if ! "$bin/tp_gpu_selftest" --help > "$work/load" 2>&1 && \
   grep -qE "error while loading|not found|GLIBC" "$work/load"; then
  say "the prebuilt binaries do not load here:"; cat "$work/load" | tee -a "$log"
  say "rebuilding the runtime from src/ (cmake, no LLVM)"
  mkdir -p "$work/src" && tar xzf "$art/src/tp-runtime-src.tar.gz" -C "$work/src"
  cuda_root=/usr/local/cuda
  nccl_h="$(ls /usr/local/cuda/include/nccl.h /usr/include/nccl.h 2>/dev/null | head -1)"
  for s in $wheels; do
    [ -n "$nccl_h" ] && break
    nccl_h="$(find "$s/nvidia" -name nccl.h 2>/dev/null | head -1)"
  done
  nccl_root="$(dirname "${nccl_h:-/usr/local/cuda/include/nccl.h}")/.."
  if cmake -G Ninja -S "$work/src/runtime" -B "$work/build" -DTP_ENABLE_MPI=OFF \
       -DTP_CUDA_ROOT="$cuda_root" -DTP_NCCL_ROOT="$nccl_root" >> "$log" 2>&1 && \
     ninja -C "$work/build" tp-launch tp_runtime_nccl tp_gpu_selftest \
       tp_gemm_bench >> "$log" 2>&1; then
    bin="$work/build/bin"; lib="$work/build/lib"; origin="rebuilt on this machine"
  else
    say "the rebuild failed (see the log)"; md "**The runtime could not be loaded or rebuilt here.**"
    exit 1
  fi
fi
# tp-launch finds the runtime in ../lib next to itself.
md "Binaries: $origin. Libraries from: \`$LD_LIBRARY_PATH\`."
md

# ---------------------------------------------------------------------------
# 2. Selftest
# ---------------------------------------------------------------------------
md "## Runtime selftest (tp_gpu_selftest)"
md
say "selftest ($(elapsed) s)"
timeout 240 "$bin/tp_gpu_selftest" --ranks "$ngpu" > "$work/selftest" 2>&1
rc=$?
cat "$work/selftest" >> "$log"
md '```'
grep -E "tp_gpu_selftest:|SKIPPED|passed|FAILED|mgpu|tp_rt_gemm|collectives" "$work/selftest" | tail -40 >> "$results"
md '```'
md "exit code $rc"
md
[ $rc -eq 0 ] || status=1

# ---------------------------------------------------------------------------
# 3. The launcher with the hand-written GPU model
# ---------------------------------------------------------------------------
md "## Launcher, hand-written GPU model (fixture_gpu_tpN.so, tp-launch --spawn N)"
md
md "| tp | result |"
md "|---|---|"
for n in 1 2 4; do
  [ "$n" -le "$ngpu" ] || continue
  if timeout 120 python3 "$art/scripts/launcher_test.py" --case "gpu_ok_spawn$n" \
       --launcher "$bin/tp-launch" --fixtures "$art/fixtures" \
       --work "$work/launcher$n" >> "$log" 2>&1; then
    md "| $n | ok |"
  else
    md "| $n | **FAILED** (see gpu-check.log) |"; status=1
  fi
done
# --warmup / --repeat on the device: CUDA-event times, peak device memory.
if [ "$ngpu" -ge 2 ]; then
  if timeout 120 python3 "$art/scripts/launcher_test.py" --case gpu_timing_spawn2 \
       --launcher "$bin/tp-launch" --fixtures "$art/fixtures" \
       --work "$work/launcher-timing" >> "$log" 2>&1; then
    md "| 2, --warmup 2 --repeat 3 | ok |"
  else
    md "| 2, --warmup 2 --repeat 3 | **FAILED** (see gpu-check.log) |"; status=1
  fi
fi
md

# ---------------------------------------------------------------------------
# 4. Compiled models against their CPU reference
# ---------------------------------------------------------------------------
compare() { # got ref tolerance -> prints "relerr ok|FAILED"
  python3 - "$@" <<'PY'
import sys
import numpy as np
got, ref = np.load(sys.argv[1]).astype(np.float64), np.load(sys.argv[2]).astype(np.float64)
tol = float(sys.argv[3])
if got.shape != ref.shape:
    print(f"shape {got.shape} != {ref.shape} FAILED"); sys.exit(0)
err = float(np.max(np.abs(got - ref))) if got.size else 0.0
scale = float(np.max(np.abs(ref))) if ref.size else 0.0
rel = err / scale if scale > 0 else err
print(f"{rel:.2e} {'ok' if rel <= tol and np.isfinite(rel) else 'FAILED'}")
PY
}
meta() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

md "## Compiled models (tp-launch --spawn N) vs the CPU reference"
md
models=$(ls -d "$art"/models/*/ 2>/dev/null)
if [ -z "$models" ]; then
  md "No models in the artifacts (built with --no-models)."
else
  md "| model | tp | tp_entry ms (max over ranks) | rel. error per result | tolerance | result |"
  md "|---|---|---|---|---|---|"
  for dir in $models; do
    name="$(basename "$dir")"
    tol="$(meta "$dir/meta.json" tolerance)"
    nres="$(meta "$dir/meta.json" results)"
    inputs="$(ls "$dir"/inputs/input*.npy | sort -V | paste -sd, -)"
    for tpdir in "$dir"/tp*/; do
      n="${tpdir%/}"; n="${n##*/tp}"
      [ "$n" -le "$ngpu" ] || continue
      outs=""; for ((j = 0; j < nres; ++j)); do outs+="${outs:+,}$work/$name-tp$n-output$j.npy"; done
      say "model $name at tp $n ($(elapsed) s)"
      if timeout 180 "$bin/tp-launch" --spawn "$n" --model "$tpdir/model.so" \
           --inputs "$inputs" --output "$outs" --timeout 150 > "$work/run" 2>&1; then
        cat "$work/run" >> "$log"
        ms="$(sed -n 's/.*tp_entry \([0-9.]*\) ms.*/\1/p' "$work/run" | head -1)"
        worst=""; verdict="ok"
        for ((j = 0; j < nres; ++j)); do
          read -r rel ok <<< "$(compare "$work/$name-tp$n-output$j.npy" "$dir/reference/output$j.npy" "$tol")"
          worst+="${worst:+ }$rel"
          [ "$ok" = ok ] || verdict="**FAILED**"
        done
        [ "$verdict" = ok ] || status=1
        md "| $name | $n | $ms | $worst | $tol | $verdict |"
      else
        cat "$work/run" >> "$log"; status=1
        md "| $name | $n | - | - | $tol | **run failed**: $(grep -m1 'tp:' "$work/run" | cut -c1-120) |"
      fi
    done
  done
fi
md

# ---------------------------------------------------------------------------
# 5. GEMM throughput: tp_rt_gemm vs cuBLAS
# ---------------------------------------------------------------------------
md "## Local GEMMs: tp_rt_gemm vs cuBLAS (tp_gemm_bench)"
md
say "gemm bench ($(elapsed) s)"
if timeout 200 "$bin/tp_gemm_bench" --tp 1,2,4 --dtype bf16,f32 --iters 20 > "$work/bench" 2>&1; then
  cat "$work/bench" >> "$results"
else
  md "tp_gemm_bench failed or timed out:"; md '```'; tail -5 "$work/bench" >> "$results"; md '```'
fi
cat "$work/bench" >> "$log"
md

# ---------------------------------------------------------------------------
# 6. PyTorch eager on the same shapes
# ---------------------------------------------------------------------------
md "## PyTorch eager (torch_layer.py, CUDA events, median)"
md
md "| what | tp (one rank's share) | ms |"
md "|---|---|---|"
torch_row() { # label tp args...
  local label="$1" tp="$2"; shift 2
  local line
  line="$(timeout 120 python3 "$art/scripts/torch_layer.py" --tp "$tp" "$@" 2>>"$log" | tail -1)"
  echo "$line" >> "$log"
  md "| $label | $tp | $(echo "$line" | sed -n 's/.*: \([0-9.]*\) ms.*/\1/p') |"
}
say "pytorch ($(elapsed) s)"
for dir in $models; do
  m="$dir/meta.json"
  for n in 1 2 4; do
    torch_row "$(basename "$dir"): $(meta "$m" part) hidden $(meta "$m" hidden) seq $(meta "$m" seq) batch $(meta "$m" batch) $(meta "$m" dtype)" \
      "$n" --part "$(meta "$m" part)" --hidden "$(meta "$m" hidden)" \
      --heads "$(meta "$m" heads)" --seq "$(meta "$m" seq)" \
      --batch "$(meta "$m" batch)" --dtype "$(meta "$m" dtype)"
  done
done
for n in 1 2 4; do
  torch_row "GPT-2 small layer, seq 1024 batch 8 bf16" "$n" --part layer \
    --hidden 768 --heads 12 --seq 1024 --batch 8 --dtype bf16
done
md
md "Total $(elapsed) s on $gpu_name; exit status $status (0: selftest, launcher and models passed)."
say "done in $(elapsed) s; results in $results"
exit $status
