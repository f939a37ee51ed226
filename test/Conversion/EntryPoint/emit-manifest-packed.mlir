// tp-emit-manifest describes a function that tp-unpack-arguments rewrote
// with manifest version 2: "inputs" lists the arguments the caller passes,
// a packed one as its pieces (argument, element offset, element strides),
// taken from tp.original_arguments.
//
// RUN: tp-opt %s --tp-unpack-arguments --tp-plan="tp-size=2" --tp-partition="tp-size=2" --tp-emit-manifest="entry=packed" | FileCheck %s

// CHECK: @tp_manifest
// CHECK-SAME: \22args\22:[{\22dtype\22:\22f32\22,\22global_shape\22:[2,4]
// CHECK-SAME: \22global_shape\22:[4,8],\22local_shape\22:[4,4],\22sharding\22:{\22dim\22:1,\22kind\22:\22split\22}}
// CHECK-SAME: \22global_shape\22:[8,8],\22local_shape\22:[4,8],\22sharding\22:{\22dim\22:0,\22kind\22:\22split\22}}
// CHECK-SAME: \22inputs\22:[{\22arg\22:0,\22dtype\22:\22f32\22,\22shape\22:[2,4]},{\22dtype\22:\22f32\22,\22pieces\22:[{\22arg\22:1,\22offset\22:0,\22strides\22:[8,1]},{\22arg\22:2,\22offset\22:32,\22strides\22:[8,1]}],\22shape\22:[96]}]
// CHECK-SAME: \22version\22:2
func.func @packed(%x: tensor<2x4xf32>, %packed: tensor<96xf32>) -> tensor<2x8xf32> {
  %a = tensor.extract_slice %packed[0] [32] [1] : tensor<96xf32> to tensor<32xf32>
  %wa = tensor.expand_shape %a [[0, 1]] output_shape [4, 8] : tensor<32xf32> into tensor<4x8xf32>
  %b = tensor.extract_slice %packed[32] [64] [1] : tensor<96xf32> to tensor<64xf32>
  %wb = tensor.expand_shape %b [[0, 1]] output_shape [8, 8] : tensor<64xf32> into tensor<8x8xf32>
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8xf32>
  %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<2x8xf32>) -> tensor<2x8xf32>
  %h = linalg.matmul ins(%x, %wa : tensor<2x4xf32>, tensor<4x8xf32>) outs(%z : tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = linalg.matmul ins(%h, %wb : tensor<2x8xf32>, tensor<8x8xf32>) outs(%z : tensor<2x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
