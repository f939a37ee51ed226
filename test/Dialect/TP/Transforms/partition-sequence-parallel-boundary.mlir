// Sequence parallelism at a training step's boundary (--sharded-results):
// the step's activations come and go as token shards, as between Megatron-SP
// blocks. An MLP block step (the forward, the backward and SGD, as
// scripts/gen_training.py --block mlp writes it, nothing annotated) takes x
// and the upstream gradient g as [T/p, E] token shards, gathers each once
// (before the column layer; the backward's weight gradients read the same
// gathered copies), and returns y and dL/dx reduce-scattered over the tokens:
// two reduce_scatter/all_gather pairs for Megatron's two all_reduces, the
// same bytes on the wire.
//
// RUN: tp-opt %s --tp-plan="tp-size=2" --tp-partition="tp-size=2 sharded-results=true sequence-parallel=true" | FileCheck %s --check-prefixes=SP,SP2
// RUN: tp-opt %s --tp-plan="tp-size=4" --tp-partition="tp-size=4 sharded-results=true sequence-parallel=true" | FileCheck %s --check-prefixes=SP,SP4
// SP-LABEL: func.func @gpt2_mlp_sgd_step
// SP2-SAME: %arg0: tensor<4x8xf32> {tp.global_type = tensor<8x8xf32>, tp.sharding = #tp.sharding<split 0>}
// SP2-SAME: %arg5: tensor<4x8xf32> {tp.global_type = tensor<8x8xf32>, tp.sharding = #tp.sharding<split 0>}
// SP2-SAME: -> (tensor<4x8xf32> {tp.global_type = tensor<8x8xf32>, tp.sharding = #tp.sharding<split 0>}, tensor<4x8xf32> {tp.global_type = tensor<8x8xf32>, tp.sharding = #tp.sharding<split 0>}
// SP4-SAME: %arg0: tensor<2x8xf32> {tp.global_type = tensor<8x8xf32>, tp.sharding = #tp.sharding<split 0>}
// SP4-SAME: -> (tensor<2x8xf32> {{.*}}<split 0>}, tensor<2x8xf32> {{.*}}<split 0>}
// SP-NOT: tp.all_reduce
// SP: tp.all_gather %arg0 dim 0
// SP-NOT: tp.all_reduce
// SP: tp.reduce_scatter sum %{{.*}} dim 0
// SP-NOT: tp.all_reduce
// SP: tp.all_gather %arg5 dim 0
// SP-NOT: tp.all_reduce
// SP: tp.reduce_scatter sum %{{.*}} dim 0
// SP-NOT: tp.all_reduce
// SP-NOT: tp.all_gather
// SP-NOT: tp.reduce_scatter
// SP: return
//
// The same bytes as Megatron's all_reduces (the report's traffic, both
// plans printed one after the other).
// RUN: tp-opt %s --tp-plan="tp-size=4" --tp-partition="tp-size=4 sharded-results=true report=-" -o /dev/null > %t.ar
// RUN: tp-opt %s --tp-plan="tp-size=4" --tp-partition="tp-size=4 sharded-results=true sequence-parallel=true report=-" -o /dev/null > %t.sp
// RUN: cat %t.ar %t.sp | FileCheck %s --check-prefix=BYTES
// BYTES: total traffic per rank per step: [[BYTES:[0-9.]+ (K|M)?i?B]] in 2 collective(s)
// BYTES: total traffic per rank per step: [[BYTES]] in 4 collective(s)
//
// Results whole: y's bias add still runs on token shards (a pair), dL/dx is
// all-reduced for the return (it has no token-wise user), and the updated
// weights are gathered.
// RUN: tp-opt %s --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true" | FileCheck %s --check-prefix=WHOLE
// WHOLE-LABEL: func.func @gpt2_mlp_sgd_step
// WHOLE-SAME: %arg0: tensor<8x8xf32>
// WHOLE: tp.reduce_scatter sum %{{.*}} dim 0 over 4 : tensor<8x8xf32>
// WHOLE: tp.all_gather %{{.*}} dim 0 over 4 : tensor<2x8xf32> -> tensor<8x8xf32>
// WHOLE-NEXT: tp.all_reduce sum %{{.*}} over 4 : tensor<8x8xf32>
// WHOLE: return

