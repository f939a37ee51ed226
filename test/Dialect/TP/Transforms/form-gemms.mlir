// RUN: tp-opt %s --tp-form-gemms --split-input-file --verify-diagnostics | FileCheck %s

// A zero-filled accumulator is not read (beta 0); the operands are the
// stored tensors.
// CHECK-LABEL: func @matmul_zero_init_f32
// CHECK-SAME: (%[[A:.*]]: tensor<64x768xf32>, %[[B:.*]]: tensor<768x3072xf32>)
// CHECK: linalg.fill
// CHECK: %[[E:.*]] = tensor.empty() : tensor<64x3072xf32>
// CHECK-NEXT: %[[C:.*]] = tp.gemm ins(%[[A]], %[[B]] : tensor<64x768xf32>, tensor<768x3072xf32>) outs(%[[E]] : tensor<64x3072xf32>) epilogue(none) beta(0.000000e+00) -> tensor<64x3072xf32>
// CHECK-NOT: linalg.matmul
// CHECK: return %[[C]]
func.func @matmul_zero_init_f32(%a: tensor<64x768xf32>, %b: tensor<768x3072xf32>) -> tensor<64x3072xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x3072xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x3072xf32>) -> tensor<64x3072xf32>
  %c = linalg.matmul ins(%a, %b : tensor<64x768xf32>, tensor<768x3072xf32>) outs(%f : tensor<64x3072xf32>) -> tensor<64x3072xf32>
  return %c : tensor<64x3072xf32>
}

// -----

// Any other accumulator is read: C := C + A B (beta 1).
// CHECK-LABEL: func @matmul_accumulate_bf16
// CHECK: tp.gemm ins(%{{.*}}, %{{.*}} : tensor<16x32xbf16>, tensor<32x8xbf16>) outs(%arg2 : tensor<16x8xbf16>) epilogue(none) beta(1.000000e+00)
func.func @matmul_accumulate_bf16(%a: tensor<16x32xbf16>, %b: tensor<32x8xbf16>, %c: tensor<16x8xbf16>) -> tensor<16x8xbf16> {
  %r = linalg.matmul ins(%a, %b : tensor<16x32xbf16>, tensor<32x8xbf16>) outs(%c : tensor<16x8xbf16>) -> tensor<16x8xbf16>
  return %r : tensor<16x8xbf16>
}

// -----

// linalg.matmul with indexing_maps: B stored [n, k], A stored [k, m].
// CHECK-LABEL: func @matmul_indexing_maps_transposed
// CHECK-SAME: (%[[A:.*]]: tensor<32x16xf32>, %[[B:.*]]: tensor<8x32xf32>
// CHECK: tp.gemm ins(%[[A]], %[[B]] : tensor<32x16xf32>, tensor<8x32xf32>) outs(%{{.*}} : tensor<16x8xf32>) trans_a trans_b epilogue(none) beta(1.000000e+00)
func.func @matmul_indexing_maps_transposed(%a: tensor<32x16xf32>, %b: tensor<8x32xf32>, %c: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
       ins(%a, %b : tensor<32x16xf32>, tensor<8x32xf32>) outs(%c : tensor<16x8xf32>) -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// -----

// CHECK-LABEL: func @batch_matmul
// CHECK: tp.gemm ins(%arg0, %arg1 : tensor<12x16x8xf32>, tensor<12x8x16xf32>) outs(%{{.*}} : tensor<12x16x16xf32>) epilogue(none) beta(0.000000e+00) -> tensor<12x16x16xf32>
func.func @batch_matmul(%a: tensor<12x16x8xf32>, %b: tensor<12x8x16xf32>) -> tensor<12x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x16x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<12x16x16xf32>) -> tensor<12x16x16xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<12x16x8xf32>, tensor<12x8x16xf32>) outs(%f : tensor<12x16x16xf32>) -> tensor<12x16x16xf32>
  return %r : tensor<12x16x16xf32>
}

