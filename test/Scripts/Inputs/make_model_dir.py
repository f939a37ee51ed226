#!/usr/bin/env python3
"""A model folder as scripts/gpu-artifacts.sh writes it, for the PyTorch-free
parts of scripts/torch_reference.py: meta.json (argument names, heads, dtype)
and inputs/input<i>.npy of the entry function's shapes (zeros; f4, i8 ids).

  make_model_dir.py MODEL.mlir OUT_DIR --heads H --dtype f32|bf16 [--no-args]
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "scripts"))
import layer_spec  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("mlir")
p.add_argument("out")
p.add_argument("--heads", type=int, required=True)
p.add_argument("--dtype", default="f32")
p.add_argument("--no-args", action="store_true",
               help="leave \"args\" out of meta.json (old artifacts)")
a = p.parse_args()
with open(a.mlir) as f:
    _, signature = layer_spec.parse_signature(f.read())
os.makedirs(os.path.join(a.out, "inputs"), exist_ok=True)
for i, (name, shape, dtype) in enumerate(signature):
    descr = "<i8" if dtype == "i64" else "<f4"
    header = ("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" %
              (descr, "".join(f"{d}, " for d in shape)))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    count = 1
    for d in shape:
        count *= d
    with open(os.path.join(a.out, "inputs", f"input{i}.npy"), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) +
                header.encode("latin1") + bytes(8 * count))
meta = {"name": os.path.basename(a.out.rstrip("/")), "heads": a.heads,
        "dtype": a.dtype, "results": 1}
if not a.no_args:
    meta["args"] = [name for name, _, _ in signature]
with open(os.path.join(a.out, "meta.json"), "w") as f:
    json.dump(meta, f)
