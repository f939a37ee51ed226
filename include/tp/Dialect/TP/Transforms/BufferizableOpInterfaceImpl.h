//===- BufferizableOpInterfaceImpl.h - bufferizing tp ops -------*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define TP_DIALECT_TP_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
namespace tp {

/// Lets one-shot bufferization turn tp.all_reduce / all_gather /
/// reduce_scatter into their tp.buffer.* forms (reading the operand's buffer,
/// writing a new allocation). tp.all_slice is lowered before bufferization
/// (tp-lower-slices).
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
