//===- Passes.td - tp conversion passes --------------------*- tablegen -*-===//
//
// Part of tp-mlir.
//
// Passes that convert tp IR out of the tp dialect: collectives and tp.gemm
// into calls of the runtime's C ABI, the entry function into the
// launcher's packed entry point and manifest.
//
//===----------------------------------------------------------------------===//

#ifndef TP_CONVERSION_PASSES_TD
#define TP_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def TPLowerToRuntime : Pass<"tp-lower-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower tp buffer collectives and tp.rank to calls into the tp runtime";
  let description = [{
    Runs after bufferization (and after buffer deallocation). Each
    `tp.buffer.*` collective becomes a call to the runtime's flat C ABI, with
    raw pointers to contiguous data:

    ```
    tp_rt_all_reduce(src, dst, count, dtype, op)
    tp_rt_all_gather(src, dst, outer, chunk, dtype)       // gather along a middle dim
    tp_rt_reduce_scatter(src, dst, outer, chunk, dtype, op)
    tp_rt_rank() -> i32
    ```

    `outer` is the product of the sizes before the collective's dimension and
    `chunk` the number of elements of one rank's slab from that dimension on.
    A source that is not contiguous (a strided view) is first copied into a
    temporary buffer. The same ABI is implemented by the MPI (CPU) and NCCL
    (GPU) runtimes; the runtime functions abort every rank with a message on
    failure. dtype codes: f32 0, f64 1, f16 2, bf16 3, i32 4, i64 5; reductions:
    sum 0, max 1, min 2.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::tp::TPDialect"
  ];
}

def TPEmitManifest : Pass<"tp-emit-manifest", "::mlir::ModuleOp"> {
  let summary = "Describe the entry function for the runner (a JSON manifest global)";
  let description = [{
    Runs on a partitioned module, before bufferization. Picks the entry
    function (the `entry` option, or the only public function with a body),
    marks it `llvm.emit_c_interface`, and adds a NUL-terminated global
    `tp_manifest` holding a JSON description the launcher reads: tp size,
    target, and for every argument and result its dtype, global and local
    shapes and sharding (from the `tp.sharding` / `tp.global_type` attributes).
    The entry's name is recorded as the module attribute `tp.entry`.

    Every argument and result of the entry must be a statically shaped ranked
    tensor of f32, f64, f16, bf16, i32 or i64.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "Name of the entry function (default: the only public function)">,
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target recorded in the manifest: cpu or gpu">
  ];
  // The tp dialect: the shardings it reads (replicated when absent) are tp
  // attributes, even in a module that has none yet.
  let dependentDialects = ["::mlir::LLVM::LLVMDialect", "::mlir::tp::TPDialect"];
}

def TPEmitEntryPoint : Pass<"tp-emit-entry-point", "::mlir::ModuleOp"> {
  let summary = "Add the packed `tp_entry(void **args)` function the launcher calls";
  let description = [{
    Runs on the LLVM dialect, after `convert-func-to-llvm` produced
    `_mlir_ciface_<entry>`. Adds

    ```
    void tp_entry(void **args);  // args[0]: results, args[1+i]: argument i
    ```

    which loads the descriptor pointers and calls the C interface wrapper. A
    memref descriptor of rank R is `{allocated, aligned, offset, sizes[R],
    strides[R]}`; results are the result descriptors one after another.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def TPLowerGemmToRuntime : Pass<"tp-lower-gemm-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower tp.gemm on memrefs to tp_rt_gemm calls";
  let description = [{
    Runs after bufferization. Each `tp.gemm` on memrefs becomes

    ```
    tp_rt_gemm(dtype, trans_a, trans_b, batch, m, n, k, a, lda, stride_a,
               b, ldb, stride_b, c, ldc, stride_c, bias, epilogue, beta)
    ```

    on raw pointers (aligned pointer + offset). Operands are passed in place:
    a matrix whose innermost stride is 1 is row-major with leading dimension
    its row stride; one whose row stride is 1 is its transpose (the trans flag
    flips); a rank-2 operand of a batched GEMM has batch stride 0. Only other
    layouts (and dynamic strides) are first copied into a contiguous
    temporary, and a result that is not row-major is written to one and
    copied back.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TPGPULowerAttentionToRuntime
    : Pass<"tp-gpu-lower-attention-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower tp.attention on memrefs to tp_rt_attention calls";
  let description = [{
    Runs after bufferization. Each `tp.attention` on memrefs becomes

    ```
    %status = tp_rt_attention(dtype, batch, sq, skv, d, dv,
                              q, q strides (batch, row, column),
                              k, k strides, v, v strides,
                              mask, mask strides, o, o strides,
                              scale, causal) : i32
    ```

    on raw pointers, and `handled` becomes `%status != 0`. Strides are in
    elements; `K^T` (`key_transposed`) is passed as `K` with its last two
    strides swapped, a shared `[Sq, Skv]` mask with batch stride 0, no mask
    as a null pointer. A buffer with dynamic strides is copied to a
    contiguous temporary first.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect"];
}

#endif // TP_CONVERSION_PASSES_TD
