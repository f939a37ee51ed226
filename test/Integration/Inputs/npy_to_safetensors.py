#!/usr/bin/env python3
"""Packs little-endian f4 .npy files into one .safetensors file (NumPy is
not installed), for the tests that feed the same values both ways:

  npy_to_safetensors.py OUT.safetensors NAME=FILE.npy [NAME=FILE.npy ...]
"""
import ast
import json
import struct
import sys

header, blobs, offset = {}, [], 0
for spec in sys.argv[2:]:
    name, path = spec.split("=", 1)
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    if data[6] == 1:
        (length,), start = struct.unpack("<H", data[8:10]), 10
    else:
        (length,), start = struct.unpack("<I", data[8:12]), 12
    meta = ast.literal_eval(data[start:start + length].decode())
    assert meta["descr"] == "<f4" and not meta["fortran_order"], path
    body = data[start + length:]
    header[name] = {"dtype": "F32", "shape": list(meta["shape"]),
                    "data_offsets": [offset, offset + len(body)]}
    blobs.append(body)
    offset += len(body)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
