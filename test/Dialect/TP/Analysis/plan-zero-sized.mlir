// RUN: tp-opt %s --tp-plan="tp-size=4 uneven=replicate" --tp-partition="tp-size=4 uneven=replicate" | FileCheck %s
// RUN: tp-opt %s --tp-plan="tp-size=4 uneven=pad" --tp-partition="tp-size=4 uneven=pad" | FileCheck %s
// Tensors with a zero-sized dimension plan and partition (found by
// scripts/fuzz_programs.py: a reshape's padded variant divided by the
// product of the dimensions after the split one, here 0).

// CHECK-LABEL: func.func @expand_zero_sized(
// CHECK: tensor.expand_shape
func.func @expand_zero_sized(%x: tensor<6x0xf32>) -> tensor<6x4x0xf32> {
  %e = tensor.expand_shape %x [[0], [1, 2]] output_shape [6, 4, 0] : tensor<6x0xf32> into tensor<6x4x0xf32>
  return %e : tensor<6x4x0xf32>
}
