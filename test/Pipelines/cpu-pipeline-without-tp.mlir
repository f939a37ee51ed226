// A module that never saw tp-partition (no tp attributes, so the tp dialect
// is not loaded by the parser) through the passes that read tp attributes:
// they load the dialect themselves, and everything is replicated.
//
// RUN: tp-opt %s --tp-emit-manifest | FileCheck %s --check-prefix=MANIFEST
// RUN: tp-opt %s --tp-cpu-pipeline | FileCheck %s --check-prefix=CPU
// RUN: tp-opt %s --tp-lower-slices --tp-lower-to-runtime | FileCheck %s --check-prefix=NOOP

// MANIFEST: llvm.mlir.global external constant @tp_manifest({{.*}}\22sharding\22:{\22kind\22:\22replicated\22}{{.*}}\22tp_size\22:1
// CPU: llvm.func @tp_entry(
// NOOP-LABEL: func.func @identity(
func.func @identity(%x: tensor<8xf32>) -> tensor<8xf32> {
  return %x : tensor<8xf32>
}
