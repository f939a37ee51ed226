// RUN: tp-opt %s --split-input-file --verify-diagnostics

func.func @mixed_element_types(%q: tensor<8x16x8xf32>, %k: tensor<8x16x8xbf16>, %v: tensor<8x16x8xf32>, %o: tensor<8x16x8xf32>) {
  // expected-error @+1 {{operands must have one element type}}
  %ok, %r = tp.attention ins(%q, %k, %v : tensor<8x16x8xf32>, tensor<8x16x8xbf16>, tensor<8x16x8xf32>) outs(%o : tensor<8x16x8xf32>) scale(1.0) -> i1, tensor<8x16x8xf32>
  return
}

// -----

func.func @head_sizes_differ(%q: tensor<8x16x8xf32>, %k: tensor<8x16x4xf32>, %v: tensor<8x16x8xf32>, %o: tensor<8x16x8xf32>) {
  // expected-error @+1 {{query and key head sizes differ (8 vs 4)}}
  %ok, %r = tp.attention ins(%q, %k, %v : tensor<8x16x8xf32>, tensor<8x16x4xf32>, tensor<8x16x8xf32>) outs(%o : tensor<8x16x8xf32>) scale(1.0) -> i1, tensor<8x16x8xf32>
  return
}

// -----

func.func @bad_mask_shape(%q: tensor<8x16x8xf32>, %k: tensor<8x16x8xf32>, %v: tensor<8x16x8xf32>, %m: tensor<16x8xf32>, %o: tensor<8x16x8xf32>) {
  // expected-error @+1 {{mask must be [batch, query length, key length] or [query length, key length]}}
  %ok, %r = tp.attention ins(%q, %k, %v : tensor<8x16x8xf32>, tensor<8x16x8xf32>, tensor<8x16x8xf32>) mask(%m : tensor<16x8xf32>) outs(%o : tensor<8x16x8xf32>) scale(1.0) -> i1, tensor<8x16x8xf32>
  return
}

// -----

func.func @memref_with_result(%q: memref<8x16x8xf32>, %o: memref<8x16x8xf32>) {
  // expected-error @+1 {{on memrefs returns only whether it ran}}
  %ok, %r = tp.attention ins(%q, %q, %q : memref<8x16x8xf32>, memref<8x16x8xf32>, memref<8x16x8xf32>) outs(%o : memref<8x16x8xf32>) scale(1.0) -> i1, tensor<8x16x8xf32>
  return
}

// -----

func.func @value_length_differs(%q: tensor<8x16x8xf32>, %k: tensor<8x16x8xf32>, %v: tensor<8x12x8xf32>, %o: tensor<8x16x8xf32>) {
  // expected-error @+1 {{key and value lengths differ (16 vs 12)}}
  %ok, %r = tp.attention ins(%q, %k, %v : tensor<8x16x8xf32>, tensor<8x16x8xf32>, tensor<8x12x8xf32>) outs(%o : tensor<8x16x8xf32>) scale(1.0) -> i1, tensor<8x16x8xf32>
  return
}
