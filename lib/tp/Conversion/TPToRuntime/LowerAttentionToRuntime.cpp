//===- LowerAttentionToRuntime.cpp - tp-gpu-lower-attention-to-runtime ----===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "tp/Conversion/Passes.h"
#include "tp/Dialect/TP/IR/TPOps.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPULOWERATTENTIONTORUNTIME
#include "tp/Conversion/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// Static strides of a rank-2/3 buffer, as (batch, row, column); a rank-2
/// buffer has batch stride 0.
std::optional<std::array<int64_t, 3>> getStrides(Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return std::nullopt;
  if (strides.size() == 2)
    return std::array<int64_t, 3>{0, strides[0], strides[1]};
  return std::array<int64_t, 3>{strides[0], strides[1], strides[2]};
}

struct TPGPULowerAttentionToRuntimePass
    : public tp::impl::TPGPULowerAttentionToRuntimeBase<
          TPGPULowerAttentionToRuntimePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<AttentionOp> ops;
    bool failed = false;
    getOperation().walk([&](AttentionOp op) {
      if (op.getResult()) {
        op.emitOpError("must be bufferized before "
                       "tp-gpu-lower-attention-to-runtime");
        failed = true;
      }
      ops.push_back(op);
    });
    if (failed)
      return signalPassFailure();
    for (AttentionOp op : ops)
      lower(op);
  }

  void lower(AttentionOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    SmallVector<Value> temps;
    auto i32 = [&](int64_t v) -> Value {
      return arith::ConstantIntOp::create(b, loc, v, 32);
    };
    auto i64 = [&](int64_t v) -> Value {
      return arith::ConstantIntOp::create(b, loc, v, 64);
    };
    // (pointer, strides), copying a buffer with dynamic strides.
    auto operand =
        [&](Value buffer, bool copyIn,
            Value *temp) -> std::pair<Value, std::array<int64_t, 3>> {
      std::optional<std::array<int64_t, 3>> strides = getStrides(buffer);
      if (!strides) {
        Value contiguous = allocContiguous(b, loc, buffer);
        if (copyIn)
          memref::CopyOp::create(b, loc, buffer, contiguous);
        buffer = contiguous;
        temps.push_back(buffer);
        if (temp)
          *temp = buffer;
        strides = getStrides(buffer);
      }
      return {getBufferAddress(b, loc, buffer), *strides};
    };
    auto [q, qs] = operand(op.getQuery(), true, nullptr);
    auto [k, ks] = operand(op.getKey(), true, nullptr);
    // K^T [N, D, Skv] read as K [N, Skv, D]: swap the last two strides.
    if (op.getKeyTransposed())
      std::swap(ks[1], ks[2]);
    auto [v, vs] = operand(op.getValue(), true, nullptr);
    Value mask = LLVM::ZeroOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext()));
    std::array<int64_t, 3> ms{0, 0, 0};
    if (op.getMask())
      std::tie(mask, ms) = operand(op.getMask(), true, nullptr);
    Value outTemp;
    auto [o, os] = operand(op.getInit(), false, &outTemp);

    auto qType = cast<MemRefType>(op.getQuery().getType());
    auto vType = cast<MemRefType>(op.getValue().getType());
    int64_t n = qType.getDimSize(0), sq = qType.getDimSize(1),
            d = qType.getDimSize(2), skv = vType.getDimSize(1),
            dv = vType.getDimSize(2);
    std::optional<int32_t> dtype = getRuntimeDType(qType.getElementType());
    assert(dtype && "the tp.attention verifier admits f32, f16 and bf16 only");
    SmallVector<Value> args{i32(*dtype), i64(n), i64(sq),
                            i64(skv),    i64(d), i64(dv)};
    for (auto [ptr, strides] :
         {std::pair(q, qs), std::pair(k, ks), std::pair(v, vs),
          std::pair(mask, ms), std::pair(o, os)}) {
      args.push_back(ptr);
      for (int64_t s : strides)
        args.push_back(i64(s));
    }
    args.push_back(
        arith::ConstantFloatOp::create(b, loc, b.getF32Type(), op.getScale()));
    args.push_back(i32(op.getCausal() ? 1 : 0));

    Value status =
        callRuntime(b, loc, op, "tp_rt_attention", {b.getI32Type()}, args)
            .getResult(0);
    Value handled =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, status, i32(0));
    if (outTemp)
      memref::CopyOp::create(b, loc, outTemp, op.getInit());
    for (Value temp : temps)
      memref::DeallocOp::create(b, loc, temp);
    op.getHandled().replaceAllUsesWith(handled);
    op.erase();
  }
};

} // namespace
