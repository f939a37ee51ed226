// bf16 GEMMs as torch-mlir emits nn.Linear (a transposing generic, a matmul,
// a bias add) and a batch_matmul. Used by
// test/Integration/matmul-blas-vs-loops.test.
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#t2 = affine_map<(d0, d1) -> (d1, d0)>
#row = affine_map<(d0, d1) -> (d1)>
module {
  func.func @matmul_bf16(%x: tensor<16x64xbf16>, %w: tensor<48x64xbf16>,
                         %bias: tensor<48xbf16>, %q: tensor<4x16x32xbf16>,
                         %k: tensor<4x32x8xbf16>)
      -> (tensor<16x48xbf16>, tensor<4x16x8xbf16>) {
    %zero = arith.constant 0.0 : bf16
    %ewt = tensor.empty() : tensor<64x48xbf16>
    %wt = linalg.generic {indexing_maps = [#t2, #id2],
                          iterator_types = ["parallel", "parallel"]}
        ins(%w : tensor<48x64xbf16>) outs(%ewt : tensor<64x48xbf16>) {
    ^bb0(%v: bf16, %o: bf16):
      linalg.yield %v : bf16
    } -> tensor<64x48xbf16>
    %e = tensor.empty() : tensor<16x48xbf16>
    %z = linalg.fill ins(%zero : bf16) outs(%e : tensor<16x48xbf16>) -> tensor<16x48xbf16>
    %mm = linalg.matmul ins(%x, %wt : tensor<16x64xbf16>, tensor<64x48xbf16>)
        outs(%z : tensor<16x48xbf16>) -> tensor<16x48xbf16>
    %y = linalg.generic {indexing_maps = [#id2, #row, #id2],
                         iterator_types = ["parallel", "parallel"]}
        ins(%mm, %bias : tensor<16x48xbf16>, tensor<48xbf16>) outs(%e : tensor<16x48xbf16>) {
    ^bb0(%v: bf16, %c: bf16, %o: bf16):
      %s = arith.addf %v, %c : bf16
      linalg.yield %s : bf16
    } -> tensor<16x48xbf16>

    %e3 = tensor.empty() : tensor<4x16x8xbf16>
    %z3 = linalg.fill ins(%zero : bf16) outs(%e3 : tensor<4x16x8xbf16>) -> tensor<4x16x8xbf16>
    %s = linalg.batch_matmul ins(%q, %k : tensor<4x16x32xbf16>, tensor<4x32x8xbf16>)
        outs(%z3 : tensor<4x16x8xbf16>) -> tensor<4x16x8xbf16>
    return %y, %s : tensor<16x48xbf16>, tensor<4x16x8xbf16>
  }
}
