//===- TPDialect.td - tp dialect definition ----------------*- tablegen -*-===//
//
// Part of tp-mlir. Compile-time tensor parallelism for MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_IR_TPDIALECT_TD
#define TP_DIALECT_TP_IR_TPDIALECT_TD

include "mlir/IR/OpBase.td"

def TP_Dialect : Dialect {
  let name = "tp";
  let cppNamespace = "::mlir::tp";
  let summary = "Tensor parallelism: shardings and collectives";
  let description = [{
    The `tp` dialect describes how tensors are distributed over the ranks of a
    tensor-parallel group and the collective operations that move data between
    them. A value is either replicated on every rank, split along one dimension
    (each rank holds a contiguous slice), or partial (each rank holds a term of a
    pending sum, maximum or minimum).

    Users annotate matmul-like operations with the discardable attribute
    `tp.parallel = "column" | "row" | "replicated"`; the `tp-partition` pass
    rewrites a function into its per-rank form, where the data movement between
    ranks is explicit `tp` collectives on tensors. After bufferization the
    collectives become `tp.buffer.*` operations on memrefs and, finally, calls
    into the tp runtime (MPI on CPU, NCCL on GPU).

    Op names and semantics follow upstream's `shard` dialect where they overlap
    (`all_reduce`, `all_gather`, `reduce_scatter`, `all_slice`), with a single
    one-dimensional tensor-parallel group whose size is an attribute of each op.
  }];
  let useDefaultAttributePrinterParser = 1;
  // `tp.parallel`, `tp.result_sharding` and `tp.size` on ops, `tp.sharding` and
  // `tp.global_type` on function arguments and results are checked wherever
  // they appear (TPDialect.cpp).
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
  let extraClassDeclaration = [{
    /// Name of the discardable attribute users put on matmul-like ops.
    static constexpr ::llvm::StringLiteral getParallelAttrName() { return "tp.parallel"; }
    /// Optional, next to `tp.parallel`: the sharding of result #0 that the
    /// annotated form must produce, to choose among several forms of the
    /// same kind (the segmented column splits of a fused projection).
    static constexpr ::llvm::StringLiteral getResultShardingAttrName() { return "tp.result_sharding"; }
    /// Argument/result attribute carrying a value's sharding in a partitioned function.
    static constexpr ::llvm::StringLiteral getShardingAttrName() { return "tp.sharding"; }
    /// Argument/result attribute carrying the full (unsharded) type of a partitioned value.
    static constexpr ::llvm::StringLiteral getGlobalTypeAttrName() { return "tp.global_type"; }
    /// Unit argument attribute: this function argument is a parameter
    /// (a weight, bias or optimizer state), not an activation or gradient.
    /// When any argument of a function has it, exactly those arguments are
    /// parameters for tp-plan and the report's lower bound.
    static constexpr ::llvm::StringLiteral getParamAttrName() { return "tp.param"; }
    /// String argument attribute: this argument holds the data of a tensor
    /// constant that tp-hoist-constants moved out of the function; the value
    /// names it (a key of the module's `tp.hoisted_constants`, and the tensor
    /// name in the weights file tp-run writes).
    static constexpr ::llvm::StringLiteral getHoistedAttrName() { return "tp.hoisted"; }
    /// Module attribute: a dictionary from each hoisted constant's name to
    /// its data (the original `dense` or `dense_resource` elements).
    static constexpr ::llvm::StringLiteral getHoistedConstantsAttrName() { return "tp.hoisted_constants"; }
    /// String attribute on a planned op: the planner's explanation of its
    /// choice (tp-plan writes it, the report prints it, tp-partition drops it).
    static constexpr ::llvm::StringLiteral getPlanReasonAttrName() { return "tp.plan_reason"; }
    /// Module attribute: the tensor-parallel group size a module was partitioned for.
    static constexpr ::llvm::StringLiteral getSizeAttrName() { return "tp.size"; }

    /// The largest tensor-parallel group size (`tp-size`, `tp.size`) the
    /// compiler accepts. One tensor-parallel group spans the GPUs of a node
    /// or a few nodes (8 to 64 ranks); the bound keeps every shard size,
    /// padded size and byte count far from int64 overflow.
    static constexpr int64_t kMaxTPSize = 65536;

    /// Fails, with a diagnostic from `emitError` that says why, unless
    /// 1 <= `size` <= kMaxTPSize. `what` names the option or attribute.
    static ::mlir::LogicalResult
    checkTPSize(int64_t size, ::llvm::StringRef what,
                ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError);

    /// Fails, with a diagnostic at `op`, unless `value` is a valid
    /// `tp.parallel` annotation (a string: column, row, replicated, vocab).
    /// Every pass that reads annotations and the dialect verifier use it.
    static ::mlir::LogicalResult verifyParallelAnnotation(::mlir::Operation *op,
                                                          ::mlir::Attribute value);

    /// Fails, with a diagnostic from `emitError`, unless `sharding` can
    /// describe a value of type `local` whose full type is `global` in a
    /// group of `tpSize` ranks (0 when unknown: only what holds for every
    /// group size is checked).
    static ::mlir::LogicalResult
    verifyShardedType(ShardingAttr sharding, ::mlir::Type global,
                      ::mlir::Type local, int64_t tpSize,
                      ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError);

    /// The common sharding attributes, created once per context (partitioning
    /// a large model asks for them millions of times).
    ShardingAttr getCachedSharding(ShardingKind kind, int64_t dim,
                                   ReductionKind reduction);

  private:
    ShardingAttr replicatedSharding;
    ::llvm::SmallVector<ShardingAttr, 16> splitShardings;
    ShardingAttr partialShardings[3];

  public:
  }];
}

#endif // TP_DIALECT_TP_IR_TPDIALECT_TD
