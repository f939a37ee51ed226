// RUN: tp-opt %s --tp-gpu-check-input --split-input-file --verify-diagnostics

// expected-error @below {{an argument has element type 'f8E4M3FN', which the GPU target does not support (f16, bf16, f32, f64, i1, i8, i16, i32, i64, index)}}
func.func @negative_fp8_argument(%a: tensor<16xf8E4M3FN>) -> tensor<16xf8E4M3FN> {
  return %a : tensor<16xf8E4M3FN>
}

// -----

func.func @negative_complex_op(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'tensor.empty' op a result has element type 'complex<f32>', which the GPU target does not support}}
  %e = tensor.empty() : tensor<4xcomplex<f32>>
  %c = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%a : tensor<4xf32>) outs(%e : tensor<4xcomplex<f32>>) {
  ^bb0(%x: f32, %o: complex<f32>):
    %z = complex.create %x, %x : complex<f32>
    linalg.yield %z : complex<f32>
  } -> tensor<4xcomplex<f32>>
  return %a : tensor<4xf32>
}

// -----

func.func @negative_host_element_read(%a: tensor<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{accesses one element of a tensor in host code; the GPU target keeps tensors in device memory (compute the value inside a linalg op instead)}}
  %x = tensor.extract %a[%c0] : tensor<4xf32>
  return %x : f32
}

// -----

// Element accesses inside a linalg body (gathers, embeddings) are kernels.
func.func @gather_inside_linalg_is_fine(%table: tensor<100x8xf32>, %ids: tensor<4xi64>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%ids : tensor<4xi64>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%id: i64, %o: f32):
    %i = arith.index_cast %id : i64 to index
    %j = linalg.index 1 : index
    %v = tensor.extract %table[%i, %j] : tensor<100x8xf32>
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
