// RUN: tp-opt %s --tp-gpu-test-row-statistics --split-input-file -verify-diagnostics

// expected-error @+1 {{'merge-moments' takes 6 arguments, got 4}}
func.func private @merge(f32, f32, f32, f32) -> (f32, f32, f32) attributes {tp.test_row_statistic = "merge-moments"}

// -----

// expected-error @+1 {{unknown row statistic 'variance'}}
func.func private @variance(f32, f32) -> f32 attributes {tp.test_row_statistic = "variance"}

// -----

// expected-error @+1 {{arguments and results must be of one float type}}
func.func private @mixed(f32, f64, f32, f32) -> f32 attributes {tp.test_row_statistic = "finish-exp-sum"}

// -----

// expected-error @+1 {{'finish-exp-sum' gives 1 results, the function has 2}}
func.func private @two(f32, f32, f32) -> (f32, f32) attributes {tp.test_row_statistic = "finish-exp-sum"}

// -----

// expected-error @+1 {{a function with tp.test_row_statistic must be a declaration}}
func.func @defined(%x: f32) -> f32 attributes {tp.test_row_statistic = "finish-exp-sum"} {
  return %x : f32
}
