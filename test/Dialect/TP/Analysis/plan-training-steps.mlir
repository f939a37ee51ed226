// Unannotated training steps (scripts/gen_training.py: forward, backward and
// SGD/Adam update in one function taking x, the parameters and the upstream
// gradient g) get Megatron's plan: one all_reduce forward and one backward
// per block (the Q, K and V input gradients summed before the one reduction),
// none for weight gradients (dW1 = x^T dz split like W1, dW2 = h^T g split
// like W2), the updates local, and no all_gather before the last all_reduce:
// the only gathers are of the updated parameters returned whole. Every
// parameter is held at its lower bound; g and x stay whole.
//
// MLP block (GPT-2: GELU, biases, [in, out] weights) at tp 2, 4, 8.
// RUN: %gen_training --block mlp | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=MLP
// RUN: %gen_training --block mlp | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=MLP
// RUN: %gen_training --block mlp | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --check-prefix=MLP
// MLP-LABEL: func.func @gpt2_mlp_sgd_step
// MLP-SAME: tp.sharding = #tp.sharding<split 1>
// MLP-NOT: tp.all_gather
// MLP-COUNT-2: tp.all_reduce
// MLP-NOT: tp.all_reduce
// MLP-NOT: tp.reduce_scatter
// MLP: return
//
// W1 is split on its columns, W2 on its rows; the upstream gradient g (the
// last argument) is an activation: whole, and not a weight of the report's
// lower bound.
// RUN: %gen_training --block mlp | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=GRAD
// GRAD: %arg1: tensor<64x64xf32> {tp.global_type = tensor<64x256xf32>, tp.sharding = #tp.sharding<split 1>}
// GRAD-SAME: %arg3: tensor<64x64xf32> {tp.global_type = tensor<256x64xf32>, tp.sharding = #tp.sharding<split 0>}
// GRAD-SAME: %arg5: tensor<16x64xf32> {tp.global_type = tensor<16x64xf32>, tp.sharding = #tp.sharding<replicated>}) -> (
// RUN: %gen_training --block mlp | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=BOUND
// RUN: %gen_training --block mlp --arch llama --optimizer adam | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=BOUND
// RUN: %gen_training --block layer --layers 2 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8 report=-" -o /dev/null | FileCheck %s --check-prefix=BOUND
// BOUND: weights above the bound: none
//
// Without biases (split with their layer, so below the bound) or optimizer
// state (split like its weight, counted whole in the bound), the argument
// memory per rank is the lower bound exactly.
// RUN: %gen_training --block layer --arch llama | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=EQUAL
// RUN: %gen_training --block layer --arch llama --layers 2 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8 report=-" -o /dev/null | FileCheck %s --check-prefix=EQUAL
// EQUAL: argument (weight) memory per rank: [[MEM:[0-9.]+ [KM]iB]] of
// EQUAL-NEXT: lower bound (each weight op's weight / tp-size, the rest whole): [[MEM]] (
//
// MLP block (Llama: SwiGLU, [out, in] weights through transposes; Adam).
// RUN: %gen_training --block mlp --arch llama --optimizer adam | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=SWIGLU
// RUN: %gen_training --block mlp --arch llama --optimizer adam --transpose named | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --check-prefix=SWIGLU
// SWIGLU-LABEL: func.func @llama_mlp_adam_step
// SWIGLU-NOT: tp.all_gather
// SWIGLU-COUNT-2: tp.all_reduce
// SWIGLU-NOT: tp.all_reduce
// SWIGLU-NOT: tp.reduce_scatter
// SWIGLU: return
//
// Attention block, batch 1 and 2 (heads merged with the batch as [B*H, S, D]).
// RUN: %gen_training --block attention | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=ATTN
// RUN: %gen_training --block attention --batch 2 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=ATTN
// RUN: %gen_training --block attention --batch 2 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --check-prefix=ATTN
// RUN: %gen_training --block attention --arch llama | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=ATTN
// ATTN-LABEL: func.func @{{.*}}_attention_sgd_step
// ATTN-NOT: tp.all_gather
// ATTN-COUNT-2: tp.all_reduce
// ATTN-NOT: tp.all_reduce
// ATTN-NOT: tp.reduce_scatter
// ATTN: return
//
// GPT-2 and Llama layers (norms and residual adds around both blocks): two
// all_reduces forward, two backward; two layers: eight.
// RUN: %gen_training --block layer | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=LAYER
// RUN: %gen_training --block layer --batch 2 | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --check-prefix=LAYER
// RUN: %gen_training --block layer --arch llama | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=LAYER
// RUN: %gen_training --block layer --arch llama --optimizer adam | tp-opt --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --check-prefix=LAYER
// LAYER-LABEL: func.func @{{.*}}_layer_{{.*}}_step
// LAYER-NOT: tp.all_gather
// LAYER-COUNT-4: tp.all_reduce
// LAYER-NOT: tp.all_reduce
// LAYER-NOT: tp.reduce_scatter
// LAYER: return
//
// RUN: %gen_training --block layer --layers 2 --optimizer adam | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=LAYERS
// RUN: %gen_training --block layer --layers 2 --arch llama --batch 2 | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=LAYERS
// LAYERS-LABEL: func.func @{{.*}}_layer_{{.*}}_step
// LAYERS-NOT: tp.all_gather
// LAYERS-COUNT-8: tp.all_reduce
// LAYERS-NOT: tp.all_reduce
// LAYERS-NOT: tp.reduce_scatter
// LAYERS: return
