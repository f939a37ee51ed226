"""What bench/gpu/roofline.py and bench/gpu/device_memory.py share: the two
layers they model, generating a layer with scripts/gen_transformer.py and
running it through tp-gpu-pipeline with IR dumps, and reading memref sizes.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LAYERS = {
    # name: (gen_transformer.py arguments, shape for the eager model)
    "gpt2": dict(arch="gpt2", hidden=768, heads=12, kv_heads=12, ffn=3072,
                 seq=1024, batch=8),
    "llama": dict(arch="llama", hidden=4096, heads=32, kv_heads=32,
                  ffn=11008, seq=2048, batch=1),
}

DTYPE_BYTES = {"bf16": 2, "f16": 2, "f32": 4, "f64": 8, "i64": 8, "i32": 4,
               "i8": 1, "i1": 1, "index": 8}


def numel_bytes(memref):
    """memref<2x16x64xbf16, ...> -> bytes (None for a dynamic shape)."""
    m = re.match(r"memref<([^,>]*)", memref)
    parts = m.group(1).split("x")
    n = 1
    for p in parts[:-1]:
        if p == "?":
            return None
        n *= int(p)
    return n * DTYPE_BYTES.get(parts[-1].strip(), 4)


def compile_layer(tool, tp_opt, name, spec, tp, workdir, pipeline_options,
                  print_after):
    """Generates layer `name` (bf16) and runs it through tp-gpu-pipeline
    (after tp-plan and tp-partition-pipeline for tp > 1), printing the IR
    after each pass of `print_after`; returns {pass: IR text after it}.
    Exits with `tool`'s name and tp-opt's error when a step fails."""
    src = os.path.join(workdir, f"{name}.mlir")
    gen = [sys.executable, os.path.join(ROOT, "scripts", "gen_transformer.py"),
           "--arch", spec["arch"], "--dtype", "bf16",
           "--hidden", str(spec["hidden"]), "--heads", str(spec["heads"]),
           "--ffn", str(spec["ffn"]), "--seq", str(spec["seq"]),
           "--batch", str(spec["batch"]), "-o", src]
    if spec["arch"] == "llama":
        gen += ["--kv-heads", str(spec["kv_heads"])]
    subprocess.run(gen, check=True)
    passes = []
    if tp > 1:
        passes += [f"--tp-plan=tp-size={tp}",
                   f"--tp-partition-pipeline=tp-size={tp}"]
    passes += [f"--tp-gpu-pipeline=tp-size={tp}{pipeline_options}",
               f"--mlir-print-ir-after={','.join(print_after)}"]
    r = subprocess.run([tp_opt, src, *passes, "-o", os.devnull],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{tool}: tp-opt failed on {name}:\n{r.stderr[-3000:]}")
    dumps = {}
    for m in re.finditer(r"// -----// IR Dump After \w+ \(([\w-]+)\)", r.stderr):
        start = m.end()
        nxt = r.stderr.find("// -----// IR Dump After", start)
        dumps[m.group(1)] = r.stderr[start:nxt if nxt >= 0 else None]
    missing = [p for p in print_after if p not in dumps]
    if missing:
        sys.exit(f"{tool}: no IR dump after {', '.join(missing)} "
                 f"(is it in tp-gpu-pipeline?)")
    return dumps
