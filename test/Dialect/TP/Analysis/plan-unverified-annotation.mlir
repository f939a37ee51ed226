// A malformed tp.parallel that reaches the passes unverified (an earlier
// pass set it and nothing verified the module since): the dialect's
// verifier normally rejects it when the module is parsed; tp-plan and
// tp-partition reject it themselves rather than plan over it.
// RUN: tp-opt %s --mlir-very-unsafe-disable-verifier-on-parsing --verify-each=false -verify-diagnostics --tp-plan="tp-size=2" -o /dev/null
// RUN: tp-opt %s --mlir-very-unsafe-disable-verifier-on-parsing --verify-each=false -verify-diagnostics --tp-partition="tp-size=2" -o /dev/null

func.func @typo(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %w2: tensor<32x16xf32>, %init: tensor<8x32xf32>, %init2: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{unknown 'tp.parallel' value "colum"; expected "column", "row", "replicated" or "vocab"}}
  %y = linalg.matmul {tp.parallel = "colum"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  %z = linalg.matmul ins(%y, %w2 : tensor<8x32xf32>, tensor<32x16xf32>) outs(%init2 : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %z : tensor<8x16xf32>
}
