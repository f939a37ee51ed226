//===- TPDialect.cpp - tp dialect, attributes and op verifiers ------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tp;

#include "tp/Dialect/TP/IR/TPDialect.cpp.inc"
#include "tp/Dialect/TP/IR/TPEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "tp/Dialect/TP/IR/TPAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "tp/Dialect/TP/IR/TPOps.cpp.inc"

void TPDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "tp/Dialect/TP/IR/TPAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "tp/Dialect/TP/IR/TPOps.cpp.inc"
      >();

  MLIRContext *ctx = getContext();
  replicatedSharding =
      ShardingAttr::get(ctx, ShardingKind::replicated, -1, ReductionKind::sum,
                        {}, {}, 1);
  for (int64_t dim = 0; dim < 16; ++dim)
    splitShardings.push_back(
        ShardingAttr::get(ctx, ShardingKind::split, dim, ReductionKind::sum, {},
                          {}, 1));
  for (ReductionKind kind :
       {ReductionKind::sum, ReductionKind::max, ReductionKind::min})
    partialShardings[static_cast<int>(kind)] =
        ShardingAttr::get(ctx, ShardingKind::partial, -1, kind, {}, {}, 1);
}

//===----------------------------------------------------------------------===//
// ShardingAttr
//===----------------------------------------------------------------------===//

ShardingAttr TPDialect::getCachedSharding(ShardingKind kind, int64_t dim,
                                          ReductionKind reduction) {
  // Filled once in initialize(): reads only, so safe from any thread.
  switch (kind) {
  case ShardingKind::replicated:
    return replicatedSharding;
  case ShardingKind::split:
    if (dim >= 0 && dim < static_cast<int64_t>(splitShardings.size()))
      return splitShardings[dim];
    return ShardingAttr::get(getContext(), kind, dim, reduction, {}, {}, 1);
  case ShardingKind::partial:
    return partialShardings[static_cast<int>(reduction)];
  }
  llvm_unreachable("unknown sharding kind");
}

/// The dialect's cache when the dialect is loaded (it always is once tp
/// attributes exist); the uniquer otherwise.
static ShardingAttr getSharding(MLIRContext *ctx, ShardingKind kind,
                                int64_t dim, ReductionKind reduction) {
  if (auto *dialect = ctx->getLoadedDialect<TPDialect>())
    return dialect->getCachedSharding(kind, dim, reduction);
  return ShardingAttr::get(ctx, kind, dim, reduction, {}, {}, 1);
}

ShardingAttr ShardingAttr::getReplicated(MLIRContext *ctx) {
  return getSharding(ctx, ShardingKind::replicated, -1, ReductionKind::sum);
}

ShardingAttr ShardingAttr::getSplit(MLIRContext *ctx, int64_t dim) {
  return getSharding(ctx, ShardingKind::split, dim, ReductionKind::sum);
}

ShardingAttr ShardingAttr::getPartial(MLIRContext *ctx, ReductionKind kind) {
  return getSharding(ctx, ShardingKind::partial, -1, kind);
}

ShardingAttr ShardingAttr::getSegmented(MLIRContext *ctx, int64_t dim,
                                        ArrayRef<int64_t> segments,
                                        ArrayRef<int64_t> replicated) {
  if (replicated.size() == segments.size())
    return getReplicated(ctx);
  if (segments.size() < 2)
    return getSplit(ctx, dim);
  return ShardingAttr::get(ctx, ShardingKind::split, dim, ReductionKind::sum,
                           segments, replicated, 1);
}

ShardingAttr ShardingAttr::getGranular(MLIRContext *ctx, int64_t dim,
                                       int64_t granule) {
  if (granule <= 1)
    return getSplit(ctx, dim);
  return ShardingAttr::get(ctx, ShardingKind::split, dim, ReductionKind::sum,
                           {}, {}, granule);
}

