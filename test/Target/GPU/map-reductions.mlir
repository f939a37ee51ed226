// RUN: tp-opt %s --tp-gpu-map-reductions --split-input-file --verify-diagnostics | FileCheck %s

// A row sum of bf16 into f32 (LayerNorm's mean): one warp per row, 8 rows per
// block of 256 threads, each lane summing vector<8xbf16> loads (16 bytes,
// aligned) into a register, a butterfly of 5 shuffles, lane 0 folding the sum
// into the output once.
// CHECK-LABEL: func @row_sum_bf16
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C64]], {{.*}}) threads(%[[LANE:.*]], %[[WARP:.*]], %{{.*}}) in ({{.*}} = %[[C32]], {{.*}} = %[[C8]],
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32)
// CHECK: vector.load %arg0[%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<512x768xbf16>, vector<8xbf16>
// CHECK-COUNT-8: arith.extf
// CHECK: scf.yield
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: scf.if
// CHECK: %[[OLD:.*]] = memref.load %arg1[
// CHECK: arith.addf %{{.*}}, %[[OLD]] : f32
// CHECK: memref.store
// CHECK-NOT: linalg.generic
func.func @row_sum_bf16(%x: memref<512x768xbf16>, %out: memref<512xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<512x768xbf16>) outs(%out : memref<512xf32>) {
  ^bb0(%in: bf16, %o: f32):
    %e = arith.extf %in : bf16 to f32
    %s = arith.addf %e, %o : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Softmax's row max over [B, H, S, S] scores: rows are the three parallel
// loops, delinearized by constants; the accumulator starts at -inf; f32
// rows are read 4 at a time.
// CHECK-LABEL: func @softmax_row_max
// CHECK: gpu.launch
// CHECK: arith.remui %{{.*}}, %c16
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: vector.load {{.*}} : memref<2x12x16x16xf32>, vector<4xf32>
// CHECK-COUNT-4: arith.maximumf
// CHECK: gpu.shuffle  xor
func.func @softmax_row_max(%s: memref<2x12x16x16xf32>, %out: memref<2x12x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%s : memref<2x12x16x16xf32>) outs(%out : memref<2x12x16xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %o : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// LayerNorm's variance: the row's mean is an input indexed by the row only,
// loaded once per row (before the loop), not once per element.
// CHECK-LABEL: func @row_variance_with_mean
// CHECK: gpu.launch
// CHECK: %[[MEAN:.*]] = memref.load %arg1[%{{.*}}] : memref<64xf32>
// CHECK: scf.for
// CHECK: vector.load %arg0
// CHECK: arith.subf %{{.*}}, %[[MEAN]] : f32
// CHECK-NOT: memref.load %arg1
// CHECK: gpu.shuffle
func.func @row_variance_with_mean(%x: memref<64x256xf32>, %mean: memref<64xf32>, %out: memref<64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x, %mean : memref<64x256xf32>, memref<64xf32>) outs(%out : memref<64xf32>) {
  ^bb0(%in: f32, %m: f32, %o: f32):
    %d = arith.subf %in, %m : f32
    %sq = arith.mulf %d, %d : f32
    %s = arith.addf %sq, %o : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A row length that is not a multiple of the vector width, and an input read
// across rows (transposed): scalar loads, still one warp per row. The body's
// linalg.index of the reduced loop is the element's position.
// CHECK-LABEL: func @row_sum_scalar_loads
// CHECK: gpu.launch
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c100 step %c32
// CHECK-NOT: vector.load
// CHECK: memref.load %arg0[%{{.*}}, %[[K]]] : memref<8x100xf32>
// CHECK: memref.load %arg1[%[[K]], %{{.*}}] : memref<100x8xf32>
// CHECK: arith.index_cast %[[K]]
// CHECK: gpu.shuffle
func.func @row_sum_scalar_loads(%x: memref<8x100xf32>, %y: memref<100x8xf32>, %out: memref<8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x, %y : memref<8x100xf32>, memref<100x8xf32>) outs(%out : memref<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %k = linalg.index 1 : index
    %ki = arith.index_cast %k : index to i32
    %kf = arith.sitofp %ki : i32 to f32
    %p = arith.mulf %a, %b : f32
    %q = arith.mulf %p, %kf : f32
    %s = arith.addf %q, %o : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Not a row reduction: with the output buffer as an input too, over the
// outer loop (a column sum), with an integer accumulator, or with the
// output read twice. These stay linalg (and
// become one-thread-per-output kernels later).
// CHECK-LABEL: func @negative_not_row_reductions
// CHECK-NOT: gpu.launch
// CHECK-COUNT-4: linalg.generic
func.func @negative_not_row_reductions(%x: memref<64x256xf32>, %i: memref<64x256xi32>, %out: memref<256xf32>, %iout: memref<64xi32>, %out2: memref<64xf32>) {
  // The output is also an input: the sequential loop's partial results are
  // visible to it.
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x, %out2 : memref<64x256xf32>, memref<64xf32>) outs(%out2 : memref<64xf32>) {
  ^bb0(%in: f32, %prev: f32, %o: f32):
    %p = arith.mulf %in, %prev : f32
    %s = arith.addf %p, %o : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]} ins(%x : memref<64x256xf32>) outs(%out : memref<256xf32>) {
  ^bb0(%in: f32, %o: f32):
    %s = arith.addf %in, %o : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%i : memref<64x256xi32>) outs(%iout : memref<64xi32>) {
  ^bb0(%in: i32, %o: i32):
    %s = arith.addi %in, %o : i32
    linalg.yield %s : i32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<64x256xf32>) outs(%out2 : memref<64xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.mulf %in, %o : f32
    %s = arith.addf %m, %o : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A row of index elements (token positions) summed as f32: index has no
// width of its own before the lowering, so the row is read by scalar loads
// (no vector width or alignment computed from it), still one warp per row.
// CHECK-LABEL: func @row_sum_of_index_scalar_loads
// CHECK: gpu.launch
// CHECK-NOT: vector.load
// CHECK: memref.load %arg0[%{{.*}}, %{{.*}}] : memref<64x256xindex>
// CHECK-NOT: vector.load
// CHECK: gpu.shuffle  xor
func.func @row_sum_of_index_scalar_loads(%pos: memref<64x256xindex>, %out: memref<64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%pos : memref<64x256xindex>) outs(%out : memref<64xf32>) {
  ^bb0(%in: index, %o: f32):
    %i = arith.index_cast %in : index to i64
    %f = arith.sitofp %i : i64 to f32
    %s = arith.addf %f, %o : f32
    linalg.yield %s : f32
  }
  return
}
