// RUN: tp-opt %s -canonicalize | FileCheck %s
// Folds of redundant collectives.

// CHECK-LABEL: func @slice_of_gather_folds
// CHECK-SAME: (%[[X:.*]]: tensor<8x4xf32>)
// CHECK-NOT: tp.
// CHECK: return %[[X]]
func.func @slice_of_gather_folds(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %g = tp.all_gather %x dim 1 over 4 : tensor<8x4xf32> -> tensor<8x16xf32>
  %s = tp.all_slice %g dim 1 over 4 : tensor<8x16xf32> -> tensor<8x4xf32>
  return %s : tensor<8x4xf32>
}

// CHECK-LABEL: func @gather_of_slice_folds
// CHECK-SAME: (%[[X:.*]]: tensor<8x16xf32>)
// CHECK-NOT: tp.
// CHECK: return %[[X]]
func.func @gather_of_slice_folds(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %s = tp.all_slice %x dim 1 over 4 : tensor<8x16xf32> -> tensor<8x4xf32>
  %g = tp.all_gather %s dim 1 over 4 : tensor<8x4xf32> -> tensor<8x16xf32>
  return %g : tensor<8x16xf32>
}

// CHECK-LABEL: func @gather_of_slice_other_dim_stays
// CHECK: tp.all_slice
// CHECK: tp.all_gather
func.func @gather_of_slice_other_dim_stays(%x: tensor<16x16xf32>) -> tensor<4x64xf32> {
  %s = tp.all_slice %x dim 0 over 4 : tensor<16x16xf32> -> tensor<4x16xf32>
  %g = tp.all_gather %s dim 1 over 4 : tensor<4x16xf32> -> tensor<4x64xf32>
  return %g : tensor<4x64xf32>
}

// CHECK-LABEL: func @slice_of_empty_is_empty
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<8x4xf32>
// CHECK-NEXT: return %[[E]]
func.func @slice_of_empty_is_empty() -> tensor<8x4xf32> {
  %e = tensor.empty() : tensor<8x16xf32>
  %s = tp.all_slice %e dim 1 over 4 : tensor<8x16xf32> -> tensor<8x4xf32>
  return %s : tensor<8x4xf32>
}

// CHECK-LABEL: func @group_of_one_folds
// CHECK-NOT: tp.
func.func @group_of_one_folds(%x: tensor<8xf32>) -> tensor<8xf32> {
  %r = tp.all_reduce sum %x over 1 : tensor<8xf32>
  %g = tp.all_gather %r dim 0 over 1 : tensor<8xf32> -> tensor<8xf32>
  return %g : tensor<8xf32>
}
