// A row-parallel bf16 matmul whose contraction (3) does not divide by 2:
// uneven=pad masks the padding inside the reduction body.
func.func @f(%x: tensor<4x3xbf16>, %w: tensor<3x4xbf16>) -> tensor<4x4xbf16> {
  %z = arith.constant 0.0 : bf16
  %e = tensor.empty() : tensor<4x4xbf16>
  %f = linalg.fill ins(%z : bf16) outs(%e : tensor<4x4xbf16>) -> tensor<4x4xbf16>
  %m = linalg.matmul {tp.parallel = "row"} ins(%x, %w : tensor<4x3xbf16>, tensor<3x4xbf16>) outs(%f : tensor<4x4xbf16>) -> tensor<4x4xbf16>
  return %m : tensor<4x4xbf16>
}
