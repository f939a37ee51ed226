#!/usr/bin/env bash
# The longer fuzzing run: the runtime's libFuzzer harnesses (runtime/test/fuzz),
# coverage-guided, under ASan + UBSan. Needs clang and libFuzzer:
#   apt-get install clang-22 libclang-rt-22-dev
#
#   scripts/fuzz.sh [SECONDS_PER_HARNESS] [npy manifest rendezvous elf safetensors]
#
# Builds the runtime alone with clang in build-fuzz/ (TP_FUZZ_BUILD overrides),
# grows a corpus per harness in build-fuzz/corpus/NAME (seeded from the
# checked-in one) and leaves a crashing input as build-fuzz/crash-*; replay it
# with build-fuzz/bin/tp_fuzz_NAME FILE. Exits non-zero if a harness failed.
# ctest's runtime.fuzz.* run the same harnesses for a few seconds with gcc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TP_FUZZ_BUILD:-$root/build-fuzz}"
seconds="${1:-300}"
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(npy manifest rendezvous elf safetensors)

cxx="${TP_FUZZ_CXX:-$(command -v clang++-22 || command -v clang++ || true)}"
cc="${TP_FUZZ_CC:-$(command -v clang-22 || command -v clang || true)}"
if [ -z "$cxx" ] || [ -z "$cc" ]; then
  echo "fuzz.sh: no clang found; install clang-22 and libclang-rt-22-dev" >&2
  exit 1
fi

if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root/runtime" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
    -DTP_ENABLE_LIBFUZZER=ON -DTP_ENABLE_MPI=OFF -DTP_ENABLE_CUDA=OFF
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("tp_fuzz_$h"); done
cmake --build "$build" --target "${targets[@]}" tp_fixture_models

status=0
for h in "${harnesses[@]}"; do
  corpus="$build/corpus/$h"
  mkdir -p "$corpus"
  if [ "$h" = elf ]; then
    cp "$build"/test/fixtures/fixture_model_tp*.so "$corpus"/ 2>/dev/null || true
  else
    cp "$root/runtime/test/fuzz/corpus/$h"/* "$corpus"/
  fi
  echo "== $h: ${seconds} s"
  if ! (cd "$build" && ASAN_OPTIONS=detect_leaks=1 \
        "$build/bin/tp_fuzz_$h" -max_total_time="$seconds" \
        -print_final_stats=1 -max_len=65536 "$corpus"); then
    echo "fuzz.sh: $h found a crash (see $build/crash-*)" >&2
    status=1
  fi
done
exit $status
