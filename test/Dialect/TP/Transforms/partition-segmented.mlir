// RUN: tp-opt %s -split-input-file --tp-partition="tp-size=2" | FileCheck %s
// RUN: tp-opt %s -split-input-file --tp-partition="tp-size=3 uneven=replicate" 2>/dev/null | FileCheck %s --check-prefix=TP3
// Segmented splits: a column layer whose output is cut by extract_slices
// (a fused QKV projection) splits every segment, so each rank holds its
// slice of Q, K and V and the slices are local.

#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>

// Weight and bias are segmented like the output; each slice takes this
// rank's quarter of the segment, and the pair costs one all_reduce.
// CHECK-LABEL: func.func @fused_projection
// CHECK-SAME: tensor<16x12xf32> {tp.global_type = tensor<16x24xf32>, tp.sharding = #tp.sharding<split 1 segments [8, 8, 8]>}
// CHECK-SAME: tensor<12xf32> {tp.global_type = tensor<24xf32>, tp.sharding = #tp.sharding<split 0 segments [8, 8, 8]>}
// CHECK-SAME: tensor<4x16xf32> {tp.global_type = tensor<8x16xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK: %[[H:.*]] = linalg.matmul {{.*}} -> tensor<4x12xf32>
// CHECK: %[[HB:.*]] = linalg.generic {{.*}} ins(%[[H]], %{{.*}} : tensor<4x12xf32>, tensor<12xf32>)
// CHECK: %[[Q:.*]] = tensor.extract_slice %[[HB]][0, 0] [4, 4] [1, 1] : tensor<4x12xf32> to tensor<4x4xf32>
// CHECK: %[[K:.*]] = tensor.extract_slice %[[HB]][0, 4] [4, 4] [1, 1] : tensor<4x12xf32> to tensor<4x4xf32>
// CHECK: %[[V:.*]] = tensor.extract_slice %[[HB]][0, 8] [4, 4] [1, 1] : tensor<4x12xf32> to tensor<4x4xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x16xf32>)
// CHECK-NEXT: tp.all_reduce sum
// CHECK-NOT: tp.all_gather
// CHECK: return

// At tp-size 3 the segments (8) do not divide: the plain column split does,
// and the slices gather it (the row layer, 8 rows, stays whole).
// TP3-LABEL: func.func @fused_projection
// TP3-SAME: tensor<16x8xf32> {tp.global_type = tensor<16x24xf32>, tp.sharding = #tp.sharding<split 1>}
// TP3: tp.all_gather %{{.*}} dim 1 over 3 : tensor<4x8xf32> -> tensor<4x24xf32>
func.func @fused_projection(%x: tensor<4x16xf32>, %w: tensor<16x24xf32>, %b: tensor<24xf32>, %wo: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x24xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x24xf32>) -> tensor<4x24xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<4x16xf32>, tensor<16x24xf32>) outs(%f : tensor<4x24xf32>) -> tensor<4x24xf32>
  %hb = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%h, %b : tensor<4x24xf32>, tensor<24xf32>) outs(%e : tensor<4x24xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<4x24xf32>
  %q = tensor.extract_slice %hb[0, 0] [4, 8] [1, 1] : tensor<4x24xf32> to tensor<4x8xf32>
  %k = tensor.extract_slice %hb[0, 8] [4, 8] [1, 1] : tensor<4x24xf32> to tensor<4x8xf32>
  %v = tensor.extract_slice %hb[0, 16] [4, 8] [1, 1] : tensor<4x24xf32> to tensor<4x8xf32>
  %qk = arith.mulf %q, %k : tensor<4x8xf32>
  %qkv = arith.addf %qk, %v : tensor<4x8xf32>
  %e2 = tensor.empty() : tensor<4x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%qkv, %wo : tensor<4x8xf32>, tensor<8x16xf32>) outs(%f2 : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// The whole fused output is also returned: it is gathered and its slices put
// back in segment order ([r0: q k v | r1: q k v] -> [q0 q1 | k0 k1 | v0 v1]).
// A slice of two segments (K and V) stays segmented.
// CHECK-LABEL: func.func @whole_value_too
// CHECK: %[[H:.*]] = linalg.matmul {{.*}} -> tensor<4x12xf32>
// CHECK: tensor.extract_slice %[[H]][0, 4] [4, 8] [1, 1] : tensor<4x12xf32> to tensor<4x8xf32>
// CHECK: %[[G:.*]] = tp.all_gather %[[H]] dim 1 over 2 : tensor<4x12xf32> -> tensor<4x24xf32>
// CHECK-DAG: %[[Q0:.*]] = tensor.extract_slice %[[G]][0, 0] [4, 4]
// CHECK-DAG: %[[Q1:.*]] = tensor.extract_slice %[[G]][0, 12] [4, 4]
// CHECK-DAG: %[[K0:.*]] = tensor.extract_slice %[[G]][0, 4] [4, 4]
// CHECK-DAG: %[[K1:.*]] = tensor.extract_slice %[[G]][0, 16] [4, 4]
// CHECK-DAG: %[[V0:.*]] = tensor.extract_slice %[[G]][0, 8] [4, 4]
// CHECK-DAG: %[[V1:.*]] = tensor.extract_slice %[[G]][0, 20] [4, 4]
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[Q0]] into %{{.*}}[0, 0] [4, 4]
// CHECK: %[[I1:.*]] = tensor.insert_slice %[[Q1]] into %[[I0]][0, 4] [4, 4]
// CHECK: %[[I2:.*]] = tensor.insert_slice %[[K0]] into %[[I1]][0, 8] [4, 4]
// CHECK: %[[I3:.*]] = tensor.insert_slice %[[K1]] into %[[I2]][0, 12] [4, 4]
// CHECK: %[[I4:.*]] = tensor.insert_slice %[[V0]] into %[[I3]][0, 16] [4, 4]
// CHECK: %[[I5:.*]] = tensor.insert_slice %[[V1]] into %[[I4]][0, 20] [4, 4]
// CHECK: return %{{.*}}, %[[I5]]
func.func @whole_value_too(%x: tensor<4x16xf32>, %w: tensor<16x24xf32>) -> (tensor<4x8xf32>, tensor<4x24xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x24xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x24xf32>) -> tensor<4x24xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<4x16xf32>, tensor<16x24xf32>) outs(%f : tensor<4x24xf32>) -> tensor<4x24xf32>
  %kv = tensor.extract_slice %h[0, 8] [4, 16] [1, 1] : tensor<4x24xf32> to tensor<4x16xf32>
  %k = tensor.extract_slice %h[0, 8] [4, 8] [1, 1] : tensor<4x24xf32> to tensor<4x8xf32>
  %r = math.tanh %k : tensor<4x8xf32>
  return %r, %h : tensor<4x8xf32>, tensor<4x24xf32>
}

