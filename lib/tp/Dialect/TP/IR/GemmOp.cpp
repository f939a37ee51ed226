//===- GemmOp.cpp - tp.gemm: verifier, effects, bufferization -------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/IR/TPOps.h"

#include "LibraryCallOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::tp;

namespace {

/// Sizes of a matrix operand as (rows, cols) of op(X), i.e. after the
/// optional transpose of its last two dimensions.
std::pair<int64_t, int64_t> getOpSizes(ShapedType type, bool transposed) {
  int64_t rank = type.getRank();
  int64_t rows = type.getDimSize(rank - 2), cols = type.getDimSize(rank - 1);
  return transposed ? std::make_pair(cols, rows) : std::make_pair(rows, cols);
}

/// Fails with a message naming `what` when two known sizes differ.
LogicalResult checkSize(GemmOp op, int64_t a, int64_t b, StringRef what) {
  if (ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b)
    return success();
  return op.emitOpError() << what << " differ (" << a << " vs " << b << ")";
}

} // namespace

LogicalResult GemmOp::verify() {
  auto aType = cast<ShapedType>(getA().getType());
  auto bType = cast<ShapedType>(getB().getType());
  auto cType = cast<ShapedType>(getInit().getType());
  SmallVector<ShapedType> all{aType, bType, cType};
  if (getBias())
    all.push_back(cast<ShapedType>(getBias().getType()));
  if (failed(verifyLibraryCallOperands(*this, all, cType, getResult(),
                                       ShapeRequirement::Ranked,
                                       "on memrefs has no result")))
    return failure();

  for (auto [name, t] : {std::make_pair("A", aType), std::make_pair("B", bType),
                         std::make_pair("C", cType)})
    if (t.getRank() != 2 && t.getRank() != 3)
      return emitOpError(name) << " must be rank 2 or 3, got rank "
                               << t.getRank();
  bool batched = aType.getRank() == 3 || bType.getRank() == 3;
  if ((cType.getRank() == 3) != batched)
    return emitOpError("C must be rank 3 exactly when A or B is");

  auto [m, kA] = getOpSizes(aType, getTransA());
  auto [kB, n] = getOpSizes(bType, getTransB());
  if (failed(checkSize(*this, kA, kB, "the contraction sizes of A and B")) ||
      failed(checkSize(*this, m, cType.getDimSize(cType.getRank() - 2),
                       "the rows of op(A) and C")) ||
      failed(checkSize(*this, n, cType.getDimSize(cType.getRank() - 1),
                       "the columns of op(B) and C")))
    return failure();
  if (batched) {
    int64_t batch = cType.getDimSize(0);
    if (aType.getRank() == 3 &&
        failed(checkSize(*this, aType.getDimSize(0), batch,
                         "the batch sizes of A and C")))
      return failure();
    if (bType.getRank() == 3 &&
        failed(checkSize(*this, bType.getDimSize(0), batch,
                         "the batch sizes of B and C")))
      return failure();
  }

  if (getBias()) {
    if (!hasBiasEpilogue())
      return emitOpError("has a bias but epilogue '")
             << stringifyGemmEpilogue(getEpilogue()) << "' does not add one";
    auto biasType = cast<ShapedType>(getBias().getType());
    if (biasType.getRank() != 1)
      return emitOpError("bias must be rank 1, got rank ")
             << biasType.getRank();
    if (failed(checkSize(*this, biasType.getDimSize(0), n,
                         "the bias size and the columns of C")))
      return failure();
  } else if (hasBiasEpilogue()) {
    return emitOpError("epilogue '")
           << stringifyGemmEpilogue(getEpilogue()) << "' needs a bias operand";
  }
  if (!getBeta().isFinite())
    return emitOpError("beta must be finite");
  return success();
}

void GemmOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  if (!isa<MemRefType>(getInit().getType()))
    return;
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (&operand == &getInitMutable()) {
      if (!getBeta().isZero())
        effects.emplace_back(MemoryEffects::Read::get(), &operand,
                             SideEffects::DefaultResource::get());
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
      continue;
    }
    effects.emplace_back(MemoryEffects::Read::get(), &operand,
                         SideEffects::DefaultResource::get());
  }
}

//===----------------------------------------------------------------------===//
// Bufferization: A, B and the bias are read; init is read (when beta != 0)
// and written in place, and the result is that buffer.
//===----------------------------------------------------------------------===//

bool GemmOp::bufferizesToMemoryRead(OpOperand &operand,
                                    const AnalysisState &) {
  if (&operand == &getInitMutable())
    return !getBeta().isZero();
  return true;
}

bool GemmOp::bufferizesToMemoryWrite(OpOperand &operand,
                                     const AnalysisState &) {
  return &operand == &getInitMutable();
}

AliasingValueList GemmOp::getAliasingValues(OpOperand &operand,
                                            const AnalysisState &) {
  return getInitAliasing(operand, getInitMutable(), getResult());
}

LogicalResult GemmOp::bufferize(RewriterBase &rewriter,
                                const BufferizationOptions &options,
                                BufferizationState &state) {
  if (!getResult())
    return success();
  FailureOr<SmallVector<Value>> buffers = getBuffers(
      rewriter, {getA(), getB(), getInit(), getBias()}, options, state);
  if (failed(buffers))
    return failure();
  Value a = (*buffers)[0], b = (*buffers)[1], init = (*buffers)[2],
        bias = (*buffers)[3];
  rewriter.setInsertionPoint(*this);
  GemmOp::create(rewriter, getLoc(), /*result=*/Type(), a, b, bias, init,
                 getTransA(), getTransB(), getEpilogue(), getBeta());
  replaceOpWithBufferizedValues(rewriter, *this, init);
  return success();
}
