// RUN: tp-opt %s -split-input-file -verify-diagnostics --tp-partition="tp-size=4"
// RUN: not tp-opt %s -split-input-file --tp-partition="tp-size=0" 2>&1 | FileCheck %s --check-prefix=SIZE
// RUN: not tp-opt %s -split-input-file --tp-partition="tp-size=2147483648" 2>&1 | FileCheck %s --check-prefix=HUGE
// SIZE: error: tp-size must be between 1 and 65536, got 0 (it is the number of ranks in one tensor-parallel group
// HUGE: error: tp-size must be between 1 and 65536, got 2147483648
// Diagnostics of tp-partition for input it cannot partition as asked.

func.func @negative_column_indivisible_n(%x: tensor<8x16xf32>, %w: tensor<16x30xf32>, %init: tensor<8x30xf32>) -> tensor<8x30xf32> {
  // expected-error @+1 {{'linalg.matmul' op cannot be partitioned as "column": sharded dimension 1 of operand #1 (size 30) is not divisible by tp-size 4}}
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x30xf32>) outs(%init : tensor<8x30xf32>) -> tensor<8x30xf32>
  return %y : tensor<8x30xf32>
}

// -----

func.func @negative_row_indivisible_k(%x: tensor<8x18xf32>, %w: tensor<18x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{cannot be partitioned as "row": sharded dimension 1 of operand #0 (size 18) is not divisible by tp-size 4}}
  %y = linalg.matmul {tp.parallel = "row"} ins(%x, %w : tensor<8x18xf32>, tensor<18x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @negative_unknown_annotation_value(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{unknown 'tp.parallel' value "diagonal"; expected "column", "row", "replicated" or "vocab"}}
  %y = linalg.matmul {tp.parallel = "diagonal"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @negative_annotation_not_a_string(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{unknown 'tp.parallel' value 1 : i64; expected "column", "row", "replicated" or "vocab"}}
  %y = linalg.matmul {tp.parallel = 1} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

func.func @negative_annotation_on_transpose(%w: tensor<32x16xf32>, %init: tensor<16x32xf32>) -> tensor<16x32xf32> {
  // expected-error @+1 {{'tp.parallel' applies only to matmul-like ops (linalg.matmul, linalg.batch_matmul, or a linalg contraction) and embedding lookups}}
  %t = linalg.transpose ins(%w : tensor<32x16xf32>) outs(%init : tensor<16x32xf32>) permutation = [1, 0] {tp.parallel = "column"}
  return %t : tensor<16x32xf32>
}

// -----

func.func private @opaque(tensor<8x16xf32>) -> tensor<8x16xf32>
func.func @negative_annotation_on_op_without_rule(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{'tp.parallel' applies only to matmul-like ops (linalg.matmul, linalg.batch_matmul, or a linalg contraction); this op has no tensor-parallel rule}}
  %y = func.call @opaque(%x) {tp.parallel = "row"} : (tensor<8x16xf32>) -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

func.func @negative_dynamic_split_dim(%x: tensor<8x16xf32>, %w: tensor<16x?xf32>, %init: tensor<8x?xf32>) -> tensor<8x?xf32> {
  // expected-error @+1 {{cannot be partitioned as "column": operand #1 has a dynamic size on the split dimension 1; only static dimensions can be split}}
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x?xf32>) outs(%init : tensor<8x?xf32>) -> tensor<8x?xf32>
  return %y : tensor<8x?xf32>
}

// -----

// A consumer without a sharding rule runs replicated: its sharded operand is
// gathered first, and a remark names the op.
func.func private @opaque(tensor<8x32xf32>) -> tensor<8x32xf32>
func.func @remark_consumer_without_rule(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  // expected-remark @+1 {{'func.call' has no tensor-parallel rule: its sharded operands are gathered and it runs replicated}}
  %z = func.call @opaque(%y) : (tensor<8x32xf32>) -> tensor<8x32xf32>
  return %z : tensor<8x32xf32>
}

// -----

// A region that uses a sharded value: the value is gathered for it.
func.func @remark_region_uses_sharded_value(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>, %n: index) -> tensor<8x32xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  // expected-remark @+1 {{'scf.for' has no tensor-parallel rule: its sharded operands are gathered and it runs replicated}}
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %init) -> tensor<8x32xf32> {
    %s = arith.addf %acc, %y : tensor<8x32xf32>
    scf.yield %s : tensor<8x32xf32>
  }
  return %r : tensor<8x32xf32>
}

// -----

// expected-error @+1 {{'func.func' op has 2 blocks; tp-partition handles single-block functions (run --lift-cf-to-scf first)}}
func.func @negative_two_blocks(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  cf.br ^bb1
^bb1:
  return %x : tensor<8x16xf32>
}

// -----

func.func @negative_nested_annotation(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>, %c: i1) -> tensor<8x32xf32> {
  %r = scf.if %c -> tensor<8x32xf32> {
    // expected-error @+1 {{'tp.parallel' on an op nested in a region is not supported; annotate ops at the top level of the function}}
    %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
    scf.yield %y : tensor<8x32xf32>
  } else {
    scf.yield %init : tensor<8x32xf32>
  }
  return %r : tensor<8x32xf32>
}

// -----

// expected-error @+1 {{'func.func' op is called from elsewhere in the module; tp-partition would change its signature (inline it first, e.g. with --inline)}}
func.func @negative_callee_signature_changes(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
func.func @caller(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %y = func.call @negative_callee_signature_changes(%x, %w, %init) : (tensor<8x16xf32>, tensor<16x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// Every referenced function is named, whatever refers to it (a call, or a
// func.constant that takes its address); the module is scanned once.
// expected-error @+1 {{'func.func' op is called from elsewhere in the module}}
func.func @negative_called_first(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
// expected-error @+1 {{'func.func' op is called from elsewhere in the module}}
func.func @negative_address_taken(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
func.func @refers(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %f = func.constant @negative_address_taken : (tensor<8x16xf32>, tensor<16x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = func.call @negative_called_first(%x, %w, %init) : (tensor<8x16xf32>, tensor<16x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// tp.result_sharding must name a form the op has: no slices cut this output
// into segments.
func.func @negative_result_sharding_not_a_form(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  // expected-error @+1 {{has no "column" form whose result is #tp.sharding<split 1 segments [16, 16]> ('tp.result_sharding')}}
  %y = linalg.matmul {tp.parallel = "column", tp.result_sharding = #tp.sharding<split 1 segments [16, 16]>} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// No tp.size, but collectives: partitioned by something else, or stripped.
func.func @collectives_without_size(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // expected-error @+1 {{this looks partitioned already (tp ops or 'tp.sharding' attributes) but the module has no 'tp.size'; tp-partition cannot re-partition it: run it on the unpartitioned program}}
  %r = tp.all_reduce sum %x over 2 : tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}
