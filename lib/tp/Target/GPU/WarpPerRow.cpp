//===- WarpPerRow.cpp - the pieces of a warp-per-row kernel ---------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "WarpPerRow.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tp;

int64_t mlir::tp::elementBytes(Type type) {
  Type element = getElementTypeOrSelf(type);
  // getIntOrFloatBitWidth is undefined on index: an assert, and without
  // assertions a null dereference.
  if (!element.isIntOrFloat())
    return 0;
  unsigned bits = element.getIntOrFloatBitWidth();
  return bits % 8 == 0 ? bits / 8 : 0;
}

std::optional<int64_t> mlir::tp::bytesAlongRow(linalg::GenericOp op,
                                               OpOperand &operand,
                                               unsigned rowDim) {
  AffineMap map = op.getMatchingIndexingMap(&operand);
  if (!map.isFunctionOfDim(rowDim))
    return 0;
  auto type = dyn_cast<MemRefType>(operand.get().getType());
  if (!type || !type.getLayout().isIdentity() ||
      map.getResults().back() != getAffineDimExpr(rowDim, op.getContext()))
    return std::nullopt;
  int64_t bytes = elementBytes(type);
  if (bytes == 0)
    return std::nullopt;
  return bytes;
}

int64_t mlir::tp::vectorWidth(int64_t widestBytes, int64_t length) {
  if (widestBytes <= 0)
    return 1;
  int64_t width = kVectorBytes / widestBytes;
  return width > 1 && length % width == 0 ? width : 1;
}

TypedAttr mlir::tp::identityOf(Operation *combine, FloatType type) {
  const llvm::fltSemantics &sem = type.getFloatSemantics();
  auto value =
      llvm::TypeSwitch<Operation *, std::optional<llvm::APFloat>>(combine)
          .Case([&](arith::AddFOp) { return llvm::APFloat::getZero(sem); })
          .Case([&](arith::MulFOp) { return llvm::APFloat::getOne(sem); })
          .Case<arith::MaximumFOp, arith::MaxNumFOp>([&](Operation *) {
            return llvm::APFloat::getInf(sem, /*Negative=*/true);
          })
          .Case<arith::MinimumFOp, arith::MinNumFOp>([&](Operation *) {
            return llvm::APFloat::getInf(sem, /*Negative=*/false);
          })
          .Default([](Operation *) { return std::nullopt; });
  if (!value)
    return {};
  return FloatAttr::get(type, *value);
}

Operation *mlir::tp::combineOf(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  BlockArgument out = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
  auto accType = dyn_cast<FloatType>(out.getType());
  if (!accType || (accType.getWidth() != 32 && accType.getWidth() != 64))
    return nullptr;
  Operation *combine =
      cast<linalg::YieldOp>(body.getTerminator()).getOperand(0).getDefiningOp();
  if (!combine || combine->getBlock() != &body ||
      combine->getNumOperands() != 2 || !out.hasOneUse() ||
      out.getUses().begin()->getOwner() != combine ||
      !identityOf(combine, accType))
    return nullptr;
  Value value = reducedValue(op, combine);
  if (value == out || value.getType() != accType)
    return nullptr;
  return combine;
}

Value mlir::tp::reducedValue(linalg::GenericOp op, Operation *combine) {
  BlockArgument out = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
  return combine->getOperand(0) == out ? combine->getOperand(1)
                                       : combine->getOperand(0);
}

WarpPerRowLaunch
mlir::tp::createWarpPerRowLaunch(OpBuilder &b, Location loc, Value grid,
                                 Value warps, int64_t warpsPerBlock,
                                 function_ref<Value(OpBuilder &)> rows) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value lanes = arith::ConstantIndexOp::create(b, loc, kWarpSize);
  auto launch =
      gpu::LaunchOp::create(b, loc, grid, one, one, lanes, warps, one);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value row = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(
          b, loc, launch.getBlockIds().x,
          arith::ConstantIndexOp::create(b, loc, warpsPerBlock)),
      launch.getThreadIds().y);
  Value inside =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, rows(b));
  auto guard = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(guard.thenBlock()->getTerminator());
  return {launch.getThreadIds().x, row};
}

SmallVector<Value> mlir::tp::delinearizeRow(OpBuilder &b, Location loc,
                                            Value row, ArrayRef<Value> sizes) {
  SmallVector<Value> ivs(sizes.size());
  Value rest = row;
  for (int i = static_cast<int>(sizes.size()) - 1; i >= 0; --i) {
    ivs[i] = i == 0 ? rest : arith::RemUIOp::create(b, loc, rest, sizes[i]);
    if (i > 0)
      rest = arith::DivUIOp::create(b, loc, rest, sizes[i]);
  }
  return ivs;
}

SmallVector<Value> mlir::tp::butterfly(
    OpBuilder &b, Location loc, ValueRange values,
    function_ref<void(MutableArrayRef<Value>, ArrayRef<Value>)> merge) {
  SmallVector<Value> totals(values);
  if (totals.empty())
    return totals;
  Value width = arith::ConstantIntOp::create(b, loc, b.getI32Type(), kWarpSize);
  for (int64_t offset = kWarpSize / 2; offset >= 1; offset /= 2) {
    Value offsetI32 =
        arith::ConstantIntOp::create(b, loc, b.getI32Type(), offset);
    SmallVector<Value> others;
    for (Value total : totals)
      others.push_back(gpu::ShuffleOp::create(b, loc, total, offsetI32, width,
                                              gpu::ShuffleMode::XOR)
                           .getShuffleResult());
    merge(totals, others);
  }
  return totals;
}