// -----

// The weight comes from an op without a sharding rule (replicated): each
// rank slices its part of every segment.
// CHECK-LABEL: func.func @weight_from_unknown_op
// CHECK: %[[W:.*]] = tensor.insert_slice
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[W]][0, 0] [16, 8] [1, 1]
// CHECK: %[[A0:.*]] = tp.all_slice %[[S0]] dim 1 over 2 : tensor<16x8xf32> -> tensor<16x4xf32>
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[W]][0, 8] [16, 8] [1, 1]
// CHECK: %[[A1:.*]] = tp.all_slice %[[S1]] dim 1 over 2
// CHECK: %[[S2:.*]] = tensor.extract_slice %[[W]][0, 16] [16, 8] [1, 1]
// CHECK: %[[A2:.*]] = tp.all_slice %[[S2]] dim 1 over 2
// CHECK: %[[L0:.*]] = tensor.insert_slice %[[A0]] into %{{.*}}[0, 0] [16, 4]
// CHECK: %[[L1:.*]] = tensor.insert_slice %[[A1]] into %[[L0]][0, 4] [16, 4]
// CHECK: %[[L2:.*]] = tensor.insert_slice %[[A2]] into %[[L1]][0, 8] [16, 4]
// CHECK: linalg.matmul ins(%{{.*}}, %[[L2]] : tensor<4x16xf32>, tensor<16x12xf32>)
func.func @weight_from_unknown_op(%x: tensor<4x16xf32>, %part: tensor<16x8xf32>, %w: tensor<16x24xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %wp = tensor.insert_slice %part into %w[0, 0] [16, 8] [1, 1] : tensor<16x8xf32> into tensor<16x24xf32>
  %e = tensor.empty() : tensor<4x24xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x24xf32>) -> tensor<4x24xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %wp : tensor<4x16xf32>, tensor<16x24xf32>) outs(%f : tensor<4x24xf32>) -> tensor<4x24xf32>
  %k = tensor.extract_slice %h[0, 8] [4, 8] [1, 1] : tensor<4x24xf32> to tensor<4x8xf32>
  return %k : tensor<4x8xf32>
}

// -----

