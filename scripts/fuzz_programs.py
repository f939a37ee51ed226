#!/usr/bin/env python3
"""Random valid programs through the tp compiler: no crash, ever.

Generates random linalg-on-tensors programs (MLP- and attention-like chains
of matmuls, bias adds, activations, norms, softmax, reshapes, transposes,
residual adds, arith on whole tensors, reductions; f32, bf16 or f16; random
shapes, divisible or not), random tp sizes, annotations (none, Megatron's,
random) and uneven policies, and runs each through

    tp-opt [--tp-plan] --tp-partition --canonicalize --cse --tp-cpu-pipeline

(and, with --run-fraction, `tp-run --check` on some of them). A run passes
when tp-opt either succeeds (the LLVM-dialect module has `tp_entry`) or
fails with an MLIR diagnostic (`error:`). It fails on a signal, an
`LLVM ERROR`, an assertion, a sanitizer report, a failure without a
diagnostic, or a generated program that does not verify (a generator bug).
Failing cases are written to --out with their command line.

  fuzz_programs.py --tp-opt build/bin/tp-opt --seed 1 --count 40   # CI (lit)
  fuzz_programs.py --tp-opt build/bin/tp-opt --tp-run build/bin/tp-run \\
      --seed $RANDOM --count 5000 --jobs 8 --run-fraction 0.1 --out fuzz-out

The same seed gives the same programs. Exit status: 0 when every case
passed, 1 otherwise, 2 on bad usage.
"""
import argparse
import collections
import concurrent.futures
import os
import random
import re
import subprocess
import sys
import tempfile
import time

CRASH_PATTERNS = [
    "LLVM ERROR", "Assertion", "assertion failed", "UNREACHABLE",
    "Stack dump", "PLEASE submit a bug report", "Sanitizer", "runtime error:",
    "Segmentation fault", "Aborted",
]


class Program:
    """Builds one function in linalg-on-tensors, line by line."""

    def __init__(self, rng, dtype):
        self.rng = rng
        self.dt = dtype
        self.args = []      # (name, type)
        self.body = []
        self.n = 0
        self.consts = {}

    def fresh(self, base="v"):
        self.n += 1
        return f"%{base}{self.n}"

    def t(self, shape, dt=None):
        dims = "x".join(str(s) for s in shape)
        return f"tensor<{dims}x{dt or self.dt}>" if shape else \
            f"tensor<{dt or self.dt}>"

    def emit(self, line):
        self.body.append("    " + line)

    def arg(self, shape, base="w"):
        name = self.fresh(base)
        self.args.append((name, self.t(shape)))
        return name

    def const(self, value):
        if value not in self.consts:
            name = self.fresh("c")
            self.body.insert(0, f"    {name} = arith.constant {value:e} : {self.dt}")
            self.consts[value] = name
        return self.consts[value]

    def empty(self, shape):
        name = self.fresh("e")
        self.emit(f"{name} = tensor.empty() : {self.t(shape)}")
        return name

    def zeros(self, shape):
        e = self.empty(shape)
        name = self.fresh("z")
        self.emit(f"{name} = linalg.fill ins({self.const(0.0)} : {self.dt}) "
                  f"outs({e} : {self.t(shape)}) -> {self.t(shape)}")
        return name

    @staticmethod
    def ident(rank):
        dims = ", ".join(f"d{i}" for i in range(rank))
        return f"affine_map<({dims}) -> ({dims})>"

    def generic(self, ins, in_maps, out_shape, iterators, body, init=None,
                attrs=""):
        """`ins`: [(value, shape)]; `body(args, out)` returns lines and the
        yielded name."""
        rank = len(iterators)
        out = init or self.empty(out_shape)
        maps = in_maps + [self.ident(rank) if len(out_shape) == rank else
                          self.reduce_map(rank, len(out_shape))]
        its = ", ".join(f'"{i}"' for i in iterators)
        name = self.fresh("g")
        ins_s = ", ".join(v for v, _ in ins)
        ins_t = ", ".join(self.t(s) for _, s in ins)
        bargs = [f"%a{i}_{self.n}" for i in range(len(ins))]
        bout = f"%o_{self.n}"
        lines, result = body(bargs, bout)
        self.emit(f"{name} = linalg.generic {{indexing_maps = [{', '.join(maps)}], "
                  f"iterator_types = [{its}]}}{attrs} ins({ins_s} : {ins_t}) "
                  f"outs({out} : {self.t(out_shape)}) {{")
        sig = ", ".join(f"{a}: {self.dt}" for a in bargs + [bout])
        self.body.append(f"    ^bb0({sig}):")
        for line in lines:
            self.body.append("      " + line)
        self.body.append(f"      linalg.yield {result} : {self.dt}")
        self.body.append(f"    }} -> {self.t(out_shape)}")
        return name

    @staticmethod
    def reduce_map(rank, out_rank):
        dims = ", ".join(f"d{i}" for i in range(rank))
        kept = ", ".join(f"d{i}" for i in range(out_rank))
        return f"affine_map<({dims}) -> ({kept})>"

    def text(self, results):
        sig = ", ".join(f"{n}: {t}" for n, t in self.args)
        res_t = ", ".join(t for _, t in results)
        res_v = ", ".join(v for v, _ in results)
        lines = ["module {",
                 f"  func.func @fuzz({sig}) -> ({res_t}) {{"]
        lines += self.body
        lines.append(f"    return {res_v} : {res_t}")
        lines += ["  }", "}"]
        return "\n".join(lines) + "\n"


