//===- LowerGemmToRuntime.cpp - the tp-lower-gemm-to-runtime pass ---------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Conversion/Passes.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

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

/// A contiguous buffer of `buffer`'s shape (filled with its contents when
/// `copyIn`).
Value allocContiguous(OpBuilder &b, Location loc, Value buffer, bool copyIn) {
  auto type = cast<MemRefType>(buffer.getType());
  auto contiguous = MemRefType::get(type.getShape(), type.getElementType());
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(memref::DimOp::create(b, loc, buffer, i));
  Value temp = memref::AllocOp::create(b, loc, contiguous, sizes);
  if (copyIn)
    memref::CopyOp::create(b, loc, buffer, temp);
  return temp;
}

/// The address of the first element of `buffer`.
Value getPointer(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  Value aligned = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  Value bytes = arith::ConstantIndexOp::create(
      b, loc, std::max<int64_t>(1, type.getElementTypeBitWidth() / 8));
  Value offset = arith::MulIOp::create(b, loc, metadata.getOffset(), bytes);
  Value address = arith::AddIOp::create(b, loc, aligned, offset);
  Value asInt =
      arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), asInt);
}

int32_t getDTypeCode(Type type) {
  if (type.isF32())
    return 0;
  if (type.isF16())
    return 2;
  assert(type.isBF16() && "tp.gemm verifier admits f32, f16, bf16");
  return 3;
}

struct LowerGemm : public OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GemmOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getResult())
      return rewriter.notifyMatchFailure(op, "not bufferized");
    Location loc = op.getLoc();
    SmallVector<Value> temps;

    auto getMatrix = [&](Value buffer, bool transposed) {
      if (std::optional<MatrixArg> arg = getInPlaceLayout(buffer, transposed))
        return *arg;
      Value temp = allocContiguous(rewriter, loc, buffer, /*copyIn=*/true);
      temps.push_back(temp);
      return *getInPlaceLayout(temp, transposed);
    };
    MatrixArg a = getMatrix(op.getA(), op.getTransA());
    MatrixArg b = getMatrix(op.getB(), op.getTransB());

    // C is written row-major in place, or through a temporary.
    Value c = op.getInit();
    std::optional<MatrixArg> cArg = getInPlaceLayout(c, false);
    Value cTemp;
    if (!cArg || cArg->transposed) {
      cTemp = allocContiguous(rewriter, loc, c, !op.getBeta().isZero());
      temps.push_back(cTemp);
      cArg = getInPlaceLayout(cTemp, false);
    }

    Value bias = op.getBias();
    if (bias) {
      auto type = cast<MemRefType>(bias.getType());
      std::optional<SmallVector<int64_t>> strides = getStaticStrides(type);
      if (!strides || ((*strides)[0] != 1 && type.getDimSize(0) != 1)) {
        bias = allocContiguous(rewriter, loc, bias, /*copyIn=*/true);
        temps.push_back(bias);
      }
    }

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
    auto ptrType = LLVM::LLVMPointerType::get(getContext());
    Value biasPtr = bias ? getPointer(rewriter, loc, bias)
                         : LLVM::ZeroOp::create(rewriter, loc, ptrType)
                               .getResult();
    SmallVector<Value> operands{
        i32(getDTypeCode(cType.getElementType())),
        i32(a.transposed),
        i32(b.transposed),
        i64(batch),
        i64(m),
        i64(n),
        i64(k),
        getPointer(rewriter, loc, a.buffer),
        i64(a.ld),
        i64(a.batchStride),
        getPointer(rewriter, loc, b.buffer),
        i64(b.ld),
        i64(b.batchStride),
        getPointer(rewriter, loc, cTemp ? cTemp : c),
        i64(cArg->ld),
        i64(cArg->batchStride),
        biasPtr,
        i32(static_cast<int32_t>(op.getEpilogue())),
        arith::ConstantFloatOp::create(rewriter, loc, rewriter.getF32Type(),
                                       op.getBeta())};

    auto module = op->getParentOfType<ModuleOp>();
    auto decl = module.lookupSymbol<func::FuncOp>("tp_rt_gemm");
    if (!decl) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(module.getBody());
      decl = func::FuncOp::create(
          rewriter, loc, "tp_rt_gemm",
          rewriter.getFunctionType(ValueRange(operands).getTypes(), {}));
      decl.setPrivate();
    }
    func::CallOp::create(rewriter, loc, decl, operands);
    if (cTemp)
      memref::CopyOp::create(rewriter, loc, cTemp, c);
    for (Value temp : temps)
      memref::DeallocOp::create(rewriter, loc, temp);
    rewriter.eraseOp(op);
    return success();
  }
};

struct TPLowerGemmToRuntimePass
    : public tp::impl::TPLowerGemmToRuntimeBase<TPLowerGemmToRuntimePass> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet set(ctx);
    set.add<LowerGemm>(ctx);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

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
    if (mlir::failed(applyPatternsGreedily(getOperation(), patterns, config)))
      return signalPassFailure();
  }

  FrozenRewritePatternSet patterns;
};

} // namespace
