//===- InitAll.cpp - register everything tp provides ----------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/InitAll.h"
#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/Dialect/TP/Interfaces/ShardingModels.h"
#include "tp/Conversion/Passes.h"
#include "tp/Target/CPU/Passes.h"
#include "tp/Target/GPU/Passes.h"
#include "tp/Dialect/TP/Transforms/BufferizableOpInterfaceImpl.h"
#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Transforms/Passes.h"
#include "tp/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"

void mlir::registerTPDialect(DialectRegistry &registry) {
  registry.insert<tp::TPDialect>();
  tp::registerShardingModels(registry);
  tp::registerBufferizableOpInterfaceExternalModels(registry);
}

void mlir::registerTPPasses() {
  tp::registerTPPasses();
  tp::registerTPCommonPasses();
  tp::registerTPConversionPasses();
  tp::registerTPCPUPasses();
  tp::registerTPGPUPasses();
  tp::registerTPPipelines();
}
