#!/usr/bin/env python3
"""Compares .npy results pairwise (NumPy is not installed):

  compare_npy.py --tolerance T A0.npy,A1.npy,... B0.npy,B1.npy,...

For each pair prints "compare: result I: max|a - b| / max|b| = E: ok" (or
"FAILED" when E > T) and exits non-zero if any pair fails or shapes differ.
Reads little-endian f4 / f8 C-order files, as tp-launch writes them.
"""
import argparse
import ast
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        sys.exit(f"{path}: not a .npy file")
    major = data[6]
    if major == 1:
        (length,), start = struct.unpack("<H", data[8:10]), 10
    else:
        (length,), start = struct.unpack("<I", data[8:12]), 12
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    code = {"<f4": "f", "<f8": "d"}.get(header["descr"])
    if code is None or header["fortran_order"]:
        sys.exit(f"{path}: unsupported layout {header}")
    body = data[start + length:]
    count = len(body) // struct.calcsize(code)
    return tuple(header["shape"]), struct.unpack(f"<{count}{code}", body)


p = argparse.ArgumentParser()
p.add_argument("--tolerance", type=float, required=True)
p.add_argument("a")
p.add_argument("b")
args = p.parse_args()
status = 0
for i, (pa, pb) in enumerate(zip(args.a.split(","), args.b.split(","))):
    (sa, va), (sb, vb) = read(pa), read(pb)
    if sa != sb:
        print(f"compare: result {i}: shapes {sa} and {sb} differ: FAILED")
        status = 1
        continue
    scale = max((abs(v) for v in vb), default=0.0) or 1.0
    err = max((abs(x - y) for x, y in zip(va, vb)), default=0.0) / scale
    verdict = "ok" if err <= args.tolerance else "FAILED"
    status |= verdict != "ok"
    print(f"compare: result {i}: max|a - b| / max|b| = {err:.3g}: {verdict}")
sys.exit(status)
