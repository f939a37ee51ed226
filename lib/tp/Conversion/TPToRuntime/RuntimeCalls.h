//===- RuntimeCalls.h - what the runtime-call lowerings share --*- C++ -*-===//
//
// Part of tp-mlir.
//
// tp-lower-to-runtime (collectives), tp-lower-gemm-to-runtime and
// tp-gpu-lower-attention-to-runtime each replace an op by a call into the tp
// runtime (runtime/include/tp/runtime/tp_runtime.h). They pass buffers the
// same way: the runtime's code for the element type, the address of the
// first element, and a contiguous temporary where the runtime cannot read a
// buffer's layout.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_CONVERSION_TPTORUNTIME_RUNTIMECALLS_H
#define TP_LIB_CONVERSION_TPTORUNTIME_RUNTIMECALLS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir {
namespace tp {

/// The runtime's code (tp_dtype) for buffers of `elementType`: f32 0, f64 1,
/// f16 2, bf16 3, i32 4, i64 5; nothing for any other type.
std::optional<int32_t> getRuntimeDType(Type elementType);

/// The address of the first element of the memref `buffer` as an
/// !llvm.ptr: its aligned pointer plus its offset in bytes, at the element
/// size the data layout gives (as the memref-to-LLVM lowering does; index
/// elements take the data layout's index width).
Value getBufferAddress(OpBuilder &b, Location loc, Value buffer);

/// A new buffer of the memref `buffer`'s shape and element type, contiguous
/// (identity layout), its dynamic sizes read from `buffer`. Uninitialized:
/// the caller copies in what the runtime reads.
Value allocContiguous(OpBuilder &b, Location loc, Value buffer);

/// Calls the runtime function `callee`, declared (privately, at the start of
/// the module that holds `from`) with these result and operand types when the
/// module has no declaration yet.
func::CallOp callRuntime(OpBuilder &b, Location loc, Operation *from,
                         StringRef callee, TypeRange results,
                         ValueRange operands);

} // namespace tp
} // namespace mlir

#endif // TP_LIB_CONVERSION_TPTORUNTIME_RUNTIMECALLS_H