module {
  func.func @gpt2_mlp_sgd_step(
      %x: tensor<8x8xf32>,
      %w1: tensor<8x32xf32>,
      %b1: tensor<32xf32>,
      %w2: tensor<32x8xf32>,
      %b2: tensor<8xf32>,
      %g: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x32xf32>, tensor<32xf32>, tensor<32x8xf32>, tensor<8xf32>) {
    %e1 = tensor.empty() : tensor<8x32xf32>
    %c2 = arith.constant 0.000000000e+00 : f32
    %f3 = linalg.fill ins(%c2 : f32) outs(%e1 : tensor<8x32xf32>) -> tensor<8x32xf32>
    %mm4 = linalg.matmul ins(%x, %w1 : tensor<8x8xf32>, tensor<8x32xf32>) outs(%f3 : tensor<8x32xf32>) -> tensor<8x32xf32>
    %e5 = tensor.empty() : tensor<8x32xf32>
    %g6 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm4, %b1 : tensor<8x32xf32>, tensor<32xf32>) outs(%e5 : tensor<8x32xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %_s = arith.addf %a0, %a1 : f32
      linalg.yield %_s : f32
    } -> tensor<8x32xf32>
    %c7 = arith.constant 4.471500000e-02 : f32
    %c8 = arith.constant 7.978845608e-01 : f32
    %c9 = arith.constant 5.000000000e-01 : f32
    %c10 = arith.constant 1.000000000e+00 : f32
    %e11 = tensor.empty() : tensor<8x32xf32>
    %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g6 : tensor<8x32xf32>) outs(%e11 : tensor<8x32xf32>) {
    ^bb0(%a0: f32, %o: f32):
      %_v2 = arith.mulf %a0, %a0 : f32
      %_v3 = arith.mulf %_v2, %a0 : f32
      %_t0 = arith.mulf %_v3, %c7 : f32
      %_t1 = arith.addf %a0, %_t0 : f32
      %_t2 = arith.mulf %_t1, %c8 : f32
      %_t3 = math.tanh %_t2 : f32
      %_t4 = arith.addf %_t3, %c10 : f32
      %_t5 = arith.mulf %a0, %c9 : f32
      %_r = arith.mulf %_t5, %_t4 : f32
      linalg.yield %_r : f32
    } -> tensor<8x32xf32>
    %e13 = tensor.empty() : tensor<8x8xf32>
    %c14 = arith.constant 0.000000000e+00 : f32
    %f15 = linalg.fill ins(%c14 : f32) outs(%e13 : tensor<8x8xf32>) -> tensor<8x8xf32>
    %mm16 = linalg.matmul ins(%g12, %w2 : tensor<8x32xf32>, tensor<32x8xf32>) outs(%f15 : tensor<8x8xf32>) -> tensor<8x8xf32>
    %e17 = tensor.empty() : tensor<8x8xf32>
    %g18 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm16, %b2 : tensor<8x8xf32>, tensor<8xf32>) outs(%e17 : tensor<8x8xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %_s = arith.addf %a0, %a1 : f32
      linalg.yield %_s : f32
    } -> tensor<8x8xf32>
    %e19 = tensor.empty() : tensor<8xf32>
    %c20 = arith.constant 0.000000000e+00 : f32
    %f21 = linalg.fill ins(%c20 : f32) outs(%e19 : tensor<8xf32>) -> tensor<8xf32>
    %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]} ins(%g : tensor<8x8xf32>) outs(%f21 : tensor<8xf32>) {
    ^bb0(%a0: f32, %o: f32):
      %_s = arith.addf %a0, %o : f32
      linalg.yield %_s : f32
    } -> tensor<8xf32>
    %e23 = tensor.empty() : tensor<32x8xf32>
    %g24 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g12 : tensor<8x32xf32>) outs(%e23 : tensor<32x8xf32>) {
    ^bb0(%a0: f32, %o: f32):
      linalg.yield %a0 : f32
    } -> tensor<32x8xf32>
    %e25 = tensor.empty() : tensor<32x8xf32>
    %c26 = arith.constant 0.000000000e+00 : f32
    %f27 = linalg.fill ins(%c26 : f32) outs(%e25 : tensor<32x8xf32>) -> tensor<32x8xf32>
    %mm28 = linalg.matmul ins(%g24, %g : tensor<32x8xf32>, tensor<8x8xf32>) outs(%f27 : tensor<32x8xf32>) -> tensor<32x8xf32>
    %e29 = tensor.empty() : tensor<8x32xf32>
    %g30 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w2 : tensor<32x8xf32>) outs(%e29 : tensor<8x32xf32>) {
    ^bb0(%a0: f32, %o: f32):
      linalg.yield %a0 : f32
    } -> tensor<8x32xf32>
    %e31 = tensor.empty() : tensor<8x32xf32>
    %c32 = arith.constant 0.000000000e+00 : f32
    %f33 = linalg.fill ins(%c32 : f32) outs(%e31 : tensor<8x32xf32>) -> tensor<8x32xf32>
    %mm34 = linalg.matmul ins(%g, %g30 : tensor<8x8xf32>, tensor<8x32xf32>) outs(%f33 : tensor<8x32xf32>) -> tensor<8x32xf32>
    %c35 = arith.constant 3.000000000e+00 : f32
    %e36 = tensor.empty() : tensor<8x32xf32>
    %g37 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm34, %g6 : tensor<8x32xf32>, tensor<8x32xf32>) outs(%e36 : tensor<8x32xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %_v2 = arith.mulf %a1, %a1 : f32
      %_v3 = arith.mulf %_v2, %a1 : f32
      %_t0 = arith.mulf %_v3, %c7 : f32
      %_t1 = arith.addf %a1, %_t0 : f32
      %_t2 = arith.mulf %_t1, %c8 : f32
      %_t = math.tanh %_t2 : f32
      %_u0 = arith.addf %_t, %c10 : f32
      %_u1 = arith.mulf %_u0, %c9 : f32
      %_tt = arith.mulf %_t, %_t : f32
      %_b0 = arith.subf %c10, %_tt : f32
      %_q0 = arith.mulf %_v2, %c7 : f32
      %_q1 = arith.mulf %_q0, %c35 : f32
      %_q2 = arith.addf %_q1, %c10 : f32
      %_q3 = arith.mulf %_q2, %c8 : f32
      %_b1 = arith.mulf %_b0, %_q3 : f32
      %_b2 = arith.mulf %_b1, %a1 : f32
      %_b3 = arith.mulf %_b2, %c9 : f32
      %_d = arith.addf %_u1, %_b3 : f32
      %_r = arith.mulf %_d, %a0 : f32
      linalg.yield %_r : f32
    } -> tensor<8x32xf32>
    %e38 = tensor.empty() : tensor<32xf32>
    %c39 = arith.constant 0.000000000e+00 : f32
    %f40 = linalg.fill ins(%c39 : f32) outs(%e38 : tensor<32xf32>) -> tensor<32xf32>
    %g41 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]} ins(%g37 : tensor<8x32xf32>) outs(%f40 : tensor<32xf32>) {
    ^bb0(%a0: f32, %o: f32):
      %_s = arith.addf %a0, %o : f32
      linalg.yield %_s : f32
    } -> tensor<32xf32>
    %e42 = tensor.empty() : tensor<8x8xf32>
    %g43 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<8x8xf32>) outs(%e42 : tensor<8x8xf32>) {
    ^bb0(%a0: f32, %o: f32):
      linalg.yield %a0 : f32
    } -> tensor<8x8xf32>
    %e44 = tensor.empty() : tensor<8x32xf32>
    %c45 = arith.constant 0.000000000e+00 : f32
    %f46 = linalg.fill ins(%c45 : f32) outs(%e44 : tensor<8x32xf32>) -> tensor<8x32xf32>
    %mm47 = linalg.matmul ins(%g43, %g37 : tensor<8x8xf32>, tensor<8x32xf32>) outs(%f46 : tensor<8x32xf32>) -> tensor<8x32xf32>
    %e48 = tensor.empty() : tensor<32x8xf32>
    %g49 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w1 : tensor<8x32xf32>) outs(%e48 : tensor<32x8xf32>) {
    ^bb0(%a0: f32, %o: f32):
      linalg.yield %a0 : f32
    } -> tensor<32x8xf32>
    %e50 = tensor.empty() : tensor<8x8xf32>
    %c51 = arith.constant 0.000000000e+00 : f32
    %f52 = linalg.fill ins(%c51 : f32) outs(%e50 : tensor<8x8xf32>) -> tensor<8x8xf32>
    %mm53 = linalg.matmul ins(%g37, %g49 : tensor<8x32xf32>, tensor<32x8xf32>) outs(%f52 : tensor<8x8xf32>) -> tensor<8x8xf32>
    %c54 = arith.constant 1.000000000e-02 : f32
    %e55 = tensor.empty() : tensor<8x32xf32>
    %g56 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w1, %mm47 : tensor<8x32xf32>, tensor<8x32xf32>) outs(%e55 : tensor<8x32xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %_s = arith.mulf %a1, %c54 : f32
      %_w = arith.subf %a0, %_s : f32
      linalg.yield %_w : f32
    } -> tensor<8x32xf32>
    %e57 = tensor.empty() : tensor<32xf32>
    %g58 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%b1, %g41 : tensor<32xf32>, tensor<32xf32>) outs(%e57 : tensor<32xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %_s = arith.mulf %a1, %c54 : f32
      %_w = arith.subf %a0, %_s : f32
      linalg.yield %_w : f32
    } -> tensor<32xf32>
    %e59 = tensor.empty() : tensor<32x8xf32>
    %g60 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w2, %mm28 : tensor<32x8xf32>, tensor<32x8xf32>) outs(%e59 : tensor<32x8xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %_s = arith.mulf %a1, %c54 : f32
      %_w = arith.subf %a0, %_s : f32
      linalg.yield %_w : f32
    } -> tensor<32x8xf32>
    %e61 = tensor.empty() : tensor<8xf32>
    %g62 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%b2, %g22 : tensor<8xf32>, tensor<8xf32>) outs(%e61 : tensor<8xf32>) {
    ^bb0(%a0: f32, %a1: f32, %o: f32):
      %_s = arith.mulf %a1, %c54 : f32
      %_w = arith.subf %a0, %_s : f32
      linalg.yield %_w : f32
    } -> tensor<8xf32>
    return %g18, %mm53, %g56, %g58, %g60, %g62 : tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x32xf32>, tensor<32xf32>, tensor<32x8xf32>, tensor<8xf32>
  }
}
