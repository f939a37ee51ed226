//===- EpilogueMatcher.h - which GEMM epilogue a scalar body is -*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_DIALECT_TP_TRANSFORMS_EPILOGUEMATCHER_H
#define TP_LIB_DIALECT_TP_TRANSFORMS_EPILOGUEMATCHER_H

#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/IR/Block.h"

#include <optional>

namespace mlir {
namespace tp {

/// The GEMM epilogue that the scalar function computed by `body` (a linalg
/// region: block arguments, arith/math ops, one yielded value) is, as a
/// function of block argument `x` (the GEMM's value) and, if given, `bias`:
/// act(x + bias) or act(x) with act one of identity (only with a bias), the
/// tanh approximation of GELU, and ReLU. The body is evaluated on sample
/// points in double precision (constants defined outside the body count);
/// any other block argument used, or an op the evaluator does not know, gives
/// nullopt. Extensions and truncations between float types are ignored, so
/// a bf16 body that rounds its intermediates matches the f32 epilogue
/// cuBLASLt applies; GELU's constants are compared as the body's element
/// type holds them (a bf16 body's sqrt(2/pi) is 0.796875).
std::optional<GemmEpilogue> matchEpilogueBody(Block &body, Value x,
                                              Value bias);

} // namespace tp
} // namespace mlir

#endif // TP_LIB_DIALECT_TP_TRANSFORMS_EPILOGUEMATCHER_H
