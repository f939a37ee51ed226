// RUN: tp-opt %s --tp-gpu-map-row-groups --split-input-file | FileCheck %s

// A bf16 LayerNorm as tp-gpu-pipeline bufferizes it (the mean from an f32
// sum truncated to bf16 and scaled, the variance as sum((x - mean)^2) into
// a copy of a zero-filled buffer, then the normalisation) is one launch,
// one warp per row (8 rows: one block of 8 warps). The first loop over the
// row reduces the sum and the moments of x (count, mean, M2: four
// accumulators, 20 shuffles), one division per chunk of 8 (Chan's merge of
// the chunk's exact moments); the lanes merge with the same formula, the
// division guarded for two empty lanes; the variance is M2 + n (mean - m)^2,
// never sum(x^2) - 2 m sum(x) + n m^2. The second loop writes the
// normalised row, 8 bf16 per 16-byte load and store. No op is left outside
// the kernel.
#row3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#per_row3 = affine_map<(d0, d1, d2) -> (d0, d1)>
#per_col3 = affine_map<(d0, d1, d2) -> (d2)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func @layer_norm_bf16
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[LANE:.*]], %[[WARP:.*]], %{{.*}}) in (%{{.*}} = %c32{{.*}}, %{{.*}} = %c8{{.*}}, %{{.*}} = %c1
// CHECK: %[[ACC:.*]]:4 = scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, f32, f32, f32)
// CHECK: vector.load %arg0{{.*}} {alignment = 16 : i64} : memref<2x4x256xbf16>, vector<8xbf16>
// CHECK-NOT: vector.load
// CHECK: %[[EIGHT:.*]] = arith.constant 8.000000e+00 : f32
// CHECK: arith.divf %[[EIGHT]], %{{.*}} : f32
// CHECK-NOT: arith.divf
// CHECK: scf.yield
// First butterfly step: Chan's merge of (n, mean, M2) with the other lane's.
// CHECK: gpu.shuffle xor %[[ACC]]#0, %c16
// CHECK: %[[N2:.*]], %{{.*}} = gpu.shuffle xor %[[ACC]]#1, %c16
// CHECK: %[[MEAN2:.*]], %{{.*}} = gpu.shuffle xor %[[ACC]]#2, %c16
// CHECK: %[[MTWO2:.*]], %{{.*}} = gpu.shuffle xor %[[ACC]]#3, %c16
// CHECK: %[[N:.*]] = arith.addf %[[ACC]]#1, %[[N2]] : f32
// CHECK: %[[ANY:.*]] = arith.cmpf ogt, %[[N]], %{{.*}} : f32
// CHECK: %[[Q:.*]] = arith.divf %[[N2]], %[[N]] : f32
// CHECK: %[[F:.*]] = arith.select %[[ANY]], %[[Q]], %{{.*}} : f32
// CHECK: %[[D:.*]] = arith.subf %[[MEAN2]], %[[ACC]]#2 : f32
// CHECK: %[[DF:.*]] = arith.mulf %[[D]], %[[F]] : f32
// CHECK: arith.addf %[[ACC]]#2, %[[DF]] : f32
// CHECK: %[[DD:.*]] = arith.mulf %[[D]], %[[D]] : f32
// CHECK: %[[NAF:.*]] = arith.mulf %[[ACC]]#1, %[[F]] : f32
// CHECK: %[[CROSS:.*]] = arith.mulf %[[DD]], %[[NAF]] : f32
// CHECK: %[[MM:.*]] = arith.addf %[[ACC]]#3, %[[MTWO2]] : f32
// CHECK: arith.addf %[[MM]], %[[CROSS]] : f32
// CHECK-COUNT-16: gpu.shuffle xor
// CHECK-NOT: gpu.shuffle
// The variance from the moments and the truncated mean m:
// CHECK: %[[MV:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[DM:.*]] = arith.subf %{{.*}}, %[[MV]] : f32
// CHECK: %[[DM2:.*]] = arith.mulf %[[DM]], %[[DM]] : f32
// CHECK: %[[SHIFT:.*]] = arith.mulf %{{.*}}, %[[DM2]] : f32
// CHECK: arith.addf %{{.*}}, %[[SHIFT]] : f32
// CHECK-NOT: 2.000000e+00
// CHECK: scf.for
// CHECK-COUNT-3: vector.load
// CHECK: vector.store {{.*}} {alignment = 16 : i64} : memref<2x4x256xbf16>, vector<8xbf16>
// CHECK-NOT: scf.for
// CHECK: arith.cmpi eq, %[[LANE]]
// CHECK: memref.store
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return
func.func @layer_norm_bf16(%x: memref<2x4x256xbf16>, %gamma: memref<256xbf16>, %beta: memref<256xbf16>) -> memref<2x4x256xbf16> {
  %zero = arith.constant 0.000000e+00 : f32
  %inv_n = arith.constant 3.906250e-03 : bf16
  %eps = arith.constant 1.001360e-05 : bf16
  %zeros = gpu.alloc () : memref<2x4xf32>
  linalg.fill ins(%zero : f32) outs(%zeros : memref<2x4xf32>)
  %sum = gpu.alloc () : memref<2x4xf32>
  gpu.memcpy %sum, %zeros : memref<2x4xf32>, memref<2x4xf32>
  linalg.generic {indexing_maps = [#row3, #per_row3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : memref<2x4x256xbf16>) outs(%sum : memref<2x4xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.addf %0, %out : f32
    linalg.yield %1 : f32
  }
  %t = gpu.alloc () : memref<2x4xbf16>
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%sum : memref<2x4xf32>) outs(%t : memref<2x4xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  %mean = gpu.alloc () : memref<2x4xbf16>
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%t : memref<2x4xbf16>) outs(%mean : memref<2x4xbf16>) {
  ^bb0(%in: bf16, %out: bf16):
    %0 = arith.mulf %in, %inv_n : bf16
    linalg.yield %0 : bf16
  }
  %var = gpu.alloc () : memref<2x4xf32>
  gpu.memcpy %var, %zeros : memref<2x4xf32>, memref<2x4xf32>
  linalg.generic {indexing_maps = [#row3, #per_row3, #per_row3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %mean : memref<2x4x256xbf16>, memref<2x4xbf16>) outs(%var : memref<2x4xf32>) {
  ^bb0(%in: bf16, %m: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.extf %m : bf16 to f32
    %2 = arith.subf %0, %1 : f32
    %3 = arith.mulf %2, %2 : f32
    %4 = arith.addf %3, %out : f32
    linalg.yield %4 : f32
  }
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%var : memref<2x4xf32>) outs(%t : memref<2x4xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  %y = gpu.alloc () : memref<2x4x256xbf16>
  linalg.generic {indexing_maps = [#row3, #per_row3, #per_row3, #per_col3, #per_col3, #row3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %mean, %t, %gamma, %beta : memref<2x4x256xbf16>, memref<2x4xbf16>, memref<2x4xbf16>, memref<256xbf16>, memref<256xbf16>) outs(%y : memref<2x4x256xbf16>) {
  ^bb0(%in: bf16, %m: bf16, %v: bf16, %g: bf16, %b: bf16, %out: bf16):
    %0 = arith.subf %in, %m : bf16
    %1 = arith.mulf %v, %inv_n : bf16
    %2 = arith.addf %1, %eps : bf16
    %3 = math.rsqrt %2 : bf16
    %4 = arith.mulf %0, %3 : bf16
    %5 = arith.mulf %4, %g : bf16
    %6 = arith.addf %5, %b : bf16
    linalg.yield %6 : bf16
  }
  gpu.dealloc %zeros : memref<2x4xf32>
  gpu.dealloc %sum : memref<2x4xf32>
  gpu.dealloc %t : memref<2x4xbf16>
  gpu.dealloc %mean : memref<2x4xbf16>
  gpu.dealloc %var : memref<2x4xf32>
  return %y : memref<2x4x256xbf16>
}

// -----

// A softmax in place, as bufferized from max / exp(x - max) / sum / divide
// (the scores' scale-and-mask kernel before it joins too): one launch, two
// loops over the row. The first scales and masks, reduces the max and, as
// the online softmax does, a running reference r (the largest value seen)
// with the sum of exp(x - r), rescaled by exp(r_old - r) once per chunk
// (5 exp per chunk of 4, not 8); 15 shuffles merge (max; r and the sum,
// rescaled to the larger r). The second writes exp(x - max) / sum: the
// exp's store is dead (the division overwrites the row in the same loop)
// and is not emitted. f32 here: 4 elements per 16-byte access.
#row = affine_map<(d0, d1) -> (d0, d1)>
#per_row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @softmax_in_place
// CHECK: gpu.launch
// CHECK: %[[ACC:.*]]:3 = scf.for {{.*}} -> (f32, f32, f32)
// CHECK: vector.load %arg0
// CHECK: vector.store {{.*}}, %arg0
// CHECK: arith.maximumf
// CHECK-COUNT-5: math.exp
// CHECK-NOT: math.exp
// CHECK: scf.yield
// The lanes' (r, sum) pairs: r = max(r1, r2), sum = sum1 exp(r1 - r) + sum2 exp(r2 - r).
// CHECK: %[[MAX2:.*]], %{{.*}} = gpu.shuffle xor %[[ACC]]#0, %c16
// CHECK: %[[R2:.*]], %{{.*}} = gpu.shuffle xor %[[ACC]]#1, %c16
// CHECK: %[[S2:.*]], %{{.*}} = gpu.shuffle xor %[[ACC]]#2, %c16
// CHECK: arith.maximumf %[[ACC]]#0, %[[MAX2]]
// CHECK: %[[R:.*]] = arith.maximumf %[[ACC]]#1, %[[R2]]
// CHECK: %[[D1:.*]] = arith.subf %[[ACC]]#1, %[[R]]
// CHECK: %[[E1:.*]] = math.exp %[[D1]]
// CHECK: %[[F1:.*]] = arith.select %{{.*}}, %{{.*}}, %[[E1]]
// CHECK: %[[T1:.*]] = arith.mulf %[[ACC]]#2, %[[F1]]
// CHECK: %[[D2:.*]] = arith.subf %[[R2]], %[[R]]
// CHECK: %[[E2:.*]] = math.exp %[[D2]]
// CHECK: %[[F2:.*]] = arith.select %{{.*}}, %{{.*}}, %[[E2]]
// CHECK: %[[T2:.*]] = arith.mulf %[[S2]], %[[F2]]
// CHECK: arith.addf %[[T1]], %[[T2]]
// CHECK-COUNT-12: gpu.shuffle xor
// CHECK-NOT: gpu.shuffle
// The row's max M, then the sum as sum exp(r - M):
// CHECK: %[[M:.*]] = arith.maximumf %{{.*}}, %cst : f32
// CHECK: %[[DR:.*]] = arith.subf %{{.*}}, %[[M]]
// CHECK: math.exp %[[DR]]
// CHECK: scf.for
// CHECK: vector.load %arg0
// CHECK: math.exp
// CHECK-NOT: vector.store
// CHECK: arith.divf
// CHECK: vector.store {{.*}}, %arg0
// CHECK-NOT: vector.store
// CHECK-NOT: scf.for
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return
func.func @softmax_in_place(%s: memref<64x128xf32>) {
  %ninf = arith.constant -3.40282347E+38 : f32
  %zero = arith.constant 0.000000e+00 : f32
  %scale = arith.constant 1.250000e-01 : f32
  linalg.generic {indexing_maps = [#row, #row], iterator_types = ["parallel", "parallel"]} ins(%s : memref<64x128xf32>) outs(%s : memref<64x128xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c = arith.cmpi ugt, %j, %i : index
    %0 = arith.mulf %in, %scale : f32
    %1 = arith.select %c, %ninf, %0 : f32
    linalg.yield %1 : f32
  }
  %m = gpu.alloc () : memref<64xf32>
  linalg.fill ins(%ninf : f32) outs(%m : memref<64xf32>)
  linalg.generic {indexing_maps = [#row, #per_row], iterator_types = ["parallel", "reduction"]} ins(%s : memref<64x128xf32>) outs(%m : memref<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#row, #per_row, #row], iterator_types = ["parallel", "parallel"]} ins(%s, %m : memref<64x128xf32>, memref<64xf32>) outs(%s : memref<64x128xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %0 = arith.subf %in, %mx : f32
    %1 = math.exp %0 : f32
    linalg.yield %1 : f32
  }
  linalg.fill ins(%zero : f32) outs(%m : memref<64xf32>)
  linalg.generic {indexing_maps = [#row, #per_row], iterator_types = ["parallel", "reduction"]} ins(%s : memref<64x128xf32>) outs(%m : memref<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#row, #per_row, #row], iterator_types = ["parallel", "parallel"]} ins(%s, %m : memref<64x128xf32>, memref<64xf32>) outs(%s : memref<64x128xf32>) {
  ^bb0(%in: f32, %sum: f32, %out: f32):
    %0 = arith.divf %in, %sum : f32
    linalg.yield %0 : f32
  }
  gpu.dealloc %m : memref<64xf32>
  return
}

// -----

// The bf16 softmax as tp-gpu-pipeline bufferizes it: the f32 max truncated
// into a bf16 buffer %t that exp(x - t) reads, and the f32 sum truncated
// into the same %t, which the division reads. Two loops: the exp moves to
// the second, with the value %t had where the exp stood (the truncated
// max, not the truncated sum that %t holds by then); the first loop sums
// exp in f32 from the bf16 scores extended to f32.
#row = affine_map<(d0, d1) -> (d0, d1)>
#per_row = affine_map<(d0, d1) -> (d0)>
#id1 = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func @softmax_bf16_reused_statistic
// CHECK: gpu.launch
// CHECK: %[[ACC:.*]]:3 = scf.for {{.*}} -> (f32, f32, f32)
// CHECK: vector.load %arg0{{.*}} vector<8xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK-COUNT-9: math.exp %{{.*}} : f32
// CHECK: scf.yield
// CHECK-COUNT-15: gpu.shuffle xor
// CHECK: %[[MAX:.*]] = arith.maximumf %{{.*}}, %cst : f32
// CHECK: %[[TMAX:.*]] = arith.truncf %[[MAX]] : f32 to bf16
// CHECK: %[[M:.*]] = arith.extf %[[TMAX]] : bf16 to f32
// CHECK: arith.subf %{{.*}}, %[[M]] : f32
// CHECK: %[[SUM:.*]] = arith.addf %{{.*}}, %cst_0 : f32
// CHECK: %[[TSUM:.*]] = arith.truncf %[[SUM]] : f32 to bf16
// CHECK: scf.for
// CHECK: %[[X:.*]] = vector.load %arg0
// CHECK: %[[X0:.*]] = vector.extract %[[X]][0]
// CHECK: %[[D:.*]] = arith.subf %[[X0]], %[[TMAX]] : bf16
// CHECK: %[[E:.*]] = math.exp %[[D]] : bf16
// CHECK: arith.divf %[[E]], %[[TSUM]] : bf16
// CHECK: vector.store
// CHECK-NOT: vector.store
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return
func.func @softmax_bf16_reused_statistic(%s: memref<64x256xbf16>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.000000e+00 : f32
  %m = gpu.alloc () : memref<64xf32>
  linalg.fill ins(%ninf : f32) outs(%m : memref<64xf32>)
  linalg.generic {indexing_maps = [#row, #per_row], iterator_types = ["parallel", "reduction"]} ins(%s : memref<64x256xbf16>) outs(%m : memref<64xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.maximumf %0, %out : f32
    linalg.yield %1 : f32
  }
  %t = gpu.alloc () : memref<64xbf16>
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%m : memref<64xf32>) outs(%t : memref<64xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  linalg.generic {indexing_maps = [#row, #per_row, #row], iterator_types = ["parallel", "parallel"]} ins(%s, %t : memref<64x256xbf16>, memref<64xbf16>) outs(%s : memref<64x256xbf16>) {
  ^bb0(%in: bf16, %mx: bf16, %out: bf16):
    %0 = arith.subf %in, %mx : bf16
    %1 = math.exp %0 : bf16
    linalg.yield %1 : bf16
  }
  linalg.fill ins(%zero : f32) outs(%m : memref<64xf32>)
  linalg.generic {indexing_maps = [#row, #per_row], iterator_types = ["parallel", "reduction"]} ins(%s : memref<64x256xbf16>) outs(%m : memref<64xf32>) {
  ^bb0(%in: bf16, %out: f32):
    %0 = arith.extf %in : bf16 to f32
    %1 = arith.addf %0, %out : f32
    linalg.yield %1 : f32
  }
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%m : memref<64xf32>) outs(%t : memref<64xbf16>) {
  ^bb0(%in: f32, %out: bf16):
    %0 = arith.truncf %in : f32 to bf16
    linalg.yield %0 : bf16
  }
  linalg.generic {indexing_maps = [#row, #per_row, #row], iterator_types = ["parallel", "parallel"]} ins(%s, %t : memref<64x256xbf16>, memref<64xbf16>) outs(%s : memref<64x256xbf16>) {
  ^bb0(%in: bf16, %sum: bf16, %out: bf16):
    %0 = arith.divf %in, %sum : bf16
    linalg.yield %0 : bf16
  }
  gpu.dealloc %t : memref<64xbf16>
  gpu.dealloc %m : memref<64xf32>
  return
}

// -----

// An RMSNorm (mean of squares, rsqrt, scaled write): one launch, two loops,
// one reduction (5 shuffles).
#row = affine_map<(d0, d1) -> (d0, d1)>
#per_row = affine_map<(d0, d1) -> (d0)>
#per_col = affine_map<(d0, d1) -> (d1)>
#id1 = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func @rms_norm
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: scf.yield
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK-NOT: gpu.shuffle
// CHECK: math.rsqrt
// CHECK: scf.for
// CHECK: vector.store
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return
func.func @rms_norm(%x: memref<16x512xf32>, %w: memref<512xf32>, %y: memref<16x512xf32>) {
  %zero = arith.constant 0.000000e+00 : f32
  %inv_n = arith.constant 1.953125e-03 : f32
  %eps = arith.constant 1.000000e-06 : f32
  %ss = gpu.alloc () : memref<16xf32>
  linalg.fill ins(%zero : f32) outs(%ss : memref<16xf32>)
  linalg.generic {indexing_maps = [#row, #per_row], iterator_types = ["parallel", "reduction"]} ins(%x : memref<16x512xf32>) outs(%ss : memref<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    %1 = arith.addf %0, %out : f32
    linalg.yield %1 : f32
  }
  %r = gpu.alloc () : memref<16xf32>
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%ss : memref<16xf32>) outs(%r : memref<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %inv_n : f32
    %1 = arith.addf %0, %eps : f32
    %2 = math.rsqrt %1 : f32
    linalg.yield %2 : f32
  }
  linalg.generic {indexing_maps = [#row, #per_row, #per_col, #row], iterator_types = ["parallel", "parallel"]} ins(%x, %r, %w : memref<16x512xf32>, memref<16xf32>, memref<512xf32>) outs(%y : memref<16x512xf32>) {
  ^bb0(%in: f32, %rs: f32, %g: f32, %out: f32):
    %0 = arith.mulf %in, %rs : f32
    %1 = arith.mulf %0, %g : f32
    linalg.yield %1 : f32
  }
  gpu.dealloc %ss : memref<16xf32>
  gpu.dealloc %r : memref<16xf32>
  return
}

// -----

// Not grouped: a reduction that reads, through a view (another value), the
// buffer the op before it writes; the reduction alone is left to
// tp-gpu-map-reductions.
#row = affine_map<(d0, d1) -> (d0, d1)>
#per_row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @negative_written_buffer_through_view
// CHECK-NOT: gpu.launch
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: gpu.launch
func.func @negative_written_buffer_through_view(%x: memref<64x64xf32>, %y: memref<64x64xf32>) {
  %v = memref.cast %y : memref<64x64xf32> to memref<64x64xf32, strided<[64, 1]>>
  %m = gpu.alloc () : memref<64xf32>
  linalg.generic {indexing_maps = [#row, #row], iterator_types = ["parallel", "parallel"]} ins(%x : memref<64x64xf32>) outs(%y : memref<64x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#row, #per_row], iterator_types = ["parallel", "reduction"]} ins(%v : memref<64x64xf32, strided<[64, 1]>>) outs(%m : memref<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  gpu.dealloc %m : memref<64xf32>
  return
}

// -----

// Not the online sum: the sum after exp(x - max) is of another row (%y),
// so the exp is not deferred and the sum's row is read in the exp's loop:
// three loops (max; exp and the sum of %y; division), one reduction each.
#row = affine_map<(d0, d1) -> (d0, d1)>
#per_row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @negative_exp_then_sum_of_other_row
// CHECK: gpu.launch
// CHECK: scf.for {{.*}} -> (f32) {
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: scf.for {{.*}} -> (f32) {
// CHECK: math.exp
// CHECK: vector.load %arg1
// CHECK: scf.yield
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK: scf.for
// CHECK: arith.divf
// CHECK-NOT: scf.for
// CHECK: return
func.func @negative_exp_then_sum_of_other_row(%s: memref<64x128xf32>, %y: memref<64x128xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.000000e+00 : f32
  %m = gpu.alloc () : memref<64xf32>
  linalg.fill ins(%ninf : f32) outs(%m : memref<64xf32>)
  linalg.generic {indexing_maps = [#row, #per_row], iterator_types = ["parallel", "reduction"]} ins(%s : memref<64x128xf32>) outs(%m : memref<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#row, #per_row, #row], iterator_types = ["parallel", "parallel"]} ins(%s, %m : memref<64x128xf32>, memref<64xf32>) outs(%s : memref<64x128xf32>) {
  ^bb0(%in: f32, %mx: f32, %out: f32):
    %0 = arith.subf %in, %mx : f32
    %1 = math.exp %0 : f32
    linalg.yield %1 : f32
  }
  %sum = gpu.alloc () : memref<64xf32>
  linalg.fill ins(%zero : f32) outs(%sum : memref<64xf32>)
  linalg.generic {indexing_maps = [#row, #per_row], iterator_types = ["parallel", "reduction"]} ins(%y : memref<64x128xf32>) outs(%sum : memref<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#row, #per_row, #row], iterator_types = ["parallel", "parallel"]} ins(%s, %sum : memref<64x128xf32>, memref<64xf32>) outs(%s : memref<64x128xf32>) {
  ^bb0(%in: f32, %d: f32, %out: f32):
    %0 = arith.divf %in, %d : f32
    linalg.yield %0 : f32
  }
  gpu.dealloc %sum : memref<64xf32>
  gpu.dealloc %m : memref<64xf32>
  return
}

// -----

// A row group whose row-wide member reads a row of index elements: index has
// no width of its own before the lowering, so the whole group keeps scalar
// accesses (the f32 rows too), still one launch.
#row = affine_map<(d0, d1) -> (d0, d1)>
#per_row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @row_group_reading_index_scalar_accesses
// CHECK: gpu.launch
// CHECK-NOT: vector.
// CHECK: gpu.shuffle xor
// CHECK-NOT: vector.
// CHECK: memref.load %arg1[%{{.*}}, %{{.*}}] : memref<16x512xindex>
// CHECK-NOT: vector.
// CHECK: memref.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}] : memref<16x512xf32>
// CHECK-NOT: vector.
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// CHECK: return
func.func @row_group_reading_index_scalar_accesses(%x: memref<16x512xf32>, %pos: memref<16x512xindex>, %y: memref<16x512xf32>) {
  %zero = arith.constant 0.000000e+00 : f32
  %m = gpu.alloc () : memref<16xf32>
  linalg.fill ins(%zero : f32) outs(%m : memref<16xf32>)
  linalg.generic {indexing_maps = [#row, #per_row], iterator_types = ["parallel", "reduction"]} ins(%x : memref<16x512xf32>) outs(%m : memref<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#row, #row, #per_row, #row], iterator_types = ["parallel", "parallel"]} ins(%x, %pos, %m : memref<16x512xf32>, memref<16x512xindex>, memref<16xf32>) outs(%y : memref<16x512xf32>) {
  ^bb0(%in: f32, %p: index, %s: f32, %out: f32):
    %i = arith.index_cast %p : index to i64
    %f = arith.sitofp %i : i64 to f32
    %0 = arith.mulf %in, %s : f32
    %1 = arith.addf %0, %f : f32
    linalg.yield %1 : f32
  }
  gpu.dealloc %m : memref<16xf32>
  return
}
