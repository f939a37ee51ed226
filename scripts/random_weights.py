#!/usr/bin/env python3
"""Writes random weights for an MLIR model's entry function as a
.safetensors file, one tensor per argument, named as the argument
(`%l0_wq` -> "l0_wq", or PREFIX + name), without torch:

  scripts/random_weights.py MODEL.mlir -o W.safetensors [--exclude x,...]
                            [--entry NAME] [--prefix P] [--seed N]

`tp-run MODEL.mlir --weights W.safetensors` then reads every argument named
like a tensor from the file (each rank only its shard) and the excluded ones
(activations such as `x`) from --inputs or random data.

Values are scaled as real initialisations are: tensors of rank 2 or more
uniform in +-1/sqrt(last dimension) (nn.Linear's weight [out, in], or a
pre-transposed [in, out] one: the same order of magnitude), rank-1 tensors
(norm gains, biases) 1 + U(-0.1, 0.1), integers in [0, 2). Element types
f32, f16 (F16), bf16 (BF16, rounded to nearest even), f64, i32, i64.

Uses NumPy when the interpreter has it (Debian's python3-numpy; large
models), else plain Python (small ones, as in the tests). Tensors are
generated and written one at a time, so memory stays at the largest one.
"""
import argparse
import json
import math
import random
import re
import struct
import sys

try:
    import numpy as np
except ImportError:
    np = None

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("model")
p.add_argument("-o", "--output", required=True)
p.add_argument("--entry", default=None,
               help="entry function (default: the first public one)")
p.add_argument("--exclude", default="",
               help="comma-separated argument names to leave out (inputs)")
p.add_argument("--prefix", default="", help="prepended to every name")
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()

DTYPES = {"f32": ("F32", 4), "f16": ("F16", 2), "bf16": ("BF16", 2),
          "f64": ("F64", 8), "i32": ("I32", 4), "i64": ("I64", 8)}

with open(a.model) as f:
    text = f.read()
funcs = re.finditer(r"func\.func\s+(?:(public|private)\s+)?@([\w.$-]+)\s*\(",
                    text)
start = None
for m in funcs:
    if m.group(1) == "private":
        continue
    if a.entry is None or m.group(2) == a.entry:
        start = m.end()
        break
if start is None:
    sys.exit(f"random_weights.py: no public function "
             f"{'@' + a.entry if a.entry else ''} in {a.model}")
# The argument list: up to the parenthesis that closes the signature.
depth, end = 1, start
while depth and end < len(text):
    depth += {"(": 1, ")": -1}.get(text[end], 0)
    end += 1
signature = text[start:end - 1]
excluded = set(filter(None, a.exclude.split(",")))
args = []
for name, body in re.findall(r"%([\w$.-]+)\s*:\s*tensor<([^>]*)>", signature):
    parts = body.split("x")
    elem = parts[-1].strip()
    if elem not in DTYPES:
        sys.exit(f"random_weights.py: %{name} has element type {elem}; "
                 f"supported: {', '.join(DTYPES)}")
    if any(not d.strip().isdigit() for d in parts[:-1]):
        sys.exit(f"random_weights.py: %{name} (tensor<{body}>) is not "
                 f"statically shaped")
    shape = [int(d) for d in parts[:-1]]
    if name not in excluded:
        args.append((name, shape, elem))
unknown = excluded - set(re.findall(r"%([\w$.-]+)\s*:", signature))
if unknown:
    sys.exit(f"random_weights.py: --exclude names no argument: "
             f"{', '.join(sorted(unknown))}")

header, offset = {"__metadata__": {"generator": "tp-mlir random_weights.py",
                                   "seed": str(a.seed)}}, 0
for name, shape, elem in args:
    code, size = DTYPES[elem]
    nbytes = size * math.prod(shape)
    header[a.prefix + name] = {"dtype": code, "shape": shape,
                               "data_offsets": [offset, offset + nbytes]}
    offset += nbytes
blob = json.dumps(header).encode()
blob += b" " * (-len(blob) % 8)


def values_numpy(rng, shape, elem):
    n = math.prod(shape)
    if elem in ("i32", "i64"):
        return rng.integers(0, 2, n).astype("<i4" if elem == "i32" else "<i8")
    u = rng.uniform(-1, 1, n)
    v = (1 + 0.1 * u) if len(shape) == 1 else u / math.sqrt(shape[-1])
    if elem == "f64":
        return v.astype("<f8")
    if elem == "f16":
        return v.astype("<f2")
    v = v.astype("<f4")
    if elem == "bf16":  # round to nearest even on the upper 16 bits
        bits = v.view("<u4").astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
        return bits.astype("<u2")
    return v


def values_python(rng, shape, elem):
    n = math.prod(shape)
    if elem in ("i32", "i64"):
        return struct.pack(f"<{n}{'i' if elem == 'i32' else 'q'}",
                           *(rng.randrange(2) for _ in range(n)))
    scale = 1 / math.sqrt(shape[-1]) if len(shape) > 1 else 0.1
    base = 1.0 if len(shape) == 1 else 0.0
    v = [base + scale * rng.uniform(-1, 1) for _ in range(n)]
    if elem == "f64":
        return struct.pack(f"<{n}d", *v)
    if elem == "f16":
        return struct.pack(f"<{n}e", *v)
    raw = struct.pack(f"<{n}f", *v)
    if elem == "bf16":
        words = struct.unpack(f"<{n}I", raw)
        return struct.pack(f"<{n}H", *(((w + 0x7FFF + ((w >> 16) & 1)) >> 16)
                                       & 0xFFFF for w in words))
    return raw


with open(a.output, "wb") as out:
    out.write(struct.pack("<Q", len(blob)) + blob)
    if np is not None:
        rng = np.random.default_rng(a.seed)
        for name, shape, elem in args:
            out.write(values_numpy(rng, shape, elem).tobytes())
    else:
        rng = random.Random(a.seed)
        for name, shape, elem in args:
            out.write(values_python(rng, shape, elem))
print(f"random_weights.py: wrote {len(args)} tensors, {offset} bytes of "
      f"data, to {a.output}")
