//===- tp-plugin.cpp - tp-mlir as a plugin for stock mlir-opt -------------===//
//
// Part of tp-mlir.
//
// One shared object that is both a dialect plugin and a pass plugin for an
// `mlir-opt` built against the same shared MLIR library (Debian's
// /usr/lib/llvm-22/bin/mlir-opt links libMLIR.so.22.1):
//
//   mlir-opt --load-dialect-plugin=TPPlugin.so --load-pass-plugin=TPPlugin.so \
//            model.mlir --tp-partition-pipeline="tp-size=4"
//
// The dialect entry point adds the tp dialect and the tp models of upstream
// ops' interfaces (sharding rules, bufferization of tp collectives); the pass
// entry point registers every tp pass and pipeline. Load both: the passes
// need the sharding models, which only the dialect entry point can register
// (it is the one that gets the DialectRegistry).
//
// The plugin links our static libraries, which link only the shared `MLIR`
// library, never the static libMLIR*.a: the process must hold one MLIR copy
// (one set of registries, TypeIDs and command-line options).
//
//===----------------------------------------------------------------------===//

#include "tp/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Compiler.h"

extern "C" ::mlir::DialectPluginLibraryInfo LLVM_ATTRIBUTE_WEAK
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "TPDialect", LLVM_VERSION_STRING,
          [](::mlir::DialectRegistry *registry) {
            ::mlir::registerTPDialect(*registry);
          }};
}

extern "C" ::mlir::PassPluginLibraryInfo LLVM_ATTRIBUTE_WEAK
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "TPPasses", LLVM_VERSION_STRING,
          []() { ::mlir::registerTPPasses(); }};
}
