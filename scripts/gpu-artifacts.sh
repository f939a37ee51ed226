#!/usr/bin/env bash
# Collects, HERE (with LLVM), everything scripts/gpu-check.sh needs on a GPU
# machine (which has CUDA, NCCL and PyTorch but no LLVM, maybe no MPI).
#
#   scripts/gpu-artifacts.sh [-o DIR] [--build-dir DIR] [--tp-run PATH]
#                            [--seed N] [--no-models]
#                            [MODEL.mlir[:key=value,...] ...]
#
# DIR defaults to build-gpu/gpu-artifacts (git-ignored: a device run names it
# in `carry`). MODEL defaults to three models:
#   examples/gpt2-mlp.mlir:part=mlp,hidden=768,heads=12,seq=64,batch=1,dtype=f32
#   examples/gpt2-layer.mlir:part=layer,hidden=96,heads=12,seq=16,batch=2,dtype=f32
#   gpt2-layer-bf16.mlir (scripts/gen_transformer.py: GPT-2 small's layer,
#     768 wide, 12 heads, seq 128, batch 4, bf16; the timing model)
# where the keys describe the model for the PyTorch comparison (part = mlp |
# attention | layer; seq * batch = tokens) and tolerance= overrides the
# check's max|y - ref| / max|ref| (default 1e-3 for f32, 3e-2 for bf16/f16).
# Each model is built with `tp-run --target=gpu --build-only` at tp 1, 2, 4,
# and run here once on the CPU at tp 1 (random inputs, --seed) for the
# reference outputs. --no-models collects the runtime pieces only.
#
# Layout of DIR:
#   ARTIFACTS.md                 what is here, from which commit
#   bin/tp-launch                the launcher (dlopens ../lib/libtp_runtime_nccl.so)
#   bin/tp_gpu_selftest          runtime smoke test
#   bin/tp_gemm_bench            tp_rt_gemm vs cuBLAS
#   lib/libtp_runtime_nccl.so    the GPU runtime
#   fixtures/fixture_gpu_tp{1,2,4}.so   hand-written GPU model (launcher test)
#   scripts/gpu-check.sh  scripts/torch_layer.py  scripts/launcher_test.py
#   scripts/torch_reference.py  scripts/layer_spec.py   PyTorch's results
#   src/tp-runtime-src.tar.gz    runtime/ + bench/gpu/ sources, to rebuild
#                                there (cmake -S runtime, no LLVM) if the
#                                prebuilt binaries cannot load
#   models/NAME/meta.json        part, args (the entry's argument names),
#                                hidden, heads, seq, batch, dtype,
#                                tolerance, tp_sizes, results
#   models/NAME/inputs/input{i}.npy
#   models/NAME/reference/output{j}.npy   CPU results at tp 1
#   models/NAME/tp{N}/model.so
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/build-gpu/gpu-artifacts"
build="$root/build-gpu"
tprun=""
seed=0
models=true
specs=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --tp-run) tprun="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --no-models) models=false; shift ;;
    -h|--help) sed -n '2,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "gpu-artifacts: unknown option '$1'" >&2; exit 2 ;;
    *) specs+=("$1"); shift ;;
  esac
