// RUN: tp-opt %s | tp-opt | FileCheck %s
// Round trip of every tp op and of the sharding attribute.

// CHECK-LABEL: func @collectives_on_tensors
func.func @collectives_on_tensors(%x: tensor<64x192xf32>, %p: tensor<64x768xf32>) -> (tensor<64x768xf32>, tensor<64x768xf32>, tensor<16x768xf32>, tensor<64x192xf32>, index) {
  // CHECK: tp.all_gather %{{.*}} dim 1 over 4 : tensor<64x192xf32> -> tensor<64x768xf32>
  %g = tp.all_gather %x dim 1 over 4 : tensor<64x192xf32> -> tensor<64x768xf32>
  // CHECK: tp.all_reduce max %{{.*}} over 4 : tensor<64x768xf32>
  %r = tp.all_reduce max %p over 4 : tensor<64x768xf32>
  // CHECK: tp.reduce_scatter sum %{{.*}} dim 0 over 4 : tensor<64x768xf32> -> tensor<16x768xf32>
  %s = tp.reduce_scatter sum %p dim 0 over 4 : tensor<64x768xf32> -> tensor<16x768xf32>
  // CHECK: tp.all_slice %{{.*}} dim 1 over 4 : tensor<64x768xf32> -> tensor<64x192xf32>
  %l = tp.all_slice %p dim 1 over 4 : tensor<64x768xf32> -> tensor<64x192xf32>
  // CHECK: tp.rank : index
  %rank = tp.rank : index
  return %g, %r, %s, %l, %rank : tensor<64x768xf32>, tensor<64x768xf32>, tensor<16x768xf32>, tensor<64x192xf32>, index
}

// CHECK-LABEL: func @dynamic_other_dims
func.func @dynamic_other_dims(%x: tensor<?x192xf32>) -> tensor<?x384xf32> {
  // CHECK: tp.all_gather %{{.*}} dim 1 over 2 : tensor<?x192xf32> -> tensor<?x384xf32>
  %g = tp.all_gather %x dim 1 over 2 : tensor<?x192xf32> -> tensor<?x384xf32>
  return %g : tensor<?x384xf32>
}

// CHECK-LABEL: func @collectives_on_buffers
func.func @collectives_on_buffers(%a: memref<64x768xf32>, %b: memref<64x768xf32>, %c: memref<16x768xf32>, %d: memref<64x3072xf32>) {
  // CHECK: tp.buffer.all_reduce min %{{.*}}, %{{.*}} over 4 : memref<64x768xf32>, memref<64x768xf32>
  tp.buffer.all_reduce min %a, %b over 4 : memref<64x768xf32>, memref<64x768xf32>
  // CHECK: tp.buffer.reduce_scatter sum %{{.*}}, %{{.*}} dim 0 over 4 : memref<64x768xf32>, memref<16x768xf32>
  tp.buffer.reduce_scatter sum %a, %c dim 0 over 4 : memref<64x768xf32>, memref<16x768xf32>
  // CHECK: tp.buffer.all_gather %{{.*}}, %{{.*}} dim 1 over 4 : memref<64x768xf32>, memref<64x3072xf32>
  tp.buffer.all_gather %b, %d dim 1 over 4 : memref<64x768xf32>, memref<64x3072xf32>
  return
}

// CHECK-LABEL: func @sharding_attrs
// CHECK-SAME: tp.sharding = #tp.sharding<replicated>
// CHECK-SAME: tp.sharding = #tp.sharding<split 1>
// CHECK-SAME: tp.sharding = #tp.sharding<partial sum>
// CHECK-SAME: tp.sharding = #tp.sharding<partial max>
// CHECK-SAME: tp.sharding = #tp.sharding<split 0 segments [8, 2, 2]>
// CHECK-SAME: tp.sharding = #tp.sharding<split 1>
// CHECK-SAME: tp.sharding = #tp.sharding<split 0 segments [8, 2, 2] replicated [1, 2]>
// CHECK-SAME: tp.sharding = #tp.sharding<split 1 granule 64>
func.func @sharding_attrs(%a: tensor<4xf32> {tp.sharding = #tp.sharding<replicated>},
                          %b: tensor<4x4xf32> {tp.sharding = #tp.sharding<split 1>},
                          %c: tensor<4xf32> {tp.sharding = #tp.sharding<partial sum>},
                          %d: tensor<4xf32> {tp.sharding = #tp.sharding<partial max>},
                          %e: tensor<12xf32> {tp.sharding = #tp.sharding<split 0 segments [8, 2, 2]>},
                          %f: tensor<4x4xf32> {tp.sharding = #tp.sharding<split 1 segments []>},
                          %g: tensor<12xf32> {tp.sharding = #tp.sharding<split 0 segments [8, 2, 2] replicated [1, 2]>},
                          %h: tensor<4x768xf32> {tp.sharding = #tp.sharding<split 1 granule 64>}) {
  return
}
