// tp-hoist-constants: tensor constants of at least min-bytes become
// parameter arguments named by tp.hoisted, their data in the module's
// tp.hoisted_constants; splats, smaller constants and other element types
// stay. The constants here are 64 bytes, hoisted at min-bytes=64 and kept
// at the default (4096).
// RUN: tp-opt %s --tp-hoist-constants="min-bytes=64" | FileCheck %s
// RUN: tp-opt %s --tp-hoist-constants | FileCheck %s --check-prefix=DEFAULT
// Planned and partitioned like a weight argument: split at tp 2.
// RUN: tp-opt %s --tp-hoist-constants="min-bytes=64" --tp-plan="tp-size=2 min-savings-ratio=0" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=PLAN

// CHECK: module attributes {tp.hoisted_constants = {
// CHECK-SAME: f32_weight.cst0 = dense<{{\[\[}}1.000000e+00, 2.000000e+00
// CHECK-SAME: weight_blob = dense_resource<weight_blob> : tensor<4x4xf32>
// DEFAULT-NOT: tp.hoisted

// The new argument is a parameter (tp.param); so is the weight argument %w2,
// made explicit (a parameter by inference before), and the activation %x
// stays unmarked.
// CHECK-LABEL: func.func @f32_weight
// CHECK-SAME: (%[[X:[^:]*]]: tensor<2x4xf32>, %[[W2:[^:]*]]: tensor<4x4xf32> {tp.param}, %[[W:[^:]*]]: tensor<4x4xf32> {tp.hoisted = "f32_weight.cst0", tp.param})
// CHECK-NOT: arith.constant dense<{{\[}}
// CHECK: linalg.matmul ins(%[[X]], %[[W]] :
// PLAN-LABEL: func.func @f32_weight
// PLAN-SAME: tensor<4x2xf32> {tp.global_type = tensor<4x4xf32>, tp.hoisted = "f32_weight.cst0", tp.param, tp.sharding = #tp.sharding<split 1>}
func.func @f32_weight(%x: tensor<2x4xf32>, %w2: tensor<4x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0], [13.0, 14.0, 15.0, 16.0]]> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<2x4xf32>) -> tensor<2x4xf32>
  %z = linalg.matmul ins(%y, %w2 : tensor<2x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %z : tensor<2x4xf32>
}

// The element types of a weights file: bf16, f16, i32, i64.
// CHECK-LABEL: func.func @element_types
// CHECK-SAME: tensor<4x8xbf16> {tp.hoisted = "element_types.cst0", tp.param}
// CHECK-SAME: tensor<4x8xf16> {tp.hoisted = "element_types.cst1", tp.param}
// CHECK-SAME: tensor<4x4xi32> {tp.hoisted = "element_types.cst2", tp.param}
// CHECK-SAME: tensor<2x4xi64> {tp.hoisted = "element_types.cst3", tp.param}
// CHECK-NOT: arith.constant
// CHECK: return
func.func @element_types() -> (tensor<4x8xbf16>, tensor<4x8xf16>, tensor<4x4xi32>, tensor<2x4xi64>) {
  %a = arith.constant dense<[[0.0, 0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8], [2.0, 2.2, 2.5, 2.8, 3.0, 3.2, 3.5, 3.8], [4.0, 4.2, 4.5, 4.8, 5.0, 5.2, 5.5, 5.8], [6.0, 6.2, 6.5, 6.8, 7.0, 7.2, 7.5, 7.8]]> : tensor<4x8xbf16>
  %b = arith.constant dense<[[0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5], [4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5], [8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0, 11.5], [12.0, 12.5, 13.0, 13.5, 14.0, 14.5, 15.0, 15.5]]> : tensor<4x8xf16>
  %c = arith.constant dense<[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]> : tensor<4x4xi32>
  %d = arith.constant dense<[[0, 1, 2, 3], [4, 5, 6, 7]]> : tensor<2x4xi64>
  return %a, %b, %c, %d : tensor<4x8xbf16>, tensor<4x8xf16>, tensor<4x4xi32>, tensor<2x4xi64>
}

