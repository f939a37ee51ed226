// Grouped-query attention with fewer KV heads (2) than ranks (4): the K and V
// projections stay replicated (reason given), every rank repeats the KV heads
// locally and takes the query heads' slice without communication; the query
// projection is still column and the layer still needs two all-reduces.
//
// RUN: %gen_transformer --arch llama --hidden 128 --heads 8 --kv-heads 2 --ffn 256 | tp-opt --tp-plan="tp-size=4" | FileCheck %s --check-prefix=PLAN
// RUN: %gen_transformer --arch llama --hidden 128 --heads 8 --kv-heads 2 --ffn 256 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=PART

// PLAN: linalg.matmul {tp.parallel = "column"
// PLAN: linalg.matmul {tp.parallel = "replicated", tp.plan_reason = "replicated: a column split needs dimension 2 of result #0 of 'tensor.expand_shape' at {{.*}}, of size 2: fewer than tp-size 4"}
// PLAN: linalg.matmul {tp.parallel = "replicated", tp.plan_reason = "replicated: a column split needs dimension 2
// PLAN: linalg.matmul {tp.parallel = "row"

// PART: tp.all_slice %{{.*}} dim 1 over 4 : tensor<1x8x16x16xf32> -> tensor<1x2x16x16xf32>
// PART: tp.all_reduce sum
// PART: tp.all_reduce sum
// PART-NOT: tp.all_gather
