//===- TPOps.td - tp dialect operations --------------------*- tablegen -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_IR_TPOPS_TD
#define TP_DIALECT_TP_IR_TPOPS_TD

include "tp/Dialect/TP/IR/TPDialect.td"
include "tp/Dialect/TP/IR/TPAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"

class TP_Op<string mnemonic, list<Trait> traits = []>
    : Op<TP_Dialect, mnemonic, traits>;

def TP_GroupSizeAttr : ConfinedAttr<I64Attr, [IntPositive]>;

//===----------------------------------------------------------------------===//
// Collectives on tensors
//===----------------------------------------------------------------------===//

def TP_AllReduceOp : TP_Op<"all_reduce", [Pure, SameOperandsAndResultType]> {
  let summary = "Reduce a tensor elementwise over the group; every rank gets the result";
  let description = [{
    Every rank contributes a tensor of the same shape; every rank receives the
    elementwise reduction (`sum`, `max` or `min`) of all contributions. This is
    how a partial value (for instance the output of a row-parallel matmul)
    becomes replicated.

    ```
    before (group of 2)        after
    rank 0: [1 2]              rank 0: [4 6]
    rank 1: [3 4]              rank 1: [4 6]
    ```

    Example:

    ```mlir
    %y = tp.all_reduce sum %partial over 4 : tensor<64x768xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, TP_ReductionKind:$kind,
                       TP_GroupSizeAttr:$group_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$kind $input `over` $group_size attr-dict `:` type($input)";
  let hasFolder = 1;
}

def TP_AllGatherOp : TP_Op<"all_gather", [Pure]> {
  let summary = "Concatenate every rank's slice along a dimension";
  let description = [{
    Rank `r` contributes slice `r`; every rank receives the concatenation of all
    slices along `dim`. The result's `dim` is `group_size` times the operand's;
    the other dimensions are equal.

    ```
    before (group of 2, dim 1)   after
    rank 0: [a b]                rank 0: [a b c d]
    rank 1: [c d]                rank 1: [a b c d]
    ```

    Example:

    ```mlir
    %full = tp.all_gather %slice dim 1 over 4 : tensor<64x192xf32> -> tensor<64x768xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$dim, TP_GroupSizeAttr:$group_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `dim` $dim `over` $group_size attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def TP_ReduceScatterOp : TP_Op<"reduce_scatter", [Pure]> {
  let summary = "Reduce over the group and leave each rank one slice of the result";
  let description = [{
    Every rank contributes a tensor of the full shape; the elementwise reduction
    is cut into `group_size` contiguous slices along `dim` and rank `r` receives
    slice `r`. Equivalent to `all_reduce` followed by `all_slice`, with half the
    traffic. The operand's `dim` must be divisible by `group_size`.

    ```
    before (group of 2, dim 1, sum)   after
    rank 0: [1 2 3 4]                 rank 0: [6 8]
    rank 1: [5 6 7 8]                 rank 1: [10 12]
    ```

    Example:

    ```mlir
    %s = tp.reduce_scatter sum %partial dim 0 over 4 : tensor<64x768xf32> -> tensor<16x768xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, TP_ReductionKind:$kind, I64Attr:$dim,
                       TP_GroupSizeAttr:$group_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $kind $input `dim` $dim `over` $group_size attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def TP_AllSliceOp : TP_Op<"all_slice", [Pure]> {
  let summary = "Keep this rank's slice of a replicated tensor (no communication)";
  let description = [{
    Every rank holds the same tensor; rank `r` keeps slice `r` of `group_size`
    contiguous slices along `dim`. No data moves between ranks. The operand's
    `dim` must be divisible by `group_size`.

    ```
    before (group of 2, dim 1)   after
    rank 0: [a b c d]            rank 0: [a b]
    rank 1: [a b c d]            rank 1: [c d]
    ```

    Example:

    ```mlir
    %s = tp.all_slice %x dim 1 over 4 : tensor<64x768xf32> -> tensor<64x192xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$dim, TP_GroupSizeAttr:$group_size);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `dim` $dim `over` $group_size attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def TP_RankOp : TP_Op<"rank", [Pure]> {
  let summary = "This process's rank in the tensor-parallel group";
  let description = [{
    Returns the rank (0 to group size - 1) of the executing process. Used by
    partitioned programs to find their slice (for example to offset
    `linalg.index` in a generic whose iteration space is split).

    ```mlir
    %r = tp.rank : index
    ```
  }];
  let results = (outs Index:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Local GEMM (the GPU target's cuBLASLt call)
//===----------------------------------------------------------------------===//

def TP_GemmEpilogue : I32EnumAttr<"GemmEpilogue", "what tp.gemm applies to the product", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"bias", 1>,
    I32EnumAttrCase<"gelu", 2>,
    I32EnumAttrCase<"bias_gelu", 3>,
    I32EnumAttrCase<"relu", 4>,
    I32EnumAttrCase<"bias_relu", 5>
  ]> {
  let cppNamespace = "::mlir::tp";
}

def TP_GemmOp : TP_Op<"gemm", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "bufferize"]>]> {
  let summary = "A row-major (batched) matrix product with an optional bias and activation";
  let description = [{
    One local GEMM of the GPU target, in the form of the runtime's
    `tp_rt_gemm` (cuBLASLt): for every batch `b`,

    ```
    C_b := beta * C_b + act(op(A_b) @ op(B_b) [+ bias])
    ```

    where `op(X)` is `X`, or its transpose (of the last two dimensions) with
    `trans_a` / `trans_b`; `op(A)` is `m x k`, `op(B)` is `k x n`, `C` is
    `m x n`. `A` and `B` are rank 2 or 3 (`[batch, rows, cols]`); `C` is rank 3
    when either is, and a rank-2 operand of a batched product is shared by
    every batch. `bias` (rank 1, `n` elements) is broadcast over the rows of
    `C` and is present exactly when the epilogue names it; the activation is
    the tanh approximation of GELU or ReLU. All operands have one element
    type, f32, f16 or bf16; products accumulate in f32. `init` is only read
    when `beta` is not 0.

    The op is destination-style: on tensors it returns the updated `init`, on
    memrefs it writes `init` in place (any strides whose innermost stride is 1,
    or a transposed layout, are passed to the runtime as they are).
    `tp-form-gemms` creates it from linalg contractions (GPU pipeline) and
    `tp-lower-gemm-to-runtime` turns the memref form into a `tp_rt_gemm`
    call.

    Example (GPT-2's first MLP layer with its bias and GELU, the weight used
    as stored, `[out, in]`):

    ```mlir
    %y = tp.gemm ins(%x, %w : tensor<64x768xf32>, tensor<3072x768xf32>)
                 bias(%b : tensor<3072xf32>) outs(%empty : tensor<64x3072xf32>)
                 trans_b epilogue(bias_gelu) beta(0.0) -> tensor<64x3072xf32>
    ```
  }];
  let arguments = (ins AnyShaped:$a, AnyShaped:$b, Optional<AnyShaped>:$bias,
                       AnyShaped:$init, UnitAttr:$trans_a, UnitAttr:$trans_b,
                       TP_GemmEpilogue:$epilogue, F32Attr:$beta);
  let results = (outs Optional<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    `ins` `(` $a `,` $b `:` type($a) `,` type($b) `)`
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    `outs` `(` $init `:` type($init) `)`
    (`trans_a` $trans_a^)? (`trans_b` $trans_b^)?
    `epilogue` `(` $epilogue `)` `beta` `(` $beta `)`
    attr-dict (`->` type($result)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// True if the epilogue adds a bias.
    bool hasBiasEpilogue() {
      auto e = getEpilogue();
      return e == GemmEpilogue::bias || e == GemmEpilogue::bias_gelu ||
             e == GemmEpilogue::bias_relu;
    }
  }];
}

def TP_AttentionOp : TP_Op<"attention", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "bufferize"]>]> {
  let summary = "Fused scaled dot-product attention that may decline to run";
  let description = [{
    One attention of the GPU target, in the form of the runtime's
    `tp_rt_attention` (cuDNN's fused SDPA): for every batch `n`,

    ```
    O_n := softmax(scale * Q_n K_n^T [+ mask_n] [causal]) V_n
    ```

    with the softmax over the keys. `query` is `[N, Sq, D]`, `key`
    `[N, Skv, D]` (or `[N, D, Skv]`, its transpose, with `key_transposed`),
    `value` `[N, Skv, Dv]`, the result `[N, Sq, Dv]`. The optional additive
    `mask` is `[N, Sq, Skv]` or `[Sq, Skv]` (shared by every batch), added
    after the scale; `causal` sets the scores of keys after the query's
    position (column > row) to minus infinity. All operands have one element
    type, f32, f16 or bf16.

    The op may not run: `handled` is false when the runtime declined (no
    cuDNN, an unsupported shape or type on this GPU, any cuDNN failure) and
    `init` / the result is then unspecified. `tp-gpu-form-attention` always
    puts the generated computation it replaced under an `scf.if` on
    `handled` being false. On tensors the op returns `handled` and the
    updated `init`; on memrefs it writes `init` in place and returns only
    `handled`.

    ```mlir
    %ok, %o = tp.attention ins(%q, %k, %v : tensor<24x16x8xbf16>,
                  tensor<24x16x8xbf16>, tensor<24x16x8xbf16>)
                outs(%empty : tensor<24x16x8xbf16>) scale(0.353553385) causal
                -> i1, tensor<24x16x8xbf16>
    ```
  }];
  let arguments = (ins AnyShaped:$query, AnyShaped:$key, AnyShaped:$value,
                       Optional<AnyShaped>:$mask, AnyShaped:$init,
                       F32Attr:$scale, UnitAttr:$causal,
                       UnitAttr:$key_transposed);
  let results = (outs I1:$handled, Optional<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,`
        type($value) `)`
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    `outs` `(` $init `:` type($init) `)`
    `scale` `(` $scale `)` (`causal` $causal^)?
    (`key_transposed` $key_transposed^)?
    attr-dict `->` type($handled) (`,` type($result)^)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Collectives on buffers (the result of bufferizing the tensor collectives)
//===----------------------------------------------------------------------===//

class TP_BufferCollective<string mnemonic> : TP_Op<"buffer." # mnemonic, []>;

def TP_BufferAllReduceOp : TP_BufferCollective<"all_reduce"> {
  let summary = "all_reduce from one buffer into another";
  let description = [{
    The bufferized form of `tp.all_reduce`: reads `input`, writes the reduction
    over the group into `output` (same shape). `input` and `output` may be the
    same buffer.

    ```mlir
    tp.buffer.all_reduce sum %in, %out over 4 : memref<64x768xf32>, memref<64x768xf32>
    ```
  }];
  let arguments = (ins Arg<AnyRankedOrUnrankedMemRef, "", [MemRead]>:$input,
                       Arg<AnyRankedOrUnrankedMemRef, "", [MemWrite]>:$output,
                       TP_ReductionKind:$kind, TP_GroupSizeAttr:$group_size);
  let assemblyFormat = [{
    $kind $input `,` $output `over` $group_size attr-dict `:` type($input) `,` type($output)
  }];
  let hasVerifier = 1;
}

def TP_BufferAllGatherOp : TP_BufferCollective<"all_gather"> {
  let summary = "all_gather from one buffer into another";
  let description = [{
    The bufferized form of `tp.all_gather`.

    ```mlir
    tp.buffer.all_gather %in, %out dim 1 over 4 : memref<64x192xf32>, memref<64x768xf32>
    ```
  }];
  let arguments = (ins Arg<AnyRankedOrUnrankedMemRef, "", [MemRead]>:$input,
                       Arg<AnyRankedOrUnrankedMemRef, "", [MemWrite]>:$output,
                       I64Attr:$dim, TP_GroupSizeAttr:$group_size);
  let assemblyFormat = [{
    $input `,` $output `dim` $dim `over` $group_size attr-dict `:` type($input) `,` type($output)
  }];
  let hasVerifier = 1;
}

def TP_BufferReduceScatterOp : TP_BufferCollective<"reduce_scatter"> {
  let summary = "reduce_scatter from one buffer into another";
  let description = [{
    The bufferized form of `tp.reduce_scatter`.

    ```mlir
    tp.buffer.reduce_scatter sum %in, %out dim 0 over 4 : memref<64x768xf32>, memref<16x768xf32>
    ```
  }];
  let arguments = (ins Arg<AnyRankedOrUnrankedMemRef, "", [MemRead]>:$input,
                       Arg<AnyRankedOrUnrankedMemRef, "", [MemWrite]>:$output,
                       TP_ReductionKind:$kind, I64Attr:$dim, TP_GroupSizeAttr:$group_size);
  let assemblyFormat = [{
    $kind $input `,` $output `dim` $dim `over` $group_size attr-dict `:` type($input) `,` type($output)
  }];
  let hasVerifier = 1;
}

#endif // TP_DIALECT_TP_IR_TPOPS_TD
