#!/usr/bin/env python3
"""Wall time of tp-run on the GPT-2 small MLP at tp-size 1, 2 and 4, split
into compile (partition + lowering + codegen + link) and run (mpiexec +
tp-launch, including process start-up), with the ratio to tp-size 1.

  bench/tp_run_mlp.py [--build build] [--sizes 1,2,4] [--repeat 3]

Prints figures; never fails on a time. On a 2-core machine tp-size 4 means
oversubscribed ranks, so run time there measures the CPU path, not scaling.
"""
import argparse
import os
import re
import subprocess
import sys
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser()
p.add_argument("--build", default=os.path.join(root, "build"))
p.add_argument("--model", default=os.path.join(root, "examples", "gpt2-mlp.mlir"))
p.add_argument("--sizes", default="1,2,4")
p.add_argument("--repeat", type=int, default=3)
a = p.parse_args()

tp_run = os.path.join(a.build, "bin", "tp-run")
compile_re = re.compile(r"tp-run: compile ([0-9.]+) s")
run_re = re.compile(r"tp-run: run ([0-9.]+) s")
entry_re = re.compile(r"tp_entry ([0-9.]+) ms")

rows = []
for size in [int(s) for s in a.sizes.split(",")]:
    best = None
    for _ in range(a.repeat):
        start = time.monotonic()
        out = subprocess.run([tp_run, a.model, f"--tp-size={size}"],
                             capture_output=True, text=True)
        wall = time.monotonic() - start
        if out.returncode != 0:
            sys.exit(f"tp-run failed at tp-size {size}:\n{out.stderr}")
        text = out.stdout + out.stderr
        sample = (wall, float(compile_re.search(text).group(1)),
                  float(run_re.search(text).group(1)),
                  float(entry_re.search(text).group(1)) / 1000)
        best = sample if best is None or sample[0] < best[0] else best
    rows.append((size,) + best)

print(f"tp-run on {os.path.relpath(a.model, root)} (best of {a.repeat}; "
      f"{os.cpu_count()} CPUs)")
print(f"{'tp':>3} {'wall s':>8} {'compile s':>10} {'run s':>8} "
      f"{'tp_entry s':>11} {'wall/tp1':>9} {'entry/tp1':>10}")
base = rows[0]
for size, wall, comp, run, entry in rows:
    print(f"{size:>3} {wall:8.3f} {comp:10.3f} {run:8.3f} {entry:11.3f} "
          f"{wall / base[1]:9.2f} {entry / base[4]:10.2f}")
