// RUN: tp-opt %s -split-input-file -verify-diagnostics --tp-plan="tp-size=2"
// RUN: not tp-opt %s -split-input-file --tp-plan="tp-size=0" 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not tp-opt %s -split-input-file --tp-plan="tp-size=2147483648" 2>&1 | FileCheck %s --check-prefix=HUGE
// ZERO: error: tp-size must be between 1 and 65536, got 0 (it is the number of ranks in one tensor-parallel group
// HUGE: error: tp-size must be between 1 and 65536, got 2147483648
// A user annotation tp-plan cannot read is an error, as in tp-partition,
// never overwritten with a plan.

func.func @negative_annotation_integer(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{unknown 'tp.parallel' value 3 : i64; expected "column", "row", "replicated" or "vocab"}}
  %y = linalg.matmul {tp.parallel = 3} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @negative_annotation_array(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{unknown 'tp.parallel' value ["column"]}}
  %y = linalg.matmul {tp.parallel = ["column"]} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @negative_annotation_unit(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{unknown 'tp.parallel' value unit}}
  %y = linalg.matmul {tp.parallel} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @negative_annotation_unknown_string(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{unknown 'tp.parallel' value "colum"}}
  %y = linalg.matmul {tp.parallel = "colum"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// expected-error @+1 {{module is already partitioned for tp-size 4 ('tp.size'); tp-plan cannot re-partition it for tp-size 2: run it on the unpartitioned program}}
module attributes {tp.size = 4 : i64} {
  func.func @negative_planned_after_partitioning(%x: tensor<8x16xf32> {tp.sharding = #tp.sharding<replicated>}, %w: tensor<16x8xf32> {tp.sharding = #tp.sharding<split 1>, tp.global_type = tensor<16x32xf32>}) -> tensor<8x8xf32> {
    %z = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<8x8xf32>
    %f = linalg.fill ins(%z : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
    %y = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
    return %y : tensor<8x8xf32>
  }
}
