#!/usr/bin/env python3
"""Checks that a .safetensors output holds exactly the .npy output's result
(NumPy is not installed):

  safetensors_matches_npy.py Y.safetensors TENSOR Y.npy

Same shape, F32 against <f4, bitwise equal data; prints "match" or exits 1.
"""
import ast
import json
import struct
import sys

st_path, tensor, npy_path = sys.argv[1:4]
with open(st_path, "rb") as f:
    blob = f.read()
(size,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + size])
info = header[tensor]
begin, end = info["data_offsets"]
st_data = blob[8 + size + begin:8 + size + end]
with open(npy_path, "rb") as f:
    data = f.read()
if data[6] == 1:
    (length,), start = struct.unpack("<H", data[8:10]), 10
else:
    (length,), start = struct.unpack("<I", data[8:12]), 12
meta = ast.literal_eval(data[start:start + length].decode())
problems = []
if info["dtype"] != "F32" or meta["descr"] != "<f4":
    problems.append(f"dtypes {info['dtype']} / {meta['descr']}")
if tuple(info["shape"]) != tuple(meta["shape"]):
    problems.append(f"shapes {info['shape']} / {meta['shape']}")
if st_data != data[start + length:]:
    problems.append("data differs")
if problems:
    sys.exit(f"{st_path} vs {npy_path}: " + "; ".join(problems))
print("match")
