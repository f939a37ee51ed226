// RUN: tp-opt %s --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=REPORT
// RUN: tp-opt %s --tp-partition="tp-size=4" | FileCheck %s

// The solver costs compute (FLOPs / flops-per-byte of each rank's share),
// not only communication. After a column layer, the unannotated second
// matmul can gather its input and run whole (an all_gather of 64x1024 f32:
// 192 KiB of traffic per rank) or run row-parallel on the split it receives
// (an all_reduce of its 64x520 result: 195 KiB, 1.6% more). Counting bytes
// only, the gather wins; the row form takes 3/4 of the 68 MFLOPs off every
// rank, worth 26 KB of traffic at 2000 FLOPs per byte, so it is chosen.

// CHECK-LABEL: func.func @split_saves_flops_at_a_similar_byte_count
// CHECK-NOT: tp.all_gather
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<64x256xf32>, tensor<256x256xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<64x256xf32>, tensor<256x520xf32>)
// CHECK: tp.all_reduce sum %{{.*}} over 4 : tensor<64x520xf32>
// CHECK-NOT: tp.all_gather
// REPORT: linalg.matmul column {{.*}} annotated (tp.parallel)
// REPORT-NEXT: linalg.matmul row {{.*}} propagated
func.func @split_saves_flops_at_a_similar_byte_count(
    %x: tensor<64x256xf32>, %w: tensor<256x1024xf32>,
    %u: tensor<1024x520xf32>) -> tensor<64x520xf32> {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<64x1024xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<64x1024xf32>) -> tensor<64x1024xf32>
  %h = linalg.matmul {tp.parallel = "column"}
      ins(%x, %w : tensor<64x256xf32>, tensor<256x1024xf32>)
      outs(%f0 : tensor<64x1024xf32>) -> tensor<64x1024xf32>
  %e1 = tensor.empty() : tensor<64x520xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<64x520xf32>) -> tensor<64x520xf32>
  %y = linalg.matmul
      ins(%h, %u : tensor<64x1024xf32>, tensor<1024x520xf32>)
      outs(%f1 : tensor<64x520xf32>) -> tensor<64x520xf32>
  return %y : tensor<64x520xf32>
}
