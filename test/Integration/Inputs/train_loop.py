#!/usr/bin/env python3
"""Runs a training loop of generated steps (scripts/gen_training.py: the
function takes x, the parameters, g and returns y, dx, the updated
parameters) through tp-run, feeding each step's updated parameters back in
as the next step's inputs:

  train_loop.py TP_RUN MODEL.mlir X.npy G.npy P0.npy,P1.npy,... --tp-size N --steps K --dir DIR [--sharded]

Writes DIR/p<i>_<k>.npy (parameter i after step k) and prints the files of
the last step's parameters, comma-separated. With --sharded the step is
compiled with --sharded-results and the parameters travel as shard sets
(DIR/p<i>_<k>.shards: each rank writes and reads back only its part).
"""
import argparse
import os
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("tp_run")
p.add_argument("model")
p.add_argument("x")
p.add_argument("g")
p.add_argument("params")
p.add_argument("--tp-size", type=int, required=True)
p.add_argument("--steps", type=int, required=True)
p.add_argument("--dir", required=True)
p.add_argument("--sharded", action="store_true")
a = p.parse_args()

os.makedirs(a.dir, exist_ok=True)
params = a.params.split(",")
for k in range(1, a.steps + 1):
    ext = "shards" if a.sharded else "npy"
    updated = [os.path.join(a.dir, f"p{i}_{k}.{ext}") for i in range(len(params))]
    outputs = [os.path.join(a.dir, f"y_{k}.npy"), os.path.join(a.dir, f"dx_{k}.npy")] + updated
    cmd = [a.tp_run, a.model, f"--tp-size={a.tp_size}", "--quiet",
           "--inputs=" + ",".join([a.x] + params + [a.g]), "--output=" + ",".join(outputs)]
    if a.sharded:
        cmd.append("--sharded-results")
    if subprocess.run(cmd).returncode != 0:
        sys.exit(f"train_loop: step {k} failed: {' '.join(cmd)}")
    params = updated
print(",".join(params))
