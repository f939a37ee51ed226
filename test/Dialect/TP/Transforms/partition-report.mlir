// The plan report as JSON and the dataflow as Graphviz.
//
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=%t.json dot=%t.dot" -o /dev/null
// RUN: FileCheck %s --check-prefix=JSON < %t.json
// RUN: FileCheck %s --check-prefix=DOT < %t.dot
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4 report=%t.txt" -o /dev/null
// RUN: FileCheck %s --check-prefix=TABLE < %t.txt
// RUN: not tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition="tp-size=4 report=%t.missing/dir/r.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADPATH

// JSON: "format": "tp-plan-report"
// JSON: "argument_bytes": 459648
// JSON: "argument_bytes_per_rank": 125856
// JSON: "collectives": [
// JSON: "op": "tp.all_reduce"
// JSON: "tensor_bytes": 12288
// JSON: "traffic_bytes": 18432
// JSON: "op": "tp.all_reduce"
// JSON: "function": "gpt2_layer"
// JSON: "matmuls": [
// JSON: "form": "column"
// JSON: "reason": "planned: column: output features split; the split reaches the row layer at
// JSON: "form": "row"
// JSON: "tp_size": 4
// JSON: "traffic_bytes_per_step": 36864

// DOT: digraph "gpt2_layer" {
// DOT: label="@gpt2_layer at tp-size 4\n
// DOT: [label="linalg.matmul (column)\n-> split 1
// DOT: style=filled, fillcolor=lightblue
// DOT: [label="linalg.matmul (row)\n-> partial sum
// DOT: [color=red, fontcolor=red, label="all_reduce"]
// DOT: }

// TABLE: tp plan for @gpt2_layer at tp-size 4
// TABLE: total traffic per rank per step: 36.0 KiB in 2 collective(s)

// BADPATH: error: cannot write the partition report:
