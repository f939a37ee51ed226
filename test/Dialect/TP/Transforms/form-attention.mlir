// RUN: tp-opt %s --tp-gpu-form-attention --split-input-file | FileCheck %s

// Attention chains become one tp.attention; the chain stays under scf.if as
// the fallback. Each function: batch 2, 4 heads, 16 tokens, head size 8.

// CHECK-LABEL: func.func @gpt2_causal_scaled_f32
// CHECK-SAME: (%[[Q:.*]]: tensor<8x16x8xf32>, %[[K:.*]]: tensor<2x4x16x8xf32>, %[[V:.*]]: tensor<8x16x8xf32>)
// CHECK: %[[K3:.*]] = tensor.collapse_shape %[[K]] {{\[}}[0, 1], [2], [3]]
// CHECK: %[[OK:.*]], %[[O:.*]] = tp.attention ins(%[[Q]], %[[K3]], %[[V]] : {{.*}}) outs(%{{.*}} : tensor<8x16x8xf32>) scale(0.353553385) causal -> i1, tensor<8x16x8xf32>
// CHECK-NEXT: %[[R:.*]] = scf.if %[[OK]] -> (tensor<8x16x8xf32>) {
// CHECK-NEXT:   scf.yield %[[O]]
// CHECK-NEXT: } else {
// CHECK: linalg.batch_matmul
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[O]] : tensor<8x16x8xf32>)
// CHECK-NEXT: %[[C:.*]] = linalg.batch_matmul ins(%{{.*}}, %[[V]] : {{.*}}) outs(%[[Z]] :
// CHECK-NEXT: scf.yield %[[C]]
// CHECK: return %[[R]]
func.func @gpt2_causal_scaled_f32(%q: tensor<8x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<8x16x8xf32>) -> (tensor<8x16x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %big = arith.constant -1.0e9 : f32
  %c = arith.constant 0.353553385 : f32
  %kte = tensor.empty() : tensor<2x4x8x16xf32>
  %kt4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%kte : tensor<2x4x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x4x8x16xf32>
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %se = tensor.empty() : tensor<8x16x16xf32>
  %sf = linalg.fill ins(%zero : f32) outs(%se : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s3 = linalg.batch_matmul ins(%q, %kt : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%sf : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s4 = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %le = tensor.empty() : tensor<2x4x16x16xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s4 : tensor<2x4x16x16xf32>) outs(%le : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %sc = arith.mulf %a, %c : f32
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %fut = arith.cmpi ugt, %j, %i : index
    %sel = arith.select %fut, %big, %sc : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %me = tensor.empty() : tensor<2x4x16xf32>
  %mf = linalg.fill ins(%ninf : f32) outs(%me : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : tensor<2x4x16x16xf32>) outs(%mf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %ee = tensor.empty() : tensor<2x4x16x16xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %mx : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%ee : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %sb = arith.subf %a, %b : f32
    %ex = math.exp %sb : f32
    linalg.yield %ex : f32
  } -> tensor<2x4x16x16xf32>
  %ue = tensor.empty() : tensor<2x4x16xf32>
  %uf = linalg.fill ins(%zero : f32) outs(%ue : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<2x4x16x16xf32>) outs(%uf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %pe = tensor.empty() : tensor<2x4x16x16xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%pe : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %qt = arith.divf %a, %b : f32
    linalg.yield %qt : f32
  } -> tensor<2x4x16x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %ce = tensor.empty() : tensor<8x16x8xf32>
  %cf = linalg.fill ins(%zero : f32) outs(%ce : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %ctx = linalg.batch_matmul ins(%p3, %v : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%cf : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %ctx : tensor<8x16x8xf32>
}

// -----

// CHECK-LABEL: func.func @bf16_shared_mask_divided_split_exp
// CHECK: tp.attention ins({{.*}}) mask(%{{.*}} : tensor<16x16xbf16>) outs(%{{.*}} : tensor<8x16x8xbf16>) scale(0.3535{{[0-9]*}}) -> i1, tensor<8x16x8xbf16>
// CHECK-NOT: causal
// CHECK: scf.if
func.func @bf16_shared_mask_divided_split_exp(%q: tensor<8x16x8xbf16>, %k: tensor<2x4x16x8xbf16>, %v: tensor<8x16x8xbf16>, %mask: tensor<16x16xbf16>) -> (tensor<8x16x8xbf16>) {
  %zero = arith.constant 0.0 : bf16
  %ninf = arith.constant -3.0e38 : bf16
  %big = arith.constant -1.0e9 : bf16
  %c = arith.constant 0.353553385 : bf16
  %c8 = arith.constant 2.828427 : bf16
  %kte = tensor.empty() : tensor<2x4x8x16xbf16>
  %kt4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xbf16>) outs(%kte : tensor<2x4x8x16xbf16>) {
  ^bb0(%a: bf16, %o: bf16):
    linalg.yield %a : bf16
  } -> tensor<2x4x8x16xbf16>
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<2x4x8x16xbf16> into tensor<8x8x16xbf16>
  %se = tensor.empty() : tensor<8x16x16xbf16>
  %sf = linalg.fill ins(%zero : bf16) outs(%se : tensor<8x16x16xbf16>) -> tensor<8x16x16xbf16>
  %s3 = linalg.batch_matmul ins(%q, %kt : tensor<8x16x8xbf16>, tensor<8x8x16xbf16>) outs(%sf : tensor<8x16x16xbf16>) -> tensor<8x16x16xbf16>
  %s4 = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xbf16> into tensor<2x4x16x16xbf16>
  %le = tensor.empty() : tensor<2x4x16x16xbf16>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s4, %mask : tensor<2x4x16x16xbf16>, tensor<16x16xbf16>) outs(%le : tensor<2x4x16x16xbf16>) {
  ^bb0(%a: bf16, %m: bf16, %o: bf16):
    %sc = arith.divf %a, %c8 : bf16
    %am = arith.addf %sc, %m : bf16
    linalg.yield %am : bf16
  } -> tensor<2x4x16x16xbf16>
  %me = tensor.empty() : tensor<2x4x16xbf16>
  %mf = linalg.fill ins(%ninf : bf16) outs(%me : tensor<2x4x16xbf16>) -> tensor<2x4x16xbf16>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : tensor<2x4x16x16xbf16>) outs(%mf : tensor<2x4x16xbf16>) {
  ^bb0(%a: bf16, %o: bf16):
    %r = arith.maximumf %a, %o : bf16
    linalg.yield %r : bf16
  } -> tensor<2x4x16xbf16>
  %ee = tensor.empty() : tensor<2x4x16x16xbf16>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %mx : tensor<2x4x16x16xbf16>, tensor<2x4x16xbf16>) outs(%ee : tensor<2x4x16x16xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %o: bf16):
    %sb = arith.subf %a, %b : bf16
    linalg.yield %sb : bf16
  } -> tensor<2x4x16x16xbf16>
  %ee2 = tensor.empty() : tensor<2x4x16x16xbf16>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%d : tensor<2x4x16x16xbf16>) outs(%ee2 : tensor<2x4x16x16xbf16>) {
  ^bb0(%a: bf16, %o: bf16):
    %ex = math.exp %a : bf16
    linalg.yield %ex : bf16
  } -> tensor<2x4x16x16xbf16>
  %ue = tensor.empty() : tensor<2x4x16xbf16>
  %uf = linalg.fill ins(%zero : bf16) outs(%ue : tensor<2x4x16xbf16>) -> tensor<2x4x16xbf16>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<2x4x16x16xbf16>) outs(%uf : tensor<2x4x16xbf16>) {
  ^bb0(%a: bf16, %o: bf16):
    %r = arith.addf %a, %o : bf16
    linalg.yield %r : bf16
  } -> tensor<2x4x16xbf16>
  %pe = tensor.empty() : tensor<2x4x16x16xbf16>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<2x4x16x16xbf16>, tensor<2x4x16xbf16>) outs(%pe : tensor<2x4x16x16xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %o: bf16):
    %qt = arith.divf %a, %b : bf16
    linalg.yield %qt : bf16
  } -> tensor<2x4x16x16xbf16>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<2x4x16x16xbf16> into tensor<8x16x16xbf16>
  %ce = tensor.empty() : tensor<8x16x8xbf16>
  %cf = linalg.fill ins(%zero : bf16) outs(%ce : tensor<8x16x8xbf16>) -> tensor<8x16x8xbf16>
  %ctx = linalg.batch_matmul ins(%p3, %v : tensor<8x16x16xbf16>, tensor<8x16x8xbf16>) outs(%cf : tensor<8x16x8xbf16>) -> tensor<8x16x8xbf16>
  return %ctx : tensor<8x16x8xbf16>
}

