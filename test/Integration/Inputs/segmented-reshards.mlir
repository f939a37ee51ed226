// A fused projection whose weight comes from an op without a sharding rule
// (each rank slices its part of every segment) and whose whole output is
// returned next to one slice (gathered, then put back in segment order).
func.func @fused(%x: tensor<4x16xf32>, %part: tensor<16x8xf32>, %w: tensor<16x24xf32>) -> (tensor<4x8xf32>, tensor<4x24xf32>) {
  %zero = arith.constant 0.0 : f32
  %wp = tensor.insert_slice %part into %w[0, 8] [16, 8] [1, 1] : tensor<16x8xf32> into tensor<16x24xf32>
  %e = tensor.empty() : tensor<4x24xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x24xf32>) -> tensor<4x24xf32>
  %h = linalg.matmul {tp.parallel = "column"} ins(%x, %wp : tensor<4x16xf32>, tensor<16x24xf32>) outs(%f : tensor<4x24xf32>) -> tensor<4x24xf32>
  %k = tensor.extract_slice %h[0, 8] [4, 8] [1, 1] : tensor<4x24xf32> to tensor<4x8xf32>
  %r = math.tanh %k : tensor<4x8xf32>
  return %r, %h : tensor<4x8xf32>, tensor<4x24xf32>
}
