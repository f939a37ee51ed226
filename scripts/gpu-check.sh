#!/usr/bin/env bash
# The device check of tp-mlir's GPU path. Runs ON A GPU MACHINE (CUDA, NCCL
# and PyTorch there; no LLVM, maybe no MPI, maybe one GPU) from a folder made
# HERE by scripts/gpu-artifacts.sh, everything prebuilt, within a hard
# deadline (default 450 s, under the 8 minutes of a device window):
#
#   bash ARTIFACTS/scripts/gpu-check.sh [ARTIFACTS]     (default: the folder
#                                                        above this script)
#   TP_CHECK_BUDGET=SECONDS   the deadline (every step's timeout is cut to
#                             what is left; a step with under 15 s left is
#                             skipped and says so)
#   TP_CHECK_WARMUP, TP_CHECK_REPEAT   tp-launch --warmup / --repeat (3, 20)
#
#  1. the driver, the CUDA runtime (PyTorch's and the toolkit's libcudart)
#     and the GPU(s), first, before anything can fail;
#  2. PyTorch eager (bench/gpu/torch_layer.py: warm median of CUDA-event
#     times, in each model's dtype, and GPT-2 small's layer in bf16) on
#     every model's shape, and PyTorch's RESULTS on each model's own inputs
#     (scripts/torch_reference.py: a PyTorch mirror of the generated layer),
#     before any of our binaries runs: nothing of ours failing can lose the
#     baseline;
#  3. tp_gpu_selftest: mgpu*, tp_rt_gemm against the CPU, collectives;
#     the hand-written model through tp-launch at tp 1, 2, 4 (tp sizes
#     beyond the GPU count with --collectives host: ranks sharing a device),
#     and the CUDA graph of a step (gpu_graph_spawn1);
#  4. every model in models/ at tp 1, 2 and 4: with one GPU per rank where
#     there are enough GPUs (NCCL), else with the ranks sharing the GPUs
#     (--collectives host: a correctness run, its time is not a figure),
#     with `tp-launch --warmup N --repeat M --rank-stats` (warm median of
#     the step -- the second call captured as a CUDA graph and replayed --,
#     max over ranks, and each rank's peak device memory; a launcher
#     without those flags gives one cold call, marked "cold"), checked
#     against the CPU reference shipped with it (the same program on the
#     CPU target) AND against PyTorch's result (step 2), and the ratio to
#     PyTorch eager's median against the target (<= 1.0x); where the run is
#     timed, a model with attention runs twice: tp_rt_attention as built
#     (cuDNN's fused SDPA where it accepts the shape; TP_ATTENTION_VERBOSE=1
#     says which path ran and why) and with TP_CUDNN_LIBRARY=off (the
#     generated kernels), both checked and timed;
#  5. tp_gemm_bench: tp_rt_gemm vs cuBLAS on the local GEMMs (target >= 0.9x).
# If the prebuilt binaries cannot load, the runtime is rebuilt from src/
# (cmake + g++, bounded by the deadline); a failed rebuild skips steps 3-5
# but not 1-2. All figures go to $OUT/gpu-results.md (./gpu-results.md
# without OUT): commit it as bench/gpu/results/DATE-GPU.md. The full log is
# gpu-check.log beside it. Exit 0 when steps 3-4 passed (step 4 includes
# agreeing with PyTorch's result wherever torch_reference.py mirrored the
# model).
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
deadline=$((started + ${TP_CHECK_BUDGET:-450}))
warmup="${TP_CHECK_WARMUP:-3}"
repeat="${TP_CHECK_REPEAT:-20}"

