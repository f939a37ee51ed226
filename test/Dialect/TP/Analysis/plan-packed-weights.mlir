// Packed weights: a model whose weights arrive in one buffer, cut into the
// individual weights inside the program. tp-unpack-arguments makes each piece
// an argument, so tp-plan finds Megatron's plan on them: two all_reduces per
// layer, no all_slice of the packed buffer, every weight at the report's
// lower bound. Without the pass the buffer is whole on every rank and named
// above the bound.
//
// Each layer's weights in one flat argument (1-D slices reshaped into
// matrices), two GPT-2 layers, at tp 2, 4 and 8:
// RUN: %gen_transformer --arch gpt2 --packed layer --layers 2 --hidden 64 --heads 8 --ffn 128 --seq 8 -o %t.layer.mlir
// RUN: tp-opt %t.layer.mlir --tp-unpack-arguments --tp-plan="tp-size=2" --tp-partition="tp-size=2 report=-" | FileCheck %s --check-prefixes=MEGATRON,BOUND
// RUN: tp-opt %t.layer.mlir --tp-unpack-arguments --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" | FileCheck %s --check-prefixes=MEGATRON,BOUND
// RUN: tp-opt %t.layer.mlir --tp-unpack-arguments --tp-plan="tp-size=8" --tp-partition="tp-size=8 report=-" | FileCheck %s --check-prefixes=MEGATRON,BOUND
// The same through tp-partition-pipeline's option:
// RUN: tp-opt %t.layer.mlir --tp-plan="tp-size=4" --tp-partition-pipeline="tp-size=4 unpack-arguments=true" | FileCheck %s --check-prefix=MEGATRON
//
// The whole model's weights in one bf16 argument (Llama, embedding and LM
// head included: one more all_reduce after the vocabulary-parallel embedding
// and one all_gather of the logits):
// RUN: %gen_transformer --arch llama --packed model --layers 2 --hidden 64 --heads 8 --ffn 128 --seq 8 --embed --lm-head --vocab 256 --dtype bf16 -o %t.model.mlir
// RUN: tp-opt %t.model.mlir --tp-unpack-arguments --tp-plan="tp-size=2" --tp-partition="tp-size=2 report=-" | FileCheck %s --check-prefixes=MODEL,BOUND
// RUN: tp-opt %t.model.mlir --tp-unpack-arguments --tp-plan="tp-size=8" --tp-partition="tp-size=8 report=-" | FileCheck %s --check-prefixes=MODEL,BOUND
//
// N-D: each layer's [out, in] wq, wk, wv and wo stacked along the rows of one
// [4E, E] argument; wo's rows are split on the other dimension (its input
// features), so the pieces want different split dimensions.
// RUN: %gen_transformer --arch gpt2 --packed attn --layers 2 --hidden 64 --heads 8 --ffn 128 --seq 8 -o %t.attn.mlir
// RUN: tp-opt %t.attn.mlir --tp-unpack-arguments --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" | FileCheck %s --check-prefixes=MEGATRON,BOUND
// RUN: tp-opt %t.attn.mlir --tp-unpack-arguments --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=ATTN
//
// Without the pass: the packed buffers are whole on every rank.
// RUN: tp-opt %t.layer.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" | FileCheck %s --check-prefix=WHOLE

// The report comes first.
// BOUND: weights above the bound: none

// MEGATRON-LABEL: func.func @gpt2_2_layers
// MEGATRON-NOT: tp.all_slice
// MEGATRON-NOT: tp.all_gather
// MEGATRON-COUNT-4: tp.all_reduce
// MEGATRON-NOT: tp.all_reduce
// MEGATRON-NOT: tp.all_slice
// MEGATRON-NOT: tp.all_gather
// MEGATRON: return

// The column weight [out, in] of a piece is split on its rows; wo on its
// columns.
// ATTN-LABEL: func.func @gpt2_2_layers
// ATTN-SAME: tensor<16x64xf32> {tp.global_type = tensor<64x64xf32>, tp.sharding = #tp.sharding<split 0>}
// ATTN-SAME: tensor<64x16xf32> {tp.global_type = tensor<64x64xf32>, tp.sharding = #tp.sharding<split 1>}
// ATTN-SAME: tp.original_arguments

// MODEL-LABEL: func.func @llama_2_layers
// MODEL-NOT: tp.all_slice
// MODEL-COUNT-5: tp.all_reduce
// MODEL-NOT: tp.all_reduce
// MODEL-NOT: tp.all_slice
// MODEL: tp.all_gather
// MODEL-NOT: tp.all_slice
// MODEL: return

// WHOLE-COUNT-4: tp.all_reduce
// WHOLE: argument (weight) memory per rank: 263.5 KiB of 263.5 KiB unsharded (1.000x)
// WHOLE: weights above the bound:
// WHOLE-NEXT: argument #1 tensor<33472xf32>
// WHOLE-NEXT: argument #2 tensor<33472xf32>
