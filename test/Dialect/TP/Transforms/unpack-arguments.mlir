// RUN: tp-opt %s --tp-unpack-arguments --split-input-file --verify-diagnostics | FileCheck %s

// A flat buffer cut into 1-D pieces, each reshaped into a matrix: one
// argument per piece, typed as the reshaped piece, in program order; the
// other arguments keep their place.
// CHECK-LABEL: func.func @flat_pieces_reshaped
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[A:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8x8xf32>)
// CHECK-SAME: tp.original_arguments = [{arg = 0 : i64}, {pieces = [{arg = 1 : i64, offset = 0 : i64, shape = array<i64: 4, 8>, strides = array<i64: 8, 1>}, {arg = 2 : i64, offset = 32 : i64, shape = array<i64: 8, 8>, strides = array<i64: 8, 1>}], type = tensor<96xf32>}]
// CHECK-NOT: tensor.extract_slice
// CHECK-NOT: tensor.expand_shape
// CHECK: linalg.matmul ins(%[[X]], %[[A]]
// CHECK: linalg.matmul ins(%{{.*}}, %[[B]]
func.func @flat_pieces_reshaped(%x: tensor<2x4xf32>, %packed: tensor<96xf32>) -> tensor<2x8xf32> {
  %a = tensor.extract_slice %packed[0] [32] [1] : tensor<96xf32> to tensor<32xf32>
  %wa = tensor.expand_shape %a [[0, 1]] output_shape [4, 8] : tensor<32xf32> into tensor<4x8xf32>
  %b = tensor.extract_slice %packed[32] [64] [1] : tensor<96xf32> to tensor<64xf32>
  %wb = tensor.expand_shape %b [[0, 1]] output_shape [8, 8] : tensor<64xf32> into tensor<8x8xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x8xf32>) -> tensor<2x8xf32>
  %h = linalg.matmul ins(%x, %wa : tensor<2x4xf32>, tensor<4x8xf32>) outs(%z : tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = linalg.matmul ins(%h, %wb : tensor<2x8xf32>, tensor<8x8xf32>) outs(%z : tensor<2x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// An N-D buffer cut along rows, one piece strided (every other column), one
// rank-reducing; overlapping pieces are independent.
// CHECK-LABEL: func.func @nd_pieces
// CHECK-SAME: (%{{.*}}: tensor<8x8xf32>, %{{.*}}: tensor<8x4xf32>, %{{.*}}: tensor<8xf32>, %{{.*}}: tensor<16x8xf32>)
// CHECK-SAME: {arg = 1 : i64, offset = 64 : i64, shape = array<i64: 8, 4>, strides = array<i64: 8, 2>}
// CHECK-SAME: {arg = 2 : i64, offset = 16 : i64, shape = array<i64: 8>, strides = array<i64: 1>}
// CHECK-SAME: {arg = 3 : i64, offset = 0 : i64, shape = array<i64: 16, 8>, strides = array<i64: 8, 1>}
// CHECK-SAME: type = tensor<24x8xf32>
func.func @nd_pieces(%w: tensor<24x8xf32>) -> (tensor<8x8xf32>, tensor<8x4xf32>, tensor<8xf32>, tensor<16x8xf32>) {
  %q = tensor.extract_slice %w[0, 0] [8, 8] [1, 1] : tensor<24x8xf32> to tensor<8x8xf32>
  %k = tensor.extract_slice %w[8, 0] [8, 4] [1, 2] : tensor<24x8xf32> to tensor<8x4xf32>
  %r = tensor.extract_slice %w[2, 0] [1, 8] [1, 1] : tensor<24x8xf32> to tensor<8xf32>
  %o = tensor.extract_slice %w[0, 0] [16, 8] [1, 1] : tensor<24x8xf32> to tensor<16x8xf32>
  return %q, %k, %r, %o : tensor<8x8xf32>, tensor<8x4xf32>, tensor<8xf32>, tensor<16x8xf32>
}

// -----

// Reshapes fold into the piece while they stay a strided view: a row block
// collapsed and re-expanded does; a strided piece collapsed does not (the
// collapse stays, on the new argument).
// CHECK-LABEL: func.func @reshape_chains
// CHECK-SAME: (%{{.*}}: tensor<4x32xf32>, %[[S:.*]]: tensor<4x4xf32>)
// CHECK-SAME: {arg = 0 : i64, offset = 128 : i64, shape = array<i64: 4, 32>, strides = array<i64: 32, 1>}
// CHECK-SAME: {arg = 1 : i64, offset = 0 : i64, shape = array<i64: 4, 4>, strides = array<i64: 16, 2>}
// CHECK: tensor.collapse_shape %[[S]]
func.func @reshape_chains(%w: tensor<16x16xf32>) -> (tensor<4x32xf32>, tensor<16xf32>) {
  %v = tensor.extract_slice %w[8, 0] [8, 16] [1, 1] : tensor<16x16xf32> to tensor<8x16xf32>
  %flat = tensor.collapse_shape %v [[0, 1]] : tensor<8x16xf32> into tensor<128xf32>
  %m = tensor.expand_shape %flat [[0, 1]] output_shape [4, 32] : tensor<128xf32> into tensor<4x32xf32>
  %s = tensor.extract_slice %w[0, 0] [4, 4] [1, 2] : tensor<16x16xf32> to tensor<4x4xf32>
  %sf = tensor.collapse_shape %s [[0, 1]] : tensor<4x4xf32> into tensor<16xf32>
  return %m, %sf : tensor<4x32xf32>, tensor<16xf32>
}

// -----

// An argument also used whole stays (a remark says why); so does one with a
// dynamic slice; an argument never sliced is left alone silently.
// CHECK-LABEL: func.func @left_alone
// CHECK-SAME: (%{{.*}}: tensor<16x8xf32>, %{{.*}}: tensor<16xf32>, %{{.*}}: index, %{{.*}}: tensor<4xf32>)
// CHECK-NOT: tp.original_arguments
// expected-remark @+2 {{argument #0 is sliced but stays whole: 'func.return' uses it whole}}
// expected-remark @+1 {{argument #1 is sliced but stays whole: a slice of it has dynamic offsets, sizes or strides}}
func.func @left_alone(%w: tensor<16x8xf32>, %v: tensor<16xf32>, %i: index, %u: tensor<4xf32>) -> (tensor<8x8xf32>, tensor<16x8xf32>, tensor<4xf32>, tensor<4xf32>) {
  %q = tensor.extract_slice %w[0, 0] [8, 8] [1, 1] : tensor<16x8xf32> to tensor<8x8xf32>
  %d = tensor.extract_slice %v[%i] [4] [1] : tensor<16xf32> to tensor<4xf32>
  return %q, %w, %d, %u : tensor<8x8xf32>, tensor<16x8xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A function called from elsewhere keeps its signature.
// CHECK-LABEL: func.func private @callee
// CHECK-SAME: (%{{.*}}: tensor<16xf32>) -> tensor<8xf32>
// CHECK-NOT: tp.original_arguments
func.func private @callee(%w: tensor<16xf32>) -> tensor<8xf32> {
  %a = tensor.extract_slice %w[0] [8] [1] : tensor<16xf32> to tensor<8xf32>
  return %a : tensor<8xf32>
}
func.func @caller(%w: tensor<16xf32>) -> tensor<8xf32> {
  %r = func.call @callee(%w) : (tensor<16xf32>) -> tensor<8xf32>
  return %r : tensor<8xf32>
}
