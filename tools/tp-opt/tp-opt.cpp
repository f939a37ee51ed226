//===- tp-opt.cpp - tp-mlir optimizer driver ------------------------------===//
//
// Part of tp-mlir.
//
// mlir-opt with the tp dialect, passes and pipelines added. Unlike mlir-opt,
// a diagnostic does not append the op in generic form (often dozens of lines
// for one linalg op): its location and source line say which op it is.
// --mlir-print-op-on-diagnostic brings the dump back.
//
//===----------------------------------------------------------------------===//

#include "tp/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "llvm/ADT/SmallVector.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::registerTPPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerTPDialect(registry);

  // The quiet default goes first: a later --mlir-print-op-on-diagnostic from
  // the user wins (the last occurrence of an option counts).
  static char quietDiagnostics[] = "--mlir-print-op-on-diagnostic=false";
  llvm::SmallVector<char *> args(argv, argv + argc);
  args.insert(args.begin() + 1, quietDiagnostics);
  int newArgc = static_cast<int>(args.size());
  args.push_back(nullptr);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      newArgc, args.data(), "tp-mlir optimizer driver\n", registry));
}