LogicalResult
ShardingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     ShardingKind kind, int64_t dim, ReductionKind reduction,
                     ArrayRef<int64_t> segments,
                     ArrayRef<int64_t> replicated, int64_t granule) {
  if (granule < 1)
    return emitError() << "the granule of a split must be positive";
  if (granule != 1 && (kind != ShardingKind::split || !segments.empty()))
    return emitError() << "only a plain split has a granule";
  if (!replicated.empty()) {
    if (segments.empty())
      return emitError() << "only a segmented split has replicated segments";
    for (auto [i, index] : llvm::enumerate(replicated))
      if (index < 0 || index >= static_cast<int64_t>(segments.size()) ||
          (i > 0 && index <= replicated[i - 1]))
        return emitError() << "replicated segments must be increasing "
                              "indices of segments";
    if (replicated.size() == segments.size())
      return emitError() << "a segmented split with every segment "
                            "replicated is replicated";
  }
  if (!segments.empty()) {
    if (kind != ShardingKind::split)
      return emitError() << "only a split sharding has segments";
    if (segments.size() < 2)
      return emitError() << "a segmented split needs at least two segments";
    if (llvm::any_of(segments, [](int64_t s) { return s <= 0; }))
      return emitError() << "segment sizes must be positive";
  }
  if (kind == ShardingKind::split && dim < 0)
    return emitError() << "a split sharding needs a non-negative dimension";
  if (kind != ShardingKind::split && dim != -1)
    return emitError() << "only a split sharding has a dimension";
  if (kind != ShardingKind::partial && reduction != ReductionKind::sum)
    return emitError() << "only a partial sharding has a reduction";
  return success();
}

// #tp.sharding<replicated> | #tp.sharding<split 1> | #tp.sharding<partial sum>
// | #tp.sharding<split 1 segments [64, 16, 16]>
Attribute ShardingAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  ShardingAttr result;
  if (keyword == "replicated") {
    result = getReplicated(ctx);
  } else if (keyword == "split") {
    int64_t dim;
    if (parser.parseInteger(dim))
      return {};
    if (dim < 0) {
      parser.emitError(parser.getCurrentLocation(),
                       "split dimension must be non-negative");
      return {};
    }
    result = getSplit(ctx, dim);
    if (succeeded(parser.parseOptionalKeyword("granule"))) {
      int64_t granule;
      SMLoc loc = parser.getCurrentLocation();
      if (parser.parseInteger(granule))
        return {};
      result = getChecked([&] { return parser.emitError(loc); }, ctx,
                          ShardingKind::split, dim, ReductionKind::sum,
                          ArrayRef<int64_t>(), ArrayRef<int64_t>(), granule);
      if (!result)
        return {};
    } else if (succeeded(parser.parseOptionalKeyword("segments"))) {
      SmallVector<int64_t> segments;
      SMLoc loc = parser.getCurrentLocation();
      if (parser.parseCommaSeparatedList(
              AsmParser::Delimiter::Square,
              [&] { return parser.parseInteger(segments.emplace_back()); }))
        return {};
      SmallVector<int64_t> replicated;
      if (succeeded(parser.parseOptionalKeyword("replicated")) &&
          parser.parseCommaSeparatedList(
              AsmParser::Delimiter::Square,
              [&] { return parser.parseInteger(replicated.emplace_back()); }))
        return {};
      result = getChecked(
          [&] { return parser.emitError(loc); }, ctx, ShardingKind::split,
          dim, ReductionKind::sum, segments, replicated, 1);
      if (!result)
        return {};
    }
  } else if (keyword == "partial") {
    StringRef kindName;
    SMLoc loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&kindName))
      return {};
    std::optional<ReductionKind> kind = symbolizeReductionKind(kindName);
    if (!kind) {
      parser.emitError(loc, "expected 'sum', 'max' or 'min'");
      return {};
    }
    result = getPartial(ctx, *kind);
  } else {
    parser.emitError(parser.getNameLoc(),
                     "expected 'replicated', 'split' or 'partial', got '")
        << keyword << "'";
    return {};
  }
  if (parser.parseGreater())
    return {};
  return result;
}

void ShardingAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyShardingKind(getKind());
  if (isSplit())
    printer << " " << getDim();
  if (getGranule() != 1)
    printer << " granule " << getGranule();
  if (isSegmented()) {
    printer << " segments [";
    llvm::interleaveComma(getSegments(), printer);
    printer << "]";
    if (!getReplicatedSegments().empty()) {
      printer << " replicated [";
      llvm::interleaveComma(getReplicatedSegments(), printer);
      printer << "]";
    }
  }
  if (isPartial())
    printer << " " << stringifyReductionKind(getReduction());
  printer << ">";
}

//===----------------------------------------------------------------------===//
// Collective verifiers
//===----------------------------------------------------------------------===//

