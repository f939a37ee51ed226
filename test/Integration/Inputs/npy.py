#!/usr/bin/env python3
"""Writes .npy files for the integration tests (NumPy is not installed).

  npy.py OUT.npy SHAPE [--dtype f4|f8|i4|i8|>f4] [--seed N] [--truncate BYTES]
         [--fortran] [--scale S] [--fill V]

SHAPE is comma-separated ("64,768"; "" for a scalar). Values are uniform in
[-scale, scale) (integers: [0, scale)).
"""
import argparse
import random
import struct

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("shape")
p.add_argument("--dtype", default="f4")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--scale", type=float, default=1.0)
p.add_argument("--truncate", type=int, default=None,
               help="drop this many bytes from the end")
p.add_argument("--fortran", action="store_true")
p.add_argument("--fill", type=float, default=None,
               help="every element this value (e.g. a position, zero caches)")
a = p.parse_args()

shape = [int(s) for s in a.shape.split(",") if s]
n = 1
for s in shape:
    n *= s
rng = random.Random(a.seed)
big = a.dtype.startswith(">")
code = a.dtype.lstrip("<>")
fmt = {"f4": "f", "f8": "d", "i4": "i", "i8": "q"}[code]
if a.fill is not None:
    values = [a.fill if code.startswith("f") else int(a.fill)] * n
elif code.startswith("f"):
    values = [rng.uniform(-a.scale, a.scale) for _ in range(n)]
else:
    values = [rng.randrange(0, max(1, int(a.scale))) for _ in range(n)]
data = struct.pack(("<" if not big else ">") + fmt * n, *values)
descr = ("<" if not big else ">") + code
dims = ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
    descr, "True" if a.fortran else "False", dims)
pad = (64 - (10 + len(header) + 1) % 64) % 64
header = header + " " * pad + "\n"
blob = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data
if a.truncate:
    blob = blob[:-a.truncate]
with open(a.out, "wb") as f:
    f.write(blob)
