//===- Parameters.h - tell parameters from activations ----------*- C++ -*-===//
//
// Part of tp-mlir.
//
// A training step takes, as function arguments, parameters (weights, biases,
// optimizer state) next to activations and gradients (the input x, the
// upstream gradient dL/dy). Only parameters may be planned as the weight of
// a weight op, and only they count at 1/tp in the report's lower bound.
// Which is which is decided from the program:
//
// - if any argument of the function carries the unit attribute `tp.param`,
//   exactly those arguments are parameters (a frontend or user states it);
// - otherwise an argument is an activation when the program reads it, as it
//   is or through views, transposes, copies and elementwise ops that keep
//   each of its elements (a layer's input through its norm; not a broadcast
//   operand such as a norm's gamma or a bias), on the activation side of a
//   contraction: the operand carrying the M (token) dimensions, as in x W or
//   dy W^T, and state the program writes into with tensor.insert_slice
//   (a KV cache updated at a position) is not a parameter either, nor are
//   indices: an integer argument whose elements a program only turns into
//   indices or compares (token ids looked up in a table, or compared with
//   each vocabulary row to build the one-hot matrix of an embedding's
//   weight gradient). Every other argument is a parameter (forward-only
//   models read their weights only on the weight side).
//
// The rule is the planner's own notion of a weight op's two sides, so an
// upstream gradient g is an activation as soon as the step computes its
// input gradient (g W2^T), even though dW2 = h^T g reads it on the weight
// side. A step that returns no input gradient reads g only as in h^T g:
// mark its parameters with `tp.param` there.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_ANALYSIS_PARAMETERS_H
#define TP_DIALECT_TP_ANALYSIS_PARAMETERS_H

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Value.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/BitVector.h"

#include <optional>

namespace mlir {
namespace tp {

/// For a two-input contraction, the operand number of its activation side
/// (the input that carries M dimensions while the other does not); nullopt
/// for anything else. The other input is its weight side.
std::optional<unsigned> getActivationOperand(linalg::LinalgOp op);

/// True if `arg`, an argument of a function, is a parameter (see above).
/// It reads every argument's attributes: to ask about all arguments of a
/// function, use ParameterArguments.
bool isParameterArgument(BlockArgument arg);

/// isParameterArgument for each argument of a function, decided once.
class ParameterArguments {
public:
  /// `activationOf` answers getActivationOperand (a caller that holds the
  /// answers already passes them in: the query costs ~15k instructions).
  explicit ParameterArguments(
      FunctionOpInterface func,
      llvm::function_ref<std::optional<unsigned>(linalg::LinalgOp)>
          activationOf = getActivationOperand);
  /// False for anything that is not an argument of the function's body.
  bool contains(BlockArgument arg) const {
    return arg.getOwner() == body && params.test(arg.getArgNumber());
  }

private:
  Block *body = nullptr;
  llvm::BitVector params;
};

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_ANALYSIS_PARAMETERS_H
