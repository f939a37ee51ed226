// tp-hoist-constants keeps the signature of a function that anything in the
// module refers to: a call (here from inside a region), func.constant, or
// any attribute holding a reference rooted at its name; the other functions
// of the module are hoisted. The module is scanned once for references, not
// once per function.
// RUN: tp-opt %s --allow-unregistered-dialect --split-input-file --verify-diagnostics --tp-hoist-constants="min-bytes=16" | FileCheck %s

// CHECK-LABEL: func.func private @called_in_region
// CHECK-SAME: () -> tensor<4xf32>
// CHECK: arith.constant dense
// expected-remark @+1 {{its tensor constants stay constants (1 of at least min-bytes): the function is called, and hoisting them would change its signature}}
func.func private @called_in_region() -> tensor<4xf32> {
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  return %w : tensor<4xf32>
}

// CHECK-LABEL: func.func private @named_by_func_constant
// CHECK-SAME: () -> tensor<4xf32>
// CHECK: arith.constant dense
// expected-remark @+1 {{its tensor constants stay constants}}
func.func private @named_by_func_constant() -> tensor<4xf32> {
  %w = arith.constant dense<[5.0, 6.0, 7.0, 8.0]> : tensor<4xf32>
  return %w : tensor<4xf32>
}

// CHECK-LABEL: func.func private @named_by_attribute
// CHECK-SAME: () -> tensor<4xf32>
// CHECK: arith.constant dense
// expected-remark @+1 {{its tensor constants stay constants}}
func.func private @named_by_attribute() -> tensor<4xf32> {
  %w = arith.constant dense<[9.0, 10.0, 11.0, 12.0]> : tensor<4xf32>
  return %w : tensor<4xf32>
}

// CHECK-LABEL: func.func @referrer
// CHECK-SAME: (%{{.*}}: i1, %{{.*}}: tensor<4xf32> {tp.hoisted = "referrer.cst0", tp.param})
// CHECK: call @called_in_region
// CHECK: constant @named_by_func_constant
// CHECK: refs = [@named_by_attribute::@inner]
func.func @referrer(%c: i1) -> tensor<4xf32> {
  %w = arith.constant dense<[13.0, 14.0, 15.0, 16.0]> : tensor<4xf32>
  %r = scf.if %c -> tensor<4xf32> {
    %v = func.call @called_in_region() : () -> tensor<4xf32>
    scf.yield %v : tensor<4xf32>
  } else {
    scf.yield %w : tensor<4xf32>
  }
  %f = func.constant @named_by_func_constant : () -> tensor<4xf32>
  %s = arith.addf %r, %w {refs = [@named_by_attribute::@inner]} : tensor<4xf32>
  return %s : tensor<4xf32>
}

// Only a function of the nested module is called by this name: the call
// there refers to that module's own @shadowed.
// CHECK-LABEL: func.func @shadowed
// CHECK-SAME: (%{{.*}}: tensor<4xf32> {tp.hoisted = "shadowed.cst0", tp.param})
func.func @shadowed() -> tensor<4xf32> {
  %w = arith.constant dense<[17.0, 18.0, 19.0, 20.0]> : tensor<4xf32>
  return %w : tensor<4xf32>
}
module @nested {
  func.func private @shadowed() -> tensor<4xf32>
  func.func @nested_caller() -> tensor<4xf32> {
    %r = func.call @shadowed() : () -> tensor<4xf32>
    return %r : tensor<4xf32>
  }
}

// CHECK-LABEL: func.func @unreferenced
// CHECK-SAME: (%{{.*}}: tensor<4xf32> {tp.hoisted = "unreferenced.cst0", tp.param})
func.func @unreferenced() -> tensor<4xf32> {
  %w = arith.constant dense<[21.0, 22.0, 23.0, 24.0]> : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// The only reference to @named_by_hoisted is on a constant that hoisting
// erases: when @named_by_hoisted's turn comes nothing refers to it, and its
// constant is hoisted too.
// CHECK-LABEL: func.func @holds_reference
// CHECK-SAME: tp.hoisted = "holds_reference.cst0"
// CHECK-LABEL: func.func @named_by_hoisted
// CHECK-SAME: tp.hoisted = "named_by_hoisted.cst0"
func.func @holds_reference() -> tensor<4xf32> {
  %w = arith.constant {refs = [@named_by_hoisted]} dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  return %w : tensor<4xf32>
}
func.func @named_by_hoisted() -> tensor<4xf32> {
  %w = arith.constant dense<[5.0, 6.0, 7.0, 8.0]> : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// An unregistered op with one region may be a symbol table whose references
// are unknown: every function counts as referenced.
// CHECK-LABEL: func.func @beside_unknown_symbol_table
// CHECK-SAME: () -> tensor<4xf32>
// expected-remark @+1 {{its tensor constants stay constants}}
func.func @beside_unknown_symbol_table() -> tensor<4xf32> {
  %w = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  return %w : tensor<4xf32>
}
"test.maybe_symbol_table"() ({
}) : () -> ()