// A dense_resource keeps its data where it was (the module attribute refers
// to the same blob) and is named by its key.
// CHECK-LABEL: func.func @resource_weight
// CHECK-SAME: tensor<4x4xf32> {tp.hoisted = "weight_blob", tp.param}
// CHECK-NOT: dense_resource
// CHECK: return
func.func @resource_weight(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w = arith.constant dense_resource<weight_blob> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// Splats (whatever their size), constants below min-bytes and element types
// a weights file does not carry (i8) stay.
// CHECK-LABEL: func.func @kept
// CHECK-SAME: () -> (
// CHECK-DAG: arith.constant dense<1.000000e+00> : tensor<64x64xf32>
// CHECK-DAG: arith.constant dense<{{.*}}> : tensor<2x4xf32>
// CHECK-DAG: arith.constant dense<{{.*}}> : tensor<8x8xi8>
func.func @kept() -> (tensor<64x64xf32>, tensor<2x4xf32>, tensor<8x8xi8>) {
  %splat = arith.constant dense<1.0> : tensor<64x64xf32>
  %small = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>
  %bytes = arith.constant dense<[[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15], [16, 17, 18, 19, 20, 21, 22, 23], [24, 25, 26, 27, 28, 29, 30, 31], [32, 33, 34, 35, 36, 37, 38, 39], [40, 41, 42, 43, 44, 45, 46, 47], [48, 49, 50, 51, 52, 53, 54, 55], [56, 57, 58, 59, 60, 61, 62, 63]]> : tensor<8x8xi8>
  return %splat, %small, %bytes : tensor<64x64xf32>, tensor<2x4xf32>, tensor<8x8xi8>
}

// A table read inside a region (an embedding lookup's tensor.extract), and
// a constant defined inside a region, both used twice: one argument each.
// CHECK-LABEL: func.func @used_in_region
// CHECK-SAME: (%[[IDS:[^:]*]]: tensor<4xi64>{{.*}}, %[[W:[^:]*]]: tensor<4x4xf32> {tp.param}, %[[C:[^:]*]]: i1, %[[T:[^:]*]]: tensor<4x4xf32> {tp.hoisted = "used_in_region.cst0", tp.param}, %[[R:[^:]*]]: tensor<4x4xf32> {tp.hoisted = "used_in_region.cst1", tp.param})
// CHECK-NOT: arith.constant dense<{{\[}}
// CHECK: tensor.extract %[[T]]
// CHECK: tensor.extract %[[T]]
// CHECK: scf.if
// CHECK: arith.addf %[[R]], %[[R]]
func.func @used_in_region(%ids: tensor<4xi64>, %w: tensor<4x4xf32>, %c: i1) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %table = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0], [20.0, 21.0, 22.0, 23.0], [30.0, 31.0, 32.0, 33.0]]> : tensor<4x4xf32>
  %e = tensor.empty() : tensor<4x4xf32>
  %rows = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<4xi64>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%id: i64, %o: f32):
    %row = arith.index_cast %id : i64 to index
    %col = linalg.index 1 : index
    %v = tensor.extract %table[%row, %col] : tensor<4x4xf32>
    %v2 = tensor.extract %table[%col, %row] : tensor<4x4xf32>
    %s = arith.addf %v, %v2 : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %y = linalg.matmul ins(%rows, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%acc : tensor<4x4xf32>) -> tensor<4x4xf32>
  %z = scf.if %c -> tensor<4x4xf32> {
    %inner = arith.constant dense<[[-1.0, -2.0, -3.0, -4.0], [-5.0, -6.0, -7.0, -8.0], [-9.0, -10.0, -11.0, -12.0], [-13.0, -14.0, -15.0, -16.0]]> : tensor<4x4xf32>
    %d = arith.addf %inner, %inner : tensor<4x4xf32>
    scf.yield %d : tensor<4x4xf32>
  } else {
    scf.yield %y : tensor<4x4xf32>
  }
  return %y, %z : tensor<4x4xf32>, tensor<4x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      weight_blob: "0x04000000000040C0000020C0000000C00000C0BF000080BF000000BF000000000000003F0000803F0000C03F000000400000204000004040000060400000804000009040"
    }
  }
#-}
