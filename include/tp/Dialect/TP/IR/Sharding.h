//===- Sharding.h - sharding vocabulary of the tp dialect -------*- C++ -*-===//
//
// Part of tp-mlir.
//
// What the dialect itself knows of sharding besides its attributes: the kinds
// a `tp.parallel` annotation names, and the type of one rank's part of a
// sharded value. The dialect's verifiers use both; ShardingOpInterface
// (Dialect/TP/Interfaces) builds on them.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_IR_SHARDING_H
#define TP_DIALECT_TP_IR_SHARDING_H

#include "tp/Dialect/TP/IR/TPDialect.h"
#include "llvm/ADT/StringRef.h"
#include <optional>

namespace mlir {
namespace tp {

/// What a user annotation (`tp.parallel`) selects. Matmul-like ops tag their
/// options column/row, embedding lookups vocab, so that annotations and plan
/// reports can name them.
enum class ParallelKind { Replicated, Column, Row, Vocab, Other };

/// Returns "replicated", "column", "row", "vocab" or "other".
llvm::StringRef stringifyParallelKind(ParallelKind kind);
/// Parses the value of a `tp.parallel` annotation.
std::optional<ParallelKind> parseParallelKind(llvm::StringRef value);

/// The size of the split dimension of one rank's part of a `global` value
/// held as split `sharding` (see getLocalType), without building the type.
int64_t getLocalDimSize(RankedTensorType global, ShardingAttr sharding,
                        int64_t tpSize);

/// Returns the type of one rank's part of a value of type `global` with
/// `sharding` (only split shardings change the shape). A split dimension that
/// does not divide evenly (uneven=pad) gets ceil(size / tpSize) per rank, the
/// last ranks holding zero padding. A segmented split holds its slice of
/// every split segment and the whole of every replicated one.
RankedTensorType getLocalType(RankedTensorType global, ShardingAttr sharding,
                              int64_t tpSize);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_IR_SHARDING_H
