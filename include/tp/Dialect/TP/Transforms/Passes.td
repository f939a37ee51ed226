//===- Passes.td - tp dialect passes -----------------------*- tablegen -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_TRANSFORMS_PASSES_TD
#define TP_DIALECT_TP_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TPPartition : Pass<"tp-partition", "::mlir::ModuleOp"> {
  let summary = "Rewrite functions into their per-rank tensor-parallel form";
  let description = [{
    Rewrites every function of the module into the program one rank of a
    tensor-parallel group of `tp-size` ranks runs: each op works on its local
    shard and the data movement between ranks is explicit `tp` collectives.

    Matmul-like ops annotated `tp.parallel = "column"` split their weight's
    output features (N): each rank computes a slice of the result. `"row"`
    splits the contraction (K): each rank computes a partial sum, reduced where
    a consumer needs the whole value. `"replicated"` keeps the op whole. Every
    other op takes whatever distribution makes the program cheapest given its
    neighbours (elementwise ops stay split between a column and a row layer; a
    bias after a row layer is added once, after the reduction), and function
    arguments take the sharding their uses want. The runner slices full inputs
    per the `tp.sharding` argument attributes; the module gets `tp.size`.

    ```mlir
    // column then row: one all_reduce
    %h = linalg.matmul {tp.parallel = "column"} ins(%x, %w1 : ...) outs(...)
    %g = linalg.generic ... ins(%h) // gelu, stays split
    %y = linalg.matmul {tp.parallel = "row"} ins(%g, %w2 : ...) outs(...)
    // becomes (tp-size 4, w1: 768x3072, w2: 3072x768)
    %h = linalg.matmul ins(%x, %w1 : tensor<64x768xf32>, tensor<768x768xf32>) ...
    %y = linalg.matmul ins(%g, %w2 : tensor<64x768xf32>, tensor<768x768xf32>) ...
    %r = tp.all_reduce sum %y over 4 : tensor<64x768xf32>
    ```

    Ops without a sharding rule run replicated (their sharded operands are
    gathered, with a remark). Invalid annotations, sizes that do not divide,
    and dynamic split dimensions are errors. At tp-size 1 the program is left
    unchanged (annotations are checked and removed).
  }];
  let options = [
    Option<"tpSize", "tp-size", "int64_t", /*default=*/"2",
           "Number of ranks in the tensor-parallel group">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write a report of the choices and collectives: '-' prints a "
           "table to stdout, a path ending in .json gets JSON, any other "
           "path the table">,
    Option<"dot", "dot", "std::string", /*default=*/"\"\"",
           "Write the dataflow with shardings and collectives as Graphviz">,
    Option<"uneven", "uneven", "::mlir::tp::UnevenPolicy",
           /*default=*/"::mlir::tp::UnevenPolicy::Error",
           "An annotated split that does not divide evenly",
           "::mlir::tp::unevenPolicyValues()">,
    Option<"shardedResults", "sharded-results", "bool", /*default=*/"false",
           "Return each result in the distribution its value has (a split "
           "result comes back as each rank's shard, so that a KV cache or an "
           "updated weight never goes through an all_gather) instead of "
           "whole; partial results are still reduced">,
    Option<"sequenceParallel", "sequence-parallel", "bool",
           /*default=*/"false",
           "Sequence parallelism (Megatron-SP): each all_reduce whose value "
           "goes on through token-wise ops (residual adds, norms, dropout) "
           "becomes a reduce_scatter over the token dimension, those ops run "
           "on token shards, and an all_gather precedes the next op that "
           "needs the whole activation (a column layer)">
  ];
  let dependentDialects = [
    "::mlir::tp::TPDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def TPPlan : Pass<"tp-plan", "::mlir::ModuleOp"> {
  let summary = "Choose column, row or replicated for every weight op (Megatron-style)";
  let description = [{
    Plans the functions of the module for a tensor-parallel group of
    `tp-size` ranks and writes the plan as `tp.parallel` annotations (plus a
    `tp.plan_reason` string per op), which tp-partition consumes. User
    annotations are kept and win. Run `tp-partition` after it (or
    `tp-partition="report=-"` to see the plan with its collectives).

    Splits start at weight ops (matmuls with a parameter operand, embedding
    lookups of a parameter table). A weight matmul whose activation arrives
    split along the contraction is `row`; one whose activation arrives whole
    is `column` when its split reaches a row layer (or the result) without an
    all_gather, else `replicated`; a lookup is `vocab`. A weight below
    `min-weight-fraction` of the largest weight read from the same input (a
    router next to the experts it routes to) stays replicated,
    and so does a column layer whose split (with its row partner) saves fewer
    weight bytes per rank than `min-savings-ratio` times the bytes its
    collective moves per step (ring algorithm). A split dimension
    that does not divide is an error unless `uneven=replicate` (the op stays
    replicated) or `uneven=pad` (ceil(size / tp-size) per rank, padding
    masked; not through a reshape that regroups the split dimension); one
    smaller than the tp size (fewer KV heads than ranks) stays replicated.

    With `propagate-reshapes` (default), named batched contractions next to
    reshapes are generalized and the reshapes folded into them first (upstream
    fusion by expansion), so that attention heads hidden in a collapsed batch
    dimension ([B, H] -> B*H) become loops that can be split.
  }];
  let options = [
    Option<"tpSize", "tp-size", "int64_t", /*default=*/"2",
           "Number of ranks in the tensor-parallel group">,
    Option<"uneven", "uneven", "::mlir::tp::UnevenPolicy",
           /*default=*/"::mlir::tp::UnevenPolicy::Error",
           "What to do with a split dimension that does not divide evenly",
           "::mlir::tp::unevenPolicyValues()">,
    Option<"minWeightFraction", "min-weight-fraction", "double",
           /*default=*/"0.01",
           "Weights smaller than this fraction of the largest weight that "
           "reads the same input stay replicated">,
    Option<"minSavingsRatio", "min-savings-ratio", "double",
           /*default=*/"1.0",
           "Split a column/row pair only if it saves at least this many "
           "weight bytes per rank (plus the FLOPs it saves each rank, "
           "divided by flops-per-byte) per byte its collective moves per "
           "step">,
    Option<"flopsPerByte", "flops-per-byte", "double", /*default=*/"2000.0",
           "FLOPs a rank computes in the time its link moves one byte: how "
           "the cost check weighs compute saved against bytes moved">,
    Option<"propagateReshapes", "propagate-reshapes", "bool",
           /*default=*/"true",
           "Fold reshapes into batched contractions before planning">
  ];
  let dependentDialects = [
    "::mlir::tp::TPDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def TPHoistConstants : Pass<"tp-hoist-constants", "::mlir::ModuleOp"> {
  let summary = "Turn large tensor constants into parameter arguments (weights read per shard)";
  let description = [{
    torch-mlir's default output carries a model's parameters as tensor
    constants (`arith.constant dense<...>` or `dense_resource<...>`). Kept as
    constants, every rank's compiled model holds each weight whole and slices
    it, whatever the plan splits. This pass moves every tensor constant of
    at least `min-bytes` bytes out of the function: it becomes a new
    argument, appended after the existing ones, marked as a parameter
    (`tp.param`) and named by `tp.hoisted = "NAME"`; the data goes to the
    module attribute `tp.hoisted_constants = {NAME = dense...}`. tp-plan and
    tp-partition then treat it exactly like a weight passed as an argument,
    and a runner feeds each rank its shard (tp-run does this by default: it
    writes the data to a `.safetensors` file and has every rank read only
    its shard).

    ```mlir
    func.func @f(%x: tensor<4x64xf32>) -> tensor<4x32xf32> {
      %w = arith.constant dense<"0x..."> : tensor<64x32xf32>
      ...
    // becomes
    module attributes {tp.hoisted_constants = {f.cst0 = dense<"0x..."> : tensor<64x32xf32>}} {
    func.func @f(%x: tensor<4x64xf32>,
                 %w: tensor<64x32xf32> {tp.hoisted = "f.cst0", tp.param})
    ```

    What is hoisted: constants of a statically shaped tensor of f32, f64,
    f16, bf16, i32 or i64 (the element types a weights file carries),
    anywhere in the function's body (also inside a region, such as a table
    read by `tensor.extract` in a `linalg.generic`), but not inside an op
    isolated from above. What stays: splat constants (one value, no memory
    to save), constants below `min-bytes`, other element types, and the
    constants of a function that is called (its signature cannot change).
    A constant used several times becomes one argument. A `dense_resource`
    is named by its resource key, any other constant `FUNC.cstN`. A
    `dense_resource` whose data is not in the module (printed with elided
    resources) is an error at the constant: its data cannot be moved.

    Parameters: when no argument of the function had `tp.param` before,
    the arguments that were parameters by inference (Parameters.h) get it
    too, so the new marks do not turn the other weights into activations.
  }];
  let options = [
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"4096",
           "Hoist tensor constants of at least this many bytes (smaller "
           "ones cannot save a page per rank)">
  ];
}

