//===- WidenAccumulators.cpp - bf16/f16 reductions accumulate in f32 ------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPWIDENACCUMULATORS
#include "tp/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;

namespace {

bool isNarrowFloat(Type type) { return isa<BFloat16Type, Float16Type>(type); }

/// `type` with a narrow float element (or scalar) replaced by f32.
Type widen(Type type) {
  Type f32 = Float32Type::get(type.getContext());
  if (isNarrowFloat(type))
    return f32;
  if (auto shaped = dyn_cast<ShapedType>(type))
    if (isNarrowFloat(shaped.getElementType()))
      return shaped.clone(f32);
  return type;
}

/// True if the op's payload can be recomputed in f32 op by op.
bool hasWidenableBody(Operation *op) {
  for (Operation &inner : op->getRegion(0).front()) {
    if (isa<linalg::YieldOp, linalg::IndexOp>(inner))
      continue;
    if (inner.getNumRegions() != 0)
      return false;
    Dialect *dialect = inner.getDialect();
    if (!isa_and_nonnull<arith::ArithDialect, math::MathDialect>(dialect))
      return false;
  }
  return true;
}

/// A tensor op worth widening: one narrow-float result, a reduction loop.
bool shouldWiden(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || op.getNumReductionLoops() == 0 ||
      op->getNumRegions() != 1 || op->getRegion(0).empty())
    return false;
  auto result = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  return result && isNarrowFloat(result.getElementType()) &&
         hasWidenableBody(op);
}

/// An elementwise generic converting `input` to `resultType`'s element type
/// (arith.extf / arith.truncf), into a fresh tensor.empty.
Value convertTensor(OpBuilder &b, Location loc, Value input,
                    RankedTensorType resultType) {
  SmallVector<OpFoldResult> sizes =
      tensor::getMixedSizes(b, loc, input);
  Value empty = tensor::EmptyOp::create(b, loc, sizes,
                                        resultType.getElementType());
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, ValueRange{input}, ValueRange{empty},
      maps, iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Type to = resultType.getElementType();
        Value converted =
            to.getIntOrFloatBitWidth() > args[0].getType().getIntOrFloatBitWidth()
                ? Value(arith::ExtFOp::create(nb, nloc, to, args[0]))
                : Value(arith::TruncFOp::create(nb, nloc, to, args[0]));
        linalg::YieldOp::create(nb, nloc, converted);
      });
  return generic.getResult(0);
}

/// Clones `source`'s body into `dest` with every narrow float value widened.
/// Returns failure (leaving `dest` to be erased) on anything it cannot widen.
LogicalResult cloneWidened(Block &source, Block &dest, OpBuilder &b) {
  IRMapping map;
  b.setInsertionPointToStart(&dest);
  for (auto [from, to] :
       llvm::zip(source.getArguments(), dest.getArguments())) {
    Value value = to;
    // Narrow inputs stay narrow in the new op; extend them on entry.
    if (isNarrowFloat(to.getType()))
      value = arith::ExtFOp::create(b, to.getLoc(), b.getF32Type(), to);
    map.map(from, value);
  }
  // A value the body captures from above (the padding mask's bound, a
  // scalar) is used as it is; a narrow float one is extended once, on entry.
  auto lookup = [&](Value v) -> Value {
    if (Value mapped = map.lookupOrNull(v))
      return mapped;
    if (!isNarrowFloat(v.getType()))
      return v;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&dest);
    Value extended = arith::ExtFOp::create(b, v.getLoc(), b.getF32Type(), v);
    map.map(v, extended);
    return extended;
  };
  for (Operation &op : source) {
    if (auto yield = dyn_cast<linalg::YieldOp>(op)) {
      SmallVector<Value> values;
      for (Value v : yield.getValues())
        values.push_back(lookup(v));
      linalg::YieldOp::create(b, yield.getLoc(), values);
      continue;
    }
    // Conversions between the narrow type and f32 become the identity.
    if (isa<arith::ExtFOp, arith::TruncFOp>(op)) {
      Value in = lookup(op.getOperand(0));
      Type to = widen(op.getResult(0).getType());
      if (in.getType() == to) {
        map.map(op.getResult(0), in);
        continue;
      }
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto value = dyn_cast<FloatAttr>(constant.getValue());
      if (value && isNarrowFloat(value.getType())) {
        map.map(constant.getResult(),
                arith::ConstantOp::create(
                    b, constant.getLoc(),
                    b.getF32FloatAttr(value.getValueAsDouble())));
        continue;
      }
    }
    SmallVector<Value> operands;
    for (Value v : op.getOperands())
      operands.push_back(lookup(v));
    SmallVector<Type> results;
    for (Type t : op.getResultTypes())
      results.push_back(widen(t));
    // Attributes tied to the narrow type (a constant's value) would no longer
    // verify; every other attribute (fastmath, predicates) carries over.
    OperationState state(op.getLoc(), op.getName(), operands, results,
                         op.getAttrs());
    Operation *widened = b.create(state);
    if (failed(mlir::verify(widened, /*verifyRecursively=*/false)))
      return failure();
    for (auto [from, to] : llvm::zip(op.getResults(), widened->getResults()))
      map.map(from, to);
  }
  return success();
}