done
gen_dir=""
if [ ${#specs[@]} -eq 0 ]; then
  gen_dir="$(mktemp -d)"
  python3 "$root/scripts/gen_transformer.py" --arch gpt2 --dtype bf16 \
    --hidden 768 --heads 12 --ffn 3072 --seq 128 --batch 4 \
    --name gpt2_layer_bf16 -o "$gen_dir/gpt2-layer-bf16.mlir"
  specs=("$root/examples/gpt2-mlp.mlir:part=mlp,hidden=768,heads=12,seq=64,batch=1,dtype=f32"
         "$root/examples/gpt2-layer.mlir:part=layer,hidden=96,heads=12,seq=16,batch=2,dtype=f32"
         "$gen_dir/gpt2-layer-bf16.mlir:part=layer,hidden=768,heads=12,seq=128,batch=4,dtype=bf16")
fi

say() { echo "gpu-artifacts: $*"; }

# 1. The runtime pieces (no LLVM needed for these targets).
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
fi
ninja -C "$build" tp-launch tp_runtime_nccl tp_gpu_selftest tp_gemm_bench \
  tp_fixture_models >/dev/null
rm -rf "$out"
mkdir -p "$out"/{bin,lib,fixtures,scripts,src,models}
cp "$build/bin/tp-launch" "$build/bin/tp_gpu_selftest" \
   "$build/bin/tp_gemm_bench" "$out/bin/"
cp "$build/lib/libtp_runtime_nccl.so" "$out/lib/"
cp "$build"/runtime/test/fixtures/fixture_gpu_tp*.so "$out/fixtures/"
cp "$root/scripts/gpu-check.sh" "$root/bench/gpu/torch_layer.py" \
   "$root/runtime/test/launcher_test.py" "$root/scripts/layer_spec.py" \
   "$root/scripts/torch_reference.py" "$out/scripts/"
tar czf "$out/src/tp-runtime-src.tar.gz" -C "$root" runtime bench/gpu
say "runtime pieces in $out"

# 2. Models.
if $models; then
  if [ -z "$tprun" ]; then
    for candidate in "$build/bin/tp-run" "$root/build/bin/tp-run"; do
      if [ -x "$candidate" ]; then tprun="$candidate"; break; fi
    done
  fi
  if [ -z "$tprun" ] || [ ! -x "$tprun" ]; then
    say "no tp-run found (build it: ninja -C $build tp-run, or pass --tp-run);" \
        "or pass --no-models to collect the runtime pieces only" >&2
    exit 1
  fi
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch" ${gen_dir:+"$gen_dir"}' EXIT
  for spec in "${specs[@]}"; do
    model="${spec%%:*}"
    options=""
    [ "$spec" != "$model" ] && options="${spec#*:}"
    name="$(basename "$model" .mlir)"
    part=layer hidden=768 heads=12 seq=64 batch=1 dtype=f32 tolerance=""
    IFS=',' read -r -a pairs <<< "$options"
    for pair in "${pairs[@]}"; do
      case "${pair%%=*}" in
        part|hidden|heads|seq|batch|dtype|tolerance) eval "${pair%%=*}=\"\${pair#*=}\"" ;;
        "") ;;
        *) echo "gpu-artifacts: unknown key '${pair%%=*}' in '$spec'" >&2; exit 2 ;;
      esac
    done
    if [ -z "$tolerance" ]; then
      [ "$dtype" = f32 ] && tolerance=1e-3 || tolerance=3e-2
    fi
    dir="$out/models/$name"
    mkdir -p "$dir/inputs" "$dir/reference"
    # GPU builds first: a tp-run without a GPU target fails here, clearly.
    for tp in 1 2 4; do
      mkdir -p "$dir/tp$tp"
      if ! "$tprun" "$model" --target=gpu --tp-size=$tp --build-only \
             --build-dir="$scratch/gpu-$name-$tp" --quiet \
             > "$scratch/log" 2>&1; then
        cat "$scratch/log" >&2
        say "tp-run cannot build '$model' for --target=gpu at tp $tp" \
            "(output above)" >&2
        exit 1
      fi
      cp "$scratch/gpu-$name-$tp/model.so" "$dir/tp$tp/model.so"
    done
    # The CPU reference at tp 1, on random inputs that ship along.
    "$tprun" "$model" --target=cpu --tp-size=1 --seed="$seed" --quiet \
      --build-dir="$scratch/cpu-$name" > "$scratch/log" 2>&1 || {
        cat "$scratch/log" >&2; say "the CPU reference run of $model failed" >&2
        exit 1; }
    cp "$scratch/cpu-$name"/input*.npy "$dir/inputs/"
    results=0
    for f in "$scratch/cpu-$name"/output*.npy; do
      cp "$f" "$dir/reference/"; results=$((results + 1))
    done
    # The argument names let torch_reference.py rebuild the program in
    # PyTorch from the same inputs.
    argnames="$(python3 "$root/scripts/layer_spec.py" --arg-names "$model")" || exit 1
    cat > "$dir/meta.json" <<JSON
{"name": "$name", "source": "$(basename "$model")", "part": "$part", "args": $argnames,
 "hidden": $hidden, "heads": $heads, "seq": $seq, "batch": $batch,
 "dtype": "$dtype", "tolerance": $tolerance, "tp_sizes": [1, 2, 4],
 "results": $results}
JSON
    say "model $name: tp 1, 2, 4 and its CPU reference"
  done
fi

# 3. What is here.
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
{
  echo "# tp-mlir GPU artifacts"
  echo
  echo "Built $(date -u +%Y-%m-%dT%H:%MZ) from commit $commit on $(uname -m)."
  echo "Run on a GPU machine: \`bash scripts/gpu-check.sh\` (from this folder)."
  echo
  echo '```'
  (cd "$out" && find . -type f | sort | sed 's|^\./||')
  echo '```'
} > "$out/ARTIFACTS.md"
bytes=$(du -sb "$out" | cut -f1)
say "$((bytes / 1024)) KiB in $out"
if [ "$bytes" -gt $((60 * 1024 * 1024)) ]; then
  say "that is over 60 MiB: a device run carries at most 64 MiB; use smaller" \
      "models (seq/batch) or fewer of them" >&2
  exit 1
fi
