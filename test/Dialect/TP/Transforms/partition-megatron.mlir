// RUN: tp-opt %s --tp-partition="tp-size=2" | FileCheck %s
// Megatron's pairing and the collectives between layers.

#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
#row = affine_map<(d0, d1) -> (d0)>

// column -> elementwise -> row: the split activation feeds the row layer
// directly; exactly one all_reduce and nothing else.
// CHECK-LABEL: func @column_elementwise_row_one_all_reduce
// CHECK-NOT: tp.all_gather
// CHECK-NOT: tp.all_slice
// CHECK: linalg.matmul ins({{.*}} : tensor<4x8xf32>, tensor<8x8xf32>) outs({{.*}} : tensor<4x8xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x8xf32>) outs(%{{.*}} : tensor<4x8xf32>)
// CHECK: %[[Y:.*]] = linalg.matmul ins({{.*}} : tensor<4x8xf32>, tensor<8x8xf32>) outs({{.*}} : tensor<4x8xf32>)
// CHECK: %[[R:.*]] = tp.all_reduce sum %[[Y]] over 2 : tensor<4x8xf32>
// CHECK-NOT: tp.all
// CHECK: return %[[R]]
func.func @column_elementwise_row_one_all_reduce(%x: tensor<4x8xf32>, %w1: tensor<8x16xf32>, %w2: tensor<16x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x16xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w1 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%h : tensor<4x16xf32>) outs(%e1 : tensor<4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x16xf32>
  %e2 = tensor.empty() : tensor<4x8xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%r, %w2 : tensor<4x16xf32>, tensor<16x8xf32>) outs(%f2 : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// A column layer's bias is sliced like the layer's output features; a row
// layer's bias is added once, to the reduced value.
// CHECK-LABEL: func @biases_column_sliced_row_after_reduction
// CHECK-SAME: %[[B1:[a-z0-9]+]]: tensor<8xf32> {tp.global_type = tensor<16xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK-SAME: %[[B2:[a-z0-9]+]]: tensor<8xf32> {tp.global_type = tensor<8xf32>, tp.sharding = #tp.sharding<replicated>}
// CHECK: %[[H:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}} ins(%[[H]], %[[B1]] : tensor<4x8xf32>, tensor<8xf32>)
// CHECK: %[[Y:.*]] = linalg.matmul
// CHECK: %[[R:.*]] = tp.all_reduce sum %[[Y]]
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[R]], %[[B2]] : tensor<4x8xf32>, tensor<8xf32>)
// CHECK: return %[[OUT]]
func.func @biases_column_sliced_row_after_reduction(%x: tensor<4x8xf32>, %w1: tensor<8x16xf32>, %b1: tensor<16xf32>,
                                                     %w2: tensor<16x8xf32>, %b2: tensor<8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x16xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w1 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %hb = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%h, %b1 : tensor<4x16xf32>, tensor<16xf32>) outs(%e1 : tensor<4x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  %e2 = tensor.empty() : tensor<4x8xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%hb, %w2 : tensor<4x16xf32>, tensor<16x8xf32>) outs(%f2 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %yb = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%y, %b2 : tensor<4x8xf32>, tensor<8xf32>) outs(%e2 : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %yb : tensor<4x8xf32>
}

// A column layer whose consumer needs the whole tensor (here an external call)
// is gathered once before it.
// CHECK-LABEL: func @column_consumer_needs_full_tensor
// CHECK: %[[H:.*]] = linalg.matmul {{.*}} -> tensor<4x8xf32>
// CHECK: %[[G:.*]] = tp.all_gather %[[H]] dim 1 over 2 : tensor<4x8xf32> -> tensor<4x16xf32>
// CHECK: call @consume(%[[G]])
// CHECK-NOT: tp.all_gather
// CHECK: return %[[G]]
func.func private @consume(tensor<4x16xf32>) -> ()
func.func @column_consumer_needs_full_tensor(%x: tensor<4x8xf32>, %w1: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x16xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w1 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  func.call @consume(%h) : (tensor<4x16xf32>) -> ()
  return %h : tensor<4x16xf32>
}

// A sum over the split feature dimension stays local and leaves a partial
// value; only the small reduced tensor is all-reduced, and its initial value
// (not zero here) is kept on rank 0 only.
// CHECK-LABEL: func @reduction_over_split_dim_is_partial
// CHECK: %[[H:.*]] = linalg.matmul {{.*}} -> tensor<4x8xf32>
// CHECK: %[[S:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[H]] : tensor<4x8xf32>) outs(%{{.*}} : tensor<4xf32>)
// CHECK: tp.all_reduce sum %[[S]] over 2 : tensor<4xf32>
// CHECK-NOT: tp.all_gather
func.func @reduction_over_split_dim_is_partial(%x: tensor<4x8xf32>, %w1: tensor<8x16xf32>) -> tensor<4xf32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %e1 = tensor.empty() : tensor<4x16xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w1 : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f1 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %e2 = tensor.empty() : tensor<4xf32>
  %f2 = linalg.fill ins(%one : f32) outs(%e2 : tensor<4xf32>) -> tensor<4xf32>
  %s = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%h : tensor<4x16xf32>) outs(%f2 : tensor<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %r = arith.addf %sq, %acc : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %s : tensor<4xf32>
}
