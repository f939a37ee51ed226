"""Prints the largest magnitude in each little-endian f32 .npy file given
(NumPy is not installed): "NAME MAX" with three decimals."""
import ast
import os
import struct
import sys

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    major = data[6]
    length_bytes = 2 if major == 1 else 4
    length = int.from_bytes(data[8:8 + length_bytes], "little")
    start = 8 + length_bytes
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    assert header["descr"] == "<f4", header
    values = struct.iter_unpack("<f", data[start + length:])
    print("%s %.3f" % (os.path.basename(path), max(abs(v[0]) for v in values)))