// -----

// Attention scores Q K^T over loops (b, h, s, t, d): the batch loops (b, h)
// collapse into one dimension, K is read as stored ([.., t, d]: trans_b).
// CHECK-LABEL: func @generic_attention_scores
// CHECK-DAG: %[[Q:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2], [3]] : tensor<2x6x16x8xf32> into tensor<12x16x8xf32>
// CHECK-DAG: %[[K:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1], [2], [3]] : tensor<2x6x16x8xf32> into tensor<12x16x8xf32>
// CHECK: %[[S:.*]] = tp.gemm ins(%[[Q]], %[[K]] : tensor<12x16x8xf32>, tensor<12x16x8xf32>) outs(%{{.*}} : tensor<12x16x16xf32>) trans_b epilogue(none) beta(0.000000e+00)
// CHECK: tensor.expand_shape %[[S]] {{\[}}[0, 1], [2], [3]] output_shape [2, 6, 16, 16] : tensor<12x16x16xf32> into tensor<2x6x16x16xf32>
// CHECK-NOT: linalg.generic
func.func @generic_attention_scores(%q: tensor<2x6x16x8xf32>, %k: tensor<2x6x16x8xf32>) -> tensor<2x6x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x6x16x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x6x16x16xf32>) -> tensor<2x6x16x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, s, t, d) -> (b, h, s, d)>, affine_map<(b, h, s, t, d) -> (b, h, t, d)>, affine_map<(b, h, s, t, d) -> (b, h, s, t)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x6x16x8xf32>, tensor<2x6x16x8xf32>) outs(%f : tensor<2x6x16x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x6x16x16xf32>
  return %r : tensor<2x6x16x16xf32>
}

// -----

// A projection after reshape folding: m loops (b, s), n loops (h, d) are
// each collapsed: one rank-2 GEMM with the weight read transposed in place.
// CHECK-LABEL: func @generic_projection_collapsed
// CHECK-DAG: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<2x16x96xf32> into tensor<32x96xf32>
// CHECK-DAG: %[[W:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1], [2]] : tensor<6x8x96xf32> into tensor<48x96xf32>
// CHECK: %[[Y:.*]] = tp.gemm ins(%[[X]], %[[W]] : tensor<32x96xf32>, tensor<48x96xf32>) outs(%{{.*}} : tensor<32x48xf32>) trans_b epilogue(none) beta(0.000000e+00)
// CHECK: tensor.expand_shape %[[Y]] {{\[}}[0, 1], [2, 3]] output_shape [2, 16, 6, 8]
func.func @generic_projection_collapsed(%x: tensor<2x16x96xf32>, %w: tensor<6x8x96xf32>) -> tensor<2x16x6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x16x6x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x16x6x8xf32>) -> tensor<2x16x6x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, s, h, d, k) -> (b, s, k)>, affine_map<(b, s, h, d, k) -> (h, d, k)>, affine_map<(b, s, h, d, k) -> (b, s, h, d)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<2x16x96xf32>, tensor<6x8x96xf32>) outs(%f : tensor<2x16x6x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x16x6x8xf32>
  return %r : tensor<2x16x6x8xf32>
}

// -----

// The [out, in] weight transposed by a copying generic (torch-mlir's
// nn.Linear) is read in place: trans_b, no transpose kernel.
// CHECK-LABEL: func @transposed_weight_read_in_place
// CHECK-SAME: (%[[X:.*]]: tensor<64x768xf32>, %[[W:.*]]: tensor<3072x768xf32>)
// CHECK: tp.gemm ins(%[[X]], %[[W]] : tensor<64x768xf32>, tensor<3072x768xf32>) outs(%{{.*}}) trans_b epilogue(none)
func.func @transposed_weight_read_in_place(%x: tensor<64x768xf32>, %w: tensor<3072x768xf32>) -> tensor<64x3072xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<768x3072xf32>
  %wt = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<3072x768xf32>) outs(%e0 : tensor<768x3072xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<768x3072xf32>
  %e1 = tensor.empty() : tensor<64x3072xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e1 : tensor<64x3072xf32>) -> tensor<64x3072xf32>
  %r = linalg.matmul ins(%x, %wt : tensor<64x768xf32>, tensor<768x3072xf32>) outs(%f : tensor<64x3072xf32>) -> tensor<64x3072xf32>
  return %r : tensor<64x3072xf32>
}

