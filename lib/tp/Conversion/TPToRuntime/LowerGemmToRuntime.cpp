//===- LowerGemmToRuntime.cpp - the tp-lower-gemm-to-runtime pass ---------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "tp/Conversion/Passes.h"
#include "tp/Dialect/TP/IR/TPOps.h"
#include "tp/Transforms/PatternPass.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPLOWERGEMMTORUNTIME
#include "tp/Conversion/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// How a matrix operand is passed: the (possibly replaced) buffer, whether
/// the runtime reads it transposed, its leading dimension and batch stride.
struct MatrixArg {
  Value buffer;
  bool transposed = false;
  int64_t ld = 0;
  int64_t batchStride = 0;
};

/// Static strides of `type`, if any.
std::optional<SmallVector<int64_t>> getStaticStrides(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) ||
      llvm::any_of(strides, ShapedType::isDynamic) ||
      !type.hasStaticShape())
    return std::nullopt;
  return strides;
}

/// The layout of a rank-2/3 matrix whose element (.., i, j) is at
/// i * s0 + j * s1 (+ batch * sb): row-major with ld s0 if s1 == 1, the
/// transpose of a row-major matrix with ld s1 if s0 == 1.
std::optional<MatrixArg> getInPlaceLayout(Value buffer, bool transposed) {
  auto type = cast<MemRefType>(buffer.getType());
  std::optional<SmallVector<int64_t>> strides = getStaticStrides(type);
  if (!strides)
    return std::nullopt;
  int64_t rank = type.getRank();
  int64_t rows = type.getDimSize(rank - 2), cols = type.getDimSize(rank - 1);
  int64_t s0 = (*strides)[rank - 2], s1 = (*strides)[rank - 1];
  MatrixArg arg{buffer, transposed, 0, rank == 3 ? (*strides)[0] : 0};
  if (arg.batchStride < 0)
    return std::nullopt;
  // A dimension of size 1 may have any stride.
  if (cols == 1)
    s1 = 1;
  if (s1 == 1 && (rows == 1 || s0 >= cols)) {
    arg.ld = std::max(s0, cols);
    return arg;
  }
  if (rows == 1)
    s0 = 1;
  if (s0 == 1 && (cols == 1 || s1 >= rows)) {
    arg.transposed = !transposed;
    arg.ld = std::max(s1, rows);
    return arg;
  }
  return std::nullopt;
}

/// The buffers a tp.gemm passes to tp_rt_gemm: each matrix in place where
/// its layout allows, otherwise a contiguous temporary.
struct GemmBuffers {
  MatrixArg a, b, c;
  /// The temporary C is written to (copied back after the call), or null.
  Value cTemp;
  /// The bias (made contiguous where it was strided), or null.
  Value bias;
  /// Every temporary, freed after the call.
  SmallVector<Value> temps;
};

/// The operands of `op` as tp_rt_gemm takes them: A and B in place or
/// copied into contiguous temporaries, C written row-major in place or
/// through a temporary, the bias contiguous.
GemmBuffers prepareBuffers(PatternRewriter &rewriter, GemmOp op) {
  Location loc = op.getLoc();
  GemmBuffers buffers;
  // A contiguous temporary in place of `buffer`, holding its contents when
  // `copyIn`.
  auto makeTemp = [&](Value buffer, bool copyIn) {
    Value temp = allocContiguous(rewriter, loc, buffer);
    if (copyIn)
      memref::CopyOp::create(rewriter, loc, buffer, temp);
    buffers.temps.push_back(temp);
    return temp;
  };
  auto getMatrix = [&](Value buffer, bool transposed) {
    if (std::optional<MatrixArg> arg = getInPlaceLayout(buffer, transposed))
      return *arg;
    return *getInPlaceLayout(makeTemp(buffer, /*copyIn=*/true), transposed);
  };
  buffers.a = getMatrix(op.getA(), op.getTransA());
  buffers.b = getMatrix(op.getB(), op.getTransB());

  // C is written row-major in place, or through a temporary.
  Value c = op.getInit();
  std::optional<MatrixArg> cArg = getInPlaceLayout(c, false);
  if (!cArg || cArg->transposed) {
    buffers.cTemp = makeTemp(c, /*copyIn=*/!op.getBeta().isZero());
    cArg = getInPlaceLayout(buffers.cTemp, false);
  }
  buffers.c = *cArg;

  buffers.bias = op.getBias();
  if (Value bias = buffers.bias) {
    auto type = cast<MemRefType>(bias.getType());
    std::optional<SmallVector<int64_t>> strides = getStaticStrides(type);
    if (!strides || ((*strides)[0] != 1 && type.getDimSize(0) != 1))
      buffers.bias = makeTemp(bias, /*copyIn=*/true);
  }
  return buffers;
}

