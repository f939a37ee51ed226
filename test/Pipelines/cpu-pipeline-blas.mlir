// tp-cpu-pipeline with gemm=blas (the default): every matmul form of
// Integration/Inputs/matmul-forms.mlir is one tp_rt_gemm call (OpenBLAS in
// the MPI runtime), with transposes folded into its flags and no linalg
// contraction left; the bias + ReLU user is its epilogue (5). With
// gemm=loops no tp_rt_gemm is emitted.
//
// RUN: tp-opt %S/../Integration/Inputs/matmul-forms.mlir --tp-partition-pipeline="tp-size=1" --tp-cpu-pipeline="tp-size=1" --mlir-print-ir-after=tp-lower-gemm-to-runtime -o %t.mlir 2>&1 | FileCheck %s --implicit-check-not=linalg.matmul --implicit-check-not=linalg.batch_matmul --implicit-check-not=linalg.transpose --implicit-check-not=linalg.fill
// RUN: FileCheck %s --check-prefix=FINAL < %t.mlir
// RUN: tp-opt %S/../Integration/Inputs/matmul-forms.mlir --tp-partition-pipeline="tp-size=1" --tp-cpu-pipeline="tp-size=1 gemm=loops" | FileCheck %s --check-prefix=LOOPS

// CHECK-LABEL: func.func @matmul_forms(
// CHECK-COUNT-6: call @tp_rt_gemm({{.*}}, %c0_i32, %{{.*}}) : (
// CHECK: call @tp_rt_gemm({{.*}}, %c5_i32, %{{.*}}) : (
// CHECK-NOT: linalg.generic
// CHECK: return

// FINAL: llvm.func @tp_rt_gemm(
// FINAL: llvm.func @matmul_forms(
// FINAL-COUNT-7: llvm.call @tp_rt_gemm(
// FINAL: llvm.func @tp_entry(

// LOOPS-NOT: tp_rt_gemm
// LOOPS: llvm.func @tp_entry(