// -----

// linalg.transpose of the last two dimensions of a batched operand, seen
// through the collapse of its batch dimensions.
// CHECK-LABEL: func @transpose_op_through_collapse
// CHECK: %[[K:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1], [2], [3]] : tensor<2x6x16x8xf32> into tensor<12x16x8xf32>
// CHECK: tp.gemm ins(%{{.*}}, %[[K]] : tensor<12x16x8xf32>, tensor<12x16x8xf32>) {{.*}} trans_b
func.func @transpose_op_through_collapse(%q: tensor<2x6x16x8xf32>, %k: tensor<2x6x16x8xf32>) -> tensor<12x16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x6x8x16xf32>
  %kt = linalg.transpose ins(%k : tensor<2x6x16x8xf32>) outs(%e : tensor<2x6x8x16xf32>) permutation = [0, 1, 3, 2]
  %qc = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x6x16x8xf32> into tensor<12x16x8xf32>
  %kc = tensor.collapse_shape %kt [[0, 1], [2], [3]] : tensor<2x6x8x16xf32> into tensor<12x8x16xf32>
  %e1 = tensor.empty() : tensor<12x16x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e1 : tensor<12x16x16xf32>) -> tensor<12x16x16xf32>
  %r = linalg.batch_matmul ins(%qc, %kc : tensor<12x16x8xf32>, tensor<12x8x16xf32>) outs(%f : tensor<12x16x16xf32>) -> tensor<12x16x16xf32>
  return %r : tensor<12x16x16xf32>
}

// -----

// Bias add and tanh GELU (as torch-mlir spells it) in one generic, the only
// user of the product: folded into the epilogue.
// CHECK-LABEL: func @bias_gelu_epilogue
// CHECK-SAME: (%[[X:.*]]: tensor<64x768xf32>, %[[W:.*]]: tensor<768x3072xf32>, %[[BIAS:.*]]: tensor<3072xf32>)
// CHECK: %[[Y:.*]] = tp.gemm ins(%[[X]], %[[W]] : {{.*}}) bias(%[[BIAS]] : tensor<3072xf32>) outs(%{{.*}}) epilogue(bias_gelu) beta(0.000000e+00)
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @bias_gelu_epilogue(%x: tensor<64x768xf32>, %w: tensor<768x3072xf32>, %b: tensor<3072xf32>) -> tensor<64x3072xf32> {
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 5.000000e-01 : f32
  %one = arith.constant 1.000000e+00 : f32
  %c0 = arith.constant 4.471500e-02 : f32
  %c1 = arith.constant 0.797884583 : f32
  %e = tensor.empty() : tensor<64x3072xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x3072xf32>) -> tensor<64x3072xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<64x768xf32>, tensor<768x3072xf32>) outs(%f : tensor<64x3072xf32>) -> tensor<64x3072xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<64x3072xf32>, tensor<3072xf32>) outs(%e : tensor<64x3072xf32>) {
  ^bb0(%a: f32, %bias: f32, %out: f32):
    %v = arith.addf %a, %bias : f32
    %v2 = arith.mulf %v, %v : f32
    %v3 = arith.mulf %v2, %v : f32
    %t0 = arith.mulf %v3, %c0 : f32
    %t1 = arith.addf %v, %t0 : f32
    %t2 = arith.mulf %t1, %c1 : f32
    %t3 = math.tanh %t2 : f32
    %t4 = arith.addf %t3, %one : f32
    %t5 = arith.mulf %v, %half : f32
    %r = arith.mulf %t5, %t4 : f32
    linalg.yield %r : f32
  } -> tensor<64x3072xf32>
  return %g : tensor<64x3072xf32>
}

