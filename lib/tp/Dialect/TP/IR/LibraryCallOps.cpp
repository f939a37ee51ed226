//===- LibraryCallOps.cpp - what tp.gemm and tp.attention share -----------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "LibraryCallOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::tp;

LogicalResult mlir::tp::verifyLibraryCallOperands(Operation *op,
                                                  ArrayRef<ShapedType> operands,
                                                  ShapedType init, Value result,
                                                  ShapeRequirement shapes,
                                                  StringRef onMemrefs) {
  bool tensors = isa<RankedTensorType>(init);
  for (ShapedType t : operands) {
    if (shapes == ShapeRequirement::Ranked && !t.hasRank())
      return op->emitOpError("needs ranked operands");
    if (shapes == ShapeRequirement::Static && !t.hasStaticShape())
      return op->emitOpError("needs static shapes");
    if (isa<RankedTensorType>(t) != tensors)
      return op->emitOpError("operands must be all tensors or all memrefs");
  }
  if (tensors != (result != nullptr))
    return op->emitOpError(tensors ? "on tensors must return the updated init"
                                   : onMemrefs);
  if (tensors && result.getType() != init)
    return op->emitOpError("result type must be the type of init");
  Type elementType = init.getElementType();
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16())
    return op->emitOpError("element type ")
           << elementType << " is not supported (f32, f16 or bf16)";
  for (ShapedType t : operands)
    if (t.getElementType() != elementType)
      return op->emitOpError("operands must have one element type");
  return success();
}

FailureOr<SmallVector<Value>>
mlir::tp::getBuffers(RewriterBase &rewriter, ArrayRef<Value> values,
                     const BufferizationOptions &options,
                     BufferizationState &state) {
  SmallVector<Value> buffers;
  for (Value value : values) {
    if (!value) {
      buffers.push_back(Value());
      continue;
    }
    FailureOr<Value> buffer = getBuffer(rewriter, value, options, state);
    if (failed(buffer))
      return failure();
    buffers.push_back(*buffer);
  }
  return buffers;
}

AliasingValueList mlir::tp::getInitAliasing(OpOperand &operand, OpOperand &init,
                                            Value result) {
  if (&operand == &init && result)
    return {{result, BufferRelation::Equivalent}};
  return {};
}
