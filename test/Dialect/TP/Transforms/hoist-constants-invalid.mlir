// tp-hoist-constants' diagnostics, and the attributes it writes checked
// wherever they appear.
// RUN: tp-opt %s -split-input-file -verify-diagnostics --tp-hoist-constants="min-bytes=64"

// A dense_resource printed without its data cannot be hoisted.
func.func @negative_elided_resource() -> tensor<4x4xf32> {
  // expected-error @+1 {{dense_resource '__elided__' has no data in this module (was it printed with elided resources?): it cannot be hoisted; give the module with its resources, or keep it with min-bytes above 64}}
  %w = arith.constant dense_resource<__elided__> : tensor<4x4xf32>
  return %w : tensor<4x4xf32>
}

// -----

// A called function keeps its signature, and its constants.
// expected-remark @+1 {{its tensor constants stay constants (1 of at least min-bytes): the function is called, and hoisting them would change its signature}}
func.func private @callee() -> tensor<2x8xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]]> : tensor<2x8xf32>
  return %w : tensor<2x8xf32>
}
func.func @caller() -> tensor<2x8xf32> {
  %r = func.call @callee() : () -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

// expected-error @+1 {{result #0: 'tp.hoisted' names a hoisted constant: a string on a function argument}}
func.func @negative_hoisted_on_result(%a: tensor<4xf32>) -> (tensor<4xf32> {tp.hoisted = "w"}) {
  return %a : tensor<4xf32>
}

// -----

// expected-error @+1 {{argument #0: 'tp.hoisted' names a hoisted constant: a string on a function argument}}
func.func @negative_hoisted_not_string(%a: tensor<4xf32> {tp.hoisted = 1}) {
  return
}

// -----

// expected-error @+1 {{'tp.hoisted_constants' must be a dictionary of elements attributes on a module}}
module attributes {tp.hoisted_constants = {w = 1 : i64}} {
}
