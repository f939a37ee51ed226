// uneven=pad: a split that does not divide the tp size is padded to the next
// multiple (10 features over 4 ranks: 3 per rank, 12 in all). The padded
// reduction of a row layer masks the padding rows (global index < 10), a
// gathered result is cut back to its global size, and the function records
// each argument's global type so the runner pads its shard. Without
// uneven=pad the same input is an error that names both policies.
//
// RUN: tp-opt %s --split-input-file --tp-partition="tp-size=4 uneven=pad" | FileCheck %s
// RUN: not tp-opt %s --split-input-file --tp-partition="tp-size=4" 2>&1 | FileCheck %s --check-prefix=ERROR

// CHECK-LABEL: func.func @mlp
// CHECK-SAME: tensor<8x3xf32> {tp.global_type = tensor<8x10xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK-SAME: tensor<3xf32> {tp.global_type = tensor<10xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK-SAME: tensor<3x8xf32> {tp.global_type = tensor<10x8xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK: %[[RANK:.*]] = tp.rank : index
// CHECK: %[[H:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x3xf32>) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK: %[[HB:.*]] = linalg.generic {{.*}} ins(%[[H]], %{{.*}} : tensor<4x3xf32>, tensor<3xf32>)
// CHECK: math.tanh
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[OFF:.*]] = arith.muli %[[RANK]], %[[C3]] : index
// CHECK: %[[C10:.*]] = arith.constant 10 : index
// CHECK: %[[Y:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[HB]], %{{.*}} : tensor<4x3xf32>, tensor<3x8xf32>)
// CHECK: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[OUT:.*]]: f32):
// CHECK: %[[MUL:.*]] = arith.mulf %[[A]], %[[B]]
// CHECK: %[[SUM:.*]] = arith.addf %[[OUT]], %[[MUL]]
// CHECK: %[[K:.*]] = linalg.index 2 : index
// CHECK: %[[G:.*]] = arith.addi %[[K]], %[[OFF]] : index
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[G]], %[[C10]] : index
// CHECK: %[[SEL:.*]] = arith.select %[[IN]], %[[SUM]], %[[OUT]] : f32
// CHECK: linalg.yield %[[SEL]]
// CHECK: %[[R:.*]] = tp.all_reduce sum %[[Y]] over 4 : tensor<4x8xf32>
// CHECK: return %[[R]]
// ERROR: error: 'linalg.matmul' op cannot be partitioned as "column": sharded dimension 1 of operand #1 (size 10) is not divisible by tp-size 4; uneven=pad pads the split, uneven=replicate keeps the op whole
func.func @mlp(%x: tensor<4x8xf32>, %w1: tensor<8x10xf32>, %b1: tensor<10xf32>,
               %w2: tensor<10x8xf32>) -> tensor<4x8xf32> {
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x10xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<4x10xf32>) -> tensor<4x10xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w1 : tensor<4x8xf32>, tensor<8x10xf32>) outs(%f1 : tensor<4x10xf32>) -> tensor<4x10xf32>
  %hb = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                        iterator_types = ["parallel", "parallel"]}
      ins(%h, %b1 : tensor<4x10xf32>, tensor<10xf32>) outs(%e1 : tensor<4x10xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    %t = math.tanh %s : f32
    linalg.yield %t : f32
  } -> tensor<4x10xf32>
  %e2 = tensor.empty() : tensor<4x8xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%hb, %w2 : tensor<4x10xf32>, tensor<10x8xf32>) outs(%f2 : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @column_gathered
// CHECK-SAME: tensor<8x3xf32> {tp.global_type = tensor<8x10xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK: %[[Y:.*]] = linalg.matmul {{.*}} -> tensor<4x3xf32>
// CHECK: %[[G:.*]] = tp.all_gather %[[Y]] dim 1 over 4 : tensor<4x3xf32> -> tensor<4x12xf32>
// CHECK: %[[S:.*]] = tensor.extract_slice %[[G]][0, 0] [4, 10] [1, 1] : tensor<4x12xf32> to tensor<4x10xf32>
// CHECK: return %[[S]] : tensor<4x10xf32>
// ERROR: error: 'linalg.matmul' op cannot be partitioned as "column": sharded dimension 1 of operand #1 (size 10) is not divisible by tp-size 4
func.func @column_gathered(%x: tensor<4x8xf32>, %w: tensor<8x10xf32>) -> tensor<4x10xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x10xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x10xf32>) -> tensor<4x10xf32>
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<4x8xf32>, tensor<8x10xf32>) outs(%f : tensor<4x10xf32>) -> tensor<4x10xf32>
  return %y : tensor<4x10xf32>
}
