#!/usr/bin/env python3
"""Times warm calls of a compiled model's tp_entry, in this process, one rank
of an MPI job (run under `mpiexec -n N`, or alone for tp 1):

  tp_entry_timer.py --runtime build/lib/libtp_runtime_mpi.so --model model.so
                    --inputs a.npy,b.npy,... [--repeat 20]

Loads the MPI runtime (RTLD_GLOBAL) and the model, cuts this rank's shard of
each full input as the model's manifest says (split or replicated
arguments), calls tp_entry once to warm up (OpenBLAS's buffers, first-touch
page faults), then --repeat times with a barrier before each call, and
prints "rank R: tp_entry median M ms min m ms". tp-launch times one cold
call; NumPy benchmarks time warm calls, which this gives for the compiled
program. Results are not checked here (tp-run --check does that).
"""
import argparse
import ctypes
import json
import os
import statistics
import sys
import time

try:
    import numpy as np
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("tp_entry_timer.py needs NumPy (apt-get install python3-numpy)")

p = argparse.ArgumentParser()
p.add_argument("--runtime", required=True)
p.add_argument("--model", required=True)
p.add_argument("--inputs", required=True)
p.add_argument("--repeat", type=int, default=20)
a = p.parse_args()

rt = ctypes.CDLL(os.path.abspath(a.runtime), mode=ctypes.RTLD_GLOBAL)
if rt.tp_init(None, None) != 0:
    rt.tp_last_error.restype = ctypes.c_char_p
    sys.exit("tp_init failed: " + rt.tp_last_error().decode())
rank, size = rt.tp_rank(), rt.tp_size()
model = ctypes.CDLL(os.path.abspath(a.model), mode=ctypes.RTLD_GLOBAL)
manifest = json.loads(ctypes.string_at(
    ctypes.addressof(ctypes.c_char.in_dll(model, "tp_manifest"))))
if manifest["tp_size"] != size:
    sys.exit(f"the model is for {manifest['tp_size']} ranks, the job has {size}")

dtypes = {"f32": np.float32, "f64": np.float64, "i32": np.int32,
          "i64": np.int64}
arrays = []
for spec, path in zip(manifest["args"], a.inputs.split(",")):
    full = np.load(path).astype(dtypes[spec["dtype"]])
    sharding = spec["sharding"]
    if sharding["kind"] == "split":
        d, n = sharding["dim"], spec["local_shape"][sharding["dim"]]
        full = np.take(full, range(rank * n, (rank + 1) * n), axis=d)
    elif sharding["kind"] != "replicated":
        sys.exit(f"argument sharding {sharding} is not supported here")
    arrays.append(np.ascontiguousarray(full))


def descriptor(array):
    rank_ = array.ndim

    class Memref(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_void_p),
                    ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64),
                    ("sizes", ctypes.c_int64 * rank_),
                    ("strides", ctypes.c_int64 * rank_)]
    return Memref(array.ctypes.data, array.ctypes.data, 0,
                  (ctypes.c_int64 * rank_)(*array.shape),
                  (ctypes.c_int64 * rank_)(*[s // array.itemsize
                                            for s in array.strides]))


descriptors = [descriptor(x) for x in arrays]
# Room for the result descriptors (ranks up to 8 each).
results = (ctypes.c_int64 * (19 * len(manifest["results"])))()
args = (ctypes.c_void_p * (1 + len(descriptors)))(
    ctypes.addressof(results), *[ctypes.addressof(d) for d in descriptors])
libc = ctypes.CDLL(None)


def call():
    model.tp_entry(args)
    # Free the result buffers (allocated pointers of each descriptor).
    offset = 0
    for spec in manifest["results"]:
        libc.free(ctypes.c_void_p(results[offset]))
        offset += 3 + 2 * len(spec["local_shape"])


call()
times = []
for _ in range(a.repeat):
    rt.tp_barrier()
    start = time.perf_counter()
    call()
    times.append((time.perf_counter() - start) * 1000)
print(f"rank {rank}: tp_entry median {statistics.median(times):.3f} ms "
      f"min {min(times):.3f} ms", flush=True)
rt.tp_finalize()
