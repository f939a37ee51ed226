// Loading TPPlugin.so only as a pass plugin registers the passes but not the
// sharding models of upstream ops (only the dialect entry point gets the
// DialectRegistry): every annotated matmul then reads as having no rule, and
// the error says which loading flag is missing.
// REQUIRES: tp_plugin
// RUN: not %mlir_opt --load-pass-plugin=%tp_plugin %s \
// RUN:   --pass-pipeline="builtin.module(tp-partition{tp-size=2})" -o /dev/null 2>&1 | FileCheck %s
// CHECK: error: 'linalg.matmul' op 'tp.parallel' applies only to matmul-like ops
// CHECK: note: no op has a sharding model in this context: register them with mlir::registerTPDialect (tp/InitAll.h); in mlir-opt, load TPPlugin.so with --load-dialect-plugin as well as --load-pass-plugin

func.func @column_matmul_pass_plugin_only(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %init: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}
