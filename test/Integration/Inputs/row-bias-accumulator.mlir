// Row layer whose accumulator starts at a broadcast bias (added once).
func.func @row_bias_accumulator(%x: tensor<8x16xf32>, %w: tensor<32x16xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  %e = tensor.empty() : tensor<8x32xf32>
  %acc = linalg.broadcast ins(%b : tensor<32xf32>) outs(%e : tensor<8x32xf32>) dimensions = [0]
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : tensor<8x16xf32>, tensor<32x16xf32>) outs(%acc : tensor<8x32xf32>) {tp.parallel = "row"} -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