LogicalResult widenOp(linalg::LinalgOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  auto wideType = cast<RankedTensorType>(widen(resultType));
  Value init = op.getDpsInits()[0];
  Value wideInit;
  // A fill with a constant (the usual zero) becomes an f32 fill.
  auto fill = init.getDefiningOp<linalg::FillOp>();
  FloatAttr fillValue;
  if (fill && matchPattern(fill.getInputs()[0], m_Constant(&fillValue))) {
    Value empty = tensor::EmptyOp::create(
        b, loc, tensor::getMixedSizes(b, loc, init), b.getF32Type());
    Value scalar = arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(fillValue.getValueAsDouble()));
    wideInit = linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
  } else {
    wideInit = convertTensor(b, loc, init, wideType);
  }

  SmallVector<Value> inputs(op.getDpsInputs());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{wideType}, inputs, ValueRange{wideInit},
      op.getIndexingMapsArray(), op.getIteratorTypesArray());
  Block &oldBody = op->getRegion(0).front();
  SmallVector<Type> argTypes;
  SmallVector<Location> argLocs;
  for (BlockArgument arg : oldBody.getArguments()) {
    argLocs.push_back(arg.getLoc());
    argTypes.push_back(arg.getArgNumber() < inputs.size()
                           ? arg.getType()
                           : widen(arg.getType()));
  }
  Block *body =
      b.createBlock(&generic.getRegion(), {}, argTypes, argLocs);
  OpBuilder bodyBuilder(op->getContext());
  if (failed(cloneWidened(oldBody, *body, bodyBuilder))) {
    generic.erase();
    // Erase the new init and whatever fed only it.
    SmallVector<Operation *> dead{wideInit.getDefiningOp()};
    while (!dead.empty()) {
      Operation *d = dead.pop_back_val();
      if (!d || !d->use_empty())
        continue;
      SmallVector<Value> operands(d->getOperands());
      d->erase();
      for (Value v : operands)
        if (Operation *def = v.getDefiningOp();
            def && isa<tensor::EmptyOp, arith::ConstantOp>(def))
          dead.push_back(def);
    }
    return failure();
  }
  b.setInsertionPointAfter(generic);
  Value narrow = convertTensor(b, loc, generic.getResult(0), resultType);
  op->getResult(0).replaceAllUsesWith(narrow);
  op->erase();
  return success();
}

struct TPWidenAccumulatorsPass
    : public tp::impl::TPWidenAccumulatorsBase<TPWidenAccumulatorsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (shouldWiden(op))
        ops.push_back(op);
    });
    for (linalg::LinalgOp op : ops)
      (void)widenOp(op); // an op that cannot be widened stays as it is
  }
};

} // namespace