namespace {
/// Checks that `big` equals `small` except that dimension `dim` is
/// `factor` times larger. `bigName`/`smallName` name the two sides in errors.
LogicalResult verifyScaledDim(Operation *op, ShapedType big, ShapedType small,
                              int64_t dim, int64_t factor, StringRef bigName,
                              StringRef smallName) {
  if (big.getElementType() != small.getElementType())
    return op->emitOpError("operand and result element types differ");
  if (big.getRank() != small.getRank())
    return op->emitOpError("operand and result ranks differ");
  if (dim < 0 || dim >= big.getRank())
    return op->emitOpError("dimension ")
           << dim << " is out of range for a rank-" << big.getRank()
           << " tensor";
  for (int64_t i = 0, e = big.getRank(); i < e; ++i) {
    int64_t b = big.getDimSize(i), s = small.getDimSize(i);
    if (i != dim) {
      if (!ShapedType::isDynamic(b) && !ShapedType::isDynamic(s) && b != s)
        return op->emitOpError("dimension ")
               << i << " differs between operand and result (" << b << " vs "
               << s << ")";
      continue;
    }
    if (ShapedType::isDynamic(b) || ShapedType::isDynamic(s))
      continue;
    if (b % factor != 0)
      return op->emitOpError("dimension ")
             << dim << " of the " << bigName << " (size " << b
             << ") is not divisible by the group size " << factor;
    if (b != s * factor)
      return op->emitOpError("dimension ")
             << dim << " of the " << bigName << " (size " << b
             << ") must be the group size " << factor << " times that of the "
             << smallName << " (size " << s << ")";
  }
  return success();
}
} // namespace

LogicalResult AllGatherOp::verify() {
  return verifyScaledDim(*this, getResult().getType(), getInput().getType(),
                         getDim(), getGroupSize(), "result", "operand");
}

LogicalResult ReduceScatterOp::verify() {
  return verifyScaledDim(*this, getInput().getType(), getResult().getType(),
                         getDim(), getGroupSize(), "operand", "result");
}

LogicalResult AllSliceOp::verify() {
  return verifyScaledDim(*this, getInput().getType(), getResult().getType(),
                         getDim(), getGroupSize(), "operand", "result");
}

LogicalResult BufferAllReduceOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (in.getElementType() != out.getElementType())
    return emitOpError("input and output element types differ");
  if (in.hasRank() && out.hasRank() && in.getShape() != out.getShape())
    return emitOpError("input and output shapes differ");
  return success();
}

LogicalResult BufferAllGatherOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (!in.hasRank() || !out.hasRank())
    return emitOpError("needs ranked buffers");
  return verifyScaledDim(*this, out, in, getDim(), getGroupSize(), "output",
                         "input");
}

LogicalResult BufferReduceScatterOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (!in.hasRank() || !out.hasRank())
    return emitOpError("needs ranked buffers");
  return verifyScaledDim(*this, in, out, getDim(), getGroupSize(), "input",
                         "output");
}

//===----------------------------------------------------------------------===//
// Folds and canonicalizations
//===----------------------------------------------------------------------===//

OpFoldResult AllReduceOp::fold(FoldAdaptor) {
  if (getGroupSize() == 1)
    return getInput();
  return {};
}

OpFoldResult AllGatherOp::fold(FoldAdaptor) {
  if (getGroupSize() == 1 && getInput().getType() == getType())
    return getInput();
  // Gathering the slices of a replicated value gives the value back.
  if (auto slice = getInput().getDefiningOp<AllSliceOp>())
    if (slice.getDim() == getDim() && slice.getGroupSize() == getGroupSize() &&
        slice.getInput().getType() == getType())
      return slice.getInput();
  return {};
}

OpFoldResult ReduceScatterOp::fold(FoldAdaptor) {
  if (getGroupSize() == 1 && getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult AllSliceOp::fold(FoldAdaptor) {
  if (getGroupSize() == 1 && getInput().getType() == getType())
    return getInput();
  // This rank's slice of a gathered value is this rank's part.
  if (auto gather = getInput().getDefiningOp<AllGatherOp>())
    if (gather.getDim() == getDim() && gather.getGroupSize() == getGroupSize() &&
        gather.getInput().getType() == getType())
      return gather.getInput();
  return {};
}

namespace {
/// A slice of an uninitialized tensor is an uninitialized tensor.
struct SliceOfEmpty : public OpRewritePattern<AllSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AllSliceOp op,
                                PatternRewriter &rewriter) const override {
    auto empty = op.getInput().getDefiningOp<tensor::EmptyOp>();
    if (!empty)
      return rewriter.notifyMatchFailure(op, "operand is not tensor.empty");
    if (op.getType().isDynamicDim(op.getDim()))
      return rewriter.notifyMatchFailure(op, "dynamic sliced dimension");
    rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, op.getType(),
                                                 empty.getDynamicSizes());
    return success();
  }
};
} // namespace

void AllSliceOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<SliceOfEmpty>(context);
}
