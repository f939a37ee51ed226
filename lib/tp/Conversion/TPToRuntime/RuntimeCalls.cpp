//===- RuntimeCalls.cpp - what the runtime-call lowerings share ----------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

using namespace mlir;

std::optional<int32_t> mlir::tp::getRuntimeDType(Type elementType) {
  if (elementType.isF32())
    return 0;
  if (elementType.isF64())
    return 1;
  if (elementType.isF16())
    return 2;
  if (elementType.isBF16())
    return 3;
  if (elementType.isSignlessInteger(32))
    return 4;
  if (elementType.isSignlessInteger(64))
    return 5;
  return std::nullopt;
}

Value mlir::tp::getBufferAddress(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  // The element's size as the memref-to-LLVM lowering lays the buffer out:
  // the data layout's, which also sizes the types that have no bit width of
  // their own (index: the data layout's index width, 64 bits by default) and
  // gives a type narrower than a byte one byte. The callers pass only the
  // runtime's dtypes (f32, f64, f16, bf16, i32, i64), whose size is their
  // bit width / 8 either way.
  DataLayout layout =
      DataLayout::closest(buffer.getParentBlock()->getParentOp());
  auto bytes = static_cast<int64_t>(
      layout.getTypeSize(type.getElementType()).getFixedValue());
  Value aligned =
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  Value byteSize = arith::ConstantIndexOp::create(b, loc, bytes);
  Value offset = arith::MulIOp::create(b, loc, metadata.getOffset(), byteSize);
  Value address = arith::AddIOp::create(b, loc, aligned, offset);
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), address);
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), asInt);
}

Value mlir::tp::allocContiguous(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0, e = type.getRank(); i < e; ++i)
    if (type.isDynamicDim(i))
      dynamicSizes.push_back(memref::DimOp::create(b, loc, buffer, i));
  return memref::AllocOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()),
      dynamicSizes);
}

func::CallOp mlir::tp::callRuntime(OpBuilder &b, Location loc, Operation *from,
                                   StringRef callee, TypeRange results,
                                   ValueRange operands) {
  auto module = from->getParentOfType<ModuleOp>();
  auto decl = module.lookupSymbol<func::FuncOp>(callee);
  if (!decl) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    decl = func::FuncOp::create(
        b, loc, callee, b.getFunctionType(operands.getTypes(), results));
    decl.setPrivate();
  }
  return func::CallOp::create(b, loc, decl, operands);
}
