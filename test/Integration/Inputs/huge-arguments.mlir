// Arguments far too large for random inputs (a 10^6 x 10^6 f32 weight is
// 4 TB): tp-run must refuse before allocating anything.
func.func @f(%x: tensor<64x1000000xf32>, %w: tensor<1000000x1000000xf32>) -> tensor<64x1000000xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x1000000xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<64x1000000xf32>) -> tensor<64x1000000xf32>
  %m = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<64x1000000xf32>, tensor<1000000x1000000xf32>) outs(%f : tensor<64x1000000xf32>) -> tensor<64x1000000xf32>
  return %m : tensor<64x1000000xf32>
}
