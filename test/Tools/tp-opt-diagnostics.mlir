// tp-opt's diagnostics name the op by its location and source line; the op in
// generic form follows only with --mlir-print-op-on-diagnostic (mlir-opt's
// default, which tp-opt turns off).
// RUN: not tp-opt %s --tp-partition="tp-size=5" 2>&1 | FileCheck %s --check-prefix=QUIET
// RUN: not tp-opt %s --tp-partition="tp-size=5" --mlir-print-op-on-diagnostic 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DUMP

// QUIET: error: 'linalg.matmul' op cannot be partitioned as "column": sharded dimension 1 of operand #1 (size 12) is not divisible by tp-size 5
// QUIET-NOT: see current operation
// DUMP: error: 'linalg.matmul' op cannot be partitioned as "column"
// DUMP: note: see current operation:
// DUMP-NEXT: "linalg.matmul"
func.func @negative_column_parallel_indivisible_n(%x: tensor<4x8xf32>, %w: tensor<8x12xf32>,
                                                  %init: tensor<4x12xf32>) -> tensor<4x12xf32> {
  %y = linalg.matmul {tp.parallel = "column"}
      ins(%x, %w : tensor<4x8xf32>, tensor<8x12xf32>)
      outs(%init : tensor<4x12xf32>) -> tensor<4x12xf32>
  return %y : tensor<4x12xf32>
}
