// RUN: tp-opt %s -split-input-file --tp-plan="tp-size=2" | FileCheck %s
// RUN: tp-opt %s -split-input-file --tp-plan="tp-size=2 min-weight-fraction=0.0 min-savings-ratio=0.0" | FileCheck %s --check-prefix=NOMIN
// RUN: tp-opt %s -split-input-file --tp-plan="tp-size=2 flops-per-byte=1e12" | FileCheck %s --check-prefix=FREE

// A tiny weight (the 8x2 gate is 0.3% of the largest weight reading the same
// input, below the default min-weight-fraction of 1%) stays replicated, with
// the reason; a user annotation is kept (it wins over the planner).
// CHECK-LABEL: func @small_weight_replicated_user_annotation_wins
// CHECK: linalg.matmul {tp.parallel = "row"} ins(%arg0, %arg1
// CHECK: linalg.matmul {tp.parallel = "replicated", tp.plan_reason = "replicated: its weight is 0.{{[0-9]+}}% of the largest weight reading the same input (below min-weight-fraction 1.00%)"} ins(%arg0, %arg2
// NOMIN-LABEL: func @small_weight_replicated_user_annotation_wins
// NOMIN: linalg.matmul {tp.parallel = "row"} ins(%arg0, %arg1
// NOMIN: linalg.matmul {tp.parallel = "column"
func.func @small_weight_replicated_user_annotation_wins(%x: tensor<4x8xf32>, %w: tensor<8x640xf32>, %gate: tensor<8x2xf32>) -> (tensor<4x640xf32>, tensor<4x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x640xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x640xf32>) -> tensor<4x640xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%x, %w : tensor<4x8xf32>, tensor<8x640xf32>) outs(%f : tensor<4x640xf32>) -> tensor<4x640xf32>
  %e2 = tensor.empty() : tensor<4x2xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %g = linalg.matmul ins(%x, %gate : tensor<4x8xf32>, tensor<8x2xf32>) outs(%f2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y, %g : tensor<4x640xf32>, tensor<4x2xf32>
}

// -----

// An op without a sharding rule in the middle of an MLP: the column layer's
// split would be gathered there, so the planner keeps it replicated (and the
// reason names the op); nothing is computed wrong.
// CHECK-LABEL: func @unknown_op_in_the_way
// CHECK: linalg.matmul {tp.parallel = "replicated", tp.plan_reason = "replicated: a column split would be gathered again at 'func.call'
func.func private @opaque(tensor<4x64xf32>) -> tensor<4x64xf32>
func.func @unknown_op_in_the_way(%x: tensor<4x32xf32>, %w1: tensor<32x64xf32>, %w2: tensor<64x32xf32>) -> tensor<4x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x64xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x64xf32>) -> tensor<4x64xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<4x32xf32>, tensor<32x64xf32>) outs(%f1 : tensor<4x64xf32>) -> tensor<4x64xf32>
  %o = func.call @opaque(%h) : (tensor<4x64xf32>) -> tensor<4x64xf32>
  %e2 = tensor.empty() : tensor<4x32xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x32xf32>) -> tensor<4x32xf32>
  %y = linalg.matmul ins(%o, %w2 : tensor<4x64xf32>, tensor<64x32xf32>) outs(%f2 : tensor<4x32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// Many tokens, narrow layers: splitting the pair would save 1 KiB of weights
// per rank but all-reduce 32 KiB per step, so the cost model keeps both
// layers replicated (and says why); with min-savings-ratio=0 they are split.
// CHECK-LABEL: func @pair_not_worth_splitting
// CHECK: linalg.matmul {tp.parallel = "replicated", tp.plan_reason = "replicated: splitting it saves 1024 bytes of weights and 524288 FLOPs per rank (each rank computes 50.0% of the work) for 32768 bytes moved per step (below min-savings-ratio 1.00)"}
// CHECK: linalg.matmul {tp.parallel = "replicated"
// NOMIN-LABEL: func @pair_not_worth_splitting
// NOMIN: linalg.matmul {tp.parallel = "column"
func.func @pair_not_worth_splitting(%x: tensor<1024x8xf32>, %w1: tensor<8x32xf32>, %w2: tensor<32x8xf32>) -> tensor<1024x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<1024x32xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1024x32xf32>) -> tensor<1024x32xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<1024x8xf32>, tensor<8x32xf32>) outs(%f1 : tensor<1024x32xf32>) -> tensor<1024x32xf32>
  %e2 = tensor.empty() : tensor<1024x8xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1024x8xf32>) -> tensor<1024x8xf32>
  %y = linalg.matmul ins(%h, %w2 : tensor<1024x32xf32>, tensor<32x8xf32>) outs(%f2 : tensor<1024x8xf32>) -> tensor<1024x8xf32>
  return %y : tensor<1024x8xf32>
}

// -----

// Compute balance: a narrow pair over many tokens saves little weight memory
// (128 KiB per rank) for the 2 MiB its all-reduce moves, but takes half of
// its 8.6 GFLOPs off each rank, which the cost model counts
// at flops-per-byte (2000 by default): split. Counting compute as nearly
// free (flops-per-byte=1e12) keeps it replicated.
// CHECK-LABEL: func @compute_makes_it_worth_it
// CHECK: linalg.matmul {tp.parallel = "column", tp.plan_reason = "column: output features split; the split reaches the row layer at {{.*}}; saves 131072 bytes of weights and 4294967296 FLOPs per rank (each rank computes 50.0% of the work) for 2097152 bytes moved per step"}
// CHECK: linalg.matmul {tp.parallel = "row"
// FREE-LABEL: func @compute_makes_it_worth_it
// FREE: linalg.matmul {tp.parallel = "replicated", tp.plan_reason = "replicated: splitting it saves 131072 bytes of weights
func.func @compute_makes_it_worth_it(%x: tensor<65536x8xf32>, %w1: tensor<8x4096xf32>, %w2: tensor<4096x8xf32>) -> tensor<65536x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<65536x4096xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<65536x4096xf32>) -> tensor<65536x4096xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<65536x8xf32>, tensor<8x4096xf32>) outs(%f1 : tensor<65536x4096xf32>) -> tensor<65536x4096xf32>
  %e2 = tensor.empty() : tensor<65536x8xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<65536x8xf32>) -> tensor<65536x8xf32>
  %y = linalg.matmul ins(%h, %w2 : tensor<65536x4096xf32>, tensor<4096x8xf32>) outs(%f2 : tensor<65536x8xf32>) -> tensor<65536x8xf32>
  return %y : tensor<65536x8xf32>
}
