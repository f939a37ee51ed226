//===- TPDialect.cpp - tp dialect, attributes and op verifiers ------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/Dialect/TP/IR/Sharding.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/Support/MathExtras.h"

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
// Attributes of the tp namespace on ops, arguments and results
//===----------------------------------------------------------------------===//

LogicalResult
TPDialect::checkTPSize(int64_t size, StringRef what,
                       function_ref<InFlightDiagnostic()> emitError) {
  if (size >= 1 && size <= kMaxTPSize)
    return success();
  return emitError() << what << " must be between 1 and " << kMaxTPSize
                     << ", got " << size
                     << " (it is the number of ranks in one tensor-parallel "
                        "group; larger groups are not supported because "
                        "shard sizes and byte counts would overflow)";
}

LogicalResult TPDialect::verifyParallelAnnotation(Operation *op,
                                                  Attribute value) {
  auto str = dyn_cast<StringAttr>(value);
  if (str && parseParallelKind(str.getValue()))
    return success();
  return op->emitOpError("unknown '")
         << getParallelAttrName() << "' value " << value
         << "; expected \"column\", \"row\", \"replicated\" or \"vocab\"";
}

LogicalResult
TPDialect::verifyShardedType(ShardingAttr sharding, Type global, Type local,
                             int64_t tpSize,
                             function_ref<InFlightDiagnostic()> emitError) {
  auto globalType = dyn_cast<RankedTensorType>(global);
  if (!globalType)
    return emitError() << "a sharded value must be a ranked tensor, got "
                       << global;
  // After bufferization the local value is a memref of the same shape; past
  // the LLVM lowering there is no shape left to compare.
  auto localType = dyn_cast<ShapedType>(local);
  if (!localType || !localType.hasRank())
    return success();
  if (globalType.getElementType() != localType.getElementType() ||
      globalType.getRank() != localType.getRank())
    return emitError() << "local type " << local
                       << " does not match its global type " << global
                       << " (element type and rank must be equal)";
  if (!sharding.isSplit()) {
    if (globalType.getShape() != localType.getShape())
      return emitError() << "a " << stringifyShardingKind(sharding.getKind())
                         << " value has its global type " << global
                         << " on every rank, got " << local;
    return success();
  }
  int64_t dim = sharding.getDim();
  if (dim >= globalType.getRank())
    return emitError() << "split dimension " << dim << " is out of range for "
                       << global;
  int64_t size = globalType.getDimSize(dim);
  if (ShapedType::isDynamic(size))
    return success(); // Dynamic splits are rejected by tp-partition.
  if (sharding.isSegmented()) {
    int64_t total = 0;
    for (int64_t segment : sharding.getSegments())
      if (llvm::AddOverflow(total, segment, total))
        return emitError() << "the segments of the split overflow";
    if (total != size)
      return emitError() << "the segments of the split sum to " << total
                         << " but dimension " << dim << " of " << global
                         << " has size " << size;
  }
  if (size % sharding.getGranule() != 0)
    return emitError() << "the granule " << sharding.getGranule()
                       << " does not divide dimension " << dim << " of "
                       << global << " (size " << size << ")";
  if (tpSize <= 0)
    return success();
  if (sharding.isSegmented())
    for (auto [i, segment] : llvm::enumerate(sharding.getSegments()))
      if (!sharding.isSegmentReplicated(i) && segment % tpSize != 0)
        return emitError() << "segment #" << i << " (size " << segment
                           << ") is not divisible by the tp size " << tpSize;
  RankedTensorType expected = getLocalType(globalType, sharding, tpSize);
  if (expected.getShape() != localType.getShape())
    return emitError() << "local type " << local << " is not the shard of "
                       << global << " that " << sharding << " gives each of "
                       << tpSize << " ranks (expected " << expected << ")";
  return success();
}

LogicalResult TPDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  Attribute value = attribute.getValue();
  if (name == getParallelAttrName())
    return verifyParallelAnnotation(op, value);
  if (name == getResultShardingAttrName()) {
    if (!isa<ShardingAttr>(value))
      return op->emitOpError("'")
             << name << "' must be a #tp.sharding attribute, got " << value;
    return success();
  }
  if (name == getHoistedConstantsAttrName()) {
    auto dict = dyn_cast<DictionaryAttr>(value);
    if (!isa<ModuleOp>(op) || !dict ||
        !llvm::all_of(dict, [](NamedAttribute entry) {
          return isa<ElementsAttr>(entry.getValue());
        }))
      return op->emitOpError("'")
             << name
             << "' must be a dictionary of elements attributes on a module";
    return success();
  }
  if (name == getSizeAttrName()) {
    auto size = dyn_cast<IntegerAttr>(value);
    if (!size || !size.getType().isInteger())
      return op->emitOpError("'")
             << name << "' must be an integer, got " << value;
    return checkTPSize(size.getValue().getSExtValue(), "'tp.size'",
                       [&] { return op->emitOpError(); });
  }
  return success();
}

