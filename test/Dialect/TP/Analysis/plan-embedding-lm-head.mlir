// A whole model: token embedding, two layers, final norm and LM head. The
// lookup is vocabulary-parallel (masked local lookup, one all-reduce), every
// layer costs two all-reduces, the LM head is column-parallel over the
// vocabulary and its logits are gathered for the result.
//
// RUN: %gen_transformer --arch gpt2 --layers 2 --embed --lm-head --vocab 512 | tp-opt --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=-" -o %t.mlir | FileCheck %s --check-prefix=REPORT
// RUN: FileCheck %s --check-prefix=PART < %t.mlir

// REPORT: linalg.generic vocab {{.*}} planned: vocab: each rank looks up the ids in its rows of the table (masked); one all_reduce of the embeddings
// REPORT: linalg.matmul column {{.*}} planned: column: output features split; gathered only for the function's result
// REPORT-COUNT-5: tp.all_reduce sum
// REPORT: tp.all_gather dim 2
// REPORT: total traffic per rank per step: {{.*}} in 6 collective(s)

// The table is split by rows; ids outside this rank's rows read row 0 and are
// masked to zero.
// PART: %{{[a-z0-9_]+}}: tensor<128x96xf32> {tp.global_type = tensor<512x96xf32>, tp.sharding = #tp.sharding<split 0>}
// PART: %[[RANK:.*]] = tp.rank : index
// PART: %[[OFF:.*]] = arith.muli %[[RANK]], %c128
// PART: linalg.generic
// PART: %[[LOCAL:.*]] = arith.subi %{{.*}}, %[[OFF]] : index
// PART: %[[IN:.*]] = arith.cmpi ult, %[[LOCAL]], %c128
// PART: %[[SAFE:.*]] = arith.select %[[IN]], %[[LOCAL]], %c0
// PART: %[[V:.*]] = tensor.extract %{{.*}}[%[[SAFE]], %{{.*}}] : tensor<128x96xf32>
// PART: arith.select %[[IN]], %[[V]], %{{.*}} : f32
// PART: tp.all_reduce sum
