// The stock mlir-opt with the plugin on a module without tp attributes: the
// tp passes load the tp dialect they read attributes of (it used to be
// missing, and --tp-emit-manifest crashed).
// REQUIRES: tp_plugin
// RUN: %mlir_opt --load-dialect-plugin=%tp_plugin --load-pass-plugin=%tp_plugin \
// RUN:   %s --pass-pipeline="builtin.module(tp-emit-manifest)" | FileCheck %s --check-prefix=MANIFEST
// RUN: %mlir_opt --load-dialect-plugin=%tp_plugin --load-pass-plugin=%tp_plugin \
// RUN:   %s --pass-pipeline="builtin.module(tp-cpu-pipeline)" | FileCheck %s --check-prefix=CPU

// MANIFEST: llvm.mlir.global external constant @tp_manifest
// CPU: llvm.func @tp_entry(
func.func @identity(%x: tensor<8xf32>) -> tensor<8xf32> {
  return %x : tensor<8xf32>
}
