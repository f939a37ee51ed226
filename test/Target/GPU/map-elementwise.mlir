// RUN: tp-opt %s --tp-gpu-map-elementwise --split-input-file | FileCheck %s

// LayerNorm's normalisation in bf16: x and the weights move along the row
// (8 bf16 per 16-byte vector load), mean and variance are per row (one
// scalar load each); one aligned vector store of 8 results per thread.
// 16 rows x 64 = 128 groups of 8: one block of 128 threads.
// CHECK-LABEL: func @layer_norm_apply_bf16
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c128{{(_[0-9]+)?}},
// CHECK: arith.remui %{{.*}}, %c8
// CHECK-DAG: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<16x64xbf16>, vector<8xbf16>
// CHECK-DAG: memref.load %arg1[{{.*}}] : memref<16xbf16>
// CHECK-DAG: vector.load %arg2[{{.*}}] {alignment = 16 : i64} : memref<64xbf16>, vector<8xbf16>
// CHECK-COUNT-8: math.rsqrt
// CHECK: %[[V:.*]] = vector.from_elements {{.*}} : vector<8xbf16>
// CHECK: vector.store %[[V]], %arg3[{{.*}}] {alignment = 16 : i64} : memref<16x64xbf16>, vector<8xbf16>
// CHECK-NOT: linalg.generic
func.func @layer_norm_apply_bf16(%x: memref<16x64xbf16>, %var: memref<16xbf16>, %w: memref<64xbf16>, %y: memref<16x64xbf16>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %var, %w : memref<16x64xbf16>, memref<16xbf16>, memref<64xbf16>) outs(%y : memref<16x64xbf16>) {
  ^bb0(%a: bf16, %v: bf16, %g: bf16, %o: bf16):
    %r = math.rsqrt %v : bf16
    %n = arith.mulf %a, %r : bf16
    %s = arith.mulf %n, %g : bf16
    linalg.yield %s : bf16
  }
  return
}

// -----

// In place (softmax's exp over the scores), f32: 4 per thread; the causal
// mask's linalg.index of the innermost loop is the element's own column.
// CHECK-LABEL: func @in_place_masked_exp_f32
// CHECK: gpu.launch
// CHECK: %[[IN:.*]] = vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<4x16x16xf32>, vector<4xf32>
// CHECK-COUNT-3: arith.addi %{{.*}}, %c{{[123]}}{{(_[0-9]+)?}} : index
// CHECK: vector.store %{{.*}}, %arg0[{{.*}}] {alignment = 16 : i64} : memref<4x16x16xf32>, vector<4xf32>
func.func @in_place_masked_exp_f32(%s: memref<4x16x16xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : memref<4x16x16xf32>) outs(%s : memref<4x16x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %m = arith.cmpi ugt, %j, %i : index
    %e = math.exp %a : f32
    %r = arith.select %m, %ninf, %e : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Left to one thread per element: a transposing read (not contiguous along
// the innermost loop), a row length that is not a multiple of the width, a
// body that reads the output, and a reduction.
// CHECK-LABEL: func @negative_not_vectorizable
// CHECK-NOT: gpu.launch
// CHECK-COUNT-4: linalg.generic
func.func @negative_not_vectorizable(%a: memref<64x64xf32>, %b: memref<64x64xf32>, %c: memref<8x6xbf16>, %d: memref<8x6xbf16>, %r: memref<64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%a : memref<64x64xf32>) outs(%b : memref<64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%c : memref<8x6xbf16>) outs(%d : memref<8x6xbf16>) {
  ^bb0(%x: bf16, %o: bf16):
    %n = arith.negf %x : bf16
    linalg.yield %n : bf16
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%a : memref<64x64xf32>) outs(%b : memref<64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %x, %o : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%a : memref<64x64xf32>) outs(%r : memref<64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %x, %o : f32
    linalg.yield %s : f32
  }
  return
}
