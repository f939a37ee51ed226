// tp-plan keeps each function's sharding problem with the pass manager and
// tp-partition right after it reuses it (one problem per function, not two;
// the time is in bench/plan_scaling.py). The plans are the same whether the
// problem is reused, rebuilt because a pass in between changed the function
// or because the parameters differ, or built in another tp-opt.
// RUN: tp-opt %s --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s
// RUN: tp-opt %s --tp-plan="tp-size=2" --canonicalize --tp-partition="tp-size=2" | FileCheck %s
// RUN: tp-opt %s --tp-plan="tp-size=4" --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s
// RUN: tp-opt %s --tp-plan="tp-size=2" -o - | tp-opt --tp-partition="tp-size=2" | FileCheck %s
// CHECK-LABEL: func.func @mlp
// CHECK-COUNT-1: tp.all_reduce
// CHECK-LABEL: func.func @other
// CHECK-COUNT-1: tp.all_reduce

func.func @mlp(%x: tensor<8x16xf32>, %w1: tensor<16x64xf32>, %w2: tensor<64x16xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<8x64xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<8x64xf32>) -> tensor<8x64xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<8x16xf32>, tensor<16x64xf32>) outs(%f1 : tensor<8x64xf32>) -> tensor<8x64xf32>
  %e2 = tensor.empty() : tensor<8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<8x16xf32>) -> tensor<8x16xf32>
  %y = linalg.matmul ins(%h, %w2 : tensor<8x64xf32>, tensor<64x16xf32>) outs(%f2 : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

func.func @other(%x: tensor<8x16xf32>, %w1: tensor<16x64xf32>, %w2: tensor<64x16xf32>) -> tensor<8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<8x64xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<8x64xf32>) -> tensor<8x64xf32>
  %h = linalg.matmul ins(%x, %w1 : tensor<8x16xf32>, tensor<16x64xf32>) outs(%f1 : tensor<8x64xf32>) -> tensor<8x64xf32>
  %e2 = tensor.empty() : tensor<8x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<8x16xf32>) -> tensor<8x16xf32>
  %y = linalg.matmul ins(%h, %w2 : tensor<8x64xf32>, tensor<64x16xf32>) outs(%f2 : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
