// RUN: tp-opt %s --tp-partition="tp-size=4" | FileCheck %s
// Each matmul form frontends emit, annotated column or row, alone in a function.

// CHECK-LABEL: func @column_parallel_static_f32
// CHECK-SAME: tensor<8x16xf32> {tp.global_type = tensor<8x16xf32>, tp.sharding = #tp.sharding<replicated>}
// CHECK-SAME: tensor<16x8xf32> {tp.global_type = tensor<16x32xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK: %[[E:.*]] = tensor.empty() : tensor<8x8xf32>
// CHECK: %[[F:.*]] = linalg.fill {{.*}} outs(%[[E]] : tensor<8x8xf32>)
// CHECK: %[[Y:.*]] = linalg.matmul ins({{.*}} : tensor<8x16xf32>, tensor<16x8xf32>) outs(%[[F]] : tensor<8x8xf32>)
// CHECK: %[[G:.*]] = tp.all_gather %[[Y]] dim 1 over 4 : tensor<8x8xf32> -> tensor<8x32xf32>
// CHECK: return %[[G]]
func.func @column_parallel_static_f32(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// A row layer alone: the activation and the weight are both split along K,
// the result is summed by one all_reduce.
// CHECK-LABEL: func @row_parallel_static_f32
// CHECK-SAME: tensor<8x4xf32> {tp.global_type = tensor<8x16xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK-SAME: tensor<4x32xf32> {tp.global_type = tensor<16x32xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK: %[[Y:.*]] = linalg.matmul ins({{.*}} : tensor<8x4xf32>, tensor<4x32xf32>) outs({{.*}} : tensor<8x32xf32>)
// CHECK: %[[R:.*]] = tp.all_reduce sum %[[Y]] over 4 : tensor<8x32xf32>
// CHECK: return %[[R]]
func.func @row_parallel_static_f32(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// linalg.matmul with indexing_maps reading an [out, in] weight: column splits
// the weight's dimension 0.
// CHECK-LABEL: func @column_parallel_transposed_weight_maps
// CHECK-SAME: tensor<8x16xf32> {tp.global_type = tensor<32x16xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK: linalg.matmul indexing_maps = {{.*}} ins({{.*}} : tensor<8x16xf32>, tensor<8x16xf32>) outs({{.*}} : tensor<8x8xf32>)
// CHECK: tp.all_gather {{.*}} dim 1 over 4 : tensor<8x8xf32> -> tensor<8x32xf32>
func.func @column_parallel_transposed_weight_maps(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : tensor<8x16xf32>, tensor<32x16xf32>) outs(%f : tensor<8x32xf32>) {tp.parallel = "column"} -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// An [out, in] weight transposed by linalg.transpose: the transpose is
// partitioned too, so the weight argument is split along its dimension 0.
// CHECK-LABEL: func @column_parallel_named_transpose
// CHECK-SAME: tensor<8x16xf32> {tp.global_type = tensor<32x16xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK: %[[T:.*]] = linalg.transpose ins(%{{.*}} : tensor<8x16xf32>) outs(%{{.*}} : tensor<16x8xf32>) permutation = [1, 0]
// CHECK: linalg.matmul ins(%{{.*}}, %[[T]] : tensor<8x16xf32>, tensor<16x8xf32>)
func.func @column_parallel_named_transpose(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<16x32xf32>
  %wt = linalg.transpose ins(%w : tensor<32x16xf32>) outs(%et : tensor<16x32xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %wt : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// An [out, in] weight transposed by a linalg.generic, then a row layer.
// CHECK-LABEL: func @row_parallel_generic_transpose
// CHECK-SAME: tensor<32x4xf32> {tp.global_type = tensor<32x16xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK: %[[T:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<32x4xf32>) outs(%{{.*}} : tensor<4x32xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %[[T]] : tensor<8x4xf32>, tensor<4x32xf32>)
// CHECK: tp.all_reduce sum
func.func @row_parallel_generic_transpose(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<16x32xf32>
  %wt = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<32x16xf32>) outs(%et : tensor<16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<16x32xf32>
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%x, %wt : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// CHECK-LABEL: func @column_parallel_batch_matmul
// CHECK-SAME: tensor<4x16x8xf32> {tp.global_type = tensor<4x16x32xf32>, tp.sharding = #tp.sharding<split 2>}
// CHECK: linalg.batch_matmul ins({{.*}} : tensor<4x8x16xf32>, tensor<4x16x8xf32>) outs({{.*}} : tensor<4x8x8xf32>)
// CHECK: tp.all_gather {{.*}} dim 2 over 4 : tensor<4x8x8xf32> -> tensor<4x8x32xf32>
func.func @column_parallel_batch_matmul(%x: tensor<4x8x16xf32>, %w: tensor<4x16x32xf32>) -> tensor<4x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  %y = linalg.batch_matmul {tp.parallel = "column"} ins(%x, %w : tensor<4x8x16xf32>, tensor<4x16x32xf32>) outs(%f : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %y : tensor<4x8x32xf32>
}

// CHECK-LABEL: func @row_parallel_batch_matmul
// CHECK-SAME: tensor<4x8x4xf32> {tp.global_type = tensor<4x8x16xf32>, tp.sharding = #tp.sharding<split 2>}
// CHECK-SAME: tensor<4x4x32xf32> {tp.global_type = tensor<4x16x32xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK: %[[Y:.*]] = linalg.batch_matmul ins({{.*}} : tensor<4x8x4xf32>, tensor<4x4x32xf32>) outs({{.*}} : tensor<4x8x32xf32>)
// CHECK: tp.all_reduce sum %[[Y]] over 4 : tensor<4x8x32xf32>
func.func @row_parallel_batch_matmul(%x: tensor<4x8x16xf32>, %w: tensor<4x16x32xf32>) -> tensor<4x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  %y = linalg.batch_matmul {tp.parallel = "row"} ins(%x, %w : tensor<4x8x16xf32>, tensor<4x16x32xf32>) outs(%f : tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  return %y : tensor<4x8x32xf32>
}

// A contraction written as linalg.generic (x @ w^T with w [out, in]).
// CHECK-LABEL: func @row_parallel_generic_contraction
// CHECK-SAME: tensor<8x4xf32> {tp.global_type = tensor<8x16xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK-SAME: tensor<32x4xf32> {tp.global_type = tensor<32x16xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK: %[[Y:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins({{.*}} : tensor<8x4xf32>, tensor<32x4xf32>) outs({{.*}} : tensor<8x32xf32>)
// CHECK: tp.all_reduce sum %[[Y]]
func.func @row_parallel_generic_contraction(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.generic {tp.parallel = "row", indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<8x16xf32>, tensor<32x16xf32>) outs(%f : tensor<8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// CHECK-LABEL: func @column_parallel_generic_contraction
// CHECK-SAME: tensor<8x16xf32> {tp.global_type = tensor<32x16xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK: linalg.generic {{.*}} ins({{.*}} : tensor<8x16xf32>, tensor<8x16xf32>) outs({{.*}} : tensor<8x8xf32>)
func.func @column_parallel_generic_contraction(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.generic {tp.parallel = "column", indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<8x16xf32>, tensor<32x16xf32>) outs(%f : tensor<8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// A row layer whose accumulator starts at the bias: only rank 0 keeps the
// bias, the others start from zero, so the all_reduce adds it once.
// CHECK-LABEL: func @row_parallel_bias_in_accumulator
// CHECK: %[[RANK:.*]] = tp.rank : index
// CHECK: %[[BIAS:.*]] = linalg.broadcast
// CHECK: %[[ZEROS:.*]] = linalg.fill
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[RANK]], %{{.*}} : index
// CHECK: %[[INIT:.*]] = arith.select %[[FIRST]], %[[BIAS]], %[[ZEROS]] : tensor<8x32xf32>
// CHECK: %[[Y:.*]] = linalg.matmul {{.*}} outs(%[[INIT]] : tensor<8x32xf32>)
// CHECK: tp.all_reduce sum %[[Y]]
func.func @row_parallel_bias_in_accumulator(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  %e = tensor.empty() : tensor<8x32xf32>
  %acc = linalg.broadcast ins(%b : tensor<32xf32>) outs(%e : tensor<8x32xf32>) dimensions = [0]
  %y = linalg.matmul {tp.parallel = "row"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%acc : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// CHECK-LABEL: func @replicated_annotation_keeps_matmul_whole
// CHECK-SAME: tensor<16x32xf32> {tp.global_type = tensor<16x32xf32>, tp.sharding = #tp.sharding<replicated>}
// CHECK-NOT: {{tp\.(all_|reduce_|rank)}}
// CHECK: linalg.matmul ins({{.*}} : tensor<8x16xf32>, tensor<16x32xf32>)
// CHECK-NOT: {{tp\.(all_|reduce_|rank)}}
// CHECK: return
func.func @replicated_annotation_keeps_matmul_whole(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.matmul {tp.parallel = "replicated"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
