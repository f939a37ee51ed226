// RUN: tp-opt %s -split-input-file -verify-diagnostics
// Verifier errors of the tp ops and the sharding attribute.

func.func @negative_all_gather_wrong_factor(%x: tensor<64x192xf32>) -> tensor<64x576xf32> {
  // expected-error @+1 {{dimension 1 of the result (size 576) must be the group size 4 times that of the operand (size 192)}}
  %g = tp.all_gather %x dim 1 over 4 : tensor<64x192xf32> -> tensor<64x576xf32>
  return %g : tensor<64x576xf32>
}

// -----

func.func @negative_all_gather_other_dim_differs(%x: tensor<64x192xf32>) -> tensor<32x768xf32> {
  // expected-error @+1 {{dimension 0 differs between operand and result (32 vs 64)}}
  %g = tp.all_gather %x dim 1 over 4 : tensor<64x192xf32> -> tensor<32x768xf32>
  return %g : tensor<32x768xf32>
}

// -----

func.func @negative_all_gather_dim_out_of_range(%x: tensor<64x192xf32>) -> tensor<64x192xf32> {
  // expected-error @+1 {{dimension 2 is out of range for a rank-2 tensor}}
  %g = tp.all_gather %x dim 2 over 1 : tensor<64x192xf32> -> tensor<64x192xf32>
  return %g : tensor<64x192xf32>
}

// -----

func.func @negative_reduce_scatter_indivisible(%x: tensor<30x8xf32>) -> tensor<7x8xf32> {
  // expected-error @+1 {{dimension 0 of the operand (size 30) is not divisible by the group size 4}}
  %s = tp.reduce_scatter sum %x dim 0 over 4 : tensor<30x8xf32> -> tensor<7x8xf32>
  return %s : tensor<7x8xf32>
}

// -----

func.func @negative_all_slice_indivisible(%x: tensor<8x30xf32>) -> tensor<8x10xf32> {
  // expected-error @+1 {{dimension 1 of the operand (size 30) is not divisible by the group size 4}}
  %s = tp.all_slice %x dim 1 over 4 : tensor<8x30xf32> -> tensor<8x10xf32>
  return %s : tensor<8x10xf32>
}

// -----

func.func @negative_element_type_mismatch(%x: tensor<8x8xf32>) -> tensor<8x16xf16> {
  // expected-error @+1 {{operand and result element types differ}}
  %g = tp.all_gather %x dim 1 over 2 : tensor<8x8xf32> -> tensor<8x16xf16>
  return %g : tensor<8x16xf16>
}

// -----

func.func @negative_group_size_zero(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{attribute 'group_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %r = tp.all_reduce sum %x over 0 : tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

func.func @negative_buffer_all_reduce_shapes(%a: memref<8xf32>, %b: memref<4xf32>) {
  // expected-error @+1 {{input and output shapes differ}}
  tp.buffer.all_reduce sum %a, %b over 2 : memref<8xf32>, memref<4xf32>
  return
}

// -----

// expected-error @+1 {{expected 'replicated', 'split' or 'partial', got 'diagonal'}}
func.func private @negative_bad_sharding_kind(tensor<4xf32> {tp.sharding = #tp.sharding<diagonal>})

// -----

// expected-error @+1 {{expected 'sum', 'max' or 'min'}}
func.func private @negative_bad_partial_kind(tensor<4xf32> {tp.sharding = #tp.sharding<partial prod>})

// -----

// expected-error @+1 {{a segmented split needs at least two segments}}
func.func private @negative_one_segment(tensor<4xf32> {tp.sharding = #tp.sharding<split 0 segments [4]>})

// -----

// expected-error @+1 {{segment sizes must be positive}}
func.func private @negative_empty_segment(tensor<4xf32> {tp.sharding = #tp.sharding<split 0 segments [4, 0]>})

// -----

// expected-error @+1 {{replicated segments must be increasing indices of segments}}
func.func private @negative_bad_replicated_segment(tensor<4xf32> {tp.sharding = #tp.sharding<split 0 segments [2, 2] replicated [2]>})

// -----

// expected-error @+1 {{a segmented split with every segment replicated is replicated}}
func.func private @negative_all_segments_replicated(tensor<4xf32> {tp.sharding = #tp.sharding<split 0 segments [2, 2] replicated [0, 1]>})

// -----

// expected-error @+1 {{the granule of a split must be positive}}
func.func private @negative_zero_granule(tensor<4xf32> {tp.sharding = #tp.sharding<split 0 granule 0>})

// -----

// 16 * 2^62 wraps to 0 in int64: the check must not overflow.
func.func @negative_all_gather_group_size_overflows(%x: tensor<8x16xf32>) -> tensor<8x0xf32> {
  // expected-error @+1 {{dimension 1 of the result (size 0) must be the group size 4611686018427387904 times that of the operand (size 16)}}
  %r = tp.all_gather %x dim 1 over 4611686018427387904 : tensor<8x16xf32> -> tensor<8x0xf32>
  return %r : tensor<8x0xf32>
}

// -----

// The runtime lowering needs the buffers' shapes and strides.
func.func @negative_buffer_all_reduce_unranked(%a: memref<*xf32>, %b: memref<*xf32>) {
  // expected-error @+1 {{'tp.buffer.all_reduce' op needs ranked buffers}}
  tp.buffer.all_reduce sum %a, %b over 2 : memref<*xf32>, memref<*xf32>
  return
}

// -----

func.func @negative_buffer_all_gather_unranked(%a: memref<*xf32>, %b: memref<8x8xf32>) {
  // expected-error @+1 {{'tp.buffer.all_gather' op needs ranked buffers}}
  tp.buffer.all_gather %a, %b dim 1 over 2 : memref<*xf32>, memref<8x8xf32>
  return
}
