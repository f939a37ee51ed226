// Index-typed tensors have no bit width of their own (it is chosen when
// lowering): the cost model counts them at 64 bits. tp-plan used to crash
// on them (CostModel::getBytes asked index for its width).
// RUN: tp-opt %s --split-input-file --tp-plan="tp-size=2" | FileCheck %s --check-prefix=PLAN
// RUN: tp-opt %s --split-input-file --tp-plan="tp-size=2" --tp-partition="tp-size=2 report=-" -o /dev/null | FileCheck %s --check-prefix=REPORT

#map = affine_map<(d0, d1) -> (d0, d1)>
// PLAN-LABEL: func.func @index_add
// PLAN: arith.addi
func.func @index_add(%x: tensor<8x16xindex>, %y: tensor<8x16xindex>) -> tensor<8x16xindex> {
  %e = tensor.empty() : tensor<8x16xindex>
  %r = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%x, %y : tensor<8x16xindex>, tensor<8x16xindex>) outs(%e : tensor<8x16xindex>) {
  ^bb0(%a: index, %b: index, %o: index):
    %s = arith.addi %a, %b : index
    linalg.yield %s : index
  } -> tensor<8x16xindex>
  return %r : tensor<8x16xindex>
}

// -----

// A column-parallel matmul whose output becomes index data (f64 and index
// weigh the same, so the gather may move either); the report counts an
// index element as 8 bytes: 8x32 of them, 2 KiB.
// REPORT-LABEL: tp plan for @to_index
// REPORT: linalg.matmul column
// REPORT: tp.all_gather dim 1 tensor<8x16x{{index|f64}}> tensor 2.0 KiB
#map1 = affine_map<(d0, d1) -> (d0, d1)>
func.func @to_index(%x: tensor<8x16xf64>, %w: tensor<16x32xf64>) -> tensor<8x32xindex> {
  %c0 = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<8x32xf64>
  %z = linalg.fill ins(%c0 : f64) outs(%e : tensor<8x32xf64>) -> tensor<8x32xf64>
  %y = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf64>, tensor<16x32xf64>) outs(%z : tensor<8x32xf64>) -> tensor<8x32xf64>
  %ei = tensor.empty() : tensor<8x32xindex>
  %r = linalg.generic {indexing_maps = [#map1, #map1], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<8x32xf64>) outs(%ei : tensor<8x32xindex>) {
  ^bb0(%a: f64, %o: index):
    %i = arith.fptosi %a : f64 to i64
    %j = arith.index_cast %i : i64 to index
    linalg.yield %j : index
  } -> tensor<8x32xindex>
  return %r : tensor<8x32xindex>
}
