// RUN: tp-opt %s --tp-lower-slices | FileCheck %s
// tp.all_slice becomes an extract_slice at this rank's offset; a tensor
// with no elements becomes a tensor.empty (extract_slice rejects any static
// offset into a zero-sized dimension).

// CHECK-LABEL: func.func @slice_columns(
// CHECK-DAG: %[[R:.*]] = tp.rank : index
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK: %[[O:.*]] = arith.muli %[[R]], %[[C4]] : index
// CHECK: tensor.extract_slice %arg0[0, %[[O]]] [8, 4] [1, 1] : tensor<8x16xf32> to tensor<8x4xf32>
func.func @slice_columns(%x: tensor<8x16xf32>) -> tensor<8x4xf32> {
  %s = tp.all_slice %x dim 1 over 4 : tensor<8x16xf32> -> tensor<8x4xf32>
  return %s : tensor<8x4xf32>
}

// CHECK-LABEL: func.func @zero_rows(
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[E:.*]] = tensor.empty() : tensor<0x8xf32>
// CHECK: return %[[E]]
func.func @zero_rows(%x: tensor<0x16xf32>) -> tensor<0x8xf32> {
  %s = tp.all_slice %x dim 1 over 2 : tensor<0x16xf32> -> tensor<0x8xf32>
  return %s : tensor<0x8xf32>
}

// CHECK-LABEL: func.func @zero_sliced_dim(
// CHECK-NOT: tensor.extract_slice
// CHECK: tensor.empty() : tensor<4x0xf32>
func.func @zero_sliced_dim(%x: tensor<4x0xf32>) -> tensor<4x0xf32> {
  %s = tp.all_slice %x dim 1 over 4 : tensor<4x0xf32> -> tensor<4x0xf32>
  return %s : tensor<4x0xf32>
}

// CHECK-LABEL: func.func @zero_dim_dynamic_other(
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[D:.*]] = tensor.dim %arg0, %[[C1]] : tensor<0x?x8xf32>
// CHECK: tensor.empty(%[[D]]) : tensor<0x?x4xf32>
func.func @zero_dim_dynamic_other(%x: tensor<0x?x8xf32>) -> tensor<0x?x4xf32> {
  %s = tp.all_slice %x dim 2 over 2 : tensor<0x?x8xf32> -> tensor<0x?x4xf32>
  return %s : tensor<0x?x4xf32>
}
