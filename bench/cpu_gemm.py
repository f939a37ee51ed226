#!/usr/bin/env python3
"""The compiled CPU program's own time (tp_entry: warm calls timed by
tp-launch --warmup --repeat, the median per rank and the max over ranks;
tp-launch's single cold call too) against NumPy on the same OpenBLAS, one
thread, float32,
on a GPT-2 MLP (32 tokens, 768 -> 3072 -> 768) and a Llama layer (generated,
32 tokens, hidden 1024, 16 heads, FFN 2816), at tp 1 and tp 2, with the
loop path (--gemm=loops) for reference.

  bench/cpu_gemm.py [--build build] [--repeat 20] [--sizes 1,2] [--no-loops]

Prints figures and ratios side by side; never fails on a time. NumPy's
result is checked against the compiled program's, so both compute the same
function. OpenBLAS and NumPy run with one thread (OPENBLAS_NUM_THREADS=1);
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are left as the environment sets them,
so both sides use the same kernels. tp 2 runs one rank per core; the
machine's core count is printed, since tp 2 per rank can only approach half
of tp 1 with a core per rank. Each rank's peak resident memory (tp-launch
--rank-stats) is printed for tp 1 and the largest tp size.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"
try:
    import numpy as np  # after the thread count
except ImportError:
    # Debian's python3-numpy is for the system interpreter.
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("cpu_gemm.py needs NumPy (apt-get install python3-numpy)")

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser()
p.add_argument("--build", default=os.path.join(root, "build"))
p.add_argument("--repeat", type=int, default=20)
p.add_argument("--sizes", default="1,2")
p.add_argument("--no-loops", action="store_true",
               help="skip the loop path (--gemm=loops) runs")
p.add_argument("--models", default="gpt2-mlp,llama-layer")
p.add_argument("--keep", default=None, help="keep the artifacts here")
a = p.parse_args()

tp_run = os.path.join(a.build, "bin", "tp-run")
tp_launch = os.path.join(a.build, "bin", "tp-launch")
entry_re = re.compile(r"tp_entry ([0-9.]+) ms")
warm_re = re.compile(r"tp-launch: rank \d+: tp_entry median ([0-9.]+) ms min "
                     r"([0-9.]+) ms .*; peak RSS ([0-9.]+) MiB")
arg_re = re.compile(r"%(\w+): tensor<([0-9x]+)x(f32)>")
work = a.keep or tempfile.mkdtemp(prefix="cpu-gemm-bench-")
os.makedirs(work, exist_ok=True)


def gelu(v):
    return 0.5 * v * (1.0 + np.tanh(np.float32(0.7978845608) *
                                    (v + np.float32(0.044715) * v * v * v)))


def gpt2_mlp(x, w1, b1, w2, b2):
    return gelu(x @ w1.T + b1) @ w2.T + b2


def rms(v, g):
    return v / np.sqrt((v * v).mean(-1, keepdims=True) + np.float32(1e-5)) * g


def llama_layer(heads, x, g1, wq, wk, wv, wo, g2, wg, wu, wd):
    b, s, e = x.shape
    d = e // heads
    h = rms(x, g1).reshape(b * s, e)

    def split(y):
        return y.reshape(b, s, heads, d).transpose(0, 2, 1, 3)
    q, k, v = split(h @ wq.T), split(h @ wk.T), split(h @ wv.T)
    scores = q @ k.transpose(0, 1, 3, 2) * np.float32(1 / np.sqrt(d))
    scores = np.where(np.triu(np.ones((s, s), bool), 1), np.float32(-1e9),
                      scores)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probs = scores / scores.sum(-1, keepdims=True)
    ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b * s, e)
    x = x + (ctx @ wo.T).reshape(b, s, e)
    h = rms(x, g2).reshape(b * s, e)
    gate, up = h @ wg.T, h @ wu.T
    act = gate / (1 + np.exp(-gate)) * up
    return x + (act @ wd.T).reshape(b, s, e)


def make_models():
    models = {}
    if "gpt2-mlp" in a.models:
        path = os.path.join(work, "gpt2-mlp-32.mlir")
        with open(os.path.join(root, "examples", "gpt2-mlp.mlir")) as f:
            text = f.read().replace("tensor<64x", "tensor<32x")
        with open(path, "w") as f:
            f.write(text)
        models["GPT-2 MLP 32x768x3072"] = (path, gpt2_mlp)
    if "llama-layer" in a.models:
        path = os.path.join(work, "llama-1024.mlir")
        subprocess.run([sys.executable,
                        os.path.join(root, "scripts", "gen_transformer.py"),
                        "--arch", "llama", "--seq", "32", "--hidden", "1024",
                        "--heads", "16", "--ffn", "2816", "--annotate",
                        "-o", path], check=True)
        models["Llama layer 32x1024 ffn 2816"] = (
            path, lambda *args: llama_layer(16, *args))
    return models


def inputs_for(path, tag):
    with open(path) as f:
        text = f.read()
    signature = text[text.index("func.func"):].split(") ->", 1)[0]
    rng = np.random.default_rng(0)
    arrays, files = [], []
    for name, shape, _ in arg_re.findall(signature):
        dims = [int(s) for s in shape.split("x")]
        scale = 1.0 if len(dims) == 1 or name == "x" else 1 / np.sqrt(dims[-1])
        value = (rng.uniform(-1, 1, dims) * scale).astype(np.float32)
        if name.endswith("_g") or name.startswith("g"):
            value = (1 + 0.1 * value).astype(np.float32)
        file = os.path.join(work, f"{tag}-{name}.npy")
        np.save(file, value)
        arrays.append(value)
        files.append(file)
    return arrays, files


def compiled_ms(model, files, size, gemm, tag, repeat):
    """((warm median, warm min, peak RSS MiB), max over ranks; cold ms from
    tp-launch's single call; result)."""
    build = os.path.join(work, f"{tag}-tp{size}-{gemm}")
    output = os.path.join(build, "y.npy")
    os.makedirs(build, exist_ok=True)
    out = subprocess.run([tp_run, model, f"--tp-size={size}", f"--gemm={gemm}",
                          "--inputs=" + ",".join(files), "--output=" + output,
                          "--build-dir=" + build],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"tp-run failed ({tag}, tp {size}, {gemm}):\n{out.stderr}")
    cold = float(entry_re.search(out.stdout).group(1))
    warm_output = os.path.join(build, "y-warm.npy")
    out = subprocess.run(["mpiexec", "-n", str(size), tp_launch, "--model",
                          os.path.join(build, "model.so"), "--inputs",
                          ",".join(files), "--output", warm_output,
                          "--warmup", "2", "--repeat", str(repeat)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"tp-launch --repeat failed ({tag}, tp {size}):\n"
                 f"{out.stderr}")
    ranks = warm_re.findall(out.stdout)
    if len(ranks) != size:
        sys.exit(f"tp-launch printed {len(ranks)} rank lines, not {size}:\n"
                 f"{out.stdout}")
    if not np.array_equal(np.load(warm_output), np.load(output)):
        sys.exit(f"{tag}, tp {size}: repeated calls changed the result")
    warm = max(float(median) for median, _, _ in ranks)
    fastest = max(float(low) for _, low, _ in ranks)
    rss = max(float(peak) for _, _, peak in ranks)
    return (warm, fastest, rss), cold, np.load(output)


def numpy_ms(fn, arrays):
    fn(*arrays)  # warm-up
    times = []
    for _ in range(max(a.repeat, 20)):
        start = time.perf_counter()
        fn(*arrays)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), fn(*arrays)


sizes = [int(s) for s in a.sizes.split(",")]
print(f"warm tp_entry (tp-launch --warmup 2 --repeat {a.repeat}: median per "
      f"rank, max over ranks) vs NumPy "
      f"{np.__version__} (OpenBLAS, 1 thread, float32, median of "
      f"{max(a.repeat, 20)}); cold = tp-launch's one call; {os.cpu_count()} "
      f"CPUs (load average {os.getloadavg()[0]:.1f}); "
      f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
header = f"{'model':<30} {'numpy ms':>9}"
for size in sizes:
    header += f" {f'tp{size} ms':>9} {f'tp{size}/np':>8}"
if len(sizes) > 1:
    header += f" {f'tp{sizes[-1]}/tp1':>8} {'(min)':>6}"
header += f" {'cold tp1 ms':>12}"
header += f" {'RSS tp1 MiB':>12}"
if len(sizes) > 1:
    header += f" {f'RSS tp{sizes[-1]} MiB':>12}"
if not a.no_loops:
    header += f" {'loops tp1 ms':>13} {'loops/blas':>10}"
print(header)
for tag, (path, fn) in make_models().items():
    short = re.sub(r"\W+", "-", tag.split()[0].lower())
    arrays, files = inputs_for(path, short)
    ref_ms, ref = numpy_ms(fn, arrays)
    row = f"{tag:<30} {ref_ms:9.2f}"
    times, colds = {}, {}
    for size in sizes:
        ms, cold, y = compiled_ms(path, files, size, "blas", short, a.repeat)
        err = np.abs(y - ref).max() / np.abs(ref).max()
        if err > 1e-3:
            sys.exit(f"{tag}: tp {size} differs from NumPy (rel. {err:.2e})")
        times[size], colds[size] = ms, cold
        row += f" {ms[0]:9.2f} {ms[0] / ref_ms:8.2f}"
    if len(sizes) > 1:
        last, first = times[sizes[-1]], times[sizes[0]]
        row += f" {last[0] / first[0]:8.2f} {last[1] / first[1]:6.2f}"
    row += f" {colds[sizes[0]]:12.2f}"
    row += f" {times[sizes[0]][2]:12.1f}"
    if len(sizes) > 1:
        row += f" {times[sizes[-1]][2]:12.1f}"
    if not a.no_loops:
        ms, _, _ = compiled_ms(path, files, 1, "loops", short, 2)
        row += f" {ms[0]:13.2f} {ms[0] / times[sizes[0]][0]:10.1f}"
    print(row, flush=True)
