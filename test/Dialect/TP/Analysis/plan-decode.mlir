// KV-cache decode steps (one new token per sequence attending to caches
// [B, KV heads, Smax, D] written at a position argument with
// tensor.insert_slice, the updated caches returned): the caches are split by
// KV heads like the K/V projections, Megatron's two all-reduces per layer
// plus one after the vocabulary-parallel embedding, no all_gather inside the
// step. With sharded-results the caches (and the vocabulary-parallel logits)
// come back as each rank's shard: no all_gather at all. With fewer KV heads
// than ranks the caches stay whole, and the report names the K/V projections
// (and nothing else) above the lower bound.
//
// Two layers, embedding and LM head, rotary tables gathered by position:
// RUN: %gen_transformer --arch llama --hidden 64 --heads 8 --ffn 128 --seq 1 --decode 8 --layers 2 --embed --lm-head --vocab 256 --rope slices --rope-table gather | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2 sharded-results=true" | FileCheck %s --check-prefixes=CHECK,SHARDS --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --hidden 64 --heads 8 --ffn 128 --seq 1 --decode 8 --layers 2 --embed --lm-head --vocab 256 --rope interleaved | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sharded-results=true" | FileCheck %s --check-prefixes=CHECK,SHARDS --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch gpt2 --hidden 64 --heads 8 --ffn 128 --seq 1 --decode 8 --layers 2 --embed --lm-head --vocab 256 --batch 2 --scores bmm-merged | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8 sharded-results=true" | FileCheck %s --check-prefixes=CHECK,SHARDS --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// Results whole (the default): the logits and the four caches gathered at
// the return, nothing else.
// RUN: %gen_transformer --arch llama --hidden 64 --heads 8 --ffn 128 --seq 1 --decode 8 --layers 2 --embed --lm-head --vocab 256 --rope concat --rope-table const | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefixes=CHECK,WHOLE --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
//
// CHECK-LABEL: func.func
// SHARDS-SAME: tp.sharding = #tp.sharding<split 2>}, tensor<{{.*}}> {tp.global_type = tensor<{{[0-9]+}}x8x8x8xf32>, tp.sharding = #tp.sharding<split 1>}
// CHECK-COUNT-5: tp.all_reduce
// WHOLE-COUNT-5: tp.all_gather
// CHECK: return
//
// The report: every weight at its bound.
// RUN: %gen_transformer --arch llama --hidden 64 --heads 8 --kv-heads 4 --ffn 128 --seq 1 --decode 8 --layers 2 --embed --lm-head --vocab 256 --rope slices --rope-table gather | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sharded-results=true report=-" -o /dev/null | FileCheck %s --check-prefix=BOUND
// BOUND: total traffic per rank per step: {{.*}} in 5 collective(s)
// BOUND: weights above the bound: none
//
// Fewer KV heads (2) than ranks (4): caches and K/V projections whole.
// RUN: %gen_transformer --arch llama --hidden 64 --heads 8 --kv-heads 2 --ffn 128 --seq 1 --decode 8 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 sharded-results=true report=-" | FileCheck %s --check-prefix=GQA
// GQA: total traffic per rank per step: {{.*}} in 2 collective(s)
// GQA: weights above the bound:
// GQA-NEXT: argument #4 tensor<16x64xf32>: {{.*}} linalg.matmul replicated {{.*}} of size 2: fewer than tp-size 4
// GQA-NEXT: argument #5 tensor<16x64xf32>: {{.*}} linalg.matmul replicated {{.*}} of size 2: fewer than tp-size 4
// GQA-NOT: argument #
// GQA-LABEL: func.func
// GQA-SAME: tensor<1x2x8x8xf32> {tp.global_type = tensor<1x2x8x8xf32>, tp.sharding = #tp.sharding<replicated>}, tensor<1x2x8x8xf32> {tp.global_type = tensor<1x2x8x8xf32>, tp.sharding = #tp.sharding<replicated>})
