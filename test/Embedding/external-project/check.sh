#!/bin/sh
# ctest embedding-external-project: tp-mlir as an installed package.
#   check.sh BUILD_DIR SOURCE_DIR LLVM_TOOLS_DIR CMAKE GENERATOR MAKE_PROGRAM RUN_TOOLS
# 1. installs BUILD_DIR into a temporary prefix (removed when the test passes,
#    kept for inspection when it fails);
# 2. configures this directory against the installed TPMLIR package (only
#    the prefix is given, not the build or source tree), builds tp-embed, runs
#    the GPT-2 MLP through the C++ partition pipeline and FileChecks it;
# 3. checks that nothing installed points back into the build tree and that
#    the installed tools run: tp-opt, the plugin in the stock mlir-opt and
#    (RUN_TOOLS=ON, i.e. with MPI) tp-run + tp-launch + libtp_runtime_mpi.so.
set -eu
build=$1 src=$2 llvm_tools=$3 cmake=$4 generator=$5 make_program=$6 run_tools=$7
here=$src/test/Embedding/external-project
example=$src/examples/gpt2-mlp.mlir

step() { echo "== $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tp-embedding.XXXXXX")
trap 'status=$?; if [ $status -eq 0 ]; then rm -rf "$work"; else echo "kept $work for inspection" >&2; fi; exit $status' EXIT
prefix=$work/prefix

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" > "$work/install.log"
test -f "$prefix/lib/cmake/TPMLIR/TPMLIRConfig.cmake"
test -f "$prefix/include/tp/Dialect/TP/IR/TPOps.h.inc"

step "no installed package file or RUNPATH names the build tree"
if grep -rl -- "$build" "$prefix/lib/cmake"; then
  echo "error: the installed package refers to the build tree" >&2
  exit 1
fi
for f in "$prefix"/bin/* "$prefix"/lib/*.so*; do
  if readelf -d "$f" | grep -E 'R(UN)?PATH' | grep -F -- "$build"; then
    echo "error: $f has the build tree in its RUNPATH" >&2
    exit 1
  fi
done

step "configure and build the external project"
"$cmake" -G "$generator" -S "$here" -B "$work/build" \
  -DCMAKE_MAKE_PROGRAM="$make_program" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure.log" \
  || { cat "$work/configure.log"; exit 1; }
grep "Using TPMLIRConfig.cmake in: $prefix/lib/cmake/TPMLIR" "$work/configure.log"
"$cmake" --build "$work/build"

step "run the partition pipeline through the C++ API"
"$work/build/tp-embed" "$example" 4 > "$work/tp-embed.mlir"
"$llvm_tools/FileCheck" "$here/tp-embed.cpp" --input-file="$work/tp-embed.mlir"

step "installed tp-opt and the installed plugin in the stock mlir-opt agree"
"$prefix/bin/tp-opt" "$example" --tp-partition-pipeline="tp-size=4" \
  > "$work/tp-opt.mlir"
"$llvm_tools/mlir-opt" --load-dialect-plugin="$prefix/lib/TPPlugin.so" \
  --load-pass-plugin="$prefix/lib/TPPlugin.so" "$example" \
  --pass-pipeline="builtin.module(tp-partition-pipeline{tp-size=4})" \
  > "$work/plugin.mlir"
diff "$work/tp-opt.mlir" "$work/plugin.mlir"
diff "$work/tp-opt.mlir" "$work/tp-embed.mlir"

if [ "$run_tools" = ON ]; then
  step "installed tp-run launches the installed tp-launch and runtime"
  "$prefix/bin/tp-run" "$example" --tp-size=2 --check --build-dir="$work/run" \
    > "$work/tp-run.log" || { cat "$work/tp-run.log"; exit 1; }
  cat "$work/tp-run.log"
  grep -q "check: result 0: .*: ok" "$work/tp-run.log"
  # Whether tp-launch links the backend or dlopens it from ../lib, whatever
  # runtime library it resolves must be the installed one.
  if ldd "$prefix/bin/tp-launch" | grep libtp_runtime | grep -v -F "=> $prefix/"; then
    echo "error: the installed tp-launch resolves a runtime outside $prefix" >&2
    exit 1
  fi
fi
echo "PASS"
