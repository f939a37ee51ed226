// RUN: tp-opt %s --tp-cpu-approximate-math | FileCheck %s

// f32 tanh / exp / log / erf become arith (no libm call left); other math
// ops and f64 stay.

// CHECK-LABEL: func.func @gelu_softmax_f32(
// CHECK-NOT: math.tanh
// CHECK-NOT: math.exp
// CHECK-NOT: math.log
// CHECK-NOT: math.erf
// CHECK: math.sqrt
// CHECK: return
func.func @gelu_softmax_f32(%x: f32) -> (f32, f32, f32, f32, f32) {
  %t = math.tanh %x : f32
  %e = math.exp %x : f32
  %l = math.log %x : f32
  %r = math.erf %x : f32
  %s = math.sqrt %x : f32
  return %t, %e, %l, %r, %s : f32, f32, f32, f32, f32
}

// CHECK-LABEL: func.func @tanh_f64(
// CHECK: math.tanh %{{.*}} : f64
func.func @tanh_f64(%x: f64) -> f64 {
  %t = math.tanh %x : f64
  return %t : f64
}
