// REQUIRES: mlir-runner
// RUN: tp-opt %s --tp-gpu-test-row-statistics | %mlir_opt --convert-scf-to-cf --convert-math-to-llvm --convert-arith-to-llvm --convert-cf-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts | %mlir_runner -e main -entry-point-result=void -shared-libs=%mlir_c_runner_utils | FileCheck %s

// The statistics formulas tp-gpu-map-row-groups emits into its kernels
// (RowStatistics.h), built by the same code as host functions and run on
// the CPU: a 64-element row read as a warp-per-row kernel reads it, by 4
// "lanes" in chunks of 4 at lane * 4 + 16 t, then the lanes merged pairwise
// as the shuffle butterfly does (and once more with two empty lanes, as a
// lane with no elements of a short row contributes).

// Moments of v(i) = 9999 + (i mod 3) (|mean| ~ 1e4, std ~ 0.8): 64 values,
// mean 10000 - 1/64, and sum((v - 10000)^2) = 22 + 21 = 43 exactly. The
// formula this replaces, sum(v^2) - 2 m sum(v) + n m^2 in f32, computes
// 6.4e9 - 1.28e10 + 6.4e9 with an f32 rounding step of 512: nothing of 43
// is left.
// CHECK-LABEL: moments
// CHECK-NEXT: 64
// CHECK-NEXT: 9999.98
// CHECK-NEXT: 43{{$}}

// Online sum of exponentials of v(i) = 80 + i / 4, with every 7th element
// from i = 3 masked to -inf, finished at m = max = 95.75:
// sum exp(v - m) = 4.07556 (exp(95.75) itself overflows f32).
// CHECK-LABEL: exp sum
// CHECK-NEXT: 95.75
// CHECK-NEXT: 4.0755{{[0-9]}}

func.func private @add_moments(f32, f32, f32, f32, f32, f32, f32) -> (f32, f32, f32) attributes {tp.test_row_statistic = "add-chunk-to-moments"}
func.func private @merge_moments(f32, f32, f32, f32, f32, f32) -> (f32, f32, f32) attributes {tp.test_row_statistic = "merge-moments"}
func.func private @deviations(f32, f32, f32, f32) -> f32 attributes {tp.test_row_statistic = "sum-of-squared-deviations"}
func.func private @add_exps(f32, f32, f32, f32, f32, f32) -> (f32, f32) attributes {tp.test_row_statistic = "add-chunk-to-exp-sum"}
func.func private @merge_exps(f32, f32, f32, f32) -> (f32, f32) attributes {tp.test_row_statistic = "merge-exp-sums"}
func.func private @finish_exps(f32, f32, f32) -> f32 attributes {tp.test_row_statistic = "finish-exp-sum"}
func.func private @printF32(f32)
func.func private @printNewline()
func.func private @printString(!llvm.ptr)
llvm.mlir.global internal constant @moments_label("moments\0A\00")
llvm.mlir.global internal constant @exp_label("exp sum\0A\00")

func.func @print(%x: f32) {
  call @printF32(%x) : (f32) -> ()
  call @printNewline() : () -> ()
  return
}

func.func @moment_value(%i: index) -> f32 {
  %c3 = arith.constant 3 : index
  %r = arith.remui %i, %c3 : index
  %ri = arith.index_cast %r : index to i32
  %f = arith.sitofp %ri : i32 to f32
  %base = arith.constant 9999.0 : f32
  %v = arith.addf %base, %f : f32
  return %v : f32
}

func.func @exp_value(%i: index) -> f32 {
  %c7 = arith.constant 7 : index
  %c3 = arith.constant 3 : index
  %r = arith.remui %i, %c7 : index
  %masked = arith.cmpi eq, %r, %c3 : index
  %ii = arith.index_cast %i : index to i32
  %f = arith.sitofp %ii : i32 to f32
  %quarter = arith.constant 0.25 : f32
  %base = arith.constant 80.0 : f32
  %s = arith.mulf %f, %quarter : f32
  %v = arith.addf %base, %s : f32
  %ninf = arith.constant 0xFF800000 : f32
  %out = arith.select %masked, %ninf, %v : f32
  return %out : f32
}

// One lane's chunks: values k, k + 1, k + 2, k + 3 for k = lane * 4 + 16 t.
func.func @lane_moments(%lane: index) -> (f32, f32, f32) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %start = arith.muli %lane, %c4 : index
  %r:3 = scf.for %k = %start to %c64 step %c16 iter_args(%n = %zero, %m = %zero, %m2 = %zero) -> (f32, f32, f32) {
    %k1 = arith.addi %k, %c1 : index
    %k2 = arith.addi %k, %c2 : index
    %k3 = arith.addi %k, %c3 : index
    %v0 = func.call @moment_value(%k) : (index) -> f32
    %v1 = func.call @moment_value(%k1) : (index) -> f32
    %v2 = func.call @moment_value(%k2) : (index) -> f32
    %v3 = func.call @moment_value(%k3) : (index) -> f32
    %new:3 = func.call @add_moments(%n, %m, %m2, %v0, %v1, %v2, %v3) : (f32, f32, f32, f32, f32, f32, f32) -> (f32, f32, f32)
    scf.yield %new#0, %new#1, %new#2 : f32, f32, f32
  }
  return %r#0, %r#1, %r#2 : f32, f32, f32
}

