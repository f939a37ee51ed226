//===- TPAttrs.td - tp attributes and enums ----------------*- tablegen -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_IR_TPATTRS_TD
#define TP_DIALECT_TP_IR_TPATTRS_TD

include "tp/Dialect/TP/IR/TPDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def TP_ReductionKind : I32EnumAttr<"ReductionKind", "reduction of a collective", [
    I32EnumAttrCase<"sum", 0>,
    I32EnumAttrCase<"max", 1>,
    I32EnumAttrCase<"min", 2>
  ]> {
  let cppNamespace = "::mlir::tp";
}

def TP_ShardingKind : I32EnumAttr<"ShardingKind", "how a value is distributed", [
    I32EnumAttrCase<"replicated", 0>,
    I32EnumAttrCase<"split", 1>,
    I32EnumAttrCase<"partial", 2>
  ]> {
  let cppNamespace = "::mlir::tp";
  let genSpecializedAttr = 0;
}

def TP_ShardingAttr : AttrDef<TP_Dialect, "Sharding"> {
  let mnemonic = "sharding";
  let summary = "How a tensor is distributed over the tensor-parallel group";
  let description = [{
    One of:

    * `#tp.sharding<replicated>`: every rank holds the whole tensor;
    * `#tp.sharding<split 1>`: dimension 1 is cut into `tp-size` contiguous,
      equal slices; rank `r` holds slice `r`;
    * `#tp.sharding<split 1 segments [768, 768, 768]>`: dimension 1 is made
      of consecutive segments (here three of 768, as in a fused QKV
      projection) and each segment is cut into `tp-size` equal slices; rank
      `r` holds slice `r` of every segment, in segment order. The segments
      sum to the dimension's size and each is divisible by `tp-size`;
    * `#tp.sharding<split 1 segments [1024, 256, 256] replicated [1, 2]>`:
      as above, but every rank holds the listed segments whole (a fused
      grouped-query QKV projection with fewer KV heads than ranks: Q split,
      K and V replicated);
    * `#tp.sharding<split 1 granule 64>` (uneven=pad only): a padded split
      in whole units of 64 (a head of a `[.., heads * 64]` dimension that a
      reshape regroups): every rank holds `ceil(n / (tp-size * 64)) * 64`
      elements of dimension 1, the last ranks zero padding;
    * `#tp.sharding<partial sum>` (or `max`, `min`): every rank holds a tensor of
      the full shape and the value is the sum (maximum, minimum) over ranks.

    In a partitioned function these appear as the `tp.sharding` argument and
    result attributes; the runner slices full inputs and assembles full results
    from them.
  }];
  let parameters = (ins
    "::mlir::tp::ShardingKind":$kind,
    DefaultValuedParameter<"int64_t", "-1">:$dim,
    DefaultValuedParameter<"::mlir::tp::ReductionKind", "::mlir::tp::ReductionKind::sum">:$reduction,
    OptionalArrayRefParameter<"int64_t">:$segments,
    OptionalArrayRefParameter<"int64_t">:$replicatedSegments,
    DefaultValuedParameter<"int64_t", "1">:$granule
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins), [{ return $_get($_ctxt, ::mlir::tp::ShardingKind::replicated, -1,
                                        ::mlir::tp::ReductionKind::sum,
                                        ::llvm::ArrayRef<int64_t>(),
                                        ::llvm::ArrayRef<int64_t>(), 1); }]>
  ];
  let extraClassDeclaration = [{
    static ShardingAttr getReplicated(::mlir::MLIRContext *ctx);
    static ShardingAttr getSplit(::mlir::MLIRContext *ctx, int64_t dim);
    /// A split of `dim` made of `segments` (see above); a plain split when
    /// `segments` has fewer than two entries.
    static ShardingAttr getSegmented(::mlir::MLIRContext *ctx, int64_t dim,
                                     ::llvm::ArrayRef<int64_t> segments,
                                     ::llvm::ArrayRef<int64_t> replicated = {});
    static ShardingAttr getPartial(::mlir::MLIRContext *ctx, ::mlir::tp::ReductionKind kind);
    bool isReplicated() const { return getKind() == ::mlir::tp::ShardingKind::replicated; }
    bool isSplit() const { return getKind() == ::mlir::tp::ShardingKind::split; }
    bool isPartial() const { return getKind() == ::mlir::tp::ShardingKind::partial; }
    /// A split made of several segments (every rank holds a slice of each).
    bool isSegmented() const { return !getSegments().empty(); }
    /// A padded split of `dim` in whole units of `granule` elements; a plain
    /// split when `granule` is 1.
    static ShardingAttr getGranular(::mlir::MLIRContext *ctx, int64_t dim,
                                    int64_t granule);
    /// True if segment `i` is held whole by every rank.
    bool isSegmentReplicated(int64_t i) const {
      return ::llvm::is_contained(getReplicatedSegments(), i);
    }
    /// What one rank holds of segment `i`.
    int64_t getLocalSegmentSize(int64_t i, int64_t tpSize) const {
      return isSegmentReplicated(i) ? getSegments()[i]
                                    : getSegments()[i] / tpSize;
    }
  }];
}

#endif // TP_DIALECT_TP_IR_TPATTRS_TD
