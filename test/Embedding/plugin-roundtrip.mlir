// The stock mlir-opt parses and prints tp ops and attributes with only the
// dialect plugin loaded, and round-trips them; without the plugin it does not
// know the dialect.
// REQUIRES: tp_plugin
// RUN: %mlir_opt --load-dialect-plugin=%tp_plugin %s \
// RUN:   | %mlir_opt --load-dialect-plugin=%tp_plugin | FileCheck %s
// RUN: not %mlir_opt %s 2>&1 | FileCheck %s --check-prefix=NOPLUGIN
// NOPLUGIN: error: Dialect `tp' not found

// CHECK-LABEL: func.func @collectives_on_tensors
func.func @collectives_on_tensors(%x: tensor<64x192xf32>, %p: tensor<64x768xf32>)
    -> (tensor<64x768xf32>, tensor<64x768xf32>, tensor<16x768xf32>, tensor<64x192xf32>, index) {
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
  return %g, %r, %s, %l, %rank
      : tensor<64x768xf32>, tensor<64x768xf32>, tensor<16x768xf32>, tensor<64x192xf32>, index
}

// CHECK-LABEL: func.func @sharding_attribute
// CHECK-SAME: tp.sharding = #tp.sharding<split 1>
// CHECK-SAME: tp.sharding = #tp.sharding<replicated>
func.func @sharding_attribute(%w: tensor<768x768xf32> {tp.sharding = #tp.sharding<split 1>},
                              %b: tensor<768xf32> {tp.sharding = #tp.sharding<replicated>}) {
  return
}
