//===- AttentionOp.cpp - tp.attention: verifier, effects, bufferization ---===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/IR/TPOps.h"

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
  bool tensors = isa<RankedTensorType>(o);
  for (ShapedType t : all) {
    if (!t.hasStaticShape())
      return emitOpError("needs static shapes");
    if (isa<RankedTensorType>(t) != tensors)
      return emitOpError("operands must be all tensors or all memrefs");
  }
  if (tensors != (getResult() != nullptr))
    return emitOpError(tensors ? "on tensors must return the updated init"
                               : "on memrefs returns only whether it ran");
  if (tensors && getResult().getType() != o)
    return emitOpError("result type must be the type of init");
  Type elementType = o.getElementType();
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16())
    return emitOpError("element type ")
           << elementType << " is not supported (f32, f16 or bf16)";
  for (ShapedType t : all)
    if (t.getElementType() != elementType)
      return emitOpError("operands must have one element type");
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
  if (&operand == &getInitMutable() && getResult())
    return {{getResult(), BufferRelation::Equivalent}};
  return {};
}

LogicalResult AttentionOp::bufferize(RewriterBase &rewriter,
                                     const BufferizationOptions &options,
                                     BufferizationState &state) {
  if (!getResult())
    return success();
  auto buffer = [&](Value v) -> FailureOr<Value> {
    return getBuffer(rewriter, v, options, state);
  };
  FailureOr<Value> q = buffer(getQuery()), k = buffer(getKey()),
                   v = buffer(getValue()), init = buffer(getInit());
  if (failed(q) || failed(k) || failed(v) || failed(init))
    return failure();
  Value mask;
  if (getMask()) {
    FailureOr<Value> maskBuffer = buffer(getMask());
    if (failed(maskBuffer))
      return failure();
    mask = *maskBuffer;
  }
  rewriter.setInsertionPoint(*this);
  auto memrefOp = AttentionOp::create(
      rewriter, getLoc(), rewriter.getI1Type(), /*result=*/Type(), *q, *k, *v,
      mask, *init, getScaleAttr(), getCausalAttr(), getKeyTransposedAttr());
  SmallVector<Value> replacements{memrefOp.getHandled(), *init};
  replaceOpWithBufferizedValues(rewriter, *this, replacements);
  return success();
}
