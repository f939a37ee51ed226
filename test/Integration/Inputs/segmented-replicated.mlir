// A fused projection annotated to keep segments 1 and 2 (K, V) whole on every
// rank: the weight comes from an op without a sharding rule (sliced per
// segment, replicated ones taken whole) and the whole output is returned
// (gathered; replicated segments taken from rank 0).
func.func @replicated_segments(%x: tensor<4x16xf32>, %part: tensor<16x8xf32>, %w: tensor<16x16xf32>) -> (tensor<4x4xf32>, tensor<4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %wp = tensor.insert_slice %part into %w[0, 0] [16, 8] [1, 1] : tensor<16x8xf32> into tensor<16x16xf32>
  %e = tensor.empty() : tensor<4x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %h = linalg.matmul {tp.parallel = "column", tp.result_sharding = #tp.sharding<split 1 segments [8, 4, 4] replicated [1, 2]>} ins(%x, %wp : tensor<4x16xf32>, tensor<16x16xf32>) outs(%f : tensor<4x16xf32>) -> tensor<4x16xf32>
  %q = tensor.extract_slice %h[0, 0] [4, 8] [1, 1] : tensor<4x16xf32> to tensor<4x8xf32>
  %k = tensor.extract_slice %h[0, 8] [4, 4] [1, 1] : tensor<4x16xf32> to tensor<4x4xf32>
  %v = tensor.extract_slice %h[0, 12] [4, 4] [1, 1] : tensor<4x16xf32> to tensor<4x4xf32>
  %kv = arith.addf %k, %v : tensor<4x4xf32>
  return %kv, %h : tensor<4x4xf32>, tensor<4x16xf32>
}
