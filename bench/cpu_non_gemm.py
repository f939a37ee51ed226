#!/usr/bin/env python3
"""Where the compiled CPU program's time goes outside the GEMMs, at tp 1,
before and after tp-launch keeps freed memory for the next call.

  bench/cpu_non_gemm.py [--build build] [--repeat 30] [--rounds 3]
                        [--models gpt2-mlp,llama-layer,llama-seq256] [--perf]
                        [--baseline OTHER_BUILD]

Models (as bench/cpu_gemm.py's, plus a longer sequence): the GPT-2 MLP of
examples/gpt2-mlp.mlir at 32 tokens (768 -> 3072 -> 768), a Llama layer of
scripts/gen_transformer.py (hidden 1024, 16 heads, FFN 2816) at 32 tokens,
and the same layer at 256 tokens (its softmax and norms 8x larger, the
scores 64x). Inputs are tp-run's random ones.

Each round runs `tp-launch --warmup 3 --repeat N` twice back to back, once
with TP_KEEP_FREED_MEMORY=0 (glibc's defaults: the temporaries are given
back to the kernel after each call, so each call faults them in again; the
behaviour before tp-launch kept them) and once as built; the table has the
median over rounds of each run's warm median, their ratio, and both peak
RSS. With --perf (needs perf) each form is also sampled once, with DWARF
call graphs, and the time inside tp_entry is split into the GEMMs
(tp_rt_gemm and below), the generated loops (the model function's own
samples) and the rest (page faults, memset / malloc, copies).

--baseline OTHER_BUILD (a build tree, or any folder with bin/tp-run) also
compiles each model with that tp-run and times it with this build's
tp-launch in the same rounds: the compiled code of two versions side by
side (e.g. before and after a change to the CPU pipeline). Prints figures;
never fails on them. One BLAS thread.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RANK = re.compile(r"tp-launch: rank 0: tp_entry median ([0-9.]+) ms .*peak RSS ([0-9.]+) MiB")


def make_model(name, work):
    path = os.path.join(work, name + ".mlir")
    if name == "gpt2-mlp":
        with open(os.path.join(ROOT, "examples", "gpt2-mlp.mlir")) as f:
            text = f.read().replace("tensor<64x", "tensor<32x")
        with open(path, "w") as f:
            f.write(text)
        return path, "mlp"
    seq = {"llama-layer": "32", "llama-seq256": "256"}[name]
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_transformer.py"),
                    "--arch", "llama", "--seq", seq, "--hidden", "1024", "--heads", "16",
                    "--ffn", "2816", "--annotate", "-o", path], check=True)
    return path, "llama_layer"


def launch(cmd_prefix, env, model_dir, inputs, repeat, extra=()):
    cmd = list(cmd_prefix) + ["--model", os.path.join(model_dir, "model.so"), "--inputs",
                              ",".join(inputs), "--output", os.path.join(model_dir, "y.npy"),
                              "--warmup", "3", "--repeat", str(repeat)] + list(extra)
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    if out.returncode != 0:
        sys.exit("%s failed:\n%s" % (" ".join(cmd), out.stdout))
    m = RANK.search(out.stdout)
    return float(m.group(1)), float(m.group(2))


def perf_split(tp_launch, env, model_dir, inputs, function, work, tag):
    data = os.path.join(work, tag + ".perf")
    subprocess.run(["perf", "record", "-q", "-F", "2000", "--call-graph", "dwarf,16384",
                    "-o", data, "--", tp_launch, "--model",
                    os.path.join(model_dir, "model.so"), "--inputs", ",".join(inputs),
                    "--output", os.path.join(model_dir, "y.npy"), "--warmup", "3",
                    "--repeat", "20"], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    report = subprocess.run(["perf", "report", "-i", data, "--children", "--sort", "symbol",
                             "-g", "none", "--stdio"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout
    children, self_ = {}, {}
    for line in report.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+([0-9.]+)%\s+\[.\]\s+(\S+)", line)
        if m:
            children.setdefault(m.group(3), float(m.group(1)))
            self_.setdefault(m.group(3), float(m.group(2)))
    entry = children.get("tp_entry", 0.0)
    if entry == 0:
        return None
    gemm = children.get("tp_rt_gemm", 0.0)
    loops = self_.get(function, 0.0)
    return gemm / entry, loops / entry, max(0.0, entry - gemm - loops) / entry


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--models", default="gpt2-mlp,llama-layer,llama-seq256")
    p.add_argument("--perf", action="store_true", help="also split tp_entry's time with perf")
    p.add_argument("--keep", help="keep the models and builds here")
    p.add_argument("--baseline", help="another build whose tp-run compiles the same models, "
                   "timed alongside")
    a = p.parse_args()
    tp_run = os.path.join(a.build, "bin", "tp-run")
    tp_launch = os.path.join(a.build, "bin", "tp-launch")
    # Without --keep, a temporary folder removed at the end.
    scratch = None if a.keep else tempfile.TemporaryDirectory(prefix="cpu-non-gemm-")
    work = a.keep or scratch.name
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env.pop("TP_KEEP_FREED_MEMORY", None)
    before = dict(env, TP_KEEP_FREED_MEMORY="0")

    print("tp 1, warm tp_entry (tp-launch --warmup 3 --repeat %d, median; median over %d "
          "rounds, the two forms back to back); %d CPUs, load %.1f"
          % (a.repeat, a.rounds, os.cpu_count(), os.getloadavg()[0]), flush=True)
    print(f"{'model':<28} {'before ms':>10} {'after ms':>9} {'after/before':>13} "
          f"{'RSS before MiB':>15} {'RSS after MiB':>14}"
          + (f" {'baseline ms':>12} {'after/baseline':>15}" if a.baseline else ""), flush=True)
    rows = []
    for name in a.models.split(","):
        model, function = make_model(name, work)
        build = os.path.join(work, name)
        subprocess.run([tp_run, model, "--tp-size=1", "--build-dir=" + build, "--quiet"],
                       check=True, env=env)
        inputs = sorted((f for f in os.listdir(build) if re.fullmatch(r"input\d+\.npy", f)),
                        key=lambda f: int(f[5:-4]))
        inputs = [os.path.join(build, f) for f in inputs]
        base_build = None
        if a.baseline:
            base_build = build + "-baseline"
            os.makedirs(base_build, exist_ok=True)
            subprocess.run([os.path.join(a.baseline, "bin", "tp-run"), model, "--tp-size=1",
                            "--build-only", "--build-dir=" + base_build, "--quiet"],
                           check=True, env=env, stdout=subprocess.DEVNULL)
        old, new, base = [], [], []
        for _ in range(a.rounds):
            old.append(launch([tp_launch], before, build, inputs, a.repeat))
            new.append(launch([tp_launch], env, build, inputs, a.repeat))
            if base_build:
                base.append(launch([tp_launch], env, base_build, inputs, a.repeat))
        o = statistics.median(t for t, _ in old)
        n = statistics.median(t for t, _ in new)
        line = (f"{name:<28} {o:10.2f} {n:9.2f} {n / o:13.2f} {max(r for _, r in old):15.1f} "
                f"{max(r for _, r in new):14.1f}")
        if base_build:
            b = statistics.median(t for t, _ in base)
            line += f" {b:12.2f} {n / b:15.2f}"
        print(line, flush=True)
        rows.append((name, build, inputs, function))
        if base_build:
            rows.append((name + " (baseline)", base_build, inputs, function))
    if a.perf:
        print("\nshare of tp_entry (perf, DWARF call graphs): GEMMs / generated loops / "
              "the rest (page faults, memset, malloc, copies)")
        for name, build, inputs, function in rows:
            forms = (("after", env),) if name.endswith("(baseline)") else \
                (("before", before), ("after", env))
            for tag, e in forms:
                split = perf_split(tp_launch, e, build, inputs, function, work,
                                   f"{name.split()[0]}{'-baseline' if '(' in name else ''}-{tag}")
                if split:
                    print(f"{name:<28} {tag:<7} {100 * split[0]:5.1f}% / {100 * split[1]:5.1f}% / "
                          f"{100 * split[2]:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
