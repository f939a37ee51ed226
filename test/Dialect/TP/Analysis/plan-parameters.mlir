// Which arguments are parameters is decided from the program: an argument
// read on the activation side of a contraction (the operand with the token
// dimensions, as g in dh = g W^T) is an activation or gradient and never the
// weight of a weight op; the unit argument attribute tp.param states the
// parameters instead (a step that returns no input gradient reads g only on
// the weight side of dW = h^T g).
// RUN: tp-opt %s -split-input-file --tp-plan="tp-size=2" | FileCheck %s

// CHECK-LABEL: func.func @upstream_gradient_is_an_activation
// CHECK: linalg.matmul {tp.parallel = {{.*}} ins(%arg2, %{{.*}} : tensor<16x32xf32>, tensor<32x64xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %arg2 : tensor<64x16xf32>, tensor<16x32xf32>)
func.func @upstream_gradient_is_an_activation(%h: tensor<16x64xf32>, %w: tensor<64x32xf32>, %g: tensor<16x32xf32>)
    -> (tensor<16x64xf32>, tensor<64x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %et = tensor.empty() : tensor<32x64xf32>
  %wt = linalg.transpose ins(%w : tensor<64x32xf32>) outs(%et : tensor<32x64xf32>) permutation = [1, 0]
  %e1 = tensor.empty() : tensor<16x64xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %dh = linalg.matmul ins(%g, %wt : tensor<16x32xf32>, tensor<32x64xf32>) outs(%f1 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %eh = tensor.empty() : tensor<64x16xf32>
  %ht = linalg.transpose ins(%h : tensor<16x64xf32>) outs(%eh : tensor<64x16xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<64x32xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<64x32xf32>) -> tensor<64x32xf32>
  %dw = linalg.matmul ins(%ht, %g : tensor<64x16xf32>, tensor<16x32xf32>) outs(%f2 : tensor<64x32xf32>) -> tensor<64x32xf32>
  return %dh, %dw : tensor<16x64xf32>, tensor<64x32xf32>
}

// -----

// Without an input gradient, g is read only as in dW = h^T g: without
// tp.param it is taken for a weight ...
// CHECK-LABEL: func.func @weight_gradient_only_unmarked
// CHECK: linalg.matmul {tp.parallel
func.func @weight_gradient_only_unmarked(%h: tensor<16x64xf32>, %g: tensor<16x32xf32>) -> tensor<64x32xf32> {
  %zero = arith.constant 0.0 : f32
  %eh = tensor.empty() : tensor<64x16xf32>
  %ht = linalg.transpose ins(%h : tensor<16x64xf32>) outs(%eh : tensor<64x16xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<64x32xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<64x32xf32>) -> tensor<64x32xf32>
  %dw = linalg.matmul ins(%ht, %g : tensor<64x16xf32>, tensor<16x32xf32>) outs(%f2 : tensor<64x32xf32>) -> tensor<64x32xf32>
  return %dw : tensor<64x32xf32>
}

// -----

// ... and with the parameters marked (here the weight being updated), it is
// not.
// CHECK-LABEL: func.func @weight_gradient_only_marked
// CHECK-NOT: tp.parallel
// CHECK: return
func.func @weight_gradient_only_marked(%h: tensor<16x64xf32>, %w: tensor<64x32xf32> {tp.param}, %g: tensor<16x32xf32>) -> tensor<64x32xf32> {
  %zero = arith.constant 0.0 : f32
  %eh = tensor.empty() : tensor<64x16xf32>
  %ht = linalg.transpose ins(%h : tensor<16x64xf32>) outs(%eh : tensor<64x16xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<64x32xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<64x32xf32>) -> tensor<64x32xf32>
  %dw = linalg.matmul ins(%ht, %g : tensor<64x16xf32>, tensor<16x32xf32>) outs(%f2 : tensor<64x32xf32>) -> tensor<64x32xf32>
  %w2 = linalg.sub ins(%w, %dw : tensor<64x32xf32>, tensor<64x32xf32>) outs(%e2 : tensor<64x32xf32>) -> tensor<64x32xf32>
  return %w2 : tensor<64x32xf32>
}
