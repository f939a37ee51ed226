//===- InitAll.h - register everything tp provides --------------*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_INITALL_H
#define TP_INITALL_H

namespace mlir {
class DialectRegistry;

/// Adds the tp dialect and the tp models of upstream ops' interfaces (sharding
/// rules, bufferization of tp collectives) to `registry`.
void registerTPDialect(DialectRegistry &registry);

/// Registers every tp pass and pipeline with the global pass registry, so that
/// `--tp-partition` and friends can be parsed from the command line.
void registerTPPasses();

} // namespace mlir

#endif // TP_INITALL_H