def TPUnpackArguments : Pass<"tp-unpack-arguments", "::mlir::ModuleOp"> {
  let summary = "Replace an argument that is only cut into pieces by its pieces";
  let description = [{
    A model whose weights arrive packed in one buffer cuts it into the
    individual weights inside the program: static `tensor.extract_slice` ops
    of the argument, each optionally followed by `tensor.expand_shape` /
    `tensor.collapse_shape` (a flat buffer cut 1-D and reshaped into
    matrices, or a `[3E, E]` buffer cut into three `[E, E]` matrices). This
    pass replaces such an argument by one argument per piece, typed as the
    piece after its reshapes, so that the planner and the partitioner see
    ordinary weights and each rank is given only its shard of each piece.

    The function's signature changes (callers of tp-opt see the pieces as
    arguments); `tp.original_arguments` on the function records how the
    arguments the caller passes map to the new ones: `{arg = I}` for an
    argument passed on unchanged, or the original type and its pieces, each
    a strided view of the original (element `offset`, `shape`, element
    `strides`, row-major). tp-emit-manifest describes the packed argument
    to the runner from it, and `tp-run` / `tp-launch` keep taking the
    original argument list: the runner cuts each rank's shard of every piece
    out of the one packed input.

    ```mlir
    func.func @f(%packed: tensor<96xf32>, %x: tensor<2x4xf32>) ... {
      %a = tensor.extract_slice %packed[0] [32] [1] : tensor<96xf32> to tensor<32xf32>
      %wa = tensor.expand_shape %a [[0, 1]] output_shape [4, 8] : tensor<32xf32> into tensor<4x8xf32>
      %b = tensor.extract_slice %packed[32] [64] [1] : ...
    // becomes
    func.func @f(%wa: tensor<4x8xf32>, %wb: tensor<8x8xf32>, %x: tensor<2x4xf32>) ...
        attributes {tp.original_arguments = [
          {pieces = [{arg = 0, offset = 0, shape = array<i64: 4, 8>, strides = array<i64: 8, 1>},
                     {arg = 1, offset = 32, shape = array<i64: 8, 8>, strides = array<i64: 8, 1>} ],
           type = tensor<96xf32>},
          {arg = 2} ]}
    ```

    Pieces may overlap or leave parts of the argument unused. An argument
    with any other use (read whole, written into, a dynamic slice) stays as
    it is, with a remark when it is also sliced; so do the arguments of a
    function that is called from elsewhere, and a module already partitioned.
    `tp-run` runs this pass before planning (`--unpack-arguments=false`
    turns it off); `tp-partition-pipeline` runs it with `unpack-arguments=true`.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def TPLowerSlices : Pass<"tp-lower-slices", "::mlir::func::FuncOp"> {
  let summary = "Turn tp.all_slice into tensor.extract_slice at this rank's offset";
  let description = [{
    `tp.all_slice` moves no data: rank `r` keeps slice `r`. This pass rewrites
    it into `tensor.extract_slice` whose offset along the sliced dimension is
    `tp.rank` times the slice size, so that bufferization turns it into a view.

    ```mlir
    %s = tp.all_slice %x dim 1 over 4 : tensor<8x16xf32> -> tensor<8x4xf32>
    // becomes
    %r = tp.rank : index
    %o = arith.muli %r, %c4 : index
    %s = tensor.extract_slice %x[0, %o] [8, 4] [1, 1] : tensor<8x16xf32> to tensor<8x4xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::tp::TPDialect"];
}

def TPFormGemms : Pass<"tp-form-gemms", "::mlir::func::FuncOp"> {
  let summary = "Turn linalg contractions into tp.gemm (library GEMMs)";
  let description = [{
    Runs on tensors before bufferization. A contraction -- `linalg.matmul`
    (also with `indexing_maps`), `linalg.batch_matmul`, or a
    `linalg.generic` / `linalg.contract` whose body is a multiply-add -- with
    loops (batch..., m..., n..., k...) becomes one `tp.gemm` when

    - the output is indexed (batch..., m..., n...), the LHS (batch..., m...,
      k...) or (batch..., k..., m...), the RHS (batch..., k..., n...) or
      (batch..., n..., k...), each group of loops in the same order wherever
      it appears (several adjacent loops of a group are collapsed into one
      dimension with `tensor.collapse_shape`, the result expanded back);
    - every shape is static, and all operands have one element type, f32, f16
      or bf16.

    Folded into the GEMM: a zero `linalg.fill` of the accumulator (beta 0;
    otherwise the accumulator is read, beta 1), an operand that is a transpose
    of the last two dimensions of a tensor (`linalg.transpose` or a copying
    `linalg.generic`; the tensor is used in place with `trans_a` / `trans_b`),
    and the elementwise `linalg.generic` that is the only user of the result
    when it computes `act(x + bias)` or `act(x)` with act the tanh GELU,
    ReLU or (with a bias) the identity, and a bias broadcast over the rows.
    The function of the generic's body is recognized by evaluating it on
    sample points, so any spelling of these functions qualifies; a body
    that is not one of them (for example the erf GELU) stays a kernel.
    Contractions that do not qualify stay linalg (GPU kernels, or loops on
    the CPU), with a remark that says why.

    Both targets use it: `tp-gpu-pipeline` (cuBLASLt) and `tp-cpu-pipeline`
    with `gemm=blas` (OpenBLAS in the MPI runtime); `target` only changes
    the wording of the remarks.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"gpu\"",
           "Target named in the remarks: gpu or cpu">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::tp::TPDialect"];
}

def TPGPUFormAttention : Pass<"tp-gpu-form-attention", "::mlir::ModuleOp"> {
  let summary = "Turn attention chains into tp.attention (cuDNN SDPA) with the generated path as fallback";
  let description = [{
    Runs on tensors, before `tp-form-gemms`. Recognizes scaled dot-product
    attention in a per-rank program:

    - scores `S = Q K^T`: a `linalg.batch_matmul` (default maps, zero-filled
      accumulator); `K^T` may be a copying transpose of the last two
      dimensions of `K` (`linalg.transpose` or a `linalg.generic`), which is
      then read in place;
    - elementwise `linalg.generic`s on the scores, in any number and through
      reshapes of the batch dimensions: multiplication or division by
      constants (the scale), one additive mask (`[.., Sq, Skv]` read with the
      identity map or `[Sq, Skv]` shared by every batch) added after every
      scale, and a causal `arith.select` on `linalg.index` (column > row)
      to a constant of -1e4 or below;
    - the softmax over the last dimension as the generators and tosa /
      torch-mlir emit it: a max reduction (init -1e30 or below), `exp(x - max)`
      (one generic or a subtraction then an exp), a sum reduction and a
      division by the sum (bf16 bodies may widen to f32 and back);
    - context `O = P V`: a `linalg.batch_matmul` whose LHS is the softmax
      result.

    Every intermediate value must be used by the chain only (the scores, the
    exponentials and the softmax input exactly as the chain reads them); all
    shapes static; one element type, f32, f16 or bf16. The chain becomes one
    `tp.attention`, and the ops it replaced move under an `scf.if` that runs
    them when the op reports it did not run: the generated path is the
    fallback, never removed. A chain that differs in any of these points stays
    as it is.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::tp::TPDialect"];
}

#endif // TP_DIALECT_TP_TRANSFORMS_PASSES_TD
