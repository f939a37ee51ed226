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
    /// Module attribute: the tensor-parallel group size a module was partitioned for.
    static constexpr ::llvm::StringLiteral getSizeAttrName() { return "tp.size"; }

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
