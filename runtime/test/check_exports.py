#!/usr/bin/env python3
"""Fails unless libtp_runtime_nccl.so exports the whole GPU ABI: the mgpu*
entry points MLIR 22's gpu-to-llvm emits, tp_rt_gemm / tp_rt_sync, the tp_rt_*
collectives and the tp_* public ABI -- and nothing but C symbols."""

import subprocess
import sys

REQUIRED = """
mgpuModuleLoad mgpuModuleLoadJIT mgpuModuleUnload mgpuModuleGetFunction
mgpuLaunchKernel mgpuLaunchClusterKernel
mgpuStreamCreate mgpuStreamDestroy mgpuStreamSynchronize mgpuStreamWaitEvent
mgpuEventCreate mgpuEventDestroy mgpuEventSynchronize mgpuEventRecord
mgpuMemAlloc mgpuMemFree mgpuMemcpy mgpuMemset32 mgpuMemset16
mgpuMemHostRegister mgpuMemHostUnregister
mgpuMemHostRegisterMemRef mgpuMemHostUnregisterMemRef
mgpuSetDefaultDevice mgpuTensorMapEncodeTiledMemref
tp_rt_gemm tp_rt_sync tp_rt_stream tp_rt_device
tp_rt_timer_start tp_rt_timer_stop tp_rt_device_memory_peak
tp_rt_graph_begin tp_rt_graph_end tp_rt_graph_launch tp_rt_graph_destroy
tp_set_collectives
tp_rt_rank tp_rt_size tp_rt_all_reduce tp_rt_all_gather tp_rt_reduce_scatter
tp_init tp_finalize tp_rank tp_size tp_backend_name tp_all_reduce
tp_all_gather tp_reduce_scatter tp_barrier tp_last_error tp_abort
tp_in_collective
""".split()

library = sys.argv[1]
out = subprocess.run(["nm", "-D", "--defined-only", library],
                     capture_output=True, text=True, check=True).stdout
exported = {line.split()[-1] for line in out.splitlines() if line.strip()}
missing = [s for s in REQUIRED if s not in exported]
extra = sorted(s for s in exported
               if not (s.startswith("tp_") or s.startswith("mgpu")))
print(f"{library}: {len(exported)} symbols exported")
status = 0
if missing:
    print("FAILED: missing " + " ".join(missing))
    status = 1
if extra:
    print("FAILED: unexpected exports " + " ".join(extra[:20]))
    status = 1
if status == 0:
    print("all required symbols are exported, and nothing else")
sys.exit(status)