// -----

// Bias and tanh GELU in bf16, constants in bf16 as torch-mlir writes them
// (sqrt(2/pi) is 0.796875 there, 0.13% off): still tanh-GELU, folded.
// CHECK-LABEL: func @bias_gelu_epilogue_bf16
// CHECK: tp.gemm {{.*}} bias(%arg2 : tensor<32xbf16>) {{.*}} epilogue(bias_gelu) beta(0.000000e+00)
// CHECK-NOT: linalg.generic
func.func @bias_gelu_epilogue_bf16(%x: tensor<8x16xbf16>, %w: tensor<16x32xbf16>, %b: tensor<32xbf16>) -> tensor<8x32xbf16> {
  %zero = arith.constant 0.0 : bf16
  %half = arith.constant 5.000000e-01 : bf16
  %one = arith.constant 1.000000e+00 : bf16
  %c0 = arith.constant 4.471500e-02 : bf16
  %c1 = arith.constant 0.797884583 : bf16
  %e = tensor.empty() : tensor<8x32xbf16>
  %f = linalg.fill ins(%zero : bf16) outs(%e : tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xbf16>, tensor<16x32xbf16>) outs(%f : tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<8x32xbf16>, tensor<32xbf16>) outs(%e : tensor<8x32xbf16>) {
  ^bb0(%a: bf16, %bias: bf16, %out: bf16):
    %v = arith.addf %a, %bias : bf16
    %v2 = arith.mulf %v, %v : bf16
    %v3 = arith.mulf %v2, %v : bf16
    %t0 = arith.mulf %v3, %c0 : bf16
    %t1 = arith.addf %v, %t0 : bf16
    %t2 = arith.mulf %t1, %c1 : bf16
    %t3 = math.tanh %t2 : bf16
    %t4 = arith.addf %t3, %one : bf16
    %t5 = arith.mulf %v, %half : bf16
    %r = arith.mulf %t5, %t4 : bf16
    linalg.yield %r : bf16
  } -> tensor<8x32xbf16>
  return %g : tensor<8x32xbf16>
}

// -----

// GELU without a bias in bf16, spelled with the sigmoid identity and one
// folded cubic coefficient (x * sigmoid(2 sqrt(2/pi) x + 2 * 0.044715
// sqrt(2/pi) x^3)), extending to f32 for the exp: the same function.
// CHECK-LABEL: func @gelu_epilogue_bf16_sigmoid_form
// CHECK: tp.gemm {{.*}} epilogue(gelu) beta(0.000000e+00)
// CHECK-NOT: linalg.generic
func.func @gelu_epilogue_bf16_sigmoid_form(%x: tensor<8x16xbf16>, %w: tensor<16x32xbf16>) -> tensor<8x32xbf16> {
  %zero = arith.constant 0.0 : bf16
  %one = arith.constant 1.000000e+00 : f32
  %k1 = arith.constant -1.59576917 : bf16
  %k3 = arith.constant -0.0713548162 : bf16
  %e = tensor.empty() : tensor<8x32xbf16>
  %f = linalg.fill ins(%zero : bf16) outs(%e : tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xbf16>, tensor<16x32xbf16>) outs(%f : tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm : tensor<8x32xbf16>) outs(%e : tensor<8x32xbf16>) {
  ^bb0(%v: bf16, %out: bf16):
    %v2 = arith.mulf %v, %v : bf16
    %v3 = arith.mulf %v2, %v : bf16
    %l = arith.mulf %v, %k1 : bf16
    %c = arith.mulf %v3, %k3 : bf16
    %s = arith.addf %l, %c : bf16
    %s32 = arith.extf %s : bf16 to f32
    %ex = math.exp %s32 : f32
    %den = arith.addf %ex, %one : f32
    %v32 = arith.extf %v : bf16 to f32
    %q = arith.divf %v32, %den : f32
    %r = arith.truncf %q : f32 to bf16
    linalg.yield %r : bf16
  } -> tensor<8x32xbf16>
  return %g : tensor<8x32xbf16>
}

