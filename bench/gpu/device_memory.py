#!/usr/bin/env python3
"""Peak device memory of tp-mlir's generated GPU code, from the IR's buffer
live ranges (no GPU needed): every buffer freed at the function's end (as
buffer deallocation places the frees) against each freed after its last use
(tp-gpu-free-after-last-use).

    bench/gpu/device_memory.py [--tp-opt build/bin/tp-opt] [--arch gpt2,llama]
                               [--tp N] [--seq S] [--batch B]

The layers are bench/gpu/roofline.py's (GPT-2 small's at 8 x 1024 tokens, a
Llama-width one at 1 x 2048 tokens, bf16). The entry function is read twice
from one tp-opt run of tp-gpu-pipeline: after tp-gpu-merge-kernel-modules
(frees where buffer deallocation put them: at the end) and after
tp-gpu-free-after-last-use. Walking its ops in order, each gpu.alloc adds
its buffer's bytes and each gpu.dealloc takes them off; the peak of that sum
plus the arguments (weights and inputs, always resident) is the function's
peak device memory. The result buffers are allocated inside and never freed
there (the launcher frees them), so they count until the end. Not counted:
the cuBLASLt workspace and NCCL buffers (the runtime's, the same in both),
and the caching allocator's rounding.
"""

import argparse
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layers import LAYERS, ROOT, compile_layer, numel_bytes  # noqa: E402

BEFORE = "tp-gpu-merge-kernel-modules"
AFTER = "tp-gpu-free-after-last-use"


def entry_function(ir):
    """The text of the host function that allocates device buffers."""
    for m in re.finditer(r"func\.func @(\w+)\((.*?)\)(?: -> [^{]*)? (?:attributes \{[^\n]*\} )?\{\n(.*?)\n  \}\n",
                         ir, re.S):
        if "gpu.alloc" in m.group(3):
            return m.group(2), m.group(3)
    sys.exit("device_memory: no function with gpu.alloc in the IR")


def peak(ir):
    """(argument bytes, peak bytes of temporaries and results, bytes of all
    allocations)."""
    args, body = entry_function(ir)
    arg_bytes = sum(numel_bytes(t) or 0 for t in re.findall(r"memref<[^>]*>", args))
    sizes = {}
    live = top = total = 0
    for line in body.splitlines():
        m = re.search(r"(%[\w.]+)(?:, %[\w.]+)? = gpu\.alloc .*?: (memref<[^>]*>)", line)
        if m:
            n = numel_bytes(m.group(2)) or 0
            sizes[m.group(1)] = n
            live += n
            total += n
            top = max(top, live)
            continue
        m = re.search(r"gpu\.dealloc (?:async \[[^\]]*\] )?\s*(%[\w.]+)", line)
        if m and m.group(1) in sizes:
            live -= sizes.pop(m.group(1))
    return arg_bytes, top, total


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tp-opt", default=os.path.join(ROOT, "build", "bin", "tp-opt"))
    p.add_argument("--arch", default="gpt2,llama")
    p.add_argument("--tp", type=int, default=1)
    p.add_argument("--seq", type=int, help="tokens per sequence (default: roofline.py's)")
    p.add_argument("--batch", type=int, help="sequences (default: roofline.py's)")
    a = p.parse_args()
    mib = lambda n: n / 2**20
    print(f"{'layer':44} {'arguments':>10} {'peak, freed at end':>19} "
          f"{'peak, freed after last use':>27} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as work:
        for name in a.arch.split(","):
            spec = dict(LAYERS[name])
            if a.seq:
                spec["seq"] = a.seq
            if a.batch:
                spec["batch"] = a.batch
            dumps = compile_layer("device_memory", a.tp_opt, name, spec, a.tp,
                                  work, " gpu-format=isa", [BEFORE, AFTER])
            before_ir, after_ir = dumps[BEFORE], dumps[AFTER]
            args, top_before, total = peak(before_ir)
            args_after, top_after, _ = peak(after_ir)
            assert args == args_after
            label = (f"{name} ({spec['hidden']} wide, {spec['batch']} x "
                     f"{spec['seq']} tokens, tp {a.tp})")
            before = args + top_before
            after = args + top_after
            print(f"{label:44} {mib(args):8.1f} MiB {mib(before):15.1f} MiB "
                  f"{mib(after):23.1f} MiB {after / before:5.2f}x")
            print(f"{'':44} temporaries and results: {mib(top_before):.1f} MiB "
                  f"-> {mib(top_after):.1f} MiB at the peak "
                  f"({mib(total):.1f} MiB allocated in all)")


if __name__ == "__main__":
    main()