def pick_dim(rng):
    if rng.random() < 0.03:
        return rng.choice([0, 1])  # empty and degenerate tensors
    return rng.choice([2, 3, 4, 6, 8, 8, 12, 16, 16, 24, 32])


class Generator:
    def __init__(self, rng, annotate_mode):
        self.rng = rng
        self.mode = annotate_mode  # "none", "megatron", "random"

    def annotation(self, role):
        """`role`: the Megatron form of this matmul ("column"/"row")."""
        if self.mode == "none":
            return ""
        if self.mode == "megatron":
            return f' {{tp.parallel = "{role}"}}' if role else ""
        if self.rng.random() < 0.05:
            # Annotations that must be rejected with a diagnostic.
            return " {tp.parallel = " + self.rng.choice(
                ['"vocab"', "3", '["column"]', '"diagonal"']) + "}"
        choice = self.rng.choice(["", "", "column", "row", "replicated"])
        return f' {{tp.parallel = "{choice}"}}' if choice else ""

    # Blocks: each maps the activation (value, [M, D]) to a new one.
    def linear(self, p, x, shape, n, role=None, transpose_w=None):
        m, k = shape
        if transpose_w is None:
            transpose_w = self.rng.random() < 0.3
        if transpose_w:
            # nn.Linear: the weight is stored [out, in] and transposed first.
            w = p.arg([n, k])
            wt = p.generic([(w, [n, k])], ["affine_map<(d0, d1) -> (d1, d0)>"],
                           [k, n], ["parallel", "parallel"],
                           lambda a, o: ([], a[0]))
        else:
            wt = p.arg([k, n])
        init = p.zeros([m, n])
        y = p.fresh("mm")
        p.emit(f"{y} = linalg.matmul{self.annotation(role)} ins({x}, {wt} : "
               f"{p.t([m, k])}, {p.t([k, n])}) outs({init} : {p.t([m, n])}) "
               f"-> {p.t([m, n])}")
        if self.rng.random() < 0.5:
            b = p.arg([n], "b")
            y = p.generic([(y, [m, n]), (b, [n])],
                          [p.ident(2), "affine_map<(d0, d1) -> (d1)>"],
                          [m, n], ["parallel", "parallel"],
                          lambda a, o: ([f"%s{p.n} = arith.addf {a[0]}, {a[1]} : {p.dt}"],
                                        f"%s{p.n}"))
        return y, [m, n]

    def activation(self, p, x, shape):
        kind = self.rng.choice(["relu", "gelu", "silu", "square"])
        half, one = p.const(0.5), p.const(1.0)
        zero = p.const(0.0)
        c1 = p.const(0.7978845608)

        def body(a, o):
            v, i = a[0], p.n
            if kind == "relu":
                return [f"%r{i} = arith.maximumf {v}, {zero} : {p.dt}"], f"%r{i}"
            if kind == "square":
                return [f"%r{i} = arith.mulf {v}, {v} : {p.dt}"], f"%r{i}"
            if kind == "silu":
                return [f"%n{i} = arith.negf {v} : {p.dt}",
                        f"%x{i} = math.exp %n{i} : {p.dt}",
                        f"%d{i} = arith.addf %x{i}, {one} : {p.dt}",
                        f"%r{i} = arith.divf {v}, %d{i} : {p.dt}"], f"%r{i}"
            return [f"%t{i} = arith.mulf {v}, {c1} : {p.dt}",
                    f"%h{i} = math.tanh %t{i} : {p.dt}",
                    f"%u{i} = arith.addf %h{i}, {one} : {p.dt}",
                    f"%q{i} = arith.mulf {v}, {half} : {p.dt}",
                    f"%r{i} = arith.mulf %q{i}, %u{i} : {p.dt}"], f"%r{i}"
        rank = len(shape)
        return p.generic([(x, shape)], [p.ident(rank)], shape,
                         ["parallel"] * rank, body), shape

    def tensor_arith(self, p, x, shape, other=None):
        """arith on whole tensors (convert-elementwise-to-linalg's job)."""
        op = self.rng.choice(["addf", "mulf", "subf"])
        y = p.fresh("ta")
        p.emit(f"{y} = arith.{op} {x}, {other or x} : {p.t(shape)}")
        return y, shape

    def norm(self, p, x, shape):
        """RMSNorm: a reduction over the last dim, then a broadcast."""
        m, d = shape
        acc = p.zeros([m])
        sq = p.generic([(x, [m, d])], [p.ident(2)], [m],
                       ["parallel", "reduction"],
                       lambda a, o: ([f"%p{p.n} = arith.mulf {a[0]}, {a[0]} : {p.dt}",
                                      f"%s{p.n} = arith.addf %p{p.n}, {o} : {p.dt}"],
                                     f"%s{p.n}"), init=acc)
        eps, inv = p.const(1e-5), p.const(1.0 / d)
        gamma = p.arg([d], "g") if self.rng.random() < 0.5 else None
        ins = [(x, [m, d]), (sq, [m])]
        maps = [p.ident(2), "affine_map<(d0, d1) -> (d0)>"]
        if gamma:
            ins.append((gamma, [d]))
            maps.append("affine_map<(d0, d1) -> (d1)>")

        def body(a, o):
            i = p.n
            lines = [f"%mn{i} = arith.mulf {a[1]}, {inv} : {p.dt}",
                     f"%ad{i} = arith.addf %mn{i}, {eps} : {p.dt}",
                     f"%rs{i} = math.rsqrt %ad{i} : {p.dt}",
                     f"%r{i} = arith.mulf {a[0]}, %rs{i} : {p.dt}"]
            if gamma:
                lines.append(f"%rg{i} = arith.mulf %r{i}, {a[2]} : {p.dt}")
                return lines, f"%rg{i}"
            return lines, f"%r{i}"
        return p.generic(ins, maps, [m, d], ["parallel", "parallel"], body), shape

    def softmax(self, p, x, shape):
        e = p.empty(shape)
        y = p.fresh("sm")
        p.emit(f"{y} = linalg.softmax dimension({len(shape) - 1}) ins({x} : "
               f"{p.t(shape)}) outs({e} : {p.t(shape)}) -> {p.t(shape)}")
        return y, shape

    def reshape_roundtrip(self, p, x, shape):
        m, d = shape
        divisors = [h for h in range(2, d + 1) if d % h == 0]
        if not divisors:
            return x, shape
        h = self.rng.choice(divisors)
        y = p.fresh("ex")
        p.emit(f"{y} = tensor.expand_shape {x} [[0], [1, 2]] output_shape "
               f"[{m}, {h}, {d // h}] : {p.t([m, d])} into {p.t([m, h, d // h])}")
        z, _ = self.activation(p, y, [m, h, d // h])
        c = p.fresh("co")
        p.emit(f"{c} = tensor.collapse_shape {z} [[0], [1, 2]] : "
               f"{p.t([m, h, d // h])} into {p.t([m, d])}")
        return c, shape

    def transpose_roundtrip(self, p, x, shape):
        m, d = shape
        e = p.empty([d, m])
        y = p.fresh("tr")
        p.emit(f"{y} = linalg.transpose ins({x} : {p.t([m, d])}) outs({e} : "
               f"{p.t([d, m])}) permutation = [1, 0]")
        z, _ = self.activation(p, y, [d, m])
        e2 = p.empty([m, d])
        w = p.fresh("tr")
        p.emit(f"{w} = linalg.transpose ins({z} : {p.t([d, m])}) outs({e2} : "
               f"{p.t([m, d])}) permutation = [1, 0]")
        return w, shape

    def mlp(self, p, x, shape):
        n = pick_dim(self.rng)
        h, hs = self.linear(p, x, shape, n, "column")
        h, hs = self.activation(p, h, hs)
        return self.linear(p, h, hs, shape[1], "row")

    def attention(self, p, x, shape):
        m, d = shape
        heads = [h for h in (1, 2, 3, 4, 8) if d % h == 0]
        h = self.rng.choice(heads)
        dh = d // h
        q, _ = self.linear(p, x, shape, d, "column", False)
        k, _ = self.linear(p, x, shape, d, "column", False)
        v, _ = self.linear(p, x, shape, d, "column", False)

        def heads_of(t, perm, out):
            e3 = p.fresh("h")
            p.emit(f"{e3} = tensor.expand_shape {t} [[0], [1, 2]] output_shape "
                   f"[{m}, {h}, {dh}] : {p.t([m, d])} into {p.t([m, h, dh])}")
            e = p.empty(out)
            r = p.fresh("ht")
            p.emit(f"{r} = linalg.transpose ins({e3} : {p.t([m, h, dh])}) "
                   f"outs({e} : {p.t(out)}) permutation = {perm}")
            return r
        qh = heads_of(q, "[1, 0, 2]", [h, m, dh])
        kt = heads_of(k, "[1, 2, 0]", [h, dh, m])
        vh = heads_of(v, "[1, 0, 2]", [h, m, dh])
        s0 = p.zeros([h, m, m])
        s = p.fresh("bmm")
        p.emit(f"{s} = linalg.batch_matmul ins({qh}, {kt} : {p.t([h, m, dh])}, "
               f"{p.t([h, dh, m])}) outs({s0} : {p.t([h, m, m])}) -> {p.t([h, m, m])}")
        pr, _ = self.softmax(p, s, [h, m, m])
        o0 = p.zeros([h, m, dh])
        o = p.fresh("bmm")
        p.emit(f"{o} = linalg.batch_matmul ins({pr}, {vh} : {p.t([h, m, m])}, "
               f"{p.t([h, m, dh])}) outs({o0} : {p.t([h, m, dh])}) -> {p.t([h, m, dh])}")
        e = p.empty([m, h, dh])
        ot = p.fresh("ot")
        p.emit(f"{ot} = linalg.transpose ins({o} : {p.t([h, m, dh])}) outs({e} : "
               f"{p.t([m, h, dh])}) permutation = [1, 0, 2]")
        c = p.fresh("oc")
        p.emit(f"{c} = tensor.collapse_shape {ot} [[0], [1, 2]] : "
               f"{p.t([m, h, dh])} into {p.t([m, d])}")
        return self.linear(p, c, shape, d, "row", False)

    def row_sum(self, p, x, shape):
        m, d = shape
        acc = p.zeros([m])
        return p.generic([(x, shape)], [p.ident(2)], [m],
                         ["parallel", "reduction"],
                         lambda a, o: ([f"%s{p.n} = arith.addf {a[0]}, {o} : {p.dt}"],
                                       f"%s{p.n}"), init=acc), [m]

    def program(self, dtype):
        p = Program(self.rng, dtype)
        m, d = pick_dim(self.rng), pick_dim(self.rng)
        x = p.arg([m, d], "x")
        shape = [m, d]
        results = []
        blocks = ["mlp", "mlp", "attention", "linear", "activation", "norm",
                  "softmax", "reshape", "transpose", "residual", "arith"]
        for _ in range(self.rng.randint(1, 4)):
            block = self.rng.choice(blocks)
            before = (x, list(shape))
            if block == "mlp":
                x, shape = self.mlp(p, x, shape)
            elif block == "attention":
                x, shape = self.attention(p, x, shape)
            elif block == "linear":
                x, shape = self.linear(p, x, shape, pick_dim(self.rng),
                                       self.rng.choice(["column", "row", None]))
            elif block == "activation":
                x, shape = self.activation(p, x, shape)
            elif block == "norm":
                x, shape = self.norm(p, x, shape)
            elif block == "softmax":
                x, shape = self.softmax(p, x, shape)
            elif block == "reshape":
                x, shape = self.reshape_roundtrip(p, x, shape)
            elif block == "transpose":
                x, shape = self.transpose_roundtrip(p, x, shape)
            elif block == "arith":
                x, shape = self.tensor_arith(p, x, shape)
            if block == "residual" or (self.rng.random() < 0.2 and
                                       shape == before[1] and x != before[0]):
                x, shape = self.tensor_arith(p, x, shape, before[0]) \
                    if x != before[0] else (x, shape)
        if self.rng.random() < 0.2:
            results.append(self.row_sum(p, x, shape))
        results.insert(0, (x, shape))
        if self.rng.random() < 0.1:
            results.append((p.args[0][0], [m, d]))  # an argument returned as is
        return p.text([(v, p.t(s)) for v, s in results])


def classify(rc, out, err):
    """'ok', 'diagnostic' or a failure description."""
    if rc < 0:
        return f"crash: signal {-rc}"
    for pattern in CRASH_PATTERNS:
        if pattern in err:
            return f"crash: {pattern}"
    if rc == 0:
        return "ok" if "llvm.func @tp_entry" in out else \
            "failure: success without tp_entry"
    if "error:" not in err:
        return "failure: failed without a diagnostic"
    return "diagnostic"


def first_error(err):
    for line in err.splitlines():
        if "error:" in line:
            msg = line.split("error:", 1)[1].strip()
            return re.sub(r"\d+", "N", msg)[:100]
    return ""


def run(cmd, timeout):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timeout"


def make_case(seed, index):
    """Case `index` of `seed`: (program, tp size, uneven policy, plan?, rng,
    dtype)."""
    rng = random.Random(f"{seed}:{index}")
    dtype = rng.choice(["f32", "f32", "bf16", "f16"])
    mode = rng.choice(["none", "megatron", "megatron", "random"])
    text = Generator(rng, mode).program(dtype)
    tp = rng.choice([1, 2, 2, 3, 4, 8])
    uneven = rng.choice(["error", "replicate", "pad", "pad"])
    plan = rng.random() < 0.6
    return text, tp, uneven, plan, rng, dtype


def one_case(args, index):
    text, tp, uneven, plan, rng, dtype = make_case(args.seed, index)
    with tempfile.TemporaryDirectory(prefix="tp-fuzz-") as tmp:
        path = os.path.join(tmp, "case.mlir")
        with open(path, "w") as f:
            f.write(text)
        # The program itself must verify: otherwise the generator is wrong.
        rc, out, err = run([args.tp_opt, path, "-o", os.devnull], args.timeout)
        if rc != 0:
            # The tp dialect's verifier rejects a bad annotation on its own.
            if rc > 0 and "unknown 'tp.parallel' value" in err:
                return index, text, [path], "diagnostic", first_error(err)
            return index, text, [path], "generator: invalid program", err
        opts = f"tp-size={tp} uneven={uneven}"
        passes = ([f"tp-plan{{{opts}}}"] if plan else []) + \
            [f"tp-partition{{{opts}}}", "canonicalize", "cse", "tp-cpu-pipeline"]
        cmd = [args.tp_opt, path,
               "--pass-pipeline=builtin.module(" + ",".join(passes) + ")"]
        rc, out, err = run(cmd, args.timeout)
        if rc is None:
            return index, text, cmd, "failure: timeout", err
        verdict = classify(rc, out, err)
        if verdict == "ok" and args.tp_run and rng.random() < args.run_fraction:
            # Sharded and unsharded runs sum in different orders: bf16 and
            # f16 keep 8 and 11 bits.
            tolerance = {"f32": 1e-4, "f16": 2e-2, "bf16": 5e-2}[dtype]
            rcmd = [args.tp_run, path, f"--tp-size={tp}", f"--uneven={uneven}",
                    "--check", f"--tolerance={tolerance}", "--quiet"]
            rrc, rout, rerr = run(rcmd, args.timeout * 4)
            if rrc is None:
                return index, text, rcmd, "tp-run: timeout", rerr
            if "--check failed" in rerr:
                return index, text, rcmd, "tp-run: wrong result", rout + rerr
            rv = classify(rrc, "llvm.func @tp_entry", rerr)
            if rv.startswith("crash"):
                return index, text, rcmd, "tp-run " + rv, rerr
            if rrc != 0:
                return index, text, rcmd, "tp-run: failed after tp-opt " \
                    "compiled the program", rerr
        detail = first_error(err) if verdict == "diagnostic" else err
        return index, text, cmd, verdict, detail


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tp-opt", required=True)
    ap.add_argument("--tp-run", default="")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--time-budget", type=float, default=0,
                    help="stop starting cases after this many seconds")
    ap.add_argument("--timeout", type=float, default=60,
                    help="seconds per tp-opt run before it counts as a hang")
    ap.add_argument("--run-fraction", type=float, default=0.0,
                    help="fraction of successful cases also run by tp-run --check")
    ap.add_argument("--out", default="", help="write failing cases here")
    ap.add_argument("--print", type=int, metavar="INDEX", default=None,
                    help="print the program of case INDEX and exit")
    args = ap.parse_args()
    if args.print is not None:
        text, tp, uneven, plan, _, _ = make_case(args.seed, args.print)
        sys.stdout.write(f"// tp-size={tp} uneven={uneven} plan={plan}\n" + text)
        return 0

    start = time.monotonic()
    counts = collections.Counter()
    diagnostics = collections.Counter()
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        pending = set()
        index = 0
        while index < args.count or pending:
            while index < args.count and len(pending) < args.jobs and not (
                    args.time_budget and time.monotonic() - start > args.time_budget):
                pending.add(pool.submit(one_case, args, index))
                index += 1
            if not pending:
                break
            done, pending = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                i, text, cmd, verdict, detail = future.result()
                kind = verdict.split(":")[0]
                counts[kind] += 1
                if verdict == "diagnostic":
                    diagnostics[detail] += 1
                elif verdict != "ok":
                    failures.append((i, verdict))
                    print(f"case {i}: {verdict}\n  {' '.join(cmd)}\n"
                          f"{detail[-2000:]}", file=sys.stderr)
                    if args.out:
                        os.makedirs(args.out, exist_ok=True)
                        with open(os.path.join(args.out, f"case-{args.seed}-{i}.mlir"), "w") as f:
                            f.write(f"// {verdict}\n// {' '.join(cmd)}\n" + text)
    total = sum(counts.values())
    print(f"fuzz_programs: seed {args.seed}: {total} cases in "
          f"{time.monotonic() - start:.1f} s: " +
          ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for msg, n in diagnostics.most_common(8):
        print(f"  diagnostic x{n}: {msg}")
    if failures:
        print(f"fuzz_programs: {len(failures)} FAILED: " +
              ", ".join(f"case {i} ({v})" for i, v in failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
