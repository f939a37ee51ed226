#!/usr/bin/env python3
"""Checks the gradients of a generated training step (scripts/gen_training.py
with --optimizer sgd --lr 1) against finite differences, through tp-run:

  check_gradients.py TP_RUN MODEL.mlir --dir DIR [--eps E] [--tolerance T]
                     [--tp-size N] [--seed S]

With L(theta) = sum(y * g) (g, the step's upstream gradient argument, is
dL/dy), the step returns dL/dx and, with SGD at lr 1, W' = W - dL/dW. For a
random direction D over x and every parameter (not g, not the rotary tables,
not token ids), the central difference [L(theta + eps D) - L(theta - eps D)]
/ (2 eps) must match <dL/dx, D_x> + sum over parameters of <W - W', D_W>
to `tolerance` (relative). One direction covers every gradient at once; a
wrong one would have to cancel the others exactly to pass. Three runs of the
step (at theta, theta + eps D, theta - eps D). Prints the two figures and
exits 1 on a mismatch. NumPy is not needed (.npy written and read here).
"""
import argparse
import os
import random
import re
import struct
import subprocess
import sys


def write_npy(path, shape, values, integer=False):
    descr = "<i8" if integer else "<f4"
    dims = "".join(f"{s}, " for s in shape) if len(shape) != 1 else f"{shape[0]},"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, dims)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (len(values), "q" if integer else "f"), *values))


def read_npy(path):
    data = open(path, "rb").read()
    if data[6] != 1 or b"<f4" not in data[10:10 + struct.unpack("<H", data[8:10])[0]]:
        sys.exit(f"check_gradients: {path}: expected a version 1 little-endian f32 .npy")
    body = data[10 + struct.unpack("<H", data[8:10])[0]:]
    return struct.unpack("<%df" % (len(body) // 4), body)


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tp_run")
    p.add_argument("model")
    p.add_argument("--dir", required=True)
    p.add_argument("--eps", type=float, default=1e-3)
    p.add_argument("--tolerance", type=float, default=1e-2)
    p.add_argument("--tp-size", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    text = open(a.model).read()
    sig = re.search(r"func\.func @\w+\((.*?)\) -> \((.*?)\) \{", text, re.S)
    if not sig:
        sys.exit("check_gradients: no function signature found")
    args = re.findall(r"%(\w+): tensor<([0-9x]+)x(f32|i64)>", sig.group(1))
    results = len(re.findall(r"tensor<", sig.group(2)))
    rng = random.Random(a.seed)
    table = re.search(r"%wte: tensor<(\d+)x", sig.group(1))
    base, direction, shapes = {}, {}, {}
    for name, dims, dt in args:
        shape = [int(d) for d in dims.split("x")]
        n = 1
        for s in shape:
            n *= s
        shapes[name] = (shape, dt == "i64")
        if dt == "i64":  # token ids over the whole vocabulary, not perturbed
            base[name] = [rng.randrange(int(table.group(1)) if table else 2) for _ in range(n)]
            continue
        scale = 0.3 if name.startswith("w") else 1.0
        base[name] = [rng.uniform(-scale, scale) for _ in range(n)]
        if name != "g" and not name.startswith(("rope", "pos")):
            direction[name] = [rng.uniform(-1, 1) for _ in range(n)]
    os.makedirs(a.dir, exist_ok=True)

    def run(tag, sign):
        inputs = []
        for name, (shape, integer) in shapes.items():
            values = base[name]
            if sign and name in direction:
                values = [v + sign * a.eps * d for v, d in zip(values, direction[name])]
            path = os.path.join(a.dir, f"{tag}_{name}.npy")
            write_npy(path, shape, values, integer)
            inputs.append(path)
        outputs = [os.path.join(a.dir, f"{tag}_result{i}.npy") for i in range(results)]
        cmd = [a.tp_run, a.model, f"--tp-size={a.tp_size}", "--quiet",
               "--inputs=" + ",".join(inputs), "--output=" + ",".join(outputs)]
        if subprocess.run(cmd).returncode != 0:
            sys.exit("check_gradients: failed: " + " ".join(cmd))
        return [read_npy(o) for o in outputs]

    at, plus, minus = run("theta", 0), run("plus", 1), run("minus", -1)
    numeric = (dot(plus[0], base["g"]) - dot(minus[0], base["g"])) / (2 * a.eps)
    analytic, index = 0.0, 1
    if "x" in direction:
        analytic += dot(at[1], direction["x"])
        index = 2
    params = [name for name, _, _ in args if name in direction and name != "x"]
    if len(params) + index > results:
        sys.exit("check_gradients: fewer results than parameters (an Adam step? use --optimizer sgd)")
    for i, name in enumerate(params):
        analytic += sum((w - u) * d for w, u, d in zip(base[name], at[index + i], direction[name]))
    error = abs(numeric - analytic) / max(abs(numeric), 1e-12)
    ok = error <= a.tolerance
    print(f"check_gradients: finite difference {numeric:.6g}, gradients {analytic:.6g}, "
          f"relative error {error:.2e} (tolerance {a.tolerance:g}): {'ok' if ok else 'MISMATCH'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
