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
/// rules, bufferization of tp collectives) to `registry`. Call it before
/// creating the MLIRContext that parses tp IR or runs tp passes. It does not
/// add upstream dialects: insert the ones the input uses (func, linalg,
/// tensor, arith, math, ...) or call `registerAllDialects`.
///
///   DialectRegistry registry;
///   registry.insert<func::FuncDialect, linalg::LinalgDialect, ...>();
///   registerTPDialect(registry);
///   MLIRContext context(registry);
///
/// TPPlugin.so's `mlirGetDialectPluginInfo` calls this.
void registerTPDialect(DialectRegistry &registry);

/// Registers every tp pass and pipeline with the global pass registry, so that
/// `--tp-partition` and friends can be parsed from the command line and from
/// textual pipelines (`builtin.module(tp-partition-pipeline{tp-size=4})`).
/// Building pipelines in C++ (tp/Pipelines/Pipelines.h) does not need it.
/// TPPlugin.so's `mlirGetPassPluginInfo` calls this.
void registerTPPasses();

} // namespace mlir

#endif // TP_INITALL_H
