// GPT-2 small MLP block (one layer's feed-forward), as torch-mlir emits it for
// `fc2(gelu(fc1(x)))` with nn.Linear layers: [out, in] weights transposed by a
// linalg.generic before linalg.matmul, bias adds as broadcasting generics, and
// the tanh approximation of GELU as a linalg.generic.
//
// Annotated Megatron-style: fc1 column-parallel, fc2 row-parallel.
//   tp-opt examples/gpt2-mlp.mlir --tp-partition="tp-size=4"
//   tp-run examples/gpt2-mlp.mlir --tp-size=4 --check --report
#map_t = affine_map<(d0, d1) -> (d1, d0)>
#map_id = affine_map<(d0, d1) -> (d0, d1)>
#map_bias = affine_map<(d0, d1) -> (d1)>
module {
  func.func @mlp(%x: tensor<64x768xf32>, %w1: tensor<3072x768xf32>, %b1: tensor<3072xf32>,
                 %w2: tensor<768x3072xf32>, %b2: tensor<768xf32>) -> tensor<64x768xf32> {
    %zero = arith.constant 0.000000e+00 : f32
    %half = arith.constant 5.000000e-01 : f32
    %one = arith.constant 1.000000e+00 : f32
    %c0 = arith.constant 4.471500e-02 : f32
    %c1 = arith.constant 0.797884583 : f32

    // fc1: x @ w1^T + b1
    %e0 = tensor.empty() : tensor<768x3072xf32>
    %w1t = linalg.generic {indexing_maps = [#map_t, #map_id], iterator_types = ["parallel", "parallel"]}
        ins(%w1 : tensor<3072x768xf32>) outs(%e0 : tensor<768x3072xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<768x3072xf32>
    %e1 = tensor.empty() : tensor<64x3072xf32>
    %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<64x3072xf32>) -> tensor<64x3072xf32>
    %mm1 = linalg.matmul {tp.parallel = "column"}
        ins(%x, %w1t : tensor<64x768xf32>, tensor<768x3072xf32>)
        outs(%f1 : tensor<64x3072xf32>) -> tensor<64x3072xf32>
    %h = linalg.generic {indexing_maps = [#map_id, #map_bias, #map_id], iterator_types = ["parallel", "parallel"]}
        ins(%mm1, %b1 : tensor<64x3072xf32>, tensor<3072xf32>) outs(%e1 : tensor<64x3072xf32>) {
    ^bb0(%a: f32, %b: f32, %out: f32):
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    } -> tensor<64x3072xf32>

    // gelu (tanh approximation)
    %g = linalg.generic {indexing_maps = [#map_id, #map_id], iterator_types = ["parallel", "parallel"]}
        ins(%h : tensor<64x3072xf32>) outs(%e1 : tensor<64x3072xf32>) {
    ^bb0(%v: f32, %out: f32):
      %v2 = arith.mulf %v, %v : f32
      %v3 = arith.mulf %v2, %v : f32
      %t0 = arith.mulf %v3, %c0 : f32
      %t1 = arith.addf %v, %t0 : f32
      %t2 = arith.mulf %t1, %c1 : f32
      %t3 = math.tanh %t2 : f32
      %t4 = arith.addf %t3, %one : f32
      %t5 = arith.mulf %v, %half : f32
      %r = arith.mulf %t5, %t4 : f32
      linalg.yield %r : f32
    } -> tensor<64x3072xf32>

    // fc2: g @ w2^T + b2
    %e2 = tensor.empty() : tensor<3072x768xf32>
    %w2t = linalg.generic {indexing_maps = [#map_t, #map_id], iterator_types = ["parallel", "parallel"]}
        ins(%w2 : tensor<768x3072xf32>) outs(%e2 : tensor<3072x768xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<3072x768xf32>
    %e3 = tensor.empty() : tensor<64x768xf32>
    %f3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<64x768xf32>) -> tensor<64x768xf32>
    %mm2 = linalg.matmul {tp.parallel = "row"}
        ins(%g, %w2t : tensor<64x3072xf32>, tensor<3072x768xf32>)
        outs(%f3 : tensor<64x768xf32>) -> tensor<64x768xf32>
    %y = linalg.generic {indexing_maps = [#map_id, #map_bias, #map_id], iterator_types = ["parallel", "parallel"]}
        ins(%mm2, %b2 : tensor<64x768xf32>, tensor<768xf32>) outs(%e3 : tensor<64x768xf32>) {
    ^bb0(%a: f32, %b: f32, %out: f32):
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    } -> tensor<64x768xf32>
    return %y : tensor<64x768xf32>
  }
}
