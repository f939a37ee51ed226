// Uneven sizes. 12 heads do not divide by 8 ranks: by default an error names
// the value, the dimension, the size and the tp size; uneven=replicate keeps
// attention whole (a remark per weight) and still splits the MLP; uneven=pad
// cannot pad a split that a reshape regroups (the heads) and says so
// (partition-uneven-pad.mlir and Integration/uneven-pad-check.test cover
// what it does pad).
//
// RUN: not tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8" 2>&1 | FileCheck %s --check-prefix=ERROR
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8 uneven=replicate" 2>&1 | FileCheck %s --check-prefix=REPLICATE
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8 uneven=replicate" --tp-partition="tp-size=8" 2>/dev/null | grep -c -E "tp\.(all_|reduce_scatter)" | FileCheck %s --check-prefix=ONE
// RUN: not tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8 uneven=pad" 2>&1 | FileCheck %s --check-prefix=PAD
// RUN: not tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8 uneven=sometimes" 2>&1 | FileCheck %s --check-prefix=POLICY

// ERROR: error: cannot split result #0 ('tensor<2x16x12x8xf32>') along dimension 2: size 12 is not divisible by tp-size 8 (needed for a column split of the op at {{.*}}); choose a tp-size that divides it, or pass uneven=replicate
// REPLICATE: remark: kept replicated: replicated (uneven=replicate): dimension 2 of result #0 of 'tensor.expand_shape' at {{.*}} (size 12) is not divisible by tp-size 8
// REPLICATE: linalg.matmul {tp.parallel = "replicated"
// REPLICATE: linalg.matmul {tp.parallel = "column"
// REPLICATE: linalg.matmul {tp.parallel = "row"
// ONE: {{^1$}}
// PAD: gpt2-layer.mlir:{{[0-9]+}}:{{[0-9]+}}: error: uneven=pad cannot pad result #0 ('tensor<2x16x12x8xf32>') of 'tensor.expand_shape' along dimension 2 (size 12, tp-size 8): a reshape or slice cannot keep a padded split; use uneven=replicate, or a tp-size that divides it
// POLICY: error: unknown uneven policy 'sometimes'; expected error, replicate or pad
