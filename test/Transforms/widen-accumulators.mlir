// tp-widen-accumulators: a bf16 / f16 reduction accumulates in f32 (init
// extended, or a constant fill re-made in f32; body in f32; one truncation
// after). f32 ops, elementwise ops and bodies with other ops are untouched.
//
// RUN: tp-opt %s --tp-widen-accumulators | FileCheck %s

// CHECK-LABEL: func.func @mm(
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x6xf32>
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[F:.*]] = linalg.fill ins(%[[Z]] : f32) outs(%[[E]] : tensor<4x6xf32>)
// CHECK: %[[G:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%arg0, %arg1 : tensor<4x8xbf16>, tensor<8x6xbf16>) outs(%[[F]] : tensor<4x6xf32>)
// CHECK: ^bb0(%[[A:.*]]: bf16, %[[B:.*]]: bf16, %[[OUT:.*]]: f32):
// CHECK: %[[A32:.*]] = arith.extf %[[A]] : bf16 to f32
// CHECK: %[[B32:.*]] = arith.extf %[[B]] : bf16 to f32
// CHECK: %[[M:.*]] = arith.mulf %[[A32]], %[[B32]] : f32
// CHECK: %[[S:.*]] = arith.addf %[[OUT]], %[[M]] : f32
// CHECK: linalg.yield %[[S]] : f32
// CHECK: %[[T:.*]] = linalg.generic {{.*}} ins(%[[G]] : tensor<4x6xf32>) outs(%{{.*}} : tensor<4x6xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %[[T]] : tensor<4x6xbf16>
func.func @mm(%a: tensor<4x8xbf16>, %b: tensor<8x6xbf16>) -> tensor<4x6xbf16> {
  %z = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<4x6xbf16>
  %f = linalg.fill ins(%z : bf16) outs(%e : tensor<4x6xbf16>) -> tensor<4x6xbf16>
  %y = linalg.matmul ins(%a, %b : tensor<4x8xbf16>, tensor<8x6xbf16>) outs(%f : tensor<4x6xbf16>) -> tensor<4x6xbf16>
  return %y : tensor<4x6xbf16>
}

// A generic reduction with a non-constant init: the init is extended; a
// bf16 constant in the body becomes f32.
// CHECK-LABEL: func.func @rowsum(
// CHECK: %[[I:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<4xbf16>) outs(%{{.*}} : tensor<4xf32>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<4x8xbf16>) outs(%[[I]] : tensor<4xf32>)
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: arith.mulf {{.*}} : f32
// CHECK: arith.addf {{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @rowsum(%a: tensor<4x8xbf16>, %init: tensor<4xbf16>) -> tensor<4xbf16> {
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<4x8xbf16>) outs(%init : tensor<4xbf16>) {
  ^bb0(%x: bf16, %acc: bf16):
    %c = arith.constant 2.0 : bf16
    %m = arith.mulf %x, %c : bf16
    %s = arith.addf %acc, %m : bf16
    linalg.yield %s : bf16
  } -> tensor<4xbf16>
  return %r : tensor<4xbf16>
}

// CHECK-LABEL: func.func @f32_untouched(
// CHECK-NEXT: linalg.matmul ins(%arg0, %arg1 : tensor<4x8xf32>, tensor<8x6xf32>) outs(%arg2 : tensor<4x6xf32>)
// CHECK-NEXT: return
func.func @f32_untouched(%a: tensor<4x8xf32>, %b: tensor<8x6xf32>, %c: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %y = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x6xf32>) outs(%c : tensor<4x6xf32>) -> tensor<4x6xf32>
  return %y : tensor<4x6xf32>
}

// CHECK-LABEL: func.func @elementwise_untouched(
// CHECK-NOT: f32
// CHECK: return
func.func @elementwise_untouched(%a: tensor<4xbf16>) -> tensor<4xbf16> {
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%a : tensor<4xbf16>) outs(%a : tensor<4xbf16>) {
  ^bb0(%x: bf16, %o: bf16):
    %s = arith.addf %x, %x : bf16
    linalg.yield %s : bf16
  } -> tensor<4xbf16>
  return %r : tensor<4xbf16>
}

// A body with an op that is not arith or math is left alone.
// CHECK-LABEL: func.func @unknown_body_untouched(
// CHECK-NOT: f32
// CHECK: tensor.extract
// CHECK-NOT: f32
// CHECK: return
func.func @unknown_body_untouched(%a: tensor<4x8xbf16>, %t: tensor<2xbf16>, %init: tensor<4xbf16>) -> tensor<4xbf16> {
  %c0 = arith.constant 0 : index
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<4x8xbf16>) outs(%init : tensor<4xbf16>) {
  ^bb0(%x: bf16, %acc: bf16):
    %v = tensor.extract %t[%c0] : tensor<2xbf16>
    %m = arith.mulf %x, %v : bf16
    %s = arith.addf %acc, %m : bf16
    linalg.yield %s : bf16
  } -> tensor<4xbf16>
  return %r : tensor<4xbf16>
}

// The padding mask of an uneven=pad row split: the body captures index
// values (this rank's offset, the bound) and a bf16 scalar from above. Index
// values are used as they are; the bf16 one is extended once in the body.
// CHECK-LABEL: func.func @masked_row_split_captures(
// CHECK-SAME: %[[OFF:[a-z0-9]+]]: index, %[[SCALE:[a-z0-9]+]]: bf16
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<4x4xf32>)
// CHECK: ^bb0(%{{.*}}: bf16, %{{.*}}: bf16, %[[OUT:.*]]: f32):
// CHECK: %[[SCALE32:.*]] = arith.extf %[[SCALE]] : bf16 to f32
// CHECK: arith.mulf %{{.*}}, %[[SCALE32]] : f32
// CHECK: arith.addi %{{.*}}, %[[OFF]] : index
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[OUT]] : f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @masked_row_split_captures(%x: tensor<4x2xbf16>, %w: tensor<2x4xbf16>, %off: index, %scale: bf16) -> tensor<4x4xbf16> {
  %z = arith.constant 0.0 : bf16
  %c3 = arith.constant 3 : index
  %e = tensor.empty() : tensor<4x4xbf16>
  %f = linalg.fill ins(%z : bf16) outs(%e : tensor<4x4xbf16>) -> tensor<4x4xbf16>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<4x2xbf16>, tensor<2x4xbf16>) outs(%f : tensor<4x4xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %out: bf16):
    %m = arith.mulf %a, %b : bf16
    %ms = arith.mulf %m, %scale : bf16
    %s = arith.addf %out, %ms : bf16
    %k = linalg.index 2 : index
    %kg = arith.addi %k, %off : index
    %in = arith.cmpi ult, %kg, %c3 : index
    %r = arith.select %in, %s, %out : bf16
    linalg.yield %r : bf16
  } -> tensor<4x4xbf16>
  return %y : tensor<4x4xbf16>
}
