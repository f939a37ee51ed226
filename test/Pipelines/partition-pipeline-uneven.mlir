// tp-partition-pipeline takes tp-partition's uneven policy (it used to stop
// at the option parser: "no such option uneven").
// RUN: tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition-pipeline="tp-size=5 uneven=pad" | FileCheck %s --check-prefix=PAD
// RUN: tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition-pipeline="tp-size=5 uneven=replicate" 2>&1 | FileCheck %s --check-prefix=REPLICATE
// RUN: not tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition-pipeline="tp-size=5" 2>&1 | FileCheck %s --check-prefix=ERROR
// RUN: not tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition-pipeline="tp-size=5 uneven=bogus" 2>&1 | FileCheck %s --check-prefix=BOGUS

// 3072 over 5 ranks: 615 per rank, padded.
// PAD: module attributes {tp.size = 5 : i64}
// PAD: tensor<615x768xf32> {tp.global_type = tensor<3072x768xf32>
// PAD: tp.all_reduce sum

// REPLICATE: remark: {{.*}}
// REPLICATE: module attributes {tp.size = 5 : i64}
// REPLICATE-NOT: tp.all_reduce

// ERROR: error: 'linalg.matmul' op cannot be partitioned as "column": sharded dimension 1 of operand #1 (size 3072) is not divisible by tp-size 5

// BOGUS: error: unknown uneven policy 'bogus'; expected error, replicate or pad
