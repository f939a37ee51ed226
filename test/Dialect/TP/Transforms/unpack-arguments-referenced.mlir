// tp-unpack-arguments keeps the signature of a function that anything in
// the module refers to (it does not rewrite call sites): a call (here from
// inside a region), func.constant, or any attribute holding a reference
// rooted at its name; the other functions of the module are unpacked. The
// module is scanned once for references, not once per function.
// RUN: tp-opt %s --allow-unregistered-dialect --split-input-file --verify-diagnostics --tp-unpack-arguments | FileCheck %s

// CHECK-LABEL: func.func private @called_in_region
// CHECK-SAME: (%{{.*}}: tensor<16xf32>) -> tensor<8xf32>
// CHECK-NOT: tp.original_arguments
func.func private @called_in_region(%w: tensor<16xf32>) -> tensor<8xf32> {
  %a = tensor.extract_slice %w[0] [8] [1] : tensor<16xf32> to tensor<8xf32>
  return %a : tensor<8xf32>
}

// CHECK-LABEL: func.func private @named_by_func_constant
// CHECK-SAME: (%{{.*}}: tensor<16xf32>) -> tensor<8xf32>
// CHECK-NOT: tp.original_arguments
func.func private @named_by_func_constant(%w: tensor<16xf32>) -> tensor<8xf32> {
  %a = tensor.extract_slice %w[8] [8] [1] : tensor<16xf32> to tensor<8xf32>
  return %a : tensor<8xf32>
}

// CHECK-LABEL: func.func private @named_by_attribute
// CHECK-SAME: (%{{.*}}: tensor<16xf32>) -> tensor<8xf32>
// CHECK-NOT: tp.original_arguments
func.func private @named_by_attribute(%w: tensor<16xf32>) -> tensor<8xf32> {
  %a = tensor.extract_slice %w[4] [8] [1] : tensor<16xf32> to tensor<8xf32>
  return %a : tensor<8xf32>
}

// CHECK-LABEL: func.func @referrer
// CHECK-SAME: (%{{.*}}: i1, %{{.*}}: tensor<16xf32>, %{{.*}}: tensor<8xf32>)
// CHECK-SAME: tp.original_arguments
// CHECK: call @called_in_region
// CHECK: constant @named_by_func_constant
// CHECK: refs = {callee = @named_by_attribute::@inner}
func.func @referrer(%c: i1, %x: tensor<16xf32>, %packed: tensor<16xf32>) -> tensor<8xf32> {
  %p = tensor.extract_slice %packed[0] [8] [1] : tensor<16xf32> to tensor<8xf32>
  %r = scf.if %c -> tensor<8xf32> {
    %v = func.call @called_in_region(%x) : (tensor<16xf32>) -> tensor<8xf32>
    scf.yield %v : tensor<8xf32>
  } else {
    scf.yield %p : tensor<8xf32>
  }
  %f = func.constant @named_by_func_constant : (tensor<16xf32>) -> tensor<8xf32>
  %s = arith.addf %r, %p {refs = {callee = @named_by_attribute::@inner}} : tensor<8xf32>
  return %s : tensor<8xf32>
}

// Only a function of the nested module is called by this name: the call
// there refers to that module's own @shadowed.
// CHECK-LABEL: func.func @shadowed
// CHECK-SAME: (%{{.*}}: tensor<8xf32>) -> tensor<8xf32> attributes {tp.original_arguments
func.func @shadowed(%w: tensor<16xf32>) -> tensor<8xf32> {
  %a = tensor.extract_slice %w[0] [8] [1] : tensor<16xf32> to tensor<8xf32>
  return %a : tensor<8xf32>
}
module @nested {
  func.func private @shadowed(tensor<16xf32>) -> tensor<8xf32>
  func.func @nested_caller(%w: tensor<16xf32>) -> tensor<8xf32> {
    %r = func.call @shadowed(%w) : (tensor<16xf32>) -> tensor<8xf32>
    return %r : tensor<8xf32>
  }
}

// CHECK-LABEL: func.func @unreferenced
// CHECK-SAME: (%{{.*}}: tensor<8xf32>) -> tensor<8xf32> attributes {tp.original_arguments
func.func @unreferenced(%w: tensor<16xf32>) -> tensor<8xf32> {
  %a = tensor.extract_slice %w[8] [8] [1] : tensor<16xf32> to tensor<8xf32>
  return %a : tensor<8xf32>
}

// -----

// The only reference to @named_by_erased is on a slice that unpacking
// erases: when @named_by_erased's turn comes nothing refers to it, and it
// is unpacked too.
// CHECK-LABEL: func.func @holds_reference
// CHECK-SAME: (%{{.*}}: tensor<8xf32>) -> tensor<8xf32> attributes {tp.original_arguments
// CHECK-LABEL: func.func @named_by_erased
// CHECK-SAME: (%{{.*}}: tensor<8xf32>) -> tensor<8xf32> attributes {tp.original_arguments
func.func @holds_reference(%w: tensor<16xf32>) -> tensor<8xf32> {
  %a = tensor.extract_slice %w[0] [8] [1] {refs = [@named_by_erased]} : tensor<16xf32> to tensor<8xf32>
  return %a : tensor<8xf32>
}
func.func @named_by_erased(%w: tensor<16xf32>) -> tensor<8xf32> {
  %a = tensor.extract_slice %w[8] [8] [1] : tensor<16xf32> to tensor<8xf32>
  return %a : tensor<8xf32>
}

// -----

// An unregistered op with one region may be a symbol table whose references
// are unknown: every function counts as referenced.
// CHECK-LABEL: func.func @beside_unknown_symbol_table
// CHECK-SAME: (%{{.*}}: tensor<16xf32>) -> tensor<8xf32>
// CHECK-NOT: tp.original_arguments
func.func @beside_unknown_symbol_table(%w: tensor<16xf32>) -> tensor<8xf32> {
  %a = tensor.extract_slice %w[0] [8] [1] : tensor<16xf32> to tensor<8xf32>
  return %a : tensor<8xf32>
}
"test.maybe_symbol_table"() ({
}) : () -> ()
