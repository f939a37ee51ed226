//===- Passes.td - GPU target passes -----------------------*- tablegen -*-===//
//
// Part of tp-mlir.
//
// The GPU target's own passes (tp-gpu-pipeline): input checks, elementwise
// fusion, device memory, kernels (warp-per-row reductions and row groups,
// vectorized elementwise loops, tiling), one kernel module, frees and one
// async token chain per function.
//
//===----------------------------------------------------------------------===//

#ifndef TP_TARGET_GPU_PASSES_TD
#define TP_TARGET_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def TPGPUCheckInput : Pass<"tp-gpu-check-input", "::mlir::ModuleOp"> {
  let summary = "Reject, with a diagnostic, what the GPU target cannot compile";
  let description = [{
    First pass of `tp-gpu-pipeline`, on the partitioned module (tensors).
    Reports, at the op that uses it:

    - element types other than f16, bf16, f32, f64, i1, i8, i16, i32, i64
      and index (the NVVM lowering and the runtime support no others);
    - `tensor.extract` / `tensor.insert` outside a linalg body: the GPU target
      keeps tensors in device memory, and host code never dereferences it.

    Nothing is rewritten.
  }];
}

def TPGPUFuseElementwise : Pass<"tp-gpu-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse chains of elementwise linalg ops (fewer, larger GPU kernels)";
  let description = [{
    Upstream linalg elementwise fusion (`populateElementwiseOpsFusionPatterns`)
    with a control that keeps what `tp-form-gemms` needs intact: nothing is
    fused into a contraction (its operands stay the stored tensors, so
    cuBLASLt reads them in place), and a producer is fused only into its single
    user (no recomputation). Named elementwise ops (`linalg.add`, ...) are
    generalized first so that they take part. A bias add followed by a GELU
    becomes one generic, which `tp-form-gemms` can then fold into the GEMM's
    epilogue.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TPGPUDeviceMemory : Pass<"tp-gpu-device-memory", "::mlir::ModuleOp"> {
  let summary = "Put every host-level buffer in device memory";
  let description = [{
    Runs after bufferization, deallocation and the runtime calls, before
    linalg becomes loops. In host code (outside loops that become kernels):

    - `memref.alloc` / `memref.dealloc` become `gpu.alloc` / `gpu.dealloc`
      (the launcher frees result buffers with `mgpuMemFree`);
    - `memref.copy` becomes `gpu.memcpy` between identity-layout buffers, and a
      `linalg.copy` (a kernel) otherwise;
    - `memref.get_global` (constants) becomes a device buffer filled from the
      global by `gpu.memcpy`, freed at the end of the function unless it is
      returned;
    - a linalg op without parallel loops (a full reduction, a 0-d op) is put
      in a one-iteration `scf.parallel`, so that it too runs on the device.

    The async tokens are added later by `tp-gpu-async-chain`.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect"];
}

def TPGPUMapRowGroups : Pass<"tp-gpu-map-row-groups", "::mlir::ModuleOp"> {
  let summary = "Softmax and the norms as one kernel: a run of row ops as one warp per row";
  let description = [{
    Runs after `tp-gpu-device-memory`, before `tp-gpu-map-reductions`. After
    bufferization a softmax or a norm is a run of host-level ops over the
    same rows: reductions along the row (a `linalg.generic` whose last loop
    is its only reduction, `combine(f(inputs), out)` into a per-row buffer,
    as `tp-gpu-map-reductions` takes them), all-parallel generics along the
    rows (exp(x - max), the division, the normalisation) and per-row ops on
    the statistics (`linalg.fill`, `gpu.memcpy`, the scaled mean, the
    truncation of an f32 statistic to bf16). This pass recognises such runs
    by their shape, not by the ops they compute: consecutive ops (only
    `gpu.alloc` may sit between them) over one static row space, at least
    one of them a reduction, every buffer the run writes accessed through
    one value and indexed by [rows] or [rows, k] only. Each run becomes one
    `gpu.launch` of `block-size / 32` warps per block, one warp per row:

    - per-row values live in registers (every lane holds them after a
      butterfly of `gpu.shuffle xor`); lane 0 stores the ones the run wrote
      to their buffers at the end;
    - ops along the row are fused into lane loops in which each lane always
      handles the same elements (`lane * w + 32 * w * i + j`, with 16-byte
      vector loads and stores where every access along the row is
      contiguous), so values written by one op are passed to the next in
      registers, and re-read in a later loop by the same thread (from L1 or
      L2, no barrier);
    - a new loop over the row starts only where an op needs a statistic
      the current loop is still reducing, with two exceptions that keep the
      statistics accurate:
      - a sum of squared deviations from such a statistic, sum((a - m)^2),
        is reduced in the same loop as the moments of `a` (count, mean and
        M2, the sum of squared deviations from the mean: each lane merges
        a chunk of `w` values at a time, the lanes merge with Chan et al.'s
        parallel Welford formula) and finished as M2 + n (mean - m)^2, with
        no cancellation when |mean| >> std (f32 for bf16 data:
        `tp-widen-accumulators` has made the accumulators f32);
      - an op writing exp(a - m), m from such a statistic, followed (after
        per-row ops only) by a sum of the row it writes: the sum is reduced
        in the same loop as the online softmax does (a running reference r,
        the largest `a` seen, and sum(exp(a - r)), rescaled when r grows,
        merged across lanes by the same rule, finished as
        sum exp(r - m)); the exp op itself moves to the next loop, with the
        per-row values it reads taken where it stood;
    - a row that a later op of the same loop overwrites is stored once.

    So a softmax (linalg.softmax after `tp-decompose-aggregates`, or the
    generics a frontend emits: max, exp(x - max), sum, divide) is one kernel
    that reads its row twice (the max with the running sum; exp and the
    division), a LayerNorm one kernel that reads it twice (mean and
    variance together; the normalised write), an RMSNorm one kernel (sum of
    squares; the scaled write). The bf16 softmax sums exp in f32 before the
    row is rounded to bf16, where the ops it replaces summed the rounded
    values: a difference within bf16's rounding. Runs without a reduction
    are left to `tp-gpu-map-elementwise`,
    single reductions among other ops to `tp-gpu-map-reductions`.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block (a multiple of 32: one warp per row)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def TPGPUTestRowStatistics
    : Pass<"tp-gpu-test-row-statistics", "::mlir::ModuleOp"> {
  let summary = "Test only: the row-statistics formulas of "
                "tp-gpu-map-row-groups as host functions";
  let description = [{
    Gives each function declaration with a `tp.test_row_statistic`
    attribute a body built by the same code that emits the formulas into
    `tp-gpu-map-row-groups`' kernels, so that a test can run them on the
    CPU (lowered to LLVM, run by `mlir-runner`) against known answers. The
    attribute names the formula; all arguments and results are of one float
    type:

    | attribute | arguments | results |
    |---|---|---|
    | `add-chunk-to-moments` | count, mean, M2, v1..vw | count, mean, M2 |
    | `merge-moments` | count, mean, M2 (twice) | count, mean, M2 |
    | `sum-of-squared-deviations` | count, mean, M2, m | sum((v - m)^2) |
    | `add-chunk-to-exp-sum` | reference, sum, v1..vw | reference, sum |
    | `merge-exp-sums` | reference, sum (twice) | reference, sum |
    | `finish-exp-sum` | reference, sum, m | sum(exp(v - m)) |

    A declaration whose signature does not fit its formula is an error.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::math::MathDialect"];
}

def TPGPUMapReductions : Pass<"tp-gpu-map-reductions", "::mlir::ModuleOp"> {
  let summary = "Reduce each row of an innermost-dimension reduction with one warp";
  let description = [{
    Runs after `tp-gpu-device-memory`, before linalg becomes loops. A
    host-level `linalg.generic` on buffers whose last loop is its only
    reduction (parallel loops first, one output indexed by the parallel loops
    in order: softmax's max and sum, the norms' means and variances) and
    whose body yields `combine(f(inputs), out)`, with `combine` one of
    `arith.addf`, `mulf`, `maximumf`, `maxnumf`, `minimumf`, `minnumf` on
    f32 or f64 and `out` used nowhere else, becomes a `gpu.launch` of
    `block-size` threads as `block-size / 32` warps, one warp per row:

    - each lane folds every 32nd element (or group of elements) of its row
      into a register accumulator, starting from `combine`'s identity;
    - inputs that are contiguous along the reduced dimension (identity
      layout, the reduced loop as their last index) are read with vector
      loads of up to 16 bytes (`vector.load` with its alignment) when the row
      length is a multiple of the vector width; inputs indexed by the row
      only are loaded once per row;
    - the 32 partial values are combined by a butterfly of `gpu.shuffle xor`
      (offsets 16, 8, 4, 2, 1), and lane 0 folds the result into the output
      element once.

    The accumulator has the output's type: `tp-widen-accumulators` has
    already made bf16 and f16 reductions accumulate in f32. Other
    reductions (over an outer dimension, several outputs, integer or
    unknown combiners) are left to the one-thread-per-output kernels.
    Reassociating the sum changes rounding as any parallel reduction does.

    Example, a row sum of a `memref<512x768xbf16>` into `memref<512xf32>`:
    a launch of 64 blocks of (32, 8) threads; each lane sums three
    `vector<8xbf16>` loads of its row, then five shuffles.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block: a multiple of 32, one warp per row">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def TPGPUMapElementwise : Pass<"tp-gpu-map-elementwise", "::mlir::ModuleOp"> {
  let summary = "Elementwise kernels with 16-byte vector loads and stores";
  let description = [{
    Runs after `tp-gpu-map-reductions`, before linalg becomes loops. A
    host-level all-parallel `linalg.generic` on buffers with one output
    (identity layout and map, not read by the body), whose inputs that move
    along the innermost loop are contiguous along it (identity layout, that
    loop as their last index), and whose static innermost extent is a
    multiple of the width (16 bytes over the widest element: 8 for bf16, 4
    for f32) becomes a `gpu.launch` of `block-size` threads in which each
    thread computes `width` consecutive elements: one aligned `vector.load`
    per such input, one scalar load per input that does not move along the
    row (a per-row statistic), the body once per element, one aligned
    `vector.store`. Static extents are constants in the kernel (the group
    index is split by constant divisions). Anything else keeps the one
    thread per element of `tp-gpu-tile-parallel-loops`.

    Example: GPT-2's bias + GELU over `memref<8192x3072xbf16>` is 3145728
    threads of 8 elements (ld.global.v4.b32 / st.global.v4.b32) instead of
    25165824 threads of one.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def TPGPUTileParallelLoops : Pass<"tp-gpu-tile-parallel-loops", "::mlir::ModuleOp"> {
  let summary = "Shape each outermost scf.parallel into blocks of threads";
  let description = [{
    Runs after `convert-linalg-to-parallel-loops`, right before
    `gpu-map-parallel-loops` (no canonicalization in between, which would
    fold a one-iteration outer loop). For each outermost `scf.parallel`:

    - nested `scf.parallel` ops become `scf.for` nests (they run inside one
      thread);
    - a loop of rank > 1 is collapsed into one dimension (its innermost
      dimension then varies fastest between neighbouring threads, so accesses
      coalesce, and no dimension is left beyond the three the GPU maps);
    - the loop is tiled with upstream's `tileParallelLoop` into an outer loop
      (blocks) and an inner loop of `block-size` iterations (threads), or of
      the loop's trip count when that is smaller; an `scf.if` guards the
      last block.

    Memory accesses left in host code outside any `scf.parallel` would
    dereference device memory on the host; they are reported as errors.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def TPGPUMergeKernelModules : Pass<"tp-gpu-merge-kernel-modules", "::mlir::ModuleOp"> {
  let summary = "Put every outlined kernel into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` gives each kernel its own `gpu.module`, which
    becomes its own binary: one `ptxas` and `fatbinary` run at build time and
    one module load at start-up per kernel. Moving every kernel into the first
    module (renaming a kernel whose name clashes, and the `gpu.launch_func`
    ops that name it) makes one binary per host module. Runs before
    `nvvm-attach-target`.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def TPGPUFreeAfterLastUse : Pass<"tp-gpu-free-after-last-use", "::mlir::ModuleOp"> {
  let summary = "Free each device buffer right after its last use";
  let description = [{
    Runs after kernel outlining, before `tp-gpu-async-chain`. Buffer
    deallocation frees every temporary at the end of its block, so a
    function's peak device memory is the sum of all its temporaries. This
    pass moves each `gpu.dealloc` of a buffer allocated by a `gpu.alloc` in
    the same block to just after the last op of that block that uses the
    buffer, a view of it or anything computed from it (the pointer a
    `tp_rt_gemm` or collective call receives; a use inside a region counts
    as a use by the op holding the region). A buffer that reaches the
    terminator, a function argument and a buffer from an enclosing region
    keep their dealloc where it is.

    This is safe because every GPU op and runtime call of a function is
    enqueued, in program order, on the one stream of `tp-gpu-async-chain`,
    and `gpu.dealloc` lowers to a stream-ordered free (`cudaFreeAsync`):
    the free waits on the device for the last launch that reads or writes
    the buffer, and the chain's token makes that order explicit in the IR.

    Example: in a GPT-2 layer the attention scores are freed after the
    context GEMM that reads them, before the MLP's 4x-wide activation is
    allocated, instead of both being live at the end.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def TPGPUAsyncChain : Pass<"tp-gpu-async-chain", "::mlir::ModuleOp"> {
  let summary = "Chain every GPU op of a function on one async token (one stream)";
  let description = [{
    Runs after kernel outlining. In each function with GPU ops, one
    `gpu.wait async` at the entry creates the token (lowered to one
    `mgpuStreamCreate`, which the tp runtime answers with its persistent
    stream); every `gpu.launch_func`, `gpu.alloc`, `gpu.dealloc`,
    `gpu.memcpy` and `gpu.memset` becomes async on the token of the previous
    one, and each return waits for the last (`mgpuStreamSynchronize`, a no-op
    for device-only work in the tp runtime). Calls into the tp runtime
    (`tp_rt_gemm`, collectives) enqueue on the same stream, so, unlike
    upstream `gpu-async-region`, no host synchronization and no new stream is
    needed around them. Ops nested in host control flow depend on the token
    current at their region's op.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // TP_TARGET_GPU_PASSES_TD