// -----

// CHECK-LABEL: func.func @full_mask_causal_f32
// CHECK: %[[M3:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
// CHECK: tp.attention ins({{.*}}) mask(%[[M3]] : tensor<8x16x16xf32>) {{.*}} causal
func.func @full_mask_causal_f32(%q: tensor<8x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<8x16x8xf32>, %mask: tensor<2x4x16x16xf32>) -> (tensor<8x16x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %big = arith.constant -1.0e9 : f32
  %c = arith.constant 0.353553385 : f32
  %kte = tensor.empty() : tensor<2x4x8x16xf32>
  %kt4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%kte : tensor<2x4x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x4x8x16xf32>
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %se = tensor.empty() : tensor<8x16x16xf32>
  %sf = linalg.fill ins(%zero : f32) outs(%se : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s3 = linalg.batch_matmul ins(%q, %kt : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%sf : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s4 = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %le = tensor.empty() : tensor<2x4x16x16xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s4, %mask : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>) outs(%le : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %sc = arith.mulf %a, %c : f32
    %am = arith.addf %sc, %m : f32
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %fut = arith.cmpi ugt, %j, %i : index
    %sel = arith.select %fut, %big, %am : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %me = tensor.empty() : tensor<2x4x16xf32>
  %mf = linalg.fill ins(%ninf : f32) outs(%me : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : tensor<2x4x16x16xf32>) outs(%mf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %ee = tensor.empty() : tensor<2x4x16x16xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %mx : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%ee : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %sb = arith.subf %a, %b : f32
    %ex = math.exp %sb : f32
    linalg.yield %ex : f32
  } -> tensor<2x4x16x16xf32>
  %ue = tensor.empty() : tensor<2x4x16xf32>
  %uf = linalg.fill ins(%zero : f32) outs(%ue : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<2x4x16x16xf32>) outs(%uf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %pe = tensor.empty() : tensor<2x4x16x16xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%pe : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %qt = arith.divf %a, %b : f32
    linalg.yield %qt : f32
  } -> tensor<2x4x16x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %ce = tensor.empty() : tensor<8x16x8xf32>
  %cf = linalg.fill ins(%zero : f32) outs(%ce : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %ctx = linalg.batch_matmul ins(%p3, %v : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%cf : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %ctx : tensor<8x16x8xf32>
}

// -----

// CHECK-LABEL: func.func @negative_scores_used_twice
// CHECK-NOT: tp.attention
// CHECK-NOT: scf.if
// CHECK: return
func.func @negative_scores_used_twice(%q: tensor<8x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<8x16x8xf32>) -> (tensor<8x16x8xf32>, tensor<8x16x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %big = arith.constant -1.0e9 : f32
  %c = arith.constant 0.353553385 : f32
  %kte = tensor.empty() : tensor<2x4x8x16xf32>
  %kt4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%kte : tensor<2x4x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x4x8x16xf32>
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %se = tensor.empty() : tensor<8x16x16xf32>
  %sf = linalg.fill ins(%zero : f32) outs(%se : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s3 = linalg.batch_matmul ins(%q, %kt : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%sf : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s4 = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %le = tensor.empty() : tensor<2x4x16x16xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s4 : tensor<2x4x16x16xf32>) outs(%le : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %sc = arith.mulf %a, %c : f32
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %fut = arith.cmpi ugt, %j, %i : index
    %sel = arith.select %fut, %big, %sc : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %me = tensor.empty() : tensor<2x4x16xf32>
  %mf = linalg.fill ins(%ninf : f32) outs(%me : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : tensor<2x4x16x16xf32>) outs(%mf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %ee = tensor.empty() : tensor<2x4x16x16xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %mx : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%ee : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %sb = arith.subf %a, %b : f32
    %ex = math.exp %sb : f32
    linalg.yield %ex : f32
  } -> tensor<2x4x16x16xf32>
  %ue = tensor.empty() : tensor<2x4x16xf32>
  %uf = linalg.fill ins(%zero : f32) outs(%ue : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<2x4x16x16xf32>) outs(%uf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %pe = tensor.empty() : tensor<2x4x16x16xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%pe : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %qt = arith.divf %a, %b : f32
    linalg.yield %qt : f32
  } -> tensor<2x4x16x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %ce = tensor.empty() : tensor<8x16x8xf32>
  %cf = linalg.fill ins(%zero : f32) outs(%ce : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %ctx = linalg.batch_matmul ins(%p3, %v : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%cf : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %ctx, %s3 : tensor<8x16x8xf32>, tensor<8x16x16xf32>
}

// -----

// CHECK-LABEL: func.func @negative_softmax_over_queries
// CHECK-NOT: tp.attention
// CHECK-NOT: scf.if
// CHECK: return
func.func @negative_softmax_over_queries(%q: tensor<8x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<8x16x8xf32>) -> (tensor<8x16x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %big = arith.constant -1.0e9 : f32
  %c = arith.constant 0.353553385 : f32
  %kte = tensor.empty() : tensor<2x4x8x16xf32>
  %kt4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%kte : tensor<2x4x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x4x8x16xf32>
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %se = tensor.empty() : tensor<8x16x16xf32>
  %sf = linalg.fill ins(%zero : f32) outs(%se : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s3 = linalg.batch_matmul ins(%q, %kt : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%sf : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s4 = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %le = tensor.empty() : tensor<2x4x16x16xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s4 : tensor<2x4x16x16xf32>) outs(%le : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %sc = arith.mulf %a, %c : f32
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %fut = arith.cmpi ugt, %j, %i : index
    %sel = arith.select %fut, %big, %sc : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %me = tensor.empty() : tensor<2x4x16xf32>
  %mf = linalg.fill ins(%ninf : f32) outs(%me : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%x : tensor<2x4x16x16xf32>) outs(%mf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %ee = tensor.empty() : tensor<2x4x16x16xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %mx : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%ee : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %sb = arith.subf %a, %b : f32
    %ex = math.exp %sb : f32
    linalg.yield %ex : f32
  } -> tensor<2x4x16x16xf32>
  %ue = tensor.empty() : tensor<2x4x16xf32>
  %uf = linalg.fill ins(%zero : f32) outs(%ue : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%e : tensor<2x4x16x16xf32>) outs(%uf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %pe = tensor.empty() : tensor<2x4x16x16xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%pe : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %qt = arith.divf %a, %b : f32
    linalg.yield %qt : f32
  } -> tensor<2x4x16x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %ce = tensor.empty() : tensor<8x16x8xf32>
  %cf = linalg.fill ins(%zero : f32) outs(%ce : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %ctx = linalg.batch_matmul ins(%p3, %v : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%cf : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %ctx : tensor<8x16x8xf32>
}

// -----

// CHECK-LABEL: func.func @negative_non_constant_scale
// CHECK-NOT: tp.attention
// CHECK-NOT: scf.if
// CHECK: return
func.func @negative_non_constant_scale(%q: tensor<8x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<8x16x8xf32>, %s: f32) -> (tensor<8x16x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %big = arith.constant -1.0e9 : f32
  %c = arith.constant 0.353553385 : f32
  %kte = tensor.empty() : tensor<2x4x8x16xf32>
  %kt4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%kte : tensor<2x4x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x4x8x16xf32>
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %se = tensor.empty() : tensor<8x16x16xf32>
  %sf = linalg.fill ins(%zero : f32) outs(%se : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s3 = linalg.batch_matmul ins(%q, %kt : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%sf : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s4 = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %le = tensor.empty() : tensor<2x4x16x16xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s4 : tensor<2x4x16x16xf32>) outs(%le : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %sc = arith.mulf %a, %s : f32
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %fut = arith.cmpi ugt, %j, %i : index
    %sel = arith.select %fut, %big, %sc : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %me = tensor.empty() : tensor<2x4x16xf32>
  %mf = linalg.fill ins(%ninf : f32) outs(%me : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : tensor<2x4x16x16xf32>) outs(%mf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %ee = tensor.empty() : tensor<2x4x16x16xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %mx : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%ee : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %sb = arith.subf %a, %b : f32
    %ex = math.exp %sb : f32
    linalg.yield %ex : f32
  } -> tensor<2x4x16x16xf32>
  %ue = tensor.empty() : tensor<2x4x16xf32>
  %uf = linalg.fill ins(%zero : f32) outs(%ue : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<2x4x16x16xf32>) outs(%uf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %pe = tensor.empty() : tensor<2x4x16x16xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%pe : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %qt = arith.divf %a, %b : f32
    linalg.yield %qt : f32
  } -> tensor<2x4x16x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %ce = tensor.empty() : tensor<8x16x8xf32>
  %cf = linalg.fill ins(%zero : f32) outs(%ce : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %ctx = linalg.batch_matmul ins(%p3, %v : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%cf : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %ctx : tensor<8x16x8xf32>
}

// -----

// CHECK-LABEL: func.func @negative_mask_before_scale
// CHECK-NOT: tp.attention
// CHECK-NOT: scf.if
// CHECK: return
func.func @negative_mask_before_scale(%q: tensor<8x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<8x16x8xf32>, %mask: tensor<2x4x16x16xf32>) -> (tensor<8x16x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %big = arith.constant -1.0e9 : f32
  %c = arith.constant 0.353553385 : f32
  %kte = tensor.empty() : tensor<2x4x8x16xf32>
  %kt4 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%kte : tensor<2x4x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<2x4x8x16xf32>
  %kt = tensor.collapse_shape %kt4 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %se = tensor.empty() : tensor<8x16x16xf32>
  %sf = linalg.fill ins(%zero : f32) outs(%se : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s3 = linalg.batch_matmul ins(%q, %kt : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%sf : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %s4 = tensor.expand_shape %s3 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %le = tensor.empty() : tensor<2x4x16x16xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%s4, %mask : tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>) outs(%le : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %am = arith.addf %a, %m : f32
    %sc = arith.mulf %am, %c : f32
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %fut = arith.cmpi ugt, %j, %i : index
    %sel = arith.select %fut, %big, %sc : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %me = tensor.empty() : tensor<2x4x16xf32>
  %mf = linalg.fill ins(%ninf : f32) outs(%me : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %mx = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : tensor<2x4x16x16xf32>) outs(%mf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %ee = tensor.empty() : tensor<2x4x16x16xf32>
  %e = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %mx : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%ee : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %sb = arith.subf %a, %b : f32
    %ex = math.exp %sb : f32
    linalg.yield %ex : f32
  } -> tensor<2x4x16x16xf32>
  %ue = tensor.empty() : tensor<2x4x16xf32>
  %uf = linalg.fill ins(%zero : f32) outs(%ue : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%e : tensor<2x4x16x16xf32>) outs(%uf : tensor<2x4x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %pe = tensor.empty() : tensor<2x4x16x16xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%pe : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %qt = arith.divf %a, %b : f32
    linalg.yield %qt : f32
  } -> tensor<2x4x16x16xf32>
  %p3 = tensor.collapse_shape %p [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %ce = tensor.empty() : tensor<8x16x8xf32>
  %cf = linalg.fill ins(%zero : f32) outs(%ce : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %ctx = linalg.batch_matmul ins(%p3, %v : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%cf : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %ctx : tensor<8x16x8xf32>
}
