// A training step with only its forward matmuls annotated the way Megatron
// does (column, then row): tp-partition alone fills in the backward, with
// the weight-reading backward matmuls column then row, the weight gradients
// split like their weights and no all_gather before the last all_reduce
// (only the updated parameters, returned whole, are gathered).
//
// RUN: %gen_training --block mlp | sed -e 's/linalg.matmul ins(%x,/linalg.matmul {tp.parallel = "column"} ins(%x,/' -e 's/linalg.matmul ins(\(%g[0-9]*\), %w2/linalg.matmul {tp.parallel = "row"} ins(\1, %w2/' | tp-opt --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=MLPREPORT
// MLPREPORT: linalg.matmul column {{.*}} annotated (tp.parallel)
// MLPREPORT-NEXT: linalg.matmul row {{.*}} annotated (tp.parallel)
// MLPREPORT-NEXT: linalg.matmul split loop 0 {{.*}} propagated
// MLPREPORT-NEXT: linalg.matmul column {{.*}} propagated
// MLPREPORT-NEXT: linalg.matmul column {{.*}} propagated
// MLPREPORT-NEXT: linalg.matmul row {{.*}} propagated
// MLPREPORT-NOT: tp.all_gather
// MLPREPORT-COUNT-2: tp.all_reduce
// MLPREPORT-NOT: tp.all_reduce
// MLPREPORT: weights above the bound: none
//
// RUN: %gen_training --block attention --batch 2 | sed -e 's/linalg.matmul ins(%x,/linalg.matmul {tp.parallel = "column"} ins(%x,/' -e 's/linalg.matmul ins(\(%r[0-9]*\), %wo/linalg.matmul {tp.parallel = "row"} ins(\1, %wo/' | tp-opt --tp-partition="tp-size=4 report=-" -o /dev/null | FileCheck %s --check-prefix=ATTN
// ATTN-COUNT-4: annotated (tp.parallel)
// ATTN-NOT: tp.all_gather
// ATTN-COUNT-2: tp.all_reduce
// ATTN-NOT: tp.all_reduce
// ATTN: weights above the bound: none
