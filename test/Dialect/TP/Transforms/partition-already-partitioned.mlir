// RUN: tp-opt %s --tp-partition="tp-size=2" | FileCheck %s
// RUN: tp-opt %s -verify-diagnostics --tp-partition="tp-size=4" -o /dev/null
// RUN: tp-opt %s --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s
// A partitioned module partitioned again would get its shardings rewritten
// and keep the collectives of the first partitioning (a wrong result, as
// with tp-run on the partitioned.mlir of --build-dir). At the same tp size
// tp-plan and tp-partition leave it alone; at another they refuse.

// CHECK-LABEL: func.func @column_partitioned_for_two(
// CHECK-SAME: tensor<16x16xf32> {tp.global_type = tensor<16x32xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK: %[[G:.*]] = tp.all_gather %{{.*}} dim 1 over 2 : tensor<8x16xf32> -> tensor<8x32xf32>
// CHECK-NOT: tp.all_gather
// CHECK: return %[[G]]
// expected-error @+1 {{module is already partitioned for tp-size 2 ('tp.size'); tp-partition cannot re-partition it for tp-size 4: run it on the unpartitioned program}}
module attributes {tp.size = 2 : i64} {
  func.func @column_partitioned_for_two(%x: tensor<8x16xf32> {tp.global_type = tensor<8x16xf32>, tp.sharding = #tp.sharding<replicated>}, %w: tensor<16x16xf32> {tp.global_type = tensor<16x32xf32>, tp.sharding = #tp.sharding<split 1>}) -> (tensor<8x32xf32> {tp.global_type = tensor<8x32xf32>, tp.sharding = #tp.sharding<replicated>}) {
    %z = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<8x16xf32>
    %f = linalg.fill ins(%z : f32) outs(%e : tensor<8x16xf32>) -> tensor<8x16xf32>
    %y = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x16xf32>) outs(%f : tensor<8x16xf32>) -> tensor<8x16xf32>
    %g = tp.all_gather %y dim 1 over 2 : tensor<8x16xf32> -> tensor<8x32xf32>
    return %g : tensor<8x32xf32>
  }
}

