// Every local matmul form tp-form-gemms turns into tp_rt_gemm, one result
// each: a plain matmul, B transposed through indexing_maps, A transposed
// through linalg.transpose, batch_matmul, a generic contraction whose m loops
// are collapsed (a [4, 16, 32] activation times a [32, 24] weight), a matmul
// accumulating into a computed tensor (beta 1) with B transposed by a copying
// linalg.generic (nn.Linear as torch-mlir emits it), and a matmul whose
// bias + ReLU user folds into the epilogue. Used by test/Integration/matmul-blas-vs-loops.test
// and test/Pipelines/cpu-pipeline-blas.mlir.
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
module {
  func.func @matmul_forms(%a: tensor<16x32xf32>, %b: tensor<32x24xf32>,
                          %bt: tensor<24x32xf32>, %at: tensor<32x16xf32>,
                          %x3: tensor<4x16x32xf32>, %y3: tensor<4x32x24xf32>,
                          %acc: tensor<16x24xf32>, %bias: tensor<24xf32>,
                          %a2: tensor<16x32xf32>)
      -> (tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x24xf32>,
          tensor<4x16x24xf32>, tensor<4x16x24xf32>, tensor<16x24xf32>,
          tensor<16x24xf32>) {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<16x24xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x24xf32>) -> tensor<16x24xf32>

    %plain = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x24xf32>)
        outs(%z : tensor<16x24xf32>) -> tensor<16x24xf32>

    %trans_b = linalg.matmul indexing_maps = [
        affine_map<(d0, d1, d2) -> (d0, d2)>,
        affine_map<(d0, d1, d2) -> (d1, d2)>,
        affine_map<(d0, d1, d2) -> (d0, d1)>]
        ins(%a, %bt : tensor<16x32xf32>, tensor<24x32xf32>)
        outs(%z : tensor<16x24xf32>) -> tensor<16x24xf32>

    %et = tensor.empty() : tensor<16x32xf32>
    %a_t = linalg.transpose ins(%at : tensor<32x16xf32>)
        outs(%et : tensor<16x32xf32>) permutation = [1, 0]
    %trans_a = linalg.matmul ins(%a_t, %b : tensor<16x32xf32>, tensor<32x24xf32>)
        outs(%z : tensor<16x24xf32>) -> tensor<16x24xf32>

    %ebt = tensor.empty() : tensor<32x24xf32>
    %bt_t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, #id2],
                            iterator_types = ["parallel", "parallel"]}
        ins(%bt : tensor<24x32xf32>) outs(%ebt : tensor<32x24xf32>) {
    ^bb0(%v: f32, %o: f32):
      linalg.yield %v : f32
    } -> tensor<32x24xf32>

    %e3 = tensor.empty() : tensor<4x16x24xf32>
    %z3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<4x16x24xf32>) -> tensor<4x16x24xf32>
    %batched = linalg.batch_matmul
        ins(%x3, %y3 : tensor<4x16x32xf32>, tensor<4x32x24xf32>)
        outs(%z3 : tensor<4x16x24xf32>) -> tensor<4x16x24xf32>

    %contraction = linalg.generic {
        indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>,
                         affine_map<(d0, d1, d2, d3) -> (d3, d2)>,
                         affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>],
        iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
        ins(%x3, %b : tensor<4x16x32xf32>, tensor<32x24xf32>)
        outs(%z3 : tensor<4x16x24xf32>) {
    ^bb0(%l: f32, %r: f32, %o: f32):
      %p = arith.mulf %l, %r : f32
      %s = arith.addf %o, %p : f32
      linalg.yield %s : f32
    } -> tensor<4x16x24xf32>

    %acc_sum = linalg.add ins(%acc, %plain : tensor<16x24xf32>, tensor<16x24xf32>)
        outs(%e : tensor<16x24xf32>) -> tensor<16x24xf32>
    %accumulated = linalg.matmul ins(%a2, %bt_t : tensor<16x32xf32>, tensor<32x24xf32>)
        outs(%acc_sum : tensor<16x24xf32>) -> tensor<16x24xf32>

    %mm = linalg.matmul ins(%a2, %b : tensor<16x32xf32>, tensor<32x24xf32>)
        outs(%z : tensor<16x24xf32>) -> tensor<16x24xf32>
    %relu = linalg.generic {indexing_maps = [#id2, #row, #id2],
                            iterator_types = ["parallel", "parallel"]}
        ins(%mm, %bias : tensor<16x24xf32>, tensor<24xf32>) outs(%e : tensor<16x24xf32>) {
    ^bb0(%v: f32, %c: f32, %o: f32):
      %s = arith.addf %v, %c : f32
      %m = arith.maximumf %s, %zero : f32
      linalg.yield %m : f32
    } -> tensor<16x24xf32>

    return %plain, %trans_b, %trans_a, %batched, %contraction, %accumulated, %relu
        : tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x24xf32>,
          tensor<4x16x24xf32>, tensor<4x16x24xf32>, tensor<16x24xf32>,
          tensor<16x24xf32>
  }
}