// tp.result_sharding picks a column form with segments 1 and 2 (K, V) held
// whole by every rank: the weight is sliced per segment, the slices of K and
// V are whole, and gathering the output takes them from rank 0's part.
// CHECK-LABEL: func.func @replicated_segments
// CHECK-NOT: tp.result_sharding
// CHECK: %[[W:.*]] = tensor.insert_slice
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[W]][0, 0] [16, 12] [1, 1]
// CHECK: %[[A0:.*]] = tp.all_slice %[[S0]] dim 1 over 2 : tensor<16x12xf32> -> tensor<16x6xf32>
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[W]][0, 12] [16, 4] [1, 1]
// CHECK: %[[S2:.*]] = tensor.extract_slice %[[W]][0, 16] [16, 4] [1, 1]
// CHECK: %[[L0:.*]] = tensor.insert_slice %[[A0]] into %{{.*}}[0, 0] [16, 6]
// CHECK: %[[L1:.*]] = tensor.insert_slice %[[S1]] into %[[L0]][0, 6] [16, 4]
// CHECK: %[[L2:.*]] = tensor.insert_slice %[[S2]] into %[[L1]][0, 10] [16, 4]
// CHECK: %[[H:.*]] = linalg.matmul ins(%{{.*}}, %[[L2]] : tensor<4x16xf32>, tensor<16x14xf32>)
// CHECK: %[[K:.*]] = tensor.extract_slice %[[H]][0, 6] [4, 4] [1, 1]
// CHECK: %[[V:.*]] = tensor.extract_slice %[[H]][0, 10] [4, 4] [1, 1]
// CHECK: %[[KV:.*]] = arith.addf %[[K]], %[[V]] : tensor<4x4xf32>
// CHECK: %[[G:.*]] = tp.all_gather %[[H]] dim 1 over 2 : tensor<4x14xf32> -> tensor<4x28xf32>
// CHECK-DAG: %[[Q0:.*]] = tensor.extract_slice %[[G]][0, 0] [4, 6]
// CHECK-DAG: %[[Q1:.*]] = tensor.extract_slice %[[G]][0, 14] [4, 6]
// CHECK-DAG: %[[K0:.*]] = tensor.extract_slice %[[G]][0, 6] [4, 4]
// CHECK-DAG: %[[V0:.*]] = tensor.extract_slice %[[G]][0, 10] [4, 4]
// CHECK: tensor.insert_slice %[[Q0]] into %{{.*}}[0, 0] [4, 6]
// CHECK: tensor.insert_slice %[[Q1]] into %{{.*}}[0, 6] [4, 6]
// CHECK: tensor.insert_slice %[[K0]] into %{{.*}}[0, 12] [4, 4]
// CHECK: %[[R:.*]] = tensor.insert_slice %[[V0]] into %{{.*}}[0, 16] [4, 4]
// CHECK: return %[[KV]], %[[R]]

// At tp-size 3 the same form holds a third of Q (12 / 3) and all of K and V.
// TP3-LABEL: func.func @replicated_segments
// TP3: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x16xf32>, tensor<16x12xf32>)
func.func @replicated_segments(%x: tensor<4x16xf32>, %part: tensor<16x8xf32>, %w: tensor<16x20xf32>) -> (tensor<4x4xf32>, tensor<4x20xf32>) {
  %zero = arith.constant 0.0 : f32
  %wp = tensor.insert_slice %part into %w[0, 0] [16, 8] [1, 1] : tensor<16x8xf32> into tensor<16x20xf32>
  %e = tensor.empty() : tensor<4x20xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x20xf32>) -> tensor<4x20xf32>
  %h = linalg.matmul {tp.parallel = "column", tp.result_sharding = #tp.sharding<split 1 segments [12, 4, 4] replicated [1, 2]>} ins(%x, %wp : tensor<4x16xf32>, tensor<16x20xf32>) outs(%f : tensor<4x20xf32>) -> tensor<4x20xf32>
  %q = tensor.extract_slice %h[0, 0] [4, 12] [1, 1] : tensor<4x20xf32> to tensor<4x12xf32>
  %k = tensor.extract_slice %h[0, 12] [4, 4] [1, 1] : tensor<4x20xf32> to tensor<4x4xf32>
  %v = tensor.extract_slice %h[0, 16] [4, 4] [1, 1] : tensor<4x20xf32> to tensor<4x4xf32>
  %kv = arith.addf %k, %v : tensor<4x4xf32>
  return %kv, %h : tensor<4x4xf32>, tensor<4x20xf32>
}
