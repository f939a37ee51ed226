#!/usr/bin/env python3
"""Writes the PTX of every gpu.binary in an MLIR file (tp-gpu-pipeline with
gpu-format=isa) to stdout, unescaped, so that FileCheck and ptxas can read it.

    extract-ptx.py MODULE.mlir > kernels.ptx
"""
import re
import sys


def unescape(text):
    # MLIR prints non-printable bytes of a string attribute as \XX (hex) and
    # a backslash or a quote as \\ or \".
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1]
            if nxt in "\\\"":
                out.append(ord(nxt))
                i += 2
            else:
                out.append(int(text[i + 1:i + 3], 16))
                i += 3
        else:
            out.extend(c.encode())
            i += 1
    return out.decode()


def main():
    text = open(sys.argv[1]).read()
    found = 0
    for m in re.finditer(r'assembly = "((?:[^"\\]|\\.)*)"', text):
        sys.stdout.write(unescape(m.group(1)))
        found += 1
    if not found:
        sys.exit("extract-ptx: no gpu.binary assembly in " + sys.argv[1] +
                 " (run tp-gpu-pipeline with gpu-format=isa)")


if __name__ == "__main__":
    main()
