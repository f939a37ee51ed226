// tp-gpu-lower-attention-to-runtime's error: a tp.attention must be
// bufferized first (the runtime call takes buffers).
// RUN: tp-opt %s --tp-gpu-lower-attention-to-runtime -verify-diagnostics -o /dev/null

func.func @attention_on_tensors(%q: tensor<8x16x8xf32>, %k: tensor<8x16x8xf32>, %v: tensor<8x16x8xf32>, %o: tensor<8x16x8xf32>) -> tensor<8x16x8xf32> {
  // expected-error @+1 {{'tp.attention' op must be bufferized before tp-gpu-lower-attention-to-runtime}}
  %ok, %r = tp.attention ins(%q, %k, %v : tensor<8x16x8xf32>, tensor<8x16x8xf32>, tensor<8x16x8xf32>) outs(%o : tensor<8x16x8xf32>) scale(1.0) -> i1, tensor<8x16x8xf32>
  return %r : tensor<8x16x8xf32>
}
