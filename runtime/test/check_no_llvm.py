#!/usr/bin/env python3
"""Fails if a runtime binary depends on LLVM or MLIR (it must run without)."""

import re
import subprocess
import sys

status = 0
for binary in sys.argv[1:]:
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True,
                             text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    bad = [n for n in needed if re.search(r"LLVM|MLIR|mlir|llvm", n)]
    print(f"{binary}: needs {', '.join(needed)}")
    if bad:
        print(f"FAILED: {binary} depends on {', '.join(bad)}")
        status = 1
sys.exit(status)
