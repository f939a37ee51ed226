//===- LibraryCallOps.h - what tp.gemm and tp.attention share ---*- C++ -*-===//
//
// Part of tp-mlir.
//
// tp.gemm and tp.attention each stand for one library call (cuBLASLt, cuDNN)
// and take the same form: destination-style on tensors (the result is the
// updated init), in place on memrefs, every operand of one element type
// among f32, f16 and bf16. Their verifiers and bufferization share these
// steps.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_DIALECT_TP_IR_LIBRARYCALLOPS_H
#define TP_LIB_DIALECT_TP_IR_LIBRARYCALLOPS_H

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

namespace mlir {
namespace tp {

/// What every operand's shape must be.
enum class ShapeRequirement { Ranked, Static };

/// Verifies what the form asks of `operands` (`init` among them) and of the
/// tensor `result` (null when absent), in this order: each operand ranked
/// (or static), all tensors or all memrefs; a result exactly on tensors, of
/// init's type (`onMemrefs` says what the memref form returns instead); one
/// element type, f32, f16 or bf16. Emits the error on `op`.
LogicalResult verifyLibraryCallOperands(Operation *op,
                                        ArrayRef<ShapedType> operands,
                                        ShapedType init, Value result,
                                        ShapeRequirement shapes,
                                        StringRef onMemrefs);

/// The buffers of `values`, in order (each asked for in that order); a null
/// value (an absent optional operand) stays null.
FailureOr<SmallVector<Value>>
getBuffers(RewriterBase &rewriter, ArrayRef<Value> values,
           const bufferization::BufferizationOptions &options,
           bufferization::BufferizationState &state);

/// The aliasing of the form: `init` is equivalent to the tensor `result`
/// (when there is one); no other operand aliases anything.
bufferization::AliasingValueList getInitAliasing(OpOperand &operand,
                                                 OpOperand &init, Value result);

} // namespace tp
} // namespace mlir

#endif // TP_LIB_DIALECT_TP_IR_LIBRARYCALLOPS_H
