//===- Passes.td - CPU target passes -----------------------*- tablegen -*-===//
//
// Part of tp-mlir.
//
// The CPU target's own passes (tp-cpu-pipeline): code generation for the
// host, on IR that no longer holds tp ops they would convert.
//
//===----------------------------------------------------------------------===//

#ifndef TP_TARGET_CPU_PASSES_TD
#define TP_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def TPCPUApproximateMath : Pass<"tp-cpu-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "f32 math functions as polynomial approximations (vectorizable loops)";
  let description = [{
    Runs on the CPU target after bf16 / f16 math was extended to f32. Rewrites
    `math.tanh`, `math.exp`, `math.expm1`, `math.log`, `math.log1p`,
    `math.log2` and `math.erf` on f32 (scalars and vectors) into upstream's
    polynomial approximations (`populateMathPolynomialApproximationPatterns`,
    errors of a few ulp): plain arith ops that LLVM's loop vectorizer handles,
    instead of one libm call per element.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def TPCPUReassociateReductions : Pass<"tp-cpu-reassociate-reductions", "::mlir::func::FuncOp"> {
  let summary = "Let LLVM vectorize float reductions (reassoc on their combining op)";
  let description = [{
    Runs on the CPU target before linalg becomes loops. In every linalg op
    with a reduction loop, the `arith.addf` / `arith.mulf` of the body that
    combines the output's block argument gets the `reassoc` fast-math flag,
    so that LLVM's loop vectorizer may sum in vector lanes (softmax and norm
    sums over the contiguous dimension); without it a float sum is a chain of
    dependent scalar adds. Sums then round differently from the sequential
    order, as sharded sums already do.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // TP_TARGET_CPU_PASSES_TD
