//===- AttentionOp.cpp - tp.attention: verifier, effects, bufferization ---===//
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

LogicalResult AttentionOp::verify() {
  auto q = cast<ShapedType>(getQuery().getType());
  auto k = cast<ShapedType>(getKey().getType());
  auto v = cast<ShapedType>(getValue().getType());
  auto o = cast<ShapedType>(getInit().getType());
  SmallVector<ShapedType> all{q, k, v, o};
  if (getMask())
    all.push_back(cast<ShapedType>(getMask().getType()));
  if (failed(verifyLibraryCallOperands(
          *this, all, o, getResult(), ShapeRequirement::Static,
          "on memrefs returns only whether it ran")))
    return failure();
  for (ShapedType t : {q, k, v, o})
    if (t.getRank() != 3)
      return emitOpError("query, key, value and init must be rank 3");
  int64_t n = q.getDimSize(0), sq = q.getDimSize(1), d = q.getDimSize(2);
  int64_t skv = k.getDimSize(getKeyTransposed() ? 2 : 1);
  int64_t dk = k.getDimSize(getKeyTransposed() ? 1 : 2);
  if (k.getDimSize(0) != n || v.getDimSize(0) != n || o.getDimSize(0) != n)
    return emitOpError("query, key, value and init must have one batch size");
  if (dk != d)
    return emitOpError("query and key head sizes differ (")
           << d << " vs " << dk << ")";
  if (v.getDimSize(1) != skv)
    return emitOpError("key and value lengths differ (")
           << skv << " vs " << v.getDimSize(1) << ")";
  if (o.getDimSize(1) != sq || o.getDimSize(2) != v.getDimSize(2))
    return emitOpError("init must be [batch, query length, value head size]");
  if (getMask()) {
    auto m = cast<ShapedType>(getMask().getType());
    ArrayRef<int64_t> shape = m.getShape();
    bool full =
        m.getRank() == 3 && shape[0] == n && shape[1] == sq && shape[2] == skv;
    bool shared = m.getRank() == 2 && shape[0] == sq && shape[1] == skv;
    if (!full && !shared)
      return emitOpError("mask must be [batch, query length, key length] or "
                         "[query length, key length]");
  }
  if (!getScale().isFinite())
    return emitOpError("scale must be finite");
  return success();
}

void AttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // On memrefs the op reads its inputs and writes init; on tensors it is
  // still not pure: whether it runs depends on the machine.
  effects.emplace_back(MemoryEffects::Write::get(),
                       SideEffects::DefaultResource::get());
  if (!isa<MemRefType>(getInit().getType()))
    return;
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (&operand == &getInitMutable())
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

//===----------------------------------------------------------------------===//
// Bufferization: query, key, value and the mask are read; init is written
// in place and the tensor result is that buffer; `handled` stays an i1.
//===----------------------------------------------------------------------===//

bool AttentionOp::bufferizesToMemoryRead(OpOperand &operand,
                                         const AnalysisState &) {
  return &operand != &getInitMutable();
}

bool AttentionOp::bufferizesToMemoryWrite(OpOperand &operand,
                                          const AnalysisState &) {
  return &operand == &getInitMutable();
}

AliasingValueList AttentionOp::getAliasingValues(OpOperand &operand,
                                                 const AnalysisState &) {
  return getInitAliasing(operand, getInitMutable(), getResult());
}

LogicalResult AttentionOp::bufferize(RewriterBase &rewriter,
                                     const BufferizationOptions &options,
                                     BufferizationState &state) {
  if (!getResult())
    return success();
  FailureOr<SmallVector<Value>> buffers = getBuffers(
      rewriter, {getQuery(), getKey(), getValue(), getInit(), getMask()},
      options, state);
  if (failed(buffers))
    return failure();
  Value q = (*buffers)[0], k = (*buffers)[1], v = (*buffers)[2],
        init = (*buffers)[3], mask = (*buffers)[4];
  rewriter.setInsertionPoint(*this);
  auto memrefOp = AttentionOp::create(
      rewriter, getLoc(), rewriter.getI1Type(), /*result=*/Type(), q, k, v,
      mask, init, getScaleAttr(), getCausalAttr(), getKeyTransposedAttr());
  SmallVector<Value> replacements{memrefOp.getHandled(), init};
  replaceOpWithBufferizedValues(rewriter, *this, replacements);
  return success();
}
