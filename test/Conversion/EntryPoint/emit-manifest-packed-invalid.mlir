// A bad tp.original_arguments entry is an error that names it.
// RUN: tp-opt %s --tp-emit-manifest="entry=bad" --split-input-file --verify-diagnostics -o /dev/null

// expected-error @+1 {{'func.func' op has an invalid 'tp.original_arguments' entry #0: piece for argument #0 must have an 'offset', and a 'shape' and 'strides' of the argument's rank, with its global shape and the element type of 'tensor<16xf32>'}}
func.func @bad(%w: tensor<4x4xf32>) -> tensor<4x4xf32> attributes {tp.original_arguments = [{type = tensor<16xf32>, pieces = [{arg = 0, offset = 0, shape = array<i64: 4, 2>, strides = array<i64: 4, 1>}]}]} {
  return %w : tensor<4x4xf32>
}

// -----

// expected-error @+1 {{'func.func' op has an invalid 'tp.original_arguments' entry #0: piece for argument #0 reaches outside the 16 elements of 'tensor<16xf32>'}}
func.func @bad(%w: tensor<4x4xf32>) -> tensor<4x4xf32> attributes {tp.original_arguments = [{type = tensor<16xf32>, pieces = [{arg = 0, offset = 4, shape = array<i64: 4, 4>, strides = array<i64: 4, 1>}]}]} {
  return %w : tensor<4x4xf32>
}

// -----

// expected-error @+1 {{'func.func' op has an invalid 'tp.original_arguments' entry #1: 'arg' must be an argument index (0 to 0)}}
func.func @bad(%w: tensor<4x4xf32>) -> tensor<4x4xf32> attributes {tp.original_arguments = [{arg = 0}, {arg = 3}]} {
  return %w : tensor<4x4xf32>
}
