// A report that cannot be written is a diagnostic (it used to end in "LLVM
// ERROR: IO failure" when the stream closed), and byte counts too large for
// int64 saturate instead of wrapping.
//
// RUN: not tp-opt %s --tp-partition="tp-size=2 report=/dev/full" -o /dev/null 2>&1 | FileCheck %s --check-prefix=FULL
// RUN: not tp-opt %s --tp-partition="tp-size=2 dot=/dev/full" -o /dev/null 2>&1 | FileCheck %s --check-prefix=DOTFULL
// RUN: tp-opt %s --tp-partition="tp-size=2 report=%t.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// FULL: error: cannot write the partition report to '/dev/full': No space left on device
// FULL-NOT: LLVM ERROR
// DOTFULL: error: cannot write the dataflow graph to '/dev/full': No space left on device

// 2^61 x 8 f32 elements: 2^66 bytes.
// JSON: "argument_bytes": 9223372036854775807
// JSON: "tensor_bytes": 9223372036854775807
// JSON: "traffic_bytes": 9223372036854775807
// JSON: "traffic_bytes_per_step": 9223372036854775807
func.func @huge_row(%x: tensor<2305843009213693952x8xf32>, %w: tensor<8x8xf32>) -> tensor<2305843009213693952x8xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2305843009213693952x8xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2305843009213693952x8xf32>) -> tensor<2305843009213693952x8xf32>
  %y = linalg.matmul {tp.parallel = "row"} ins(%x, %w : tensor<2305843009213693952x8xf32>, tensor<8x8xf32>) outs(%f : tensor<2305843009213693952x8xf32>) -> tensor<2305843009213693952x8xf32>
  return %y : tensor<2305843009213693952x8xf32>
}
