// Sequence parallelism on unannotated training steps (scripts/gen_training.py,
// planned by tp-plan): every activation-sized all_reduce of Megatron's plan,
// forward and backward, becomes a reduce_scatter over the tokens with an
// all_gather before the next column layer (or its backward); as in
// Megatron-SP, the norm weights' gradients (sums over the token shards) are
// all-reduced, and nothing else changes: the backward's weight gradients
// read the norms' outputs through the all_gather the forward column layer
// already needs (no second gather of a transposed copy).
//
// Two GPT-2 layers at tp 4: 8 all_reduces of tensor<16x64xf32> without,
// 8 reduce_scatters and 8 all_gathers of the same tensors with, plus 8 small
// all_reduces of the four LayerNorms' gamma and beta gradients.
// RUN: %gen_training --block layer --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=AR
// AR-COUNT-8: tp.all_reduce sum %{{.*}} over 4 : tensor<16x64xf32>
// AR-NOT: tp.all_reduce
// AR-NOT: tp.reduce_scatter
//
// RUN: %gen_training --block layer --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true" | FileCheck %s --check-prefix=SP
// SP-NOT: tp.all_reduce sum %{{.*}} over 4 : tensor<16x64xf32>
// SP-NOT: tp.all_gather %{{.*}} dim 1 over 4 : tensor<64x4xf32>
// RUN: %gen_training --block layer --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true" | FileCheck %s --check-prefix=RS
// RS-COUNT-8: tp.reduce_scatter sum %{{.*}} dim 0 over 4 : tensor<16x64xf32> -> tensor<4x64xf32>
// RS-NOT: tp.reduce_scatter
// RUN: %gen_training --block layer --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true" | FileCheck %s --check-prefix=AG
// AG-COUNT-8: tp.all_gather %{{.*}} dim 0 over 4 : tensor<4x64xf32> -> tensor<16x64xf32>
// AG-NOT: tp.all_gather %{{.*}} : tensor<4x64xf32>
// RUN: %gen_training --block layer --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true" | FileCheck %s --check-prefix=SMALL
// SMALL-COUNT-8: tp.all_reduce sum %{{.*}} over 4 : tensor<64xf32>
// SMALL-NOT: tp.all_reduce
//
// The traffic: 338.6 KiB per rank per step without, 341.6 KiB with (the
// activation collectives move the same bytes; the 3 KiB are the eight
// gradient all_reduces of 256 bytes).
// RUN: %gen_training --block layer --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=BYTES-AR
// RUN: %gen_training --block layer --layers 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true report=-" -o /dev/null | FileCheck %s --check-prefix=BYTES-SP
// BYTES-AR: total traffic per rank per step: 338.6 KiB
// BYTES-SP: total traffic per rank per step: 341.6 KiB
//
// Llama layer step (RMSNorm, SwiGLU, no biases) with Adam at tp 2: no
// activation-sized all_reduce left.
// RUN: %gen_training --block layer --arch llama --optimizer adam | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2 sequence-parallel=true" | FileCheck %s --check-prefix=LLAMA
// LLAMA-COUNT-2: tp.reduce_scatter
// LLAMA-NOT: tp.all_reduce sum %{{.*}} over 2 : tensor<16x64xf32>
//
// At the step's boundary (sharded-results: x and g arrive as token shards,
// y and dL/dx leave reduce-scattered; see
// partition-sequence-parallel-boundary.mlir): an attention block step with
// batch 2 at tp 8 has two pairs and no all_reduce; the Llama layer step at
// tp 4 is Megatron-SP's: x arrives as a token shard and goes through the
// first RMSNorm on it, four all_gathers (before the QKV and gate/up
// projections, and of their backward's upstream gradients) and four
// reduce_scatters, and only the two RMSNorm weights' gradients all-reduced.
// RUN: %gen_training --block attention --batch 2 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8 sequence-parallel=true sharded-results=true" | FileCheck %s --check-prefix=ATTN-B2 --implicit-check-not=tp.all_reduce --implicit-check-not=tp.all_gather --implicit-check-not=tp.reduce_scatter
// ATTN-B2: tp.all_gather %arg0 dim 0 over 8 : tensor<4x64xf32> -> tensor<32x64xf32>
// ATTN-B2: tp.reduce_scatter sum %{{.*}} dim 0 over 8 : tensor<32x64xf32> -> tensor<4x64xf32>
// ATTN-B2: tp.all_gather %{{.*}} dim 0 over 8 : tensor<4x64xf32> -> tensor<32x64xf32>
// ATTN-B2: tp.reduce_scatter sum %{{.*}} dim 0 over 8 : tensor<32x64xf32> -> tensor<4x64xf32>
// RUN: %gen_training --block layer --arch llama --optimizer adam | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true sharded-results=true" | FileCheck %s --check-prefix=LLAMA-B --implicit-check-not=tp.all_reduce --implicit-check-not=tp.all_gather --implicit-check-not=tp.reduce_scatter
// LLAMA-B: tp.all_gather %{{.*}} dim 0 over 4 : tensor<4x64xf32> -> tensor<16x64xf32>
// LLAMA-B: tp.reduce_scatter sum %{{.*}} dim 0 over 4 : tensor<16x64xf32> -> tensor<4x64xf32>
// LLAMA-B: tp.all_gather %{{.*}} dim 0 over 4 : tensor<4x64xf32> -> tensor<16x64xf32>
// LLAMA-B: tp.reduce_scatter sum %{{.*}} dim 0 over 4 : tensor<16x64xf32> -> tensor<4x64xf32>
// LLAMA-B: tp.all_gather %arg28 dim 0 over 4 : tensor<4x64xf32> -> tensor<16x64xf32>
// LLAMA-B: tp.reduce_scatter sum %{{.*}} dim 0 over 4 : tensor<16x64xf32> -> tensor<4x64xf32>
// LLAMA-B: tp.all_gather %{{.*}} dim 0 over 4 : tensor<4x64xf32> -> tensor<16x64xf32>
// LLAMA-B: tp.reduce_scatter sum %{{.*}} dim 0 over 4 : tensor<16x64xf32> -> tensor<4x64xf32>
// LLAMA-B-COUNT-2: tp.all_reduce sum %{{.*}} over 4 : tensor<64xf32>
//
// The real idioms too: a Llama layer step with rotary embeddings, grouped
// query attention, a token embedding and an LM head at tp 4 has Megatron's
// six all_reduces without, six reduce_scatter/all_gather pairs with (the
// embedding's over the sequence of [B, S, E]), plus the three RMSNorm
// weights' gradient all_reduces; every weight at the bound either way.
// RUN: %gen_training --block layer --arch llama --rope slices --kv-heads 4 --embed --lm-head | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true sharded-results=true" | FileCheck %s --check-prefix=IDIOMS-AG --implicit-check-not=tp.all_gather
// IDIOMS-AG-COUNT-6: tp.all_gather %{{.*}} dim 0 over 4 : tensor<4x64xf32> -> tensor<16x64xf32>
// RUN: %gen_training --block layer --arch llama --rope slices --kv-heads 4 --embed --lm-head | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true sharded-results=true" | FileCheck %s --check-prefix=IDIOMS-RS --implicit-check-not=tp.reduce_scatter
// IDIOMS-RS: tp.reduce_scatter sum %{{.*}} dim 1 over 4 : tensor<1x16x64xf32> -> tensor<1x4x64xf32>
// IDIOMS-RS-COUNT-5: tp.reduce_scatter sum %{{.*}} dim 0 over 4 : tensor<16x64xf32> -> tensor<4x64xf32>
// RUN: %gen_training --block layer --arch llama --rope slices --kv-heads 4 --embed --lm-head | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true sharded-results=true" | FileCheck %s --check-prefix=IDIOMS-AR --implicit-check-not=tp.all_reduce
// IDIOMS-AR-COUNT-3: tp.all_reduce sum %{{.*}} over 4 : tensor<64xf32>
// RUN: %gen_training --block layer --arch llama --rope slices --kv-heads 4 --embed --lm-head | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sequence-parallel=true sharded-results=true report=-" -o /dev/null | FileCheck %s --check-prefix=IDIOMS-BOUND
// IDIOMS-BOUND: weights above the bound: none
