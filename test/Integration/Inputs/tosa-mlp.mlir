// A GPT-style MLP written in TOSA (tosa.matmul, biases, tanh), one sequence of 16 tokens.
func.func @tosa_mlp(%x: tensor<1x16x64xf32>, %w1: tensor<1x64x256xf32>, %b1: tensor<1x1x256xf32>, %w2: tensor<1x256x64xf32>, %b2: tensor<1x1x64xf32>) -> tensor<1x16x64xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %h = tosa.matmul %x, %w1, %zp, %zp : (tensor<1x16x64xf32>, tensor<1x64x256xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x256xf32>
  %hb = tosa.add %h, %b1 : (tensor<1x16x256xf32>, tensor<1x1x256xf32>) -> tensor<1x16x256xf32>
  %g = tosa.tanh %hb : (tensor<1x16x256xf32>) -> tensor<1x16x256xf32>
  %y = tosa.matmul %g, %w2, %zp, %zp : (tensor<1x16x256xf32>, tensor<1x256x64xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x16x64xf32>
  %yb = tosa.add %y, %b2 : (tensor<1x16x64xf32>, tensor<1x1x64xf32>) -> tensor<1x16x64xf32>
  return %yb : tensor<1x16x64xf32>
}
