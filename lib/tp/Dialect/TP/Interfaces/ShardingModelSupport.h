//===- ShardingModelSupport.h - what the external models share --*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_DIALECT_TP_INTERFACES_SHARDINGMODELSUPPORT_H
#define TP_LIB_DIALECT_TP_INTERFACES_SHARDINGMODELSUPPORT_H

#include "tp/Dialect/TP/Interfaces/ShardingInterface.h"

namespace mlir {
namespace tp {

/// The partition of an op that runs as it is on local shapes: `op` cloned
/// on `localOperands`, its tensor results given their local types.
FailureOr<SmallVector<Value>> cloneWithLocalTypes(Operation *op,
                                                  OpBuilder &builder,
                                                  const ShardingOption &option,
                                                  ValueRange localOperands,
                                                  PartitionContext &context);

/// The external model of op `OpTy` in a family of ops that share their rules
/// (every linalg structured op, every elementwise arith/math op): the
/// interface's two methods call `GetOptions(op, options)` and
/// `Partition(op, builder, option, localOperands, context)`.
template <typename OpTy, auto GetOptions, auto Partition>
struct FamilyShardingModel
    : public ShardingOpInterface::ExternalModel<
          FamilyShardingModel<OpTy, GetOptions, Partition>, OpTy> {
  void getShardingOptions(Operation *op, int64_t,
                          SmallVectorImpl<ShardingOption> &options) const {
    GetOptions(op, options);
  }

  FailureOr<SmallVector<Value>> partition(Operation *op, OpBuilder &builder,
                                          const ShardingOption &option,
                                          ValueRange localOperands,
                                          PartitionContext &context) const {
    return Partition(op, builder, option, localOperands, context);
  }
};

/// Attaches the family's model to every op of `OpTys`.
template <auto GetOptions, auto Partition, typename... OpTys>
void attachFamilyModels(MLIRContext *ctx) {
  (OpTys::template attachInterface<
       FamilyShardingModel<OpTys, GetOptions, Partition>>(*ctx),
   ...);
}

} // namespace tp
} // namespace mlir

#endif // TP_LIB_DIALECT_TP_INTERFACES_SHARDINGMODELSUPPORT_H
