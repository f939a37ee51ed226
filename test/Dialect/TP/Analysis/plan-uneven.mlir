// Uneven sizes. 12 heads do not divide by 8 ranks: by default an error names
// the value, the dimension, the size and the tp size; uneven=replicate keeps
// attention whole (a remark per weight) and still splits the MLP; uneven=pad
// pads the heads in whole heads (12 heads of 8 on 8 ranks: 2 heads, 16
// columns per rank, the last two ranks padding) and keeps Megatron's two
// all-reduces (partition-uneven-pad.mlir and Integration/uneven-pad-check.test
// cover the rest of what it pads).
//
// RUN: not tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8" 2>&1 | FileCheck %s --check-prefix=ERROR
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8 uneven=replicate" 2>&1 | FileCheck %s --check-prefix=REPLICATE
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8 uneven=replicate" --tp-partition="tp-size=8" 2>/dev/null | FileCheck %s --check-prefix=ONE
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8 uneven=pad" --tp-partition="tp-size=8 uneven=pad" 2>&1 | FileCheck %s --check-prefix=PAD
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8 uneven=pad" --tp-partition="tp-size=8 uneven=pad" 2>/dev/null | FileCheck %s --check-prefix=TWO
// RUN: not tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=8 uneven=sometimes" 2>&1 | FileCheck %s --check-prefix=POLICY

// ERROR: error: cannot split result #0 ('tensor<2x16x12x8xf32>') along dimension 2: size 12 is not divisible by tp-size 8 (needed for a column split of the op at {{.*}}); choose a tp-size that divides it, or pass uneven=replicate
// REPLICATE: remark: kept replicated: replicated (uneven=replicate): dimension 2 of result #0 of 'tensor.expand_shape' at {{.*}} (size 12) is not divisible by tp-size 8
// REPLICATE: linalg.matmul {tp.parallel = "replicated"
// REPLICATE: linalg.matmul {tp.parallel = "column"
// REPLICATE: linalg.matmul {tp.parallel = "row"
// ONE-COUNT-1: {{tp\.(all_reduce|all_gather|reduce_scatter)}}
// ONE-NOT: {{tp\.(all_reduce|all_gather|reduce_scatter)}}
// PAD-LABEL: func.func @gpt2_layer
// PAD-SAME: tensor<96x16xf32> {tp.global_type = tensor<96x96xf32>, tp.sharding = #tp.sharding<split 1 granule 8>}
// PAD: tensor.expand_shape {{.*}} output_shape [2, 16, 2, 8] : tensor<32x16xf32> into tensor<2x16x2x8xf32>
// PAD: tp.all_reduce
// TWO-COUNT-2: {{tp\.(all_reduce|all_gather|reduce_scatter)}}
// TWO-NOT: {{tp\.(all_reduce|all_gather|reduce_scatter)}}
// The option is typed: the parser names the option and the bad value.
// POLICY: for the --uneven option: Cannot find option named 'sometimes'