// -----

// ReLU as maximumf, bias first operand of the add, in bf16.
// CHECK-LABEL: func @bias_relu_epilogue_bf16
// CHECK: tp.gemm {{.*}} bias(%arg2 : tensor<32xbf16>) {{.*}} epilogue(bias_relu) beta(0.000000e+00)
// CHECK-NOT: linalg.generic
func.func @bias_relu_epilogue_bf16(%x: tensor<8x16xbf16>, %w: tensor<16x32xbf16>, %b: tensor<32xbf16>) -> tensor<8x32xbf16> {
  %zero = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<8x32xbf16>
  %f = linalg.fill ins(%zero : bf16) outs(%e : tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xbf16>, tensor<16x32xbf16>) outs(%f : tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%b, %mm : tensor<32xbf16>, tensor<8x32xbf16>) outs(%e : tensor<8x32xbf16>) {
  ^bb0(%bias: bf16, %a: bf16, %out: bf16):
    %v = arith.addf %bias, %a : bf16
    %r = arith.maximumf %v, %zero : bf16
    linalg.yield %r : bf16
  } -> tensor<8x32xbf16>
  return %g : tensor<8x32xbf16>
}

// -----

// ReLU without bias, written as compare-and-select, on a generic's output
// operand (in-place style).
// CHECK-LABEL: func @relu_epilogue_in_place
// CHECK: %[[Y:.*]] = tp.gemm {{.*}} epilogue(relu) beta(0.000000e+00)
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @relu_epilogue_in_place(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%mm : tensor<8x32xf32>) {
  ^bb0(%a: f32):
    %pos = arith.cmpf ogt, %a, %zero : f32
    %r = arith.select %pos, %a, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8x32xf32>
  return %g : tensor<8x32xf32>
}

// -----

// A bias over the n loops of a collapsed product ([heads, head_dim]) is
// collapsed with them; the accumulated product (beta 1) may take a bias.
// CHECK-LABEL: func @bias_over_collapsed_n_accumulate
// CHECK: %[[B:.*]] = tensor.collapse_shape %arg2 {{\[}}[0, 1]] : tensor<6x8xf32> into tensor<48xf32>
// CHECK: tp.gemm {{.*}} bias(%[[B]] : tensor<48xf32>) {{.*}} epilogue(bias) beta(1.000000e+00)
func.func @bias_over_collapsed_n_accumulate(%x: tensor<32x96xf32>, %w: tensor<96x6x8xf32>, %b: tensor<6x8xf32>, %c: tensor<32x6x8xf32>) -> tensor<32x6x8xf32> {
  %mm = linalg.generic {indexing_maps = [affine_map<(m, h, d, k) -> (m, k)>, affine_map<(m, h, d, k) -> (k, h, d)>, affine_map<(m, h, d, k) -> (m, h, d)>],
                        iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<32x96xf32>, tensor<96x6x8xf32>) outs(%c : tensor<32x6x8xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %m = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<32x6x8xf32>
  %e = tensor.empty() : tensor<32x6x8xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, j, k)>, affine_map<(i, j, k) -> (j, k)>, affine_map<(i, j, k) -> (i, j, k)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%mm, %b : tensor<32x6x8xf32>, tensor<6x8xf32>) outs(%e : tensor<32x6x8xf32>) {
  ^bb0(%a: f32, %bias: f32, %out: f32):
    %v = arith.addf %a, %bias : f32
    linalg.yield %v : f32
  } -> tensor<32x6x8xf32>
  return %g : tensor<32x6x8xf32>
}
