#!/usr/bin/env python3
"""`tp-run --check` with its defaults on real-width models, at tp 2, 4 and 8:
how long each takes and how far the sharded result is from the unsharded
one against the tolerance tp-run derives from the program.

  bench/check_scale.py [--build build] [--set full|ci] [--models a,b]
                       [--tp 2,4,8] [--work DIR]

Models (scripts/gen_transformer.py, random inputs from tp-run: weights
uniform in +-1/sqrt(fan_in), activations in [-1, 1)):

  gpt2-12   12 GPT-2 layers, hidden 768, 12 heads, FFN 3072, 32 tokens
  llama-1   one Llama-2-7B-width layer, hidden 4096, 32 heads, FFN 11008,
            128 tokens (772 MiB of f32 weights)
  llama-2   two such layers, 64 tokens (1.5 GiB of weights)
  gpt2-2    (ci) 2 GPT-2-width layers, 16 tokens
  llama-1s  (ci) one Llama-width layer, 8 tokens

--set full (default) runs gpt2-12, llama-1 and llama-2 at every --tp (about
ten minutes on 2 quiet cores); --set ci runs gpt2-2 and llama-1s at tp 8
only (test/Integration/check-scale.test). No --tolerance is given: each run
uses the tolerance tp-run derives and prints. Where the heads do not divide
the tp size (GPT-2's 12 heads at tp 8) the run adds --uneven=pad and says
so; nothing else is added but --rank-stats (each rank's peak memory) and
--progress (phase times).

Prints one row per run: wall time and its parts (compile of the tp-N
program and of the tp-1 reference, the sharded run, the reference run and
the comparison), the largest rank's peak RSS, the derived tolerance, the
relative error max|y - ref| / max|ref| and their ratio. Exits 1 if a
--check failed (times never fail it).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MODELS = {
    "gpt2-12": ["--arch", "gpt2", "--layers", "12", "--hidden", "768", "--heads", "12",
                "--ffn", "3072", "--seq", "32"],
    "llama-1": ["--arch", "llama", "--layers", "1", "--hidden", "4096", "--heads", "32",
                "--ffn", "11008", "--seq", "128"],
    "llama-2": ["--arch", "llama", "--layers", "2", "--hidden", "4096", "--heads", "32",
                "--ffn", "11008", "--seq", "64"],
    "gpt2-2": ["--arch", "gpt2", "--layers", "2", "--hidden", "768", "--heads", "12",
               "--ffn", "3072", "--seq", "16"],
    "llama-1s": ["--arch", "llama", "--layers", "1", "--hidden", "4096", "--heads", "32",
                 "--ffn", "11008", "--seq", "8"],
}
SETS = {"full": (["gpt2-12", "llama-1", "llama-2"], [2, 4, 8]),
        "ci": (["gpt2-2", "llama-1s"], [8])}

COMPILE = re.compile(r"^tp-run: compile ([0-9.]+) s .*\+ reference ([0-9.]+) s", re.M)
RUN = re.compile(r"^tp-run: run ([0-9.]+) s on", re.M)
PHASE = re.compile(r"^tp-run: \[\s*([0-9.]+) s\] (.*)$", re.M)
RSS = re.compile(r"^tp-launch: rank \d+: .*peak RSS ([0-9.]+) MiB", re.M)
TOLERANCE = re.compile(r"^check: tolerance ([0-9.e+-]+) \((.*)\)$", re.M)
RESULT = re.compile(r"^check: result (\d+): max abs error ([0-9.e+-]+), relative error "
                    r"([0-9.e+-]+) .*: (ok|FAILED.*)$", re.M)


def heads(args):
    return int(args[args.index("--heads") + 1])


def run_one(tp_run, model, name, tp, work):
    extra = [] if heads(MODELS[name]) % tp == 0 else ["--uneven=pad"]
    cmd = [tp_run, model, f"--tp-size={tp}", "--check", "--progress", "--rank-stats",
           f"--build-dir={os.path.join(work, f'{name}-tp{tp}')}"] + extra
    start = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - start
    text = proc.stdout
    row = {"model": name, "tp": tp, "options": " ".join(extra) or "-", "wall": wall,
           "code": proc.returncode, "text": text, "cmd": " ".join(cmd)}
    m = COMPILE.search(text)
    if m:
        row["compile"], row["ref_compile"] = float(m.group(1)), float(m.group(2))
    m = RUN.search(text)
    if m:
        row["run"] = float(m.group(1))
        # Rank lines of the sharded run come before its "tp-run: run" line.
        row["rss"] = max((float(x) for x in RSS.findall(text[:m.start()])), default=None)
    phases = {p: float(t) for t, p in PHASE.findall(text)}
    ref_start = next((t for p, t in phases.items() if p.startswith("reference run")), None)
    if ref_start is not None:
        row["ref_run"] = wall - ref_start  # the reference run and the comparison
    m = TOLERANCE.search(text)
    if m:
        row["tolerance"], row["reason"] = float(m.group(1)), m.group(2)
    results = RESULT.findall(text)
    if results:
        row["error"] = max(float(r[2]) for r in results)
        row["ok"] = all(r[3] == "ok" for r in results)
    return row


def fmt(value, spec, width):
    return format(value, spec).rjust(width) if value is not None else "-".rjust(width)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--set", choices=sorted(SETS), default="full")
    p.add_argument("--models", help="comma-separated, instead of the set's (%s)"
                   % ", ".join(MODELS))
    p.add_argument("--tp", help="comma-separated tp sizes, instead of the set's")
    p.add_argument("--work", help="keep the models and builds here (default: a temporary "
                   "folder, removed)")
    a = p.parse_args()
    names, tps = SETS[a.set]
    if a.models:
        names = a.models.split(",")
        unknown = [n for n in names if n not in MODELS]
        if unknown:
            p.error("unknown model %s (known: %s)" % (", ".join(unknown), ", ".join(MODELS)))
    if a.tp:
        tps = [int(t) for t in a.tp.split(",")]
    tp_run = os.path.join(a.build, "bin", "tp-run")
    if not os.access(tp_run, os.X_OK):
        p.error("%s not found: build first (scripts/build.sh)" % tp_run)
    tmp = None
    work = a.work
    if not work:
        tmp = tempfile.TemporaryDirectory(prefix="check-scale-")
        work = tmp.name
    os.makedirs(work, exist_ok=True)

    print("tp-run --check with derived tolerances; %d CPUs, load %.1f at the start"
          % (os.cpu_count(), os.getloadavg()[0]), flush=True)
    header = (f"{'model':<9} {'tp':>2} {'options':<12} {'wall s':>7} {'compile s':>9} "
              f"{'ref comp s':>10} {'run s':>6} {'ref run s':>9} {'RSS/rank MiB':>12} "
              f"{'tolerance':>9} {'rel error':>9} {'err/tol':>8}  result")
    print(header, flush=True)
    failed = []
    for name in names:
        model = os.path.join(work, name + ".mlir")
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_transformer.py")]
                       + MODELS[name] + ["-o", model], check=True)
        for tp in tps:
            r = run_one(tp_run, model, name, tp, work)
            ok = r["code"] == 0 and r.get("ok")
            ratio = r["error"] / r["tolerance"] if "error" in r and "tolerance" in r else None
            print(f"{name:<9} {tp:>2} {r['options']:<12} {r['wall']:7.1f} "
                  f"{fmt(r.get('compile'), '.1f', 9)} {fmt(r.get('ref_compile'), '.1f', 10)} "
                  f"{fmt(r.get('run'), '.1f', 6)} {fmt(r.get('ref_run'), '.1f', 9)} "
                  f"{fmt(r.get('rss'), '.1f', 12)} {fmt(r.get('tolerance'), '.1e', 9)} "
                  f"{fmt(r.get('error'), '.2e', 9)} {fmt(ratio, '.4f', 8)}  "
                  f"{'ok' if ok else 'FAILED'}", flush=True)
            if "reason" in r:
                print(f"{'':<25}tolerance from: {r['reason']}", flush=True)
            if not ok:
                failed.append(r)
    for r in failed:
        print("\n%s (exit code %d):\n%s" % (r["cmd"], r["code"], r["text"]), file=sys.stderr)
    print("%d run(s), %d failed" % (sum(1 for _ in names) * len(tps), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
