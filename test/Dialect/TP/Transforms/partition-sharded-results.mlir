// Results: whole by default (a split result is all_gathered at the return);
// with sharded-results each result keeps the distribution its value has, so
// a column layer's output (or a KV cache, or an updated weight) comes back
// as each rank's shard, with no collective. A partial result is still
// reduced. The result attributes say what each rank returns.
// RUN: tp-opt %s --tp-partition="tp-size=4" | FileCheck %s --check-prefix=WHOLE
// RUN: tp-opt %s --tp-partition="tp-size=4 sharded-results=true" | FileCheck %s --check-prefix=SHARDS
// RUN: tp-opt %s --tp-partition-pipeline="tp-size=4 sharded-results=true" | FileCheck %s --check-prefix=SHARDS

// WHOLE-LABEL: func.func @column_then_row
// WHOLE-SAME: -> (tensor<8x64xf32> {tp.global_type = tensor<8x64xf32>, tp.sharding = #tp.sharding<replicated>}, tensor<8x32xf32> {tp.global_type = tensor<8x32xf32>, tp.sharding = #tp.sharding<replicated>})
// WHOLE-DAG: tp.all_gather %{{.*}} dim 1 over 4 : tensor<8x16xf32> -> tensor<8x64xf32>
// WHOLE-DAG: tp.all_reduce
// WHOLE: return

// SHARDS-LABEL: func.func @column_then_row
// SHARDS-SAME: -> (tensor<8x16xf32> {tp.global_type = tensor<8x64xf32>, tp.sharding = #tp.sharding<split 1>}, tensor<8x32xf32> {tp.global_type = tensor<8x32xf32>, tp.sharding = #tp.sharding<replicated>})
// SHARDS-NOT: tp.all_gather
// SHARDS: tp.all_reduce
// SHARDS-NOT: tp.all_gather
// SHARDS: return
func.func @column_then_row(%x: tensor<8x32xf32>, %w1: tensor<32x64xf32>,
                           %w2: tensor<64x32xf32>)
    -> (tensor<8x64xf32>, tensor<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<8x64xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<8x64xf32>) -> tensor<8x64xf32>
  %h = linalg.matmul {tp.parallel = "column"}
      ins(%x, %w1 : tensor<8x32xf32>, tensor<32x64xf32>)
      outs(%f1 : tensor<8x64xf32>) -> tensor<8x64xf32>
  %e2 = tensor.empty() : tensor<8x32xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.matmul {tp.parallel = "row"}
      ins(%h, %w2 : tensor<8x64xf32>, tensor<64x32xf32>)
      outs(%f2 : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %h, %y : tensor<8x64xf32>, tensor<8x32xf32>
}
