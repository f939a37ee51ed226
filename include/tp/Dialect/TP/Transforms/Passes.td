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
           "path the table">
  ];
  let dependentDialects = [
    "::mlir::tp::TPDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def TPLowerSlices : Pass<"tp-lower-slices", "::mlir::ModuleOp"> {
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
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::tensor::TensorDialect"];
}

#endif // TP_DIALECT_TP_TRANSFORMS_PASSES_TD
