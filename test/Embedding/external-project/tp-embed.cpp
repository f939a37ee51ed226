//===- tp-embed.cpp - tp-mlir through its C++ API -------------------------===//
//
// Part of tp-mlir (test/Embedding/external-project).
//
// What an embedding compiler does: register the tp dialect (with its models
// of upstream ops) next to the dialects the input uses, parse a module, build
// the partition pipeline with typed options, run it, print the result.
//
//   tp-embed MODEL.mlir [TP_SIZE]
//
//===----------------------------------------------------------------------===//

#include "tp/InitAll.h"
#include "tp/Pipelines/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    llvm::errs() << "usage: tp-embed MODEL.mlir [TP_SIZE]\n";
    return 2;
  }
  int64_t tpSize = 4;
  if (argc == 3 && !llvm::to_integer(argv[2], tpSize)) {
    llvm::errs() << "tp-embed: TP_SIZE must be an integer\n";
    return 2;
  }

  mlir::DialectRegistry registry;
  registry.insert<mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                  mlir::tensor::TensorDialect>();
  mlir::registerTPDialect(registry);
  mlir::MLIRContext context(registry);

  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(argv[1], sourceMgr,
                                            mlir::ParserConfig(&context));
  if (!module)
    return 1;

  mlir::PassManager pm(&context);
  mlir::tp::TPOptions options;
  options.tpSize = tpSize;
  mlir::tp::buildTPPartitionPipeline(pm, options);
  if (mlir::failed(pm.run(*module)))
    return 1;

  module->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}

// The GPT-2 MLP at tp-size 4: fc1 column-parallel, fc2 row-parallel, one
// all_reduce on the output.
// CHECK: module attributes {tp.size = 4 : i64}
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: tensor<768x768xf32> {tp.global_type = tensor<3072x768xf32>
// CHECK-SAME: tp.sharding = #tp.sharding<split 0>}
// CHECK-SAME: tensor<768x768xf32> {tp.global_type = tensor<768x3072xf32>
// CHECK-SAME: tp.sharding = #tp.sharding<split 1>}
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<64x768xf32>,
// CHECK-SAME: tensor<768x768xf32>) outs(%{{.*}} : tensor<64x768xf32>)
// CHECK: %[[Y:.*]] = linalg.matmul
// CHECK: tp.all_reduce sum %[[Y]] over 4 : tensor<64x768xf32>
// CHECK-NOT: tp.all_gather
// CHECK: return