namespace {
/// The `tp.size` of the module around `op`; 0 when there is none or it is
/// invalid (its own verifier reports that).
int64_t getEnclosingTPSize(Operation *op) {
  for (Operation *parent = op; parent; parent = parent->getParentOp())
    if (auto size =
            parent->getAttrOfType<IntegerAttr>(TPDialect::getSizeAttrName())) {
      int64_t value = size.getValue().getSExtValue();
      return value >= 1 && value <= TPDialect::kMaxTPSize ? value : 0;
    }
  return 0;
}

/// Checks `tp.sharding` / `tp.global_type` on argument or result `index`
/// (`kind`: "argument" or "result") of function `op`.
LogicalResult verifyValueAttribute(Operation *op, StringRef kind,
                                   unsigned index, NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  auto func = dyn_cast<FunctionOpInterface>(op);
  if (name == TPDialect::getParamAttrName()) {
    if (kind != "argument")
      return op->emitOpError() << kind << " #" << index << ": '" << name
                               << "' applies to function arguments only";
    if (!isa<UnitAttr>(attribute.getValue()))
      return op->emitOpError()
             << kind << " #" << index << ": '" << name
             << "' is a unit attribute (write `{tp.param}`), got "
             << attribute.getValue();
    return success();
  }
  if (name == TPDialect::getHoistedAttrName()) {
    if (kind != "argument" || !isa<StringAttr>(attribute.getValue()))
      return op->emitOpError()
             << kind << " #" << index << ": '" << name
             << "' names a hoisted constant: a string on a function argument";
    return success();
  }
  if (name != TPDialect::getShardingAttrName() &&
      name != TPDialect::getGlobalTypeAttrName())
    return success();
  auto emitError = [&] {
    return op->emitOpError() << kind << " #" << index << ": '" << name << "' ";
  };
  if (name == TPDialect::getShardingAttrName() &&
      !isa<ShardingAttr>(attribute.getValue()))
    return emitError() << "must be a #tp.sharding attribute, got "
                       << attribute.getValue();
  if (name == TPDialect::getGlobalTypeAttrName() &&
      !isa<TypeAttr>(attribute.getValue()))
    return emitError() << "must be a type, got " << attribute.getValue();
  if (!func)
    return success();
  // Checked once per value, when looking at its sharding.
  bool isArg = kind == "argument";
  DictionaryAttr attrs =
      isArg ? func.getArgAttrDict(index) : func.getResultAttrDict(index);
  auto sharding = attrs.getAs<ShardingAttr>(TPDialect::getShardingAttrName());
  if (!sharding || name != TPDialect::getShardingAttrName())
    return success();
  Type local =
      isArg ? func.getArgumentTypes()[index] : func.getResultTypes()[index];
  // Without a global type only what holds for any group size is checked.
  auto globalAttr = attrs.getAs<TypeAttr>(TPDialect::getGlobalTypeAttrName());
  Type global = globalAttr ? globalAttr.getValue() : local;
  if (!globalAttr) {
    auto shaped = dyn_cast<ShapedType>(local);
    if (!shaped || !shaped.hasRank())
      return success();
    global = RankedTensorType::get(shaped.getShape(), shaped.getElementType());
  }
  return TPDialect::verifyShardedType(sharding, global, local,
                                      globalAttr ? getEnclosingTPSize(op) : 0,
                                      emitError);
}
} // namespace

LogicalResult TPDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                  unsigned argIndex,
                                                  NamedAttribute attribute) {
  return verifyValueAttribute(op, "argument", argIndex, attribute);
}

LogicalResult TPDialect::verifyRegionResultAttribute(Operation *op, unsigned,
                                                     unsigned resultIndex,
                                                     NamedAttribute attribute) {
  return verifyValueAttribute(op, "result", resultIndex, attribute);
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
    int64_t product;
    if (llvm::MulOverflow(s, factor, product) || b != product)
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
  // As the gather and the scatter: the runtime lowering reads the buffers'
  // shapes and strides, which an unranked memref does not have.
  if (!in.hasRank() || !out.hasRank())
    return emitOpError("needs ranked buffers");
  if (in.getElementType() != out.getElementType())
    return emitOpError("input and output element types differ");
  if (in.getShape() != out.getShape())
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
