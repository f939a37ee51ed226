// The dataflow picture (tp-partition dot=FILE): constants, tensor.empty and
// linalg.fill are left out, generics are named by what they compute, edges
// are coloured by the sharding they carry (red with the collective where it
// changes), and the ops up to each row-parallel matmul form a block.
//
// RUN: tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition="tp-size=4 dot=%t.mlp.dot" -o /dev/null
// RUN: FileCheck %s --check-prefix=MLP --implicit-check-not=tensor.empty \
// RUN:   --implicit-check-not=arith.constant --implicit-check-not=linalg.fill < %t.mlp.dot
// RUN: tp-opt %tp_src_root/examples/llama-layer.mlir --tp-plan="tp-size=8" --tp-partition="tp-size=8 dot=%t.llama.dot" -o /dev/null
// RUN: FileCheck %s --check-prefix=LLAMA < %t.llama.dot
// RUN: FileCheck %s --check-prefix=FOLDED < %t.llama.dot

// MLP: digraph "mlp" {
// MLP: label="@mlp at tp-size 4\nedges: gray = replicated, blue = split, orange = partial sum, red = a collective";
// MLP: arg0 [shape=ellipse, label="%arg0 : tensor<64x768xf32>\nreplicated"];
// MLP: arg1 [shape=ellipse, label="%arg1 : tensor<3072x768xf32>\nsplit 0"];
// MLP: subgraph cluster_0 {
// MLP-NEXT: label="block 0";
// MLP-NEXT: style=dashed;
// MLP-NEXT: op0 [label="linalg.generic: transpose\n-> split 1\n
// MLP-NEXT: op1 [label="linalg.matmul (column)\n-> split 1\n{{.*}}", style=filled, fillcolor=lightblue];
// MLP-NEXT: op2 [label="linalg.generic: bias add\n-> split 1\n
// MLP-NEXT: op3 [label="linalg.generic: GELU\n-> split 1\n
// MLP-NEXT: op4 [label="linalg.generic: transpose\n-> split 0\n
// MLP-NEXT: op5 [label="linalg.matmul (row)\n-> partial sum\n
// MLP-NEXT: }
// MLP-NEXT: op6 [label="linalg.generic: bias add\n-> replicated\n
// MLP-NEXT: op7 [label="func.return\n
// MLP-DAG: arg0 -> op1 [color=gray40];
// MLP-DAG: arg1 -> op0 [color=blue];
// MLP-DAG: op3 -> op5 [color=blue];
// MLP-DAG: op5 -> op6 [color=red, fontcolor=red, label="all_reduce"];
// MLP: }

// Llama: attention (softmax's parts, RMS norms) is block 0, the SwiGLU MLP
// block 1.
// LLAMA: subgraph cluster_0 {
// LLAMA-DAG: linalg.generic: sum of squares
// LLAMA-DAG: linalg.generic: norm
// LLAMA-DAG: linalg.generic: max (softmax)
// LLAMA-DAG: linalg.generic: exp (softmax)
// LLAMA-DAG: linalg.generic: contraction
// LLAMA: linalg.matmul (row)
// LLAMA-NEXT: }
// LLAMA-NEXT: subgraph cluster_1 {
// LLAMA: linalg.generic: SiLU gate (SwiGLU)
// LLAMA: linalg.matmul (row)
// LLAMA-NEXT: }
// LLAMA-NOT: subgraph
// LLAMA: func.return

// FOLDED-NOT: tensor.empty
// FOLDED-NOT: linalg.fill
// FOLDED-NOT: arith.constant