say() { echo "gpu-check: $*" | tee -a "$log"; }
md() { echo "$*" >> "$results"; }
elapsed() { echo $(( $(date +%s) - started )); }
# budget CAP: seconds a step may take, CAP or what is left before the
# deadline; 0 when under 15 s are left (the caller skips the step).
budget() {
  local left=$(( deadline - $(date +%s) ))
  if [ "$left" -lt 15 ]; then echo 0; elif [ "$left" -lt "$1" ]; then echo "$left"; else echo "$1"; fi
}
skipped() { md "*skipped: the deadline (${TP_CHECK_BUDGET:-450} s) was reached at $(elapsed) s*"; say "skipped $1 (deadline)"; }

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
driver="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)"
cuda_driver="$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9.]*\).*/\1/p' | head -1)"
torch_cuda="$(timeout 60 python3 -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>&1 | tail -1)"
say "$ngpu GPU(s): $gpu_name; driver $driver (CUDA $cuda_driver); PyTorch $torch_cuda"
md "Driver $driver (supports CUDA $cuda_driver); PyTorch: $torch_cuda."

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
  if [ "$name" = libcudart.so.13 ] && [ -n "$found" ] && [ "$found" != system ]; then
    md "CUDA runtime: \`$(readlink -f "$found/$name")\`."
  fi
done
export LD_LIBRARY_PATH="$(IFS=:; echo "${libdirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
md

meta() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
models=$(ls -d "$art"/models/*/ 2>/dev/null)

# ---------------------------------------------------------------------------
# 2. PyTorch eager first: the baseline whatever fails later
# ---------------------------------------------------------------------------
md "## PyTorch eager (torch_layer.py: CUDA events, median of 50 after 10 warm-up calls)"
md
md "| shape | tp (one rank's share) | ms |"
md "|---|---|---|"
declare -A torch_ms
torch_row() { # key label tp args...
  local key="$1" label="$2" tp="$3"; shift 3
  local line t
  t=$(budget 60)
  if [ "$t" -eq 0 ]; then md "| $label | $tp | skipped (deadline) |"; return; fi
  line="$(timeout "$t" python3 "$art/scripts/torch_layer.py" --tp "$tp" "$@" 2>>"$log" | tail -1)"
  echo "$line" >> "$log"
  local ms
  ms="$(echo "$line" | sed -n 's/.*: \([0-9.]*\) ms.*/\1/p')"
  torch_ms["$key/$tp"]="$ms"
  md "| $label | $tp | ${ms:-failed} |"
}
say "pytorch ($(elapsed) s)"
tps=(1); [ "$ngpu" -ge 2 ] && tps+=(2); [ "$ngpu" -ge 4 ] && tps+=(4)
for dir in $models; do
  m="$dir/meta.json"
  for n in "${tps[@]}"; do
    torch_row "$(basename "$dir")" "$(basename "$dir"): $(meta "$m" part) hidden $(meta "$m" hidden) seq $(meta "$m" seq) batch $(meta "$m" batch) $(meta "$m" dtype)" \
      "$n" --part "$(meta "$m" part)" --hidden "$(meta "$m" hidden)" \
      --heads "$(meta "$m" heads)" --seq "$(meta "$m" seq)" \
      --batch "$(meta "$m" batch)" --dtype "$(meta "$m" dtype)"
  done
done
torch_row gpt2-small "GPT-2 small layer, seq 1024 batch 8 bf16" 1 --part layer \
  --hidden 768 --heads 12 --seq 1024 --batch 8 --dtype bf16
md

# PyTorch's results on the models' own inputs (one process for all models:
# PyTorch is imported once), compared with tp-mlir's in step 4.
md "## PyTorch eager results (torch_reference.py: the generated layer mirrored in PyTorch, same inputs)"
md
say "pytorch results ($(elapsed) s)"
torch_out="$work/torch"
t=$(budget 90)
if [ -z "$models" ]; then md "No models."
elif [ "$t" -eq 0 ]; then skipped "pytorch results"
else
  timeout "$t" python3 "$art/scripts/torch_reference.py" -o "$torch_out" $models > "$work/torchref" 2>&1
  rc=$?
  cat "$work/torchref" >> "$log"
  md '```'; grep -E "torch_reference" "$work/torchref" | sed "s|$art/||g" >> "$results"; md '```'
  md "exit code $rc (0: every model mirrored; 3: some not mirrored; 1: failed)"
fi
md

bin="$art/bin"; lib="$art/lib"; origin="prebuilt (shipped)"; runnable=true
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
  t=$(budget 150)
  if [ "$t" -gt 0 ] && timeout "$t" cmake -G Ninja -S "$work/src/runtime" -B "$work/build" -DTP_ENABLE_MPI=OFF \
       -DTP_CUDA_ROOT="$cuda_root" -DTP_NCCL_ROOT="$nccl_root" >> "$log" 2>&1 && \
     timeout "$(budget 150)" ninja -C "$work/build" tp-launch tp_runtime_nccl tp_gpu_selftest \
       tp_gemm_bench >> "$log" 2>&1; then
    bin="$work/build/bin"; lib="$work/build/lib"; origin="rebuilt on this machine"
  else
    say "the rebuild failed (see the log)"; md "**The runtime could not be loaded or rebuilt here: steps 3-5 skipped.**"
    runnable=false; status=1
  fi
fi
# tp-launch finds the runtime in ../lib next to itself.
md "Binaries: $origin. Libraries from: \`$LD_LIBRARY_PATH\`."
md

# ---------------------------------------------------------------------------
# 3. Selftest
# ---------------------------------------------------------------------------
md "## Runtime selftest (tp_gpu_selftest)"
md
say "selftest ($(elapsed) s)"
t=$(budget 120)
if ! $runnable; then md "*skipped: no runtime*"
elif [ "$t" -eq 0 ]; then skipped selftest; status=1
else
  timeout "$t" "$bin/tp_gpu_selftest" --ranks "$ngpu" > "$work/selftest" 2>&1
  rc=$?
  cat "$work/selftest" >> "$log"
  md '```'
  grep -E "tp_gpu_selftest:|SKIPPED|passed|FAILED|mgpu|tp_rt_gemm|collectives" "$work/selftest" | tail -40 >> "$results"
  md '```'
  md "exit code $rc"
  [ $rc -eq 0 ] || status=1
fi
md

# ---------------------------------------------------------------------------
# 3b. The launcher with the hand-written GPU model
# ---------------------------------------------------------------------------
md "## Launcher, hand-written GPU model (fixture_gpu_tpN.so, tp-launch --spawn N)"
md
md "| tp | result |"
md "|---|---|"
fixture_case() { # case label
  local t; t=$(budget 40); [ "$t" -gt 0 ] || { md "| $2 | skipped (deadline) |"; return; }
  if timeout "$t" python3 "$art/scripts/launcher_test.py" --case "$1" \
       --launcher "$bin/tp-launch" --fixtures "$art/fixtures" \
       --work "$work/$1" >> "$log" 2>&1; then
    md "| $2 | ok |"
  else
    md "| $2 | **FAILED** (see gpu-check.log) |"; status=1
  fi
}
for n in 1 2 4; do
  $runnable || continue
  if [ "$n" -le "$ngpu" ]; then fixture_case "gpu_ok_spawn$n" "$n"
  else fixture_case "gpu_host_spawn$n" "$n, --collectives host ($ngpu GPU(s) shared)"; fi
done
$runnable && fixture_case gpu_graph_spawn1 "1, --warmup 1 --repeat 3: CUDA graph replayed, and --no-cuda-graph"

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
# 4. Compiled models: warm medians, CPU reference, ratio to PyTorch
# ---------------------------------------------------------------------------
graph_notes=() # why a model's CUDA graph capture failed, if it did
attention_notes=() # why a fused attention ran the generated kernels
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
md "## Compiled models (tp-launch --spawn N --warmup $warmup --repeat $repeat) vs the CPU reference and PyTorch"
md
if [ -z "$models" ]; then
  md "No models in the artifacts (built with --no-models)."
elif $runnable; then
  md "| model | tp | attention | tp-mlir ms (median per step) | PyTorch ms | ratio (target <= 1.0x) | peak device memory | rel. error vs CPU reference | vs PyTorch result | tolerance | result |"
  md "|---|---|---|---|---|---|---|---|---|---|---|"
  for dir in $models; do
    name="$(basename "$dir")"
    tol="$(meta "$dir/meta.json" tolerance)"
    nres="$(meta "$dir/meta.json" results)"
    inputs="$(ls "$dir"/inputs/input*.npy | sort -V | paste -sd, -)"
    for tpdir in "$dir"/tp*/; do
     n="${tpdir%/}"; n="${n##*/tp}"
     # Each attention twice where the run is timed: cuDNN's fused SDPA (what
     # tp_rt_attention chose is read from TP_ATTENTION_VERBOSE=1), and the
     # generated kernels (TP_CUDNN_LIBRARY=off: every call declines).
     paths=(fused)
     if [ "$n" -le "$ngpu" ] && grep -q tp_rt_attention "$tpdir/model.so"; then
       paths+=(generated)
     fi
     for path in "${paths[@]}"; do
      attn_env=(TP_ATTENTION_VERBOSE=1)
      [ "$path" = fused ] || attn_env+=(TP_CUDNN_LIBRARY=off)
      # More ranks than GPUs: the ranks share them, collectives through host
      # memory (a correctness run: few calls, no timing figure).
      shared=()
      timing=(--warmup "$warmup" --repeat "$repeat" --rank-stats)
      if [ "$n" -gt "$ngpu" ]; then
        shared=(--collectives host); timing=(--warmup 1 --repeat 2 --rank-stats)
      fi
      t=$(budget 90)
      if [ "$t" -eq 0 ]; then md "| $name | $n | $path | skipped (deadline) | | | | | | | |"; status=1; continue; fi
      outs=""; for ((j = 0; j < nres; ++j)); do outs+="${outs:+,}$work/$name-tp$n-output$j.npy"; done
      say "model $name at tp $n${shared:+ (collectives over host memory)} ($(elapsed) s)"
      timeout "$t" env "${attn_env[@]}" "$bin/tp-launch" --spawn "$n" --model "$tpdir/model.so" \
        --inputs "$inputs" --output "$outs" --timeout "$((t - 5))" "${shared[@]}" "${timing[@]}" > "$work/run" 2>&1
      rc=$?
      if [ $rc -ne 0 ] && grep -qE "unknown (option|flag).*(warmup|repeat)|unrecognized.*(warmup|repeat)" "$work/run"; then
        # A launcher from before --warmup/--repeat: one cold call.
        cat "$work/run" >> "$log"; timing=()
        timeout "$(budget 90)" "$bin/tp-launch" --spawn "$n" --model "$tpdir/model.so" \
          --inputs "$inputs" --output "$outs" --timeout 60 > "$work/run" 2>&1
        rc=$?
      fi
      cat "$work/run" >> "$log"
      # What the attention calls did (none: the model has no attention).
      attn="$path"
      if grep -q "tp_rt_attention: cuDNN fused attention" "$work/run"; then attn="fused (cuDNN)"
      elif grep -q "tp_rt_attention: generated kernels" "$work/run"; then
        attn="$path: generated kernels"
        [ "$path" = generated ] || attention_notes+=("$name at tp $n: $(grep -m1 -o 'tp_rt_attention: generated kernels.\{0,200\}' "$work/run")")
      elif ! grep -q tp_rt_attention "$tpdir/model.so"; then attn="none in the model"; fi
      if [ $rc -eq 0 ]; then
        # "tp_entry 1.234 ms (median of 20 calls after 3 warm-up, max over
        # ranks)"; a launcher without --warmup prints "(max over ranks)".
        ms="$(sed -n 's/.*tp_entry \([0-9.]*\) ms (median of.*/\1/p' "$work/run" | head -1)"
        [ -n "$ms" ] || ms="$(sed -n 's/.*tp_entry \([0-9.]*\) ms.*/\1/p' "$work/run" | head -1) (cold)"
        # --rank-stats: "...; peak device memory 12.5 MiB" per rank, the most.
        peak="$(sed -n 's/.*peak device memory \([0-9.]*\) MiB.*/\1/p' "$work/run" | sort -g | tail -1)"
        [ -z "$peak" ] || peak="$peak MiB"
        ref_ms="${torch_ms[$name/$n]:-}"
        ratio="-"
        if [ ${#shared[@]} -gt 0 ]; then
          ms="$ms (host collectives, not a timing)"
        elif [ -n "$ref_ms" ] && [[ "$ms" =~ ^[0-9.]+$ ]]; then
          ratio="$(python3 -c "import sys; r=float(sys.argv[1])/float(sys.argv[2]); print(f'{r:.2f}x ' + ('ok' if r <= 1.0 else 'over target'))" "$ms" "$ref_ms")"
        fi
        worst=""; verdict="ok"
        for ((j = 0; j < nres; ++j)); do
          read -r rel ok <<< "$(compare "$work/$name-tp$n-output$j.npy" "$dir/reference/output$j.npy" "$tol")"
          worst+="${worst:+ }$rel"
          [ "$ok" = ok ] || verdict="**FAILED**"
        done
        # Against PyTorch eager's result on the same inputs (result 0).
        vs_torch="not mirrored"
        if [ -f "$torch_out/$name/output0.npy" ]; then
          read -r rel ok <<< "$(compare "$work/$name-tp${n}-output0.npy" "$torch_out/$name/output0.npy" "$tol")"
          vs_torch="$rel $ok"
          [ "$ok" = ok ] || verdict="**FAILED**"
        fi
        [ "$verdict" = ok ] || status=1
        graph="$(grep -m1 -oE 'CUDA graph (replayed|capture failed|unavailable|not captured[^;]*)|no CUDA graph' "$work/run")"
        first="$(sed -n 's/.*first call \([0-9.]*\) ms.*/\1/p' "$work/run" | sort -g | tail -1)"
        why="$(grep -m1 -oE 'CUDA graph capture failed \(.{0,200}' "$work/run")"
        [ -z "$why" ] || graph_notes+=("$name at tp $n: $why")
        md "| $name | $n | $attn | $ms${graph:+ ($graph)}${first:+; first call $first ms} | ${ref_ms:--} | $ratio | ${peak:--} | $worst | $vs_torch | $tol | $verdict |"
      else
        status=1
        md "| $name | $n | $attn | - | ${torch_ms[$name/$n]:--} | - | - | - | - | $tol | **run failed** (rc $rc): $(grep -m1 'tp' "$work/run" | cut -c1-120) |"
      fi
     done
    done
  done
else
  md "*skipped: no runtime*"
fi
md
for note in "${graph_notes[@]}"; do md "- $note"; done
for note in "${attention_notes[@]}"; do md "- $note"; done
md

# ---------------------------------------------------------------------------
# 5. GEMM throughput: tp_rt_gemm vs cuBLAS
# ---------------------------------------------------------------------------
md "## Local GEMMs: tp_rt_gemm vs cuBLAS (tp_gemm_bench)"
md
say "gemm bench ($(elapsed) s)"
t=$(budget 120)
if ! $runnable; then md "*skipped: no runtime*"
elif [ "$t" -eq 0 ]; then skipped "gemm bench"
elif timeout "$t" "$bin/tp_gemm_bench" --tp 1,2,4 --dtype bf16 --iters 20 > "$work/bench" 2>&1; then
  cat "$work/bench" >> "$results"
  cat "$work/bench" >> "$log"
else
  md "tp_gemm_bench failed or timed out:"; md '```'; tail -5 "$work/bench" >> "$results"; md '```'
  cat "$work/bench" >> "$log"
fi
md

md "Total $(elapsed) s of a ${TP_CHECK_BUDGET:-450} s budget on $gpu_name; exit status $status (0: selftest, launcher and models passed)."
say "done in $(elapsed) s; results in $results"
exit $status