/// The arguments of the tp_rt_gemm call for `op`: element type code,
/// transposes, batch, m, n, k, each matrix's address, leading dimension and
/// batch stride, the bias address (null without one), epilogue and beta.
SmallVector<Value> buildCallOperands(PatternRewriter &rewriter, GemmOp op,
                                     const GemmBuffers &buffers) {
  Location loc = op.getLoc();
  Value c = op.getInit();
  auto cType = cast<MemRefType>(c.getType());
  int64_t rank = cType.getRank();
  int64_t m = cType.getDimSize(rank - 2), n = cType.getDimSize(rank - 1);
  auto aType = cast<MemRefType>(op.getA().getType());
  int64_t k = aType.getDimSize(op.getTransA() ? aType.getRank() - 2
                                              : aType.getRank() - 1);
  int64_t batch = rank == 3 ? cType.getDimSize(0) : 1;

  auto i32 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(rewriter, loc, v, 32);
  };
  auto i64 = [&](int64_t v) -> Value {
    return arith::ConstantIntOp::create(rewriter, loc, v, 64);
  };
  std::optional<int32_t> dtype = getRuntimeDType(cType.getElementType());
  assert(dtype && "the tp.gemm verifier admits f32, f16 and bf16 only");
  auto ptrType = LLVM::LLVMPointerType::get(rewriter.getContext());
  Value biasPtr =
      buffers.bias ? getBufferAddress(rewriter, loc, buffers.bias)
                   : LLVM::ZeroOp::create(rewriter, loc, ptrType).getResult();
  const MatrixArg &a = buffers.a, &b = buffers.b, &cArg = buffers.c;
  // Braced initialisation evaluates in order: the constants and address
  // computations are created in the order of the arguments.
  return SmallVector<Value>{
      i32(*dtype),
      i32(a.transposed),
      i32(b.transposed),
      i64(batch),
      i64(m),
      i64(n),
      i64(k),
      getBufferAddress(rewriter, loc, a.buffer),
      i64(a.ld),
      i64(a.batchStride),
      getBufferAddress(rewriter, loc, b.buffer),
      i64(b.ld),
      i64(b.batchStride),
      getBufferAddress(rewriter, loc, buffers.cTemp ? buffers.cTemp : c),
      i64(cArg.ld),
      i64(cArg.batchStride),
      biasPtr,
      i32(static_cast<int32_t>(op.getEpilogue())),
      arith::ConstantFloatOp::create(rewriter, loc, rewriter.getF32Type(),
                                     op.getBeta())};
}

struct LowerGemm : public OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GemmOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getResult())
      return rewriter.notifyMatchFailure(op, "not bufferized");
    Location loc = op.getLoc();
    GemmBuffers buffers = prepareBuffers(rewriter, op);
    SmallVector<Value> operands = buildCallOperands(rewriter, op, buffers);
    callRuntime(rewriter, loc, op, "tp_rt_gemm", {}, operands);
    if (buffers.cTemp)
      memref::CopyOp::create(rewriter, loc, buffers.cTemp, op.getInit());
    for (Value temp : buffers.temps)
      memref::DeallocOp::create(rewriter, loc, temp);
    rewriter.eraseOp(op);
    return success();
  }
};

struct TPLowerGemmToRuntimePass
    : public PatternPass<
          tp::impl::TPLowerGemmToRuntimeBase<TPLowerGemmToRuntimePass>,
          LowerGemm> {
  using PatternPass::PatternPass;

  void runOnOperation() override {
    bool failed = false;
    getOperation().walk([&](GemmOp op) {
      if (op.getResult()) {
        op.emitOpError("must be bufferized before tp-lower-gemm-to-runtime");
        failed = true;
        return;
      }
      for (Value v : op->getOperands())
        if (!cast<MemRefType>(v.getType()).hasStaticShape()) {
          op.emitOpError("needs static shapes to be lowered to tp_rt_gemm");
          failed = true;
          return;
        }
    });
    if (failed)
      return signalPassFailure();
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (mlir::failed(applyPatterns(config)))
      return signalPassFailure();
  }
};

} // namespace
