//===- ShardingInterface.td - how ops run on a tp group ----*- tablegen -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_INTERFACES_SHARDINGINTERFACE_TD
#define TP_DIALECT_TP_INTERFACES_SHARDINGINTERFACE_TD

include "mlir/IR/OpBase.td"

def TP_ShardingOpInterface : OpInterface<"ShardingOpInterface"> {
  let cppNamespace = "::mlir::tp";
  let description = [{
    Describes how an operation can run on a tensor-parallel group: the ways it
    can be distributed (its sharding options, each a sharding per tensor operand
    and result) and how to build its per-rank form for one of them.

    The rules are local to the op. Everything else (propagation, planning, the
    choice of collectives between ops) is done by `tp-partition` and `tp-plan`
    from these options. Upstream ops get this interface through external models
    (see `registerShardingModels`), so the ops themselves are not changed.

    Options never need to be checked against shapes: the partitioner rejects an
    option whose split dimension is dynamic or not divisible by the group size.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/[{
        Appends every way this op can be distributed over a group of `tpSize`
        ranks to `options`. Operand shardings are given for every operand
        (non-tensor operands are replicated). The fully replicated option, when
        the op has one, comes first.
      }],
      /*retTy=*/"void",
      /*methodName=*/"getShardingOptions",
      /*args=*/(ins "int64_t":$tpSize,
                    "::llvm::SmallVectorImpl<::mlir::tp::ShardingOption> &":$options)
    >,
    InterfaceMethod<
      /*desc=*/[{
        Builds the per-rank form of this op for `option` at the builder's
        insertion point. `localOperands` are the per-rank values of the
        operands, already in the shardings the option requires. Returns the
        per-rank results (in the option's result shardings) or failure with a
        diagnostic emitted on the op. The partitioner rewrites in program
        order, so this op's operands may already be the local values: read
        global shapes from its results and local ones from `localOperands`.
        A model may also update the op in place (operands, result types) and
        return the op's own results; otherwise the op is erased after its
        results are replaced.
      }],
      /*retTy=*/"::mlir::FailureOr<::llvm::SmallVector<::mlir::Value>>",
      /*methodName=*/"partition",
      /*args=*/(ins "::mlir::OpBuilder &":$builder,
                    "const ::mlir::tp::ShardingOption &":$option,
                    "::mlir::ValueRange":$localOperands,
                    "::mlir::tp::PartitionContext &":$context)
    >
  ];
}

#endif // TP_DIALECT_TP_INTERFACES_SHARDINGINTERFACE_TD
