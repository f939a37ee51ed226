// RUN: tp-opt %s -split-input-file --tp-partition="tp-size=2" | FileCheck %s
// Sharding rules of tensor ops and linalg.softmax between annotated layers.

// A column layer's output reshaped to heads keeps the head split; collapsing
// back keeps it for the row layer.
// CHECK-LABEL: func @heads_through_expand_and_collapse
// CHECK: %[[E:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
// CHECK: %[[S:.*]] = linalg.softmax dimension(2) ins(%[[E]] : tensor<4x2x4xf32>)
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[S]] {{\[}}[0], [1, 2]] : tensor<4x2x4xf32> into tensor<4x8xf32>
// CHECK: linalg.matmul ins(%[[C]], %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>)
// CHECK: tp.all_reduce
// CHECK-NOT: tp.all_gather
func.func @heads_through_expand_and_collapse(%x: tensor<4x16xf32>, %w1: tensor<16x16xf32>, %w2: tensor<16x16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w1 : tensor<4x16xf32>, tensor<16x16xf32>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  %heads = tensor.expand_shape %h [[0], [1, 2]] output_shape [4, 4, 4] : tensor<4x16xf32> into tensor<4x4x4xf32>
  %es = tensor.empty() : tensor<4x4x4xf32>
  %sm = linalg.softmax dimension(2) ins(%heads : tensor<4x4x4xf32>) outs(%es : tensor<4x4x4xf32>) -> tensor<4x4x4xf32>
  %flat = tensor.collapse_shape %sm [[0], [1, 2]] : tensor<4x4x4xf32> into tensor<4x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%flat, %w2 : tensor<4x16xf32>, tensor<16x16xf32>) outs(%f2 : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// A slice that takes the split dimension whole keeps the split, and so do a
// concat along another dimension and a pad of an unsplit dimension: the row
// layer after them consumes the split directly.
// CHECK-LABEL: func @slice_concat_pad_keep_split
// CHECK: %[[H:.*]] = linalg.matmul {{.*}} -> tensor<4x8xf32>
// CHECK: %[[S:.*]] = tensor.extract_slice %[[H]][0, 0] [2, 8] [1, 1] : tensor<4x8xf32> to tensor<2x8xf32>
// CHECK: %[[C:.*]] = tensor.concat dim(0) %[[S]], %[[S]] : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[P:.*]] = tensor.pad %[[C]] low[1, 0] high[1, 0]
// CHECK: } : tensor<4x8xf32> to tensor<6x8xf32>
// CHECK: linalg.matmul ins(%[[P]], %{{.*}} : tensor<6x8xf32>, tensor<8x16xf32>)
// CHECK: tp.all_reduce sum
// CHECK-NOT: tp.all_gather
func.func @slice_concat_pad_keep_split(%x: tensor<4x16xf32>, %w1: tensor<16x16xf32>, %w2: tensor<16x16xf32>) -> tensor<6x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w1 : tensor<4x16xf32>, tensor<16x16xf32>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  %s = tensor.extract_slice %h[0, 0] [2, 16] [1, 1] : tensor<4x16xf32> to tensor<2x16xf32>
  %c = tensor.concat dim(0) %s, %s : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<4x16xf32>
  %p = tensor.pad %c low[1, 0] high[1, 0] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<4x16xf32> to tensor<6x16xf32>
  %e6 = tensor.empty() : tensor<6x16xf32>
  %f6 = linalg.fill ins(%zero : f32) outs(%e6 : tensor<6x16xf32>) -> tensor<6x16xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%p, %w2 : tensor<6x16xf32>, tensor<16x16xf32>) outs(%f6 : tensor<6x16xf32>) -> tensor<6x16xf32>
  return %y : tensor<6x16xf32>
}

// -----

// A slice of part of the split dimension (a fused QKV projection cut into
// Q, K, V) makes the column split segmented: every rank holds its slice of
// each segment and takes its part of the slice locally (more in
// partition-segmented.mlir).
// CHECK-LABEL: func @slice_of_split_dim
// CHECK-SAME: tensor<16x12xf32> {tp.global_type = tensor<16x24xf32>, tp.sharding = #tp.sharding<split 1 segments [8, 8, 8]>}
// CHECK: %[[H:.*]] = linalg.matmul {{.*}} -> tensor<4x12xf32>
// CHECK: %[[S:.*]] = tensor.extract_slice %[[H]][0, 4] [4, 4] [1, 1] : tensor<4x12xf32> to tensor<4x4xf32>
// CHECK: tp.all_gather %[[S]] dim 1 over 2 : tensor<4x4xf32> -> tensor<4x8xf32>
func.func @slice_of_split_dim(%x: tensor<4x16xf32>, %w: tensor<16x24xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x24xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x24xf32>) -> tensor<4x24xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<4x16xf32>, tensor<16x24xf32>) outs(%f : tensor<4x24xf32>) -> tensor<4x24xf32>
  %k = tensor.extract_slice %h[0, 8] [4, 8] [1, 1] : tensor<4x24xf32> to tensor<4x8xf32>
  return %k : tensor<4x8xf32>
}

