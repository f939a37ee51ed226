// The plan report puts the argument memory per rank next to its lower bound
// (every weight op's weight / tp-size, everything else whole) and names each
// weight that keeps the plan above it, with its weight op's reason.
//
// GQA with fewer KV heads (2) than ranks (4): only the K and V projections'
// weights are named.
// RUN: %gen_transformer --arch llama --hidden 128 --heads 8 --kv-heads 2 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=FEWKV
// FEWKV: argument (weight) memory per rank:
// FEWKV-NEXT: lower bound (each weight op's weight / tp-size, the rest whole):
// FEWKV-NEXT: weights above the bound:
// FEWKV-NEXT: argument #3 tensor<32x128xf32>: 16.0 KiB per rank (bound 4.0 KiB); linalg.matmul replicated at {{.*}}: planned: replicated: a column split needs dimension 2 of result #0 of 'tensor.expand_shape' at {{.*}}, of size 2: fewer than tp-size 4
// FEWKV-NEXT: argument #4 tensor<32x128xf32>: 16.0 KiB per rank (bound 4.0 KiB); linalg.matmul replicated
// FEWKV-NOT: argument #
//
// The same layer at tp 2: at the bound. JSON carries the bound and the list.
// RUN: %gen_transformer --arch llama --hidden 128 --heads 8 --kv-heads 2 --ffn 256 | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2 report=-" -o /dev/null | FileCheck %s --check-prefix=ATBOUND
// ATBOUND: weights above the bound: none
// RUN: %gen_transformer --arch llama --hidden 128 --heads 8 --kv-heads 2 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=%t.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// JSON: "argument_bytes_lower_bound":
// JSON: "weights_above_bound": [
// JSON: "argument": 3,
// JSON: "bound_bytes": 4096,
// JSON: "bytes_per_rank": 16384,
// JSON: "form": "replicated",
//
// "Too small to split" is relative to the weights that read the same input,
// not to the program's largest weight: next to a 150k-word LM head (the K/V
// projections are 0.1% of it), Qwen2-style K/V projections (12 query, 2 KV
// heads) are still column at tp 2, and the plan is at its bound.
// RUN: %gen_transformer --arch llama --hidden 192 --heads 12 --kv-heads 2 --ffn 512 --vocab 150000 --lm-head --rope slices | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2 report=-" -o /dev/null | FileCheck %s --check-prefix=SMALL
// SMALL-COUNT-3: linalg.matmul column
// SMALL-NEXT: linalg.generic
// SMALL: weights above the bound: none
