// tp.param is a unit attribute of function arguments.
// RUN: tp-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{argument #0: 'tp.param' is a unit attribute (write `{tp.param}`), got 1 : i64}}
func.func @negative_param_not_unit(%a: tensor<4xf32> {tp.param = 1}) {
  return
}

// -----

// expected-error @+1 {{result #0: 'tp.param' applies to function arguments only}}
func.func @negative_param_on_result(%a: tensor<4xf32>) -> (tensor<4xf32> {tp.param}) {
  return %a : tensor<4xf32>
}
