// RUN: tp-opt %s --tp-lower-to-runtime --split-input-file -verify-diagnostics

// The runtime has no dtype for index (whose size is the target's): such a
// collective is refused, never lowered.
func.func @negative_index_elements(%in: memref<4xindex>, %out: memref<4xindex>) {
  // expected-error @+1 {{has an element type the tp runtime does not support (f32, f64, f16, bf16, i32, i64)}}
  tp.buffer.all_reduce sum %in, %out over 2 : memref<4xindex>, memref<4xindex>
  return
}

// -----

func.func @negative_tensor_collective(%t: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{must be bufferized (and tp.all_slice lowered by tp-lower-slices) before tp-lower-to-runtime}}
  %r = tp.all_reduce sum %t over 2 : tensor<4xf32>
  return %r : tensor<4xf32>
}
