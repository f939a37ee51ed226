// Attention with batch > 1: heads stay split through views that merge batch
// and heads ([B, H, S, D] -> [B*H, S, D]), transposes of the merged tensor
// (K transposed after the view, as torch.bmm(q.reshape(B*H, S, D),
// k.reshape(B*H, S, D).transpose(1, 2)) emits it) and the reshapes around
// the batched matmuls: the merged dimension is a segmented split (B segments
// of H, each split by heads). Megatron's two all-reduces, no all_gather, at
// tp 2, 4 and 8, with and without GQA and rotary embeddings.
//
// RUN: %gen_transformer --arch gpt2 --batch 2 --scores bmm-merged --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch gpt2 --batch 2 --scores bmm-merged --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch gpt2 --batch 3 --scores bmm-merged --transpose named --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch gpt2 --batch 2 --scores bmm --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --batch 2 --scores bmm-merged --rope slices --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --batch 2 --scores bmm-merged --rope interleaved --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// The merged batch (2 x 8 heads) holds 2 x 2 heads on each of 4 ranks; K is
// transposed as a merged local tensor.
// RUN: %gen_transformer --arch gpt2 --batch 2 --scores bmm-merged --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=LOCAL
// RUN: %gen_transformer --arch gpt2 --batch 2 --scores bmm-merged --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=BOUND

// CHECK-LABEL: func.func @{{gpt2|llama}}_layer
// CHECK-COUNT-2: tp.all_reduce sum

// LOCAL: tensor.collapse_shape {{.*}} : tensor<2x2x16x16xf32> into tensor<4x16x16xf32>
// LOCAL: } -> tensor<4x16x16xf32>

// BOUND: weights above the bound: none

// A whole model with every idiom at once (vocabulary-parallel embedding,
// two layers with interleaved rotary rows gathered by position, batch 2
// merged with the heads, LM head): one all_reduce after the embedding, two
// per layer, one all_gather of the logits. (Partial sums kept partial
// through a norm's scaling would reduce twice per norm: not offered.)
// RUN: %gen_transformer --arch llama --layers 2 --embed --lm-head --rope interleaved --rope-table gather --batch 2 --scores bmm-merged --hidden 128 --heads 8 --kv-heads 4 --ffn 256 --vocab 1024 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=MODEL --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// MODEL-COUNT-5: tp.all_reduce sum
// MODEL: tp.all_gather
