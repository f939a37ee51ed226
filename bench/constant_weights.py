#!/usr/bin/env python3
"""Per-rank memory of one model whose weights are arguments, constants
hoisted out of the model (tp-run's default), and constants kept in it
(--hoist-constants=false), side by side.

  bench/constant_weights.py [--build build] [--tp 2] [--hidden 768]
                            [--heads 12] [--seq 128] [--form resource|dense]
                            [--check] [--work DIR]

Generates the same GPT-2 layer twice with scripts/gen_transformer.py
(weights as arguments, random from tp-run's seed; weights as constants from
--seed, `dense_resource` or `dense` hex as torch-mlir emits them), runs each
with tp-run --rank-stats at --tp, and prints per form: the model file's
size, compile time, each rank's peak RSS and argument (shard) bytes, and
the ratios of peak RSS and arguments to the arguments form. Prints figures;
never fails on them.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--build", default=os.path.join(root, "build"))
p.add_argument("--tp", type=int, default=2)
p.add_argument("--hidden", type=int, default=768)
p.add_argument("--heads", type=int, default=12)
p.add_argument("--seq", type=int, default=128)
p.add_argument("--form", choices=["resource", "dense"], default="resource")
p.add_argument("--check", action="store_true", help="also --check each run against the unsharded program")
p.add_argument("--work", default=None, help="keep the generated models here")
a = p.parse_args()

tp_run = os.path.join(a.build, "bin", "tp-run")
gen = [sys.executable, os.path.join(root, "scripts", "gen_transformer.py"), "--arch", "gpt2",
       "--hidden", str(a.hidden), "--heads", str(a.heads), "--seq", str(a.seq)]
rank_re = re.compile(r"tp-launch: rank (\d+): .*peak RSS ([0-9.]+) MiB \(arguments ([0-9.]+) MiB")
compile_re = re.compile(r"tp-run: compile ([0-9.]+) s")
work = a.work or tempfile.mkdtemp(prefix="constant-weights-")
os.makedirs(work, exist_ok=True)
args_model = os.path.join(work, "args.mlir")
const_model = os.path.join(work, f"{a.form}.mlir")
subprocess.run(gen + ["-o", args_model], check=True)
subprocess.run(gen + ["--weights-as-constants", a.form, "-o", const_model], check=True)

runs = [("arguments", args_model, []),
        (f"constants ({a.form}), hoisted", const_model, []),
        (f"constants ({a.form}), kept", const_model, ["--hoist-constants=false"])]
rows = []
for name, model, extra in runs:
    cmd = [tp_run, model, f"--tp-size={a.tp}", "--rank-stats"] + (["--check"] if a.check else []) + extra
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - start
    text = out.stdout + out.stderr
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{text}")
    ranks = {int(r): (float(rss), float(args)) for r, rss, args in rank_re.findall(text)}
    rows.append((name, os.path.getsize(model), float(compile_re.search(text).group(1)), wall, ranks))

print(f"GPT-2 layer: hidden {a.hidden}, heads {a.heads}, seq {a.seq}, f32, tp {a.tp}"
      f"{', --check passed' if a.check else ''}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
print(f"{'form':<28} {'file MiB':>9} {'compile s':>10} {'wall s':>7} {'rank':>4} {'peak RSS MiB':>13} "
      f"{'arguments MiB':>14} {'RSS/args form':>14} {'arguments/args form':>20}")
base = rows[0][4]
for name, size, comp, wall, ranks in rows:
    for r in sorted(ranks):
        rss, args = ranks[r]
        print(f"{name:<28} {size / 2**20:9.1f} {comp:10.2f} {wall:7.1f} {r:>4} {rss:13.1f} {args:14.1f} "
              f"{rss / base[r][0]:14.2f} {args / base[r][1]:20.2f}")
