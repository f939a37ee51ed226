//===- TPDialect.h - tp dialect ---------------------------------*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_IR_TPDIALECT_H
#define TP_DIALECT_TP_IR_TPDIALECT_H

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpImplementation.h"

// Enums and attributes first: the dialect caches sharding attributes.
#include "tp/Dialect/TP/IR/TPEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "tp/Dialect/TP/IR/TPAttrs.h.inc"

#include "tp/Dialect/TP/IR/TPDialect.h.inc"

#endif // TP_DIALECT_TP_IR_TPDIALECT_H
