// Sequence parallelism (tp-partition sequence-parallel=true): on Megatron's
// plan, each all_reduce whose value goes on through token-wise ops becomes a
// reduce_scatter over the tokens, the residual adds and norms run on token
// shards, and an all_gather precedes the next column layer (and the return).
// The traffic per rank is the same as with the all_reduces.
//
// A two-layer GPT-2 forward at tp 2, 4 and 8: four reduce_scatter/all_gather
// pairs, no all_reduce.
// RUN: %gen_transformer --arch gpt2 --layers 2 | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2 sequence-parallel=true" | FileCheck %s --check-prefix=GPT2
// RUN: %gen_transformer --arch gpt2 --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true" | FileCheck %s --check-prefix=GPT2
// RUN: %gen_transformer --arch gpt2 --layers 2 --heads 8 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8 sequence-parallel=true" | FileCheck %s --check-prefix=GPT2
// GPT2-LABEL: func.func @gpt2_2_layers
// GPT2-NOT: tp.all_reduce
// GPT2-COUNT-4: tp.reduce_scatter sum %{{.*}} dim 0
// GPT2-NOT: tp.all_reduce
// GPT2: return
//
// The layer norm after a reduce_scatter runs on the token shards: its row
// reductions have 16 / 4 rows, and the all_gather comes after it.
// RUN: %gen_transformer --arch gpt2 --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true" | FileCheck %s --check-prefix=NORM
// NORM: tp.reduce_scatter sum %{{.*}} dim 0 over 4 : tensor<16x96xf32> -> tensor<4x96xf32>
// NORM: linalg.generic {{.*}}"reduction"]} ins(%{{.*}} : tensor<1x4x96xf32>) outs(%{{.*}} : tensor<1x4xf32>)
// NORM: tp.all_gather %{{.*}} dim 0 over 4 : tensor<4x96xf32> -> tensor<16x96xf32>
//
// Same traffic as the all_reduces, twice as many collectives.
// RUN: %gen_transformer --arch gpt2 --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=BYTES-AR
// RUN: %gen_transformer --arch gpt2 --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true report=-" -o /dev/null | FileCheck %s --check-prefix=BYTES-SP
// BYTES-AR: total traffic per rank per step: 36.0 KiB in 4 collective(s)
// BYTES-SP: total traffic per rank per step: 36.0 KiB in 8 collective(s)
//
// Llama (RMSNorm, SwiGLU, rotary) with a vocabulary-parallel embedding and an
// LM head: the embedding's all_reduce is a reduce_scatter too, the final norm
// runs on token shards before the LM head's all_gather.
// RUN: %gen_transformer --arch llama --layers 2 --embed --lm-head --rope slices | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true report=-" -o /dev/null | FileCheck %s --check-prefix=LLAMA
// LLAMA-NOT: tp.all_reduce
// LLAMA-COUNT-5: tp.reduce_scatter
// LLAMA-NOT: tp.all_reduce
// LLAMA: weights above the bound: none
//
// Off by default: Megatron's all_reduces.
// RUN: %gen_transformer --arch gpt2 --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=OFF
// OFF-NOT: tp.reduce_scatter
// OFF-COUNT-4: tp.all_reduce
// OFF-NOT: tp.reduce_scatter
