//===- InitAll.cpp - register everything tp provides ----------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/InitAll.h"
#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/Dialect/TP/ShardingModels/ShardingModels.h"
#include "tp/Dialect/TP/Transforms/Passes.h"

#include "mlir/IR/DialectRegistry.h"

void mlir::registerTPDialect(DialectRegistry &registry) {
  registry.insert<tp::TPDialect>();
  tp::registerShardingModels(registry);
}

void mlir::registerTPPasses() { tp::registerTPPasses(); }
