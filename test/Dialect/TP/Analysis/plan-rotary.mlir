// Rotary position embeddings on Q and K keep the head split, in the three
// forms frontends emit (rotate_half as extract_slice halves + insert_slices
// into a tensor.empty, rotate_half as tensor.concat, Meta's interleaved pairs
// read through tensor.extract), with cos/sin tables as arguments, constants
// or rows gathered by position ids, after the head transpose ([B, H, S, D])
// and before it ([B, S, H, D]): Megatron's two all-reduces per layer, no
// all_gather, at tp 2, 4 and 8; the report puts every weight at its lower
// bound.
//
// RUN: %gen_transformer --arch llama --rope slices --rope-table arg --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope slices --rope-table const --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope slices --rope-table gather --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope slices --rope-layout bshd --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope concat --rope-table arg --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope concat --rope-table gather --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope concat --rope-table const --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope interleaved --rope-table arg --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope interleaved --rope-table const --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope interleaved --rope-table gather --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
// RUN: %gen_transformer --arch llama --rope interleaved --rope-layout bshd --hidden 128 --heads 8 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --implicit-check-not=tp.all_gather --implicit-check-not=tp.all_reduce
//
// The report: every weight at its bound (arguments and constant tables).
// RUN: %gen_transformer --arch llama --rope interleaved --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=BOUND
// RUN: %gen_transformer --arch llama --rope slices --rope-table const --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=BOUND
// RUN: %gen_transformer --arch llama --rope concat --rope-table gather --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=BOUND
// The gathered cos/sin rows meet only activations (the attention's
// contractions): those lookups are not embeddings and stay whole, with no
// collective.
// RUN: %gen_transformer --arch llama --rope concat --rope-table gather --hidden 128 --heads 8 --kv-heads 4 --ffn 256 | tp-opt --tp-plan="tp-size=4" | FileCheck %s --check-prefix=TABLES

// CHECK-LABEL: func.func @llama_layer
// CHECK-COUNT-2: tp.all_reduce sum

// BOUND: weights above the bound: none

// TABLES-LABEL: func.func @llama_layer
// TABLES-NOT: tp.parallel = "vocab"
