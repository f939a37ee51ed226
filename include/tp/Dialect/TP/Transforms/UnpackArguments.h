//===- UnpackArguments.h - arguments made of pieces -------------*- C++ -*-===//
//
// Part of tp-mlir.
//
// What tp-unpack-arguments records on a function whose packed arguments it
// replaced by their pieces, read by tp-emit-manifest:
//
//   tp.original_arguments = [ORIGINAL, ...]  (one per argument passed)
//   ORIGINAL = {arg = I}                      (passed on as argument I)
//            | {type = tensor<...>, pieces = [PIECE, ...]}
//   PIECE    = {arg = I, offset = O, shape = array<i64: ...>,
//               strides = array<i64: ...>}
//
// Argument I of the function is the strided view of the original argument
// (row-major, in elements) that starts at element O and has the given shape
// and element strides.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_TRANSFORMS_UNPACKARGUMENTS_H
#define TP_DIALECT_TP_TRANSFORMS_UNPACKARGUMENTS_H

#include "llvm/ADT/StringRef.h"

namespace mlir {
namespace tp {

/// Function attribute: how the arguments the caller passes map to the
/// function's arguments (see above).
constexpr llvm::StringLiteral kOriginalArgumentsAttrName =
    "tp.original_arguments";

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_TRANSFORMS_UNPACKARGUMENTS_H
