//===- TPToRuntime.cpp - tp collectives to tp runtime calls ---------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "tp/Conversion/Passes.h"
#include "tp/Dialect/TP/IR/TPOps.h"
#include "tp/Transforms/PatternPass.h"

#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPLOWERTORUNTIME
#include "tp/Conversion/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

int32_t getReductionCode(ReductionKind kind) {
  switch (kind) {
  case ReductionKind::sum:
    return 0;
  case ReductionKind::max:
    return 1;
  case ReductionKind::min:
    return 2;
  }
  llvm_unreachable("unknown reduction");
}

bool isContiguous(MemRefType type) {
  return type.getLayout().isIdentity() ||
         memref::isStaticShapeAndContiguousRowMajor(type);
}

/// Returns `buffer` itself when contiguous, else a contiguous copy of it
/// (`copyIn`) or an uninitialized contiguous buffer of its shape; `temps`
/// collects the buffers to free. The copy is a linalg.copy, lowered with the
/// rest of linalg.
Value makeContiguous(PatternRewriter &rewriter, Location loc, Value buffer,
                     bool copyIn, SmallVectorImpl<Value> &temps) {
  if (isContiguous(cast<MemRefType>(buffer.getType())))
    return buffer;
  Value temp = allocContiguous(rewriter, loc, buffer);
  if (copyIn)
    linalg::CopyOp::create(rewriter, loc, buffer, temp);
  temps.push_back(temp);
  return temp;
}

/// Product of the sizes of dims [begin, end) of `buffer`, as i64.
Value getNumElements(PatternRewriter &rewriter, Location loc, Value buffer,
                     int64_t begin, int64_t end) {
  auto type = cast<MemRefType>(buffer.getType());
  int64_t staticPart = 1;
  Value result;
  for (int64_t i = begin; i < end; ++i) {
    if (!type.isDynamicDim(i)) {
      staticPart *= type.getDimSize(i);
      continue;
    }
    Value dim = memref::DimOp::create(rewriter, loc, buffer, i);
    result = result ? arith::MulIOp::create(rewriter, loc, result, dim)
                    : dim;
  }
  Value c = arith::ConstantIndexOp::create(rewriter, loc, staticPart);
  result = result ? arith::MulIOp::create(rewriter, loc, result, c) : c;
  return arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                    result);
}

Value i32Constant(PatternRewriter &rewriter, Location loc, int32_t value) {
  return arith::ConstantIntOp::create(rewriter, loc, value, 32);
}

/// Shared lowering of the three buffer collectives. `dim` is the gather or
/// scatter dimension (-1 for all_reduce), `reduction` is set for reducing
/// collectives.
LogicalResult lowerCollective(PatternRewriter &rewriter, Operation *op,
                              Value input, Value output, int64_t dim,
                              std::optional<ReductionKind> reduction,
                              StringRef callee) {
  Location loc = op->getLoc();
  auto inType = cast<MemRefType>(input.getType());
  std::optional<int32_t> dtype = getRuntimeDType(inType.getElementType());
  if (!dtype)
    return rewriter.notifyMatchFailure(op, "unsupported element type");

  SmallVector<Value> temps;
  Value src = makeContiguous(rewriter, loc, input, /*copyIn=*/true, temps);
  Value dst = makeContiguous(rewriter, loc, output, /*copyIn=*/false, temps);
  SmallVector<Value> operands{getBufferAddress(rewriter, loc, src),
                              getBufferAddress(rewriter, loc, dst)};
  if (dim < 0) {
    operands.push_back(
        getNumElements(rewriter, loc, src, 0, inType.getRank()));
  } else {
    // The slab layout: [outer][rank][chunk] on the big side.
    Value small = isa<BufferAllGatherOp>(op) ? src : dst;
    operands.push_back(getNumElements(rewriter, loc, small, 0, dim));
    operands.push_back(
        getNumElements(rewriter, loc, small, dim, inType.getRank()));
  }
  operands.push_back(i32Constant(rewriter, loc, *dtype));
  if (reduction)
    operands.push_back(
        i32Constant(rewriter, loc, getReductionCode(*reduction)));
  callRuntime(rewriter, loc, op, callee, {}, operands);
  if (dst != output)
    linalg::CopyOp::create(rewriter, loc, dst, output);
  for (Value temp : temps)
    memref::DeallocOp::create(rewriter, loc, temp);
  rewriter.eraseOp(op);
  return success();
}

struct LowerAllReduce : public OpRewritePattern<BufferAllReduceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BufferAllReduceOp op,
                                PatternRewriter &rewriter) const override {
    return lowerCollective(rewriter, op, op.getInput(), op.getOutput(), -1,
                           op.getKind(), "tp_rt_all_reduce");
  }
};

struct LowerAllGather : public OpRewritePattern<BufferAllGatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BufferAllGatherOp op,
                                PatternRewriter &rewriter) const override {
    return lowerCollective(rewriter, op, op.getInput(), op.getOutput(),
                           op.getDim(), std::nullopt, "tp_rt_all_gather");
  }
};

struct LowerReduceScatter : public OpRewritePattern<BufferReduceScatterOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BufferReduceScatterOp op,
                                PatternRewriter &rewriter) const override {
    return lowerCollective(rewriter, op, op.getInput(), op.getOutput(),
                           op.getDim(), op.getKind(), "tp_rt_reduce_scatter");
  }
};

struct LowerRank : public OpRewritePattern<RankOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RankOp op,
                                PatternRewriter &rewriter) const override {
    Value rank = callRuntime(rewriter, op.getLoc(), op, "tp_rt_rank",
                             {rewriter.getI32Type()}, {})
                     .getResult(0);
    rewriter.replaceOpWithNewOp<arith::IndexCastOp>(op, rewriter.getIndexType(),
                                                    rank);
    return success();
  }
};

struct TPLowerToRuntimePass
    : public PatternPass<tp::impl::TPLowerToRuntimeBase<TPLowerToRuntimePass>,
                         LowerAllReduce, LowerAllGather, LowerReduceScatter,
                         LowerRank> {
  using PatternPass::PatternPass;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool tensorsLeft = false;
    module.walk([&](Operation *op) {
      if (isa<AllReduceOp, AllGatherOp, ReduceScatterOp, AllSliceOp>(op)) {
        op->emitOpError("must be bufferized (and tp.all_slice lowered by "
                        "tp-lower-slices) before tp-lower-to-runtime");
        tensorsLeft = true;
      }
    });
    if (tensorsLeft)
      return signalPassFailure();
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatterns(config)))
      return signalPassFailure();
    WalkResult left = module.walk([](Operation *op) {
      if (isa<BufferAllReduceOp, BufferAllGatherOp, BufferReduceScatterOp>(
              op)) {
        op->emitOpError("has an element type the tp runtime does not "
                        "support (f32, f64, f16, bf16, i32, i64)");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