func.func @lane_exps(%lane: index) -> (f32, f32) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %start = arith.muli %lane, %c4 : index
  %r:2 = scf.for %k = %start to %c64 step %c16 iter_args(%ref = %ninf, %sum = %zero) -> (f32, f32) {
    %k1 = arith.addi %k, %c1 : index
    %k2 = arith.addi %k, %c2 : index
    %k3 = arith.addi %k, %c3 : index
    %v0 = func.call @exp_value(%k) : (index) -> f32
    %v1 = func.call @exp_value(%k1) : (index) -> f32
    %v2 = func.call @exp_value(%k2) : (index) -> f32
    %v3 = func.call @exp_value(%k3) : (index) -> f32
    %new:2 = func.call @add_exps(%ref, %sum, %v0, %v1, %v2, %v3) : (f32, f32, f32, f32, f32, f32) -> (f32, f32)
    scf.yield %new#0, %new#1 : f32, f32
  }
  return %r#0, %r#1 : f32, f32
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32

  %ml = llvm.mlir.addressof @moments_label : !llvm.ptr
  call @printString(%ml) : (!llvm.ptr) -> ()
  %a:3 = call @lane_moments(%c0) : (index) -> (f32, f32, f32)
  %b:3 = call @lane_moments(%c1) : (index) -> (f32, f32, f32)
  %c:3 = call @lane_moments(%c2) : (index) -> (f32, f32, f32)
  %d:3 = call @lane_moments(%c3) : (index) -> (f32, f32, f32)
  %ab:3 = call @merge_moments(%a#0, %a#1, %a#2, %b#0, %b#1, %b#2) : (f32, f32, f32, f32, f32, f32) -> (f32, f32, f32)
  %cd:3 = call @merge_moments(%c#0, %c#1, %c#2, %d#0, %d#1, %d#2) : (f32, f32, f32, f32, f32, f32) -> (f32, f32, f32)
  %empty:3 = call @merge_moments(%zero, %zero, %zero, %zero, %zero, %zero) : (f32, f32, f32, f32, f32, f32) -> (f32, f32, f32)
  %abcd:3 = call @merge_moments(%ab#0, %ab#1, %ab#2, %cd#0, %cd#1, %cd#2) : (f32, f32, f32, f32, f32, f32) -> (f32, f32, f32)
  %all:3 = call @merge_moments(%empty#0, %empty#1, %empty#2, %abcd#0, %abcd#1, %abcd#2) : (f32, f32, f32, f32, f32, f32) -> (f32, f32, f32)
  call @print(%all#0) : (f32) -> ()
  call @print(%all#1) : (f32) -> ()
  %m = arith.constant 10000.0 : f32
  %dev = call @deviations(%all#0, %all#1, %all#2, %m) : (f32, f32, f32, f32) -> f32
  call @print(%dev) : (f32) -> ()

  %el = llvm.mlir.addressof @exp_label : !llvm.ptr
  call @printString(%el) : (!llvm.ptr) -> ()
  %p:2 = call @lane_exps(%c0) : (index) -> (f32, f32)
  %q:2 = call @lane_exps(%c1) : (index) -> (f32, f32)
  %r:2 = call @lane_exps(%c2) : (index) -> (f32, f32)
  %s:2 = call @lane_exps(%c3) : (index) -> (f32, f32)
  %pq:2 = call @merge_exps(%p#0, %p#1, %q#0, %q#1) : (f32, f32, f32, f32) -> (f32, f32)
  %rs:2 = call @merge_exps(%r#0, %r#1, %s#0, %s#1) : (f32, f32, f32, f32) -> (f32, f32)
  %none:2 = call @merge_exps(%ninf, %zero, %ninf, %zero) : (f32, f32, f32, f32) -> (f32, f32)
  %pqrs:2 = call @merge_exps(%pq#0, %pq#1, %rs#0, %rs#1) : (f32, f32, f32, f32) -> (f32, f32)
  %total:2 = call @merge_exps(%pqrs#0, %pqrs#1, %none#0, %none#1) : (f32, f32, f32, f32) -> (f32, f32)
  call @print(%total#0) : (f32) -> ()
  %max = arith.constant 95.75 : f32
  %sum = call @finish_exps(%total#0, %total#1, %max) : (f32, f32, f32) -> f32
  call @print(%sum) : (f32) -> ()
  return
}
