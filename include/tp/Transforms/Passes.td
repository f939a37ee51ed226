//===- Passes.td - passes on upstream dialects ------------*- tablegen -*-===//
//
// Part of tp-mlir.
//
// Passes that need no tp dialect: rewrites of linalg, tensor and memref IR
// that tp's pipelines (and tp-plan) run around the tp-specific stages.
//
//===----------------------------------------------------------------------===//

#ifndef TP_TRANSFORMS_PASSES_TD
#define TP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TPPropagateReshapes : Pass<"tp-propagate-reshapes", "::mlir::func::FuncOp"> {
  let summary = "Fold reshapes into batched contractions (heads become loops)";
  let description = [{
    Generalizes named batched contractions (batch_matmul and friends) that
    consume a `tensor.collapse_shape` or feed a `tensor.expand_shape`, then
    applies upstream's fusion of reshapes by expansion to the reshapes around
    batched contractions only. Attention written as `collapse [B, H, S, D] -> [B*H, S, D]`,
    `batch_matmul`, `expand` becomes a contraction over (b, h, s, t, d), so
    the head dimension can be split whatever the batch size. tp-plan runs it
    first by default.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect"];
}

def TPDecomposeAggregates : Pass<"tp-decompose-aggregates", "::mlir::func::FuncOp"> {
  let summary = "Decompose aggregate linalg ops (linalg.softmax) into generics";
  let description = [{
    `linalg.softmax` (and any other op with upstream's
    `AggregatedOpInterface`) is not a structured op: no loop lowering and no
    GPU mapping knows it. After partitioning (which keeps it whole, so its
    sharding rule applies), the CPU and GPU pipelines run this pass on
    tensors to replace it with its decomposition: a max reduction, an
    exponential of the difference, a sum reduction and a division, each a
    `linalg.generic` (or `linalg.fill`). An op whose decomposition fails is
    an error at that op.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TPWidenAccumulators : Pass<"tp-widen-accumulators", "::mlir::func::FuncOp"> {
  let summary = "Accumulate bf16 / f16 reductions in f32";
  let description = [{
    A linalg op on tensors with a reduction loop whose result is bf16 or f16
    (a matmul, a batched matmul, a contraction or reduction written as
    `linalg.generic`) accumulates, as written, in that narrow type: every
    partial sum is rounded, so the result depends on the order of the sum,
    and a sharded run (partial sums over ranks, then an all-reduce) differs
    from the unsharded one by far more than one rounding. cuBLASLt and
    PyTorch accumulate such reductions in f32.

    This pass rewrites each such op into a `linalg.generic` whose
    accumulator is f32: the init is extended to f32, the body computes in
    f32 (its bf16 / f16 arith and math ops take f32 operands; extensions
    and truncations between the narrow type and f32 disappear), and one
    truncation back to the narrow type follows the op. An op whose body
    holds anything but arith and math ops, `linalg.index` and the yield is
    left alone. The CPU and GPU pipelines run it (the GPU pipeline after
    `tp-form-gemms`, so cuBLASLt GEMMs are not affected).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TPLowerStridedCopies : Pass<"tp-lower-strided-copies", "::mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between non-contiguous buffers into linalg.copy";
  let description = [{
    `finalize-memref-to-llvm` lowers a `memref.copy` between contiguous
    buffers to a `memcpy`, but one involving a strided view (a slice) to a
    call of `memrefCopy` from MLIR's C runner library, which a compiled model
    must not need at run time. This pass rewrites those copies into
    `linalg.copy`, which becomes loops. Contiguous copies are left alone.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // TP_TRANSFORMS_PASSES_TD
