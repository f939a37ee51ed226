// The bundled GPT-2 small MLP (examples/gpt2-mlp.mlir, torch-mlir form,
// annotated column then row) at tp-size 2, 4 and 8: local matmuls of the right
// shapes and exactly one collective, an all_reduce on the 64x768 output.
//
// RUN: tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition="tp-size=2" | FileCheck %s -DP=2 -DH=1536
// RUN: tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition="tp-size=4" | FileCheck %s -DP=4 -DH=768
// RUN: tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition="tp-size=8" | FileCheck %s -DP=8 -DH=384
// RUN: tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition="tp-size=8" | FileCheck %s --check-prefix=ONE
// ONE-COUNT-1: {{tp\.(all_reduce|all_gather|reduce_scatter)}}
// ONE-NOT: {{tp\.(all_reduce|all_gather|reduce_scatter)}}

// CHECK: module attributes {tp.size = [[P]] : i64}
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: tensor<64x768xf32> {tp.global_type = tensor<64x768xf32>, tp.sharding = #tp.sharding<replicated>}
// CHECK-SAME: tensor<[[H]]x768xf32> {tp.global_type = tensor<3072x768xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK-SAME: tensor<[[H]]xf32> {tp.global_type = tensor<3072xf32>, tp.sharding = #tp.sharding<split 0>}
// CHECK-SAME: tensor<768x[[H]]xf32> {tp.global_type = tensor<768x3072xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK-SAME: tensor<768xf32> {tp.global_type = tensor<768xf32>, tp.sharding = #tp.sharding<replicated>}
// fc1 weight transpose, partitioned
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<[[H]]x768xf32>) outs(%{{.*}} : tensor<768x[[H]]xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<64x768xf32>, tensor<768x[[H]]xf32>) outs(%{{.*}} : tensor<64x[[H]]xf32>)
// bias and GELU stay local
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<64x[[H]]xf32>, tensor<[[H]]xf32>) outs(%{{.*}} : tensor<64x[[H]]xf32>)
// CHECK: math.tanh
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<768x[[H]]xf32>) outs(%{{.*}} : tensor<[[H]]x768xf32>)
// CHECK: %[[Y:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<64x[[H]]xf32>, tensor<[[H]]x768xf32>) outs(%{{.*}} : tensor<64x768xf32>)
// CHECK: %[[R:.*]] = tp.all_reduce sum %[[Y]] over [[P]] : tensor<64x768xf32>
// CHECK: linalg.generic {{.*}} ins(%[[R]], %{{.*}} : tensor<64x768xf32>, tensor<768xf32>)
