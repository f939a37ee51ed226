#!/usr/bin/env python3
"""Generates transformer programs in linalg-on-tensors as torch-mlir emits
them (nn.Linear as a transposing linalg.generic + linalg.matmul on the
flattened tokens + a broadcasting bias generic; views as
tensor.expand_shape/collapse_shape; softmax and norms as linalg.generic
reductions), for tp-mlir's examples, tests and benchmarks.

  gen_transformer.py --arch gpt2|llama [--layers N] [--batch B] [--seq S]
                     [--hidden E] [--heads H] [--kv-heads G] [--ffn F]
                     [--vocab V] [--embed] [--lm-head] [--fused-qkv]
                     [--rope slices|concat|interleaved]
                     [--rope-table arg|const|gather] [--rope-layout bhsd|bshd]
                     [--scores bmm|generic] [--transpose generic|named]
                     [--softmax generic|named] [--dtype f32|bf16]
                     [--packed layer|model|attn] [--annotate]
                     [--weights-as-constants dense|resource] [--seed N]
                     [-o FILE]

gpt2: LayerNorm, biases, tanh-GELU MLP. llama: RMSNorm, no biases, SwiGLU
MLP, grouped-query attention (--kv-heads). --embed adds a token embedding
lookup (token ids as an i64 argument), --lm-head a final norm and an LM head
over the vocabulary. --rope applies rotary position embeddings to Q and K
in one of the forms frontends emit: rotate_half as two extract_slice halves,
a negation and two insert_slices into a tensor.empty (TorchDynamo/TOSA
importers), rotate_half as tensor.concat (torch-mlir's torch.cat), or
Meta's interleaved pairs (a [.., D/2, 2] view whose partner element is read
with tensor.extract); the cos/sin tables are arguments, constants, or
gathered by position ids (an i64 argument) from [2S, ..] tables;
--rope-layout says whether it is applied after the head transpose
([B, H, S, D], default) or before it ([B, S, H, D]). --packed passes the
weights packed the way some exporters emit them: `layer` puts each layer's
weights (norms, biases, projections) in one flat argument cut into 1-D
slices, each reshaped into its matrix; `model` does that for all of the
model's weights (embedding and LM head included); `attn` stacks each layer's
[out, in] attention weights wq, wk, wv and wo along the rows of one 2-D
argument, cut by 2-D slices (wo is split on its columns, the others on their
rows). --annotate writes Megatron's tp.parallel annotations
(otherwise the program has none and tp-plan decides).
--weights-as-constants emits the parameters (weights, biases, norm gains,
tables; not the inputs x / ids / positions / caches) as tensor constants, as
torch-mlir does by default: `arith.constant dense<"0x...">` or
`arith.constant dense_resource<NAME>` with the data in the file's
dialect_resources; the values are uniform in +-1/sqrt(last dimension) from
--seed.
"""
import argparse
import math
import random
import struct
import sys


class Emitter:
    def __init__(self, dtype):
        self.lines = []
        self.n = 0
        self.dt = dtype
        self.resources = []  # (name, hex data) for dialect_resources

    def fresh(self, base="v"):
        self.n += 1
        return f"%{base}{self.n}"

    def emit(self, line):
        self.lines.append("    " + line)

    def write_module(self, path, name, comments, args, results):
        """Writes a module holding one function @name of the emitted lines
        to `path` ("-": stdout): `args` are (name, type) pairs, `results`
        (value, shape) pairs returned in order; `comments` head the file."""
        sig = ",\n      ".join(f"%{n}: {t}" for n, t in args)
        rtypes = ", ".join(self.t(s) for _, s in results)
        out = [f"// {c}" for c in comments] + ["module {"]
        out.append(f"  func.func @{name}(\n      {sig}) -> ({rtypes}) {{")
        out.extend(self.lines)
        out.append(f"    return {', '.join(v for v, _ in results)} : {rtypes}")
        out += ["  }", "}"]
        if self.resources:
            out += ["{-#", "  dialect_resources: {", "    builtin: {"]
            out += [f'      {n}: "0x{h}"' + ("," if i + 1 < len(self.resources) else "")
                    for i, (n, h) in enumerate(self.resources)]
            out += ["    }", "  }", "#-}"]
        text = "\n".join(out) + "\n"
        if path == "-":
            sys.stdout.write(text)
        else:
            with open(path, "w") as f:
                f.write(text)

    def t(self, shape, dt=None):
        return "tensor<" + "x".join(str(s) for s in shape) + "x" + (dt or self.dt) + ">"

    # -- building blocks -----------------------------------------------------
    def constant_tensor(self, name, shape, dt, rng, form):
        """%name = a non-splat tensor constant of random values: floats
        uniform in +-1/sqrt(shape[-1]), integers in [0, 2); its data as
        hex (`dense`) or as a dialect resource (`resource`)."""
        n = math.prod(shape)
        if dt in ("f32", "f16", "bf16", "f64"):
            bound = 1.0 / math.sqrt(shape[-1])
            vals = [rng.uniform(-bound, bound) for _ in range(n)]
            if dt == "bf16":  # the high half of each f32
                words = struct.unpack(f"<{n}I", struct.pack(f"<{n}f", *vals))
                data = struct.pack(f"<{n}H", *(w >> 16 for w in words))
            else:
                data = struct.pack(f"<{n}" + {"f32": "f", "f16": "e", "f64": "d"}[dt], *vals)
        elif dt in ("i32", "i64"):
            data = struct.pack(f"<{n}" + {"i32": "i", "i64": "q"}[dt], *(rng.randrange(2) for _ in range(n)))
        else:
            sys.exit(f"--weights-as-constants: no constants of {dt}")
        if form == "dense":
            self.emit(f'%{name} = arith.constant dense<"0x{data.hex().upper()}"> : {self.t(shape, dt)}')
        else:  # a blob starts with its alignment (u32, little-endian)
            align = struct.pack("<I", len(data) // n)
            self.resources.append((name, (align + data).hex().upper()))
            self.emit(f"%{name} = arith.constant dense_resource<{name}> : {self.t(shape, dt)}")
        return f"%{name}"

    def const(self, value, dt=None):
        v = self.fresh("c")
        dt = dt or self.dt
        if dt in ("f32", "bf16", "f16"):
            self.emit(f"{v} = arith.constant {value:.9e} : {dt}")
        else:
            self.emit(f"{v} = arith.constant {value} : {dt}")
        return v

    def empty(self, shape, dt=None):
        v = self.fresh("e")
        self.emit(f"{v} = tensor.empty() : {self.t(shape, dt)}")
        return v

    def fill(self, value, shape):
        e = self.empty(shape)
        c = self.const(value)
        v = self.fresh("f")
        self.emit(f"{v} = linalg.fill ins({c} : {self.dt}) outs({e} : {self.t(shape)}) -> {self.t(shape)}")
        return v

    def generic(self, ins, out_shape, maps, iters, body, out_init=None, attrs=""):
        """ins: list of (value, shape). body(args) -> list of lines, last yields."""
        init = out_init or self.empty(out_shape)
        v = self.fresh("g")
        ins_s = ", ".join(x for x, _ in ins)
        ins_t = ", ".join(self.t(s) for _, s in ins)
        maps_s = ", ".join(maps)
        iters_s = ", ".join(f'"{i}"' for i in iters)
        head = f"{v} = linalg.generic {{{attrs}indexing_maps = [{maps_s}], iterator_types = [{iters_s}]}}"
        if ins:
            head += f" ins({ins_s} : {ins_t})"
        head += f" outs({init} : {self.t(out_shape)}) {{"
        self.emit(head)
        args = [f"%a{i}" for i in range(len(ins))] + ["%o"]
        self.emit("^bb0(" + ", ".join(f"{a}: {self.dt}" for a in args) + "):")
        for l in body(args):
            self.emit("  " + l)
        self.emit(f"}} -> {self.t(out_shape)}")
        return v

    @staticmethod
    def amap(n, dims):
        ds = ", ".join(f"d{i}" for i in range(n))
        return f"affine_map<({ds}) -> ({', '.join(dims)})>"

    def transpose(self, x, shape, perm, named):
        out = [shape[p] for p in perm]
        if named:
            e = self.empty(out)
            v = self.fresh("t")
            self.emit(f"{v} = linalg.transpose ins({x} : {self.t(shape)}) outs({e} : {self.t(out)}) permutation = [{', '.join(map(str, perm))}]")
            return v, out
        n = len(shape)
        # out[i] = in[perm[i]]: input map sends d_i (out index) to its input position.
        in_dims = [None] * n
        for i, p in enumerate(perm):
            in_dims[p] = f"d{i}"
        maps = [self.amap(n, in_dims), self.amap(n, [f"d{i}" for i in range(n)])]
        return self.generic([(x, shape)], out, maps, ["parallel"] * n,
                            lambda a: [f"linalg.yield {a[0]} : {self.dt}"]), out

    def collapse(self, x, shape, groups):
        out = []
        for g in groups:
            size = 1
            for d in g:
                size *= shape[d]
            out.append(size)
        v = self.fresh("r")
        gs = ", ".join("[" + ", ".join(map(str, g)) + "]" for g in groups)
        self.emit(f"{v} = tensor.collapse_shape {x} [{gs}] : {self.t(shape)} into {self.t(out)}")
        return v, out

    def expand(self, x, shape, groups, out):
        v = self.fresh("r")
        gs = ", ".join("[" + ", ".join(map(str, g)) + "]" for g in groups)
        self.emit(f"{v} = tensor.expand_shape {x} [{gs}] output_shape [{', '.join(map(str, out))}] : {self.t(shape)} into {self.t(out)}")
        return v, out

    def matmul(self, a, ashape, b, bshape, annotate=None):
        out = [ashape[0], bshape[1]]
        f = self.fill(0.0, out)
        v = self.fresh("mm")
        attr = f' {{tp.parallel = "{annotate}"}}' if annotate else ""
        self.emit(f"{v} = linalg.matmul{attr} ins({a}, {b} : {self.t(ashape)}, {self.t(bshape)}) outs({f} : {self.t(out)}) -> {self.t(out)}")
        return v, out

    def batch_matmul(self, a, ashape, b, bshape):
        out = [ashape[0], ashape[1], bshape[2]]
        f = self.fill(0.0, out)
        v = self.fresh("bmm")
        self.emit(f"{v} = linalg.batch_matmul ins({a}, {b} : {self.t(ashape)}, {self.t(bshape)}) outs({f} : {self.t(out)}) -> {self.t(out)}")
        return v, out

    def bias_add(self, x, shape, b):
        n = len(shape)
        ident = self.amap(n, [f"d{i}" for i in range(n)])
        return self.generic([(x, shape), (b, [shape[-1]])], shape,
                            [ident, self.amap(n, [f"d{n-1}"]), ident], ["parallel"] * n,
                            lambda a: [f"%s = arith.addf {a[0]}, {a[1]} : {self.dt}", f"linalg.yield %s : {self.dt}"])

    def binary(self, x, y, shape, op):
        n = len(shape)
        ident = self.amap(n, [f"d{i}" for i in range(n)])
        return self.generic([(x, shape), (y, shape)], shape, [ident] * 3, ["parallel"] * n,
                            lambda a: [f"%s = arith.{op} {a[0]}, {a[1]} : {self.dt}", f"linalg.yield %s : {self.dt}"])

    def linear(self, x2d, shape2d, w, out_features, bias, named_t, annotate=None):
        """nn.Linear: x @ w^T (+ b), w is [out, in]."""
        wt, wts = self.transpose(w, [out_features, shape2d[1]], [1, 0], named_t)
        y, ys = self.matmul(x2d, shape2d, wt, wts, annotate)
        if bias is not None:
            y = self.bias_add(y, ys, bias)
        return y, ys

    def reduce_last(self, x, shape, combine, init, pre=None):
        """Reduces the last dim of x; pre(a) -> (lines, value) applied to input."""
        n = len(shape)
        out = shape[:-1]
        f = self.fill(init, out)
        def body(a):
            lines, val = pre(a[0]) if pre else ([], a[0])
            return lines + [f"%r = arith.{combine} {val}, {a[1]} : {self.dt}", f"linalg.yield %r : {self.dt}"]
        return self.generic([(x, shape)], out,
                            [self.amap(n, [f"d{i}" for i in range(n)]), self.amap(n, [f"d{i}" for i in range(n - 1)])],
                            ["parallel"] * (n - 1) + ["reduction"], body, out_init=f)

    def layernorm(self, x, shape, gamma, beta, eps=1e-5, rms=False):
        n = len(shape)
        E = shape[-1]
        ident = self.amap(n, [f"d{i}" for i in range(n)])
        row = self.amap(n, [f"d{i}" for i in range(n - 1)])
        last = self.amap(n, [f"d{n-1}"])
        inv_e = self.const(1.0 / E)
        eps_c = self.const(eps)
        if rms:
            ss = self.reduce_last(x, shape, "addf", 0.0,
                                  pre=lambda v: ([f"%sq = arith.mulf {v}, {v} : {self.dt}"], "%sq"))
            def body(a):
                return [f"%m = arith.mulf {a[1]}, {inv_e} : {self.dt}",
                        f"%me = arith.addf %m, {eps_c} : {self.dt}",
                        f"%rs = math.rsqrt %me : {self.dt}",
                        f"%y = arith.mulf {a[0]}, %rs : {self.dt}",
                        f"%z = arith.mulf %y, {a[2]} : {self.dt}",
                        f"linalg.yield %z : {self.dt}"]
            return self.generic([(x, shape), (ss, shape[:-1]), (gamma, [E])], shape,
                                [ident, row, last, ident], ["parallel"] * n, body)
        s = self.reduce_last(x, shape, "addf", 0.0)
        mean = self.generic([(s, shape[:-1])], shape[:-1], [self.amap(n - 1, [f"d{i}" for i in range(n - 1)])] * 2,
                            ["parallel"] * (n - 1),
                            lambda a: [f"%m = arith.mulf {a[0]}, {inv_e} : {self.dt}", f"linalg.yield %m : {self.dt}"])
        def sq_dev(a):
            return [f"%d = arith.subf {a[0]}, {a[1]} : {self.dt}", f"%d2 = arith.mulf %d, %d : {self.dt}",
                    f"%r = arith.addf %d2, {a[2]} : {self.dt}", f"linalg.yield %r : {self.dt}"]
        f = self.fill(0.0, shape[:-1])
        var = self.generic([(x, shape), (mean, shape[:-1])], shape[:-1], [ident, row, row],
                           ["parallel"] * (n - 1) + ["reduction"], sq_dev, out_init=f)
        def norm(a):
            return [f"%d = arith.subf {a[0]}, {a[1]} : {self.dt}",
                    f"%v = arith.mulf {a[2]}, {inv_e} : {self.dt}",
                    f"%ve = arith.addf %v, {eps_c} : {self.dt}",
                    f"%rs = math.rsqrt %ve : {self.dt}",
                    f"%y = arith.mulf %d, %rs : {self.dt}",
                    f"%z = arith.mulf %y, {a[3]} : {self.dt}",
                    f"%w = arith.addf %z, {a[4]} : {self.dt}",
                    f"linalg.yield %w : {self.dt}"]
        return self.generic([(x, shape), (mean, shape[:-1]), (var, shape[:-1]), (gamma, [E]), (beta, [E])], shape,
                            [ident, row, row, last, last, ident], ["parallel"] * n, norm)

    def softmax_last(self, x, shape, named):
        n = len(shape)
        if named:
            e = self.empty(shape)
            v = self.fresh("sm")
            self.emit(f"{v} = linalg.softmax dimension({n-1}) ins({x} : {self.t(shape)}) outs({e} : {self.t(shape)}) -> {self.t(shape)}")
            return v
        ident = self.amap(n, [f"d{i}" for i in range(n)])
        row = self.amap(n, [f"d{i}" for i in range(n - 1)])
        mx = self.reduce_last(x, shape, "maximumf", -3.0e38)
        ex = self.generic([(x, shape), (mx, shape[:-1])], shape, [ident, row, ident], ["parallel"] * n,
                          lambda a: [f"%d = arith.subf {a[0]}, {a[1]} : {self.dt}", f"%e = math.exp %d : {self.dt}",
                                     f"linalg.yield %e : {self.dt}"])
        sm = self.reduce_last(ex, shape, "addf", 0.0)
        return self.generic([(ex, shape), (sm, shape[:-1])], shape, [ident, row, ident], ["parallel"] * n,
                            lambda a: [f"%q = arith.divf {a[0]}, {a[1]} : {self.dt}", f"linalg.yield %q : {self.dt}"])


def rope_tables(em, a, S, D, param):
    """cos/sin tables for rotary embeddings: (cos, sin, shape) where shape is
    [S, W] or [B, S, W] (gathered by position ids); W = D (rotate_half) or
    D/2 (interleaved pairs)."""
    W = D // 2 if a.rope == "interleaved" else D
    half = D // 2

    def freq(pos, j):
        i = j % half if a.rope != "interleaved" else j
        return pos / (10000.0 ** (2.0 * i / D))

    if a.rope_table == "arg":
        return param("rope_cos", [S, W]), param("rope_sin", [S, W]), [S, W]
    if a.rope_table == "const":
        out = []
        for fn in (math.cos, math.sin):
            rows = ", ".join("[" + ", ".join(f"{fn(freq(s_, j)):.6e}" for j in range(W)) + "]" for s_ in range(S))
            v = em.fresh("rope")
            em.emit(f"{v} = arith.constant dense<[{rows}]> : {em.t([S, W])}")
            out.append(v)
        return out[0], out[1], [S, W]
    # gather: position ids [B, S] index [2S, W] tables
    B = a.batch
    ids = param("pos_ids", [B, S], "i64", is_input=True)
    tables = [param("rope_cos_table", [2 * S, W]), param("rope_sin_table", [2 * S, W])]
    out = []
    for table in tables:
        e = em.empty([B, S, W])
        v = em.fresh("rg")
        em.emit(f"{v} = linalg.generic {{indexing_maps = [{em.amap(3, ['d0', 'd1'])}, {em.amap(3, ['d0', 'd1', 'd2'])}], iterator_types = [\"parallel\", \"parallel\", \"parallel\"]}} ins({ids} : {em.t([B, S], 'i64')}) outs({e} : {em.t([B, S, W])}) {{")
        em.emit(f"^bb0(%id: i64, %o: {em.dt}):")
        em.emit("  %row = arith.index_cast %id : i64 to index")
        em.emit("  %col = linalg.index 2 : index")
        em.emit(f"  %val = tensor.extract {table}[%row, %col] : {em.t([2 * S, W])}")
        em.emit(f"  linalg.yield %val : {em.dt}")
        em.emit(f"}} -> {em.t([B, S, W])}")
        out.append(v)
    return out[0], out[1], [B, S, W]


def apply_rope(em, a, x, shape, tables):
    """Rotary embedding of x ([B, H, S, D] or [B, S, H, D] per --rope-layout)."""
    cos, sin, tshape = tables
    n = 4
    D = shape[3]
    half = D // 2
    bhsd = a.rope_layout == "bhsd"
    s_dim = 2 if bhsd else 1
    ident = em.amap(n, [f"d{i}" for i in range(n)])
    if a.rope == "interleaved":
        n = 5
        x5, x5s = em.expand(x, shape, [[0], [1], [2], [3, 4]], shape[:3] + [half, 2])
        tmap = ([f"d{s_dim}", "d3"] if len(tshape) == 2 else ["d0", f"d{s_dim}", "d3"])
        ident5 = em.amap(5, [f"d{i}" for i in range(5)])
        def body(args):
            return ["%i0 = linalg.index 0 : index", "%i1 = linalg.index 1 : index",
                    "%i2 = linalg.index 2 : index", "%i3 = linalg.index 3 : index",
                    "%j = linalg.index 4 : index", "%one = arith.constant 1 : index",
                    "%pj = arith.subi %one, %j : index",
                    f"%partner = tensor.extract {x5}[%i0, %i1, %i2, %i3, %pj] : {em.t(x5s)}",
                    "%zero = arith.constant 0 : index",
                    "%isreal = arith.cmpi eq, %j, %zero : index",
                    f"%xc = arith.mulf {args[0]}, {args[1]} : {em.dt}",
                    f"%ps = arith.mulf %partner, {args[2]} : {em.dt}",
                    f"%neg = arith.negf %ps : {em.dt}",
                    f"%term = arith.select %isreal, %neg, %ps : {em.dt}",
                    f"%r = arith.addf %xc, %term : {em.dt}",
                    f"linalg.yield %r : {em.dt}"]
        y5 = em.generic([(x5, x5s), (cos, tshape), (sin, tshape)], x5s,
                        [ident5, em.amap(5, tmap), em.amap(5, tmap), ident5], ["parallel"] * 5, body)
        return em.collapse(y5, x5s, [[0], [1], [2], [3, 4]])[0]
    hshape = shape[:3] + [half]

    def half_slice(off):
        v = em.fresh("rh")
        em.emit(f"{v} = tensor.extract_slice {x}[0, 0, 0, {off}] [{', '.join(map(str, hshape))}] [1, 1, 1, 1] : {em.t(shape)} to {em.t(hshape)}")
        return v
    x1, x2 = half_slice(0), half_slice(half)
    ident_h = em.amap(4, [f"d{i}" for i in range(4)])
    n2 = em.generic([(x2, hshape)], hshape, [ident_h, ident_h], ["parallel"] * 4,
                    lambda args: [f"%n = arith.negf {args[0]} : {em.dt}", f"linalg.yield %n : {em.dt}"])
    if a.rope == "concat":
        rot = em.fresh("rc")
        em.emit(f"{rot} = tensor.concat dim(3) {n2}, {x1} : ({em.t(hshape)}, {em.t(hshape)}) -> {em.t(shape)}")
    else:
        e = em.empty(shape)
        i1 = em.fresh("ri")
        em.emit(f"{i1} = tensor.insert_slice {n2} into {e}[0, 0, 0, 0] [{', '.join(map(str, hshape))}] [1, 1, 1, 1] : {em.t(hshape)} into {em.t(shape)}")
        rot = em.fresh("ri")
        em.emit(f"{rot} = tensor.insert_slice {x1} into {i1}[0, 0, 0, {half}] [{', '.join(map(str, hshape))}] [1, 1, 1, 1] : {em.t(hshape)} into {em.t(shape)}")
    tmap = em.amap(4, [f"d{s_dim}", "d3"] if len(tshape) == 2 else ["d0", f"d{s_dim}", "d3"])
    return em.generic([(x, shape), (rot, shape), (cos, tshape), (sin, tshape)], shape,
                      [ident, ident, tmap, tmap, ident], ["parallel"] * 4,
                      lambda args: [f"%xc = arith.mulf {args[0]}, {args[2]} : {em.dt}",
                                    f"%rs = arith.mulf {args[1]}, {args[3]} : {em.dt}",
                                    f"%r = arith.addf %xc, %rs : {em.dt}", f"linalg.yield %r : {em.dt}"])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=["gpt2", "llama"], default="gpt2")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seq", type=int, default=16)
    p.add_argument("--hidden", type=int, default=96)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--kv-heads", type=int, default=None)
    p.add_argument("--ffn", type=int, default=None)
    p.add_argument("--vocab", type=int, default=512)
    p.add_argument("--embed", action="store_true")
    p.add_argument("--lm-head", action="store_true")
    p.add_argument("--fused-qkv", action="store_true")
    p.add_argument("--fused-qkv-view", action="store_true",
                   help="fused QKV cut apart as qkv.view(B, S, 3, H, D).permute(2, 0, 3, 1, 4)[i] "
                        "(expand_shape, transpose, select) instead of by slices; needs kv-heads == heads")
    p.add_argument("--scores", choices=["bmm", "bmm-merged", "generic"], default="bmm",
                   help="bmm: K transposed as [B, H, D, S], then [B*H] views around batch_matmuls; "
                        "bmm-merged: views to [B*H, S, D] first, K transposed as a merged tensor "
                        "(torch.bmm(q.reshape(B*H, S, D), k.reshape(B*H, S, D).transpose(1, 2)))")
    p.add_argument("--transpose", choices=["generic", "named"], default="generic")
    p.add_argument("--softmax", choices=["generic", "named"], default="generic")
    p.add_argument("--rope", choices=["none", "slices", "concat", "interleaved"], default="none")
    p.add_argument("--rope-table", choices=["arg", "const", "gather"], default="arg")
    p.add_argument("--rope-layout", choices=["bhsd", "bshd"], default="bhsd")
    p.add_argument("--decode", type=int, default=None, metavar="SMAX",
                   help="a KV-cache decode step: --seq new tokens per sequence (1 for decoding) "
                        "attend to per-layer caches [B, KV heads, SMAX, D] (arguments l<i>_k_cache, "
                        "l<i>_v_cache) after writing their keys and values at position %%pos "
                        "(a tensor<1xi64> argument) with tensor.insert_slice; the updated caches "
                        "are returned after the output")
    p.add_argument("--dtype", default="f32")
    p.add_argument("--packed", choices=["none", "layer", "model", "attn"], default="none")
    p.add_argument("--annotate", action="store_true")
    p.add_argument("--weights-as-constants", choices=["dense", "resource"], default=None,
                   help="parameters as tensor constants (dense hex or dense_resource), not arguments")
    p.add_argument("--seed", type=int, default=0, help="seed of --weights-as-constants' values")
    p.add_argument("--name", default=None)
    p.add_argument("-o", "--output", default="-")
    a = p.parse_args()

    B, S, E, H = a.batch, a.seq, a.hidden, a.heads
    G = a.kv_heads or H
    D = E // H
    F = a.ffn or (4 * E if a.arch == "gpt2" else int(8 * E / 3 // 16 * 16) or 16)
    if E % H or H % G:
        sys.exit("hidden must be divisible by heads and heads by kv-heads")
    if a.fused_qkv_view and G != H:
        sys.exit("--fused-qkv-view needs kv-heads == heads")
    if a.decode is not None and (a.fused_qkv_view or a.decode < a.seq):
        sys.exit("--decode needs SMAX >= --seq and no --fused-qkv-view")
    if a.rope != "none" and (D % 2 or a.fused_qkv_view):
        sys.exit("--rope needs an even head dim and no --fused-qkv-view")
    gpt2 = a.arch == "gpt2"
    named_t = a.transpose == "named"
    em = Emitter(a.dtype)
    T = B * S
    ann = (lambda k: k) if a.annotate else (lambda k: None)

    params = []  # (name, shape, dtype)
    packs = {}  # packed argument name -> [size (flat) or rows (attn), placeholder]
    unpacked = {"x", "ids", "pos"}  # activations and indices stay arguments

    def pack_of(name):
        """The packed argument `name` goes to, or None."""
        if a.packed == "none" or name in unpacked or "cache" in name or name.startswith("rope"):
            return None
        layer = name.split("_")[0] if name[0] == "l" and name.split("_")[0][1:].isdigit() else None
        if a.packed == "model":
            return "packed"
        if a.packed == "layer":
            return f"{layer}_packed" if layer else None
        if a.packed == "attn" and layer and name.split("_", 1)[1] in ("wq", "wk", "wv", "wo"):
            return f"{layer}_attn"
        return None

    rng = random.Random(a.seed)

    def param(name, shape, dt=None, is_input=False):
        """An argument (or a piece of a packed one), or with
        --weights-as-constants a constant unless it is an input the step runs
        on (tokens, positions, caches)."""
        dt = dt or a.dtype
        if a.weights_as_constants and not is_input:
            return em.constant_tensor(name, shape, dt, rng, a.weights_as_constants)
        pk = pack_of(name) if dt == a.dtype else None
        if pk is None:
            params.append((name, shape, dt))
            return f"%{name}"
        if pk not in packs:
            packs[pk] = [0, f"@@{pk}@@"]
            params.append((pk, None, dt))  # its type is known at the end
        off, ph = packs[pk]
        v = em.fresh(name)
        if a.packed == "attn":
            # rows [off, off + shape[0]) of a [rows, E] argument
            packs[pk][0] += shape[0]
            em.emit(f"{v} = tensor.extract_slice %{pk}[{off}, 0] [{shape[0]}, {shape[1]}] [1, 1] : {ph} to {em.t(shape)}")
            return v
        n = math.prod(shape)
        packs[pk][0] += n
        em.emit(f"{v} = tensor.extract_slice %{pk}[{off}] [{n}] [1] : {ph} to {em.t([n])}")
        if len(shape) == 1:
            return v
        w = em.fresh(name)
        groups = ", ".join(str(i) for i in range(len(shape)))
        em.emit(f"{w} = tensor.expand_shape {v} [[{groups}]] output_shape {list(shape)} : {em.t([n])} into {em.t(shape)}")
        return w

    if a.embed:
        ids = param("ids", [B, S], "i64", is_input=True)
        table = param("wte", [a.vocab, E])
        # Embedding lookup: out[b, s, e] = wte[ids[b, s], e]
        e = em.empty([B, S, E])
        x = em.fresh("emb")
        em.emit(f"{x} = linalg.generic {{indexing_maps = [{em.amap(3, ['d0', 'd1'])}, {em.amap(3, ['d0', 'd1', 'd2'])}], iterator_types = [\"parallel\", \"parallel\", \"parallel\"]}} ins({ids} : {em.t([B, S], 'i64')}) outs({e} : {em.t([B, S, E])}) {{")
        em.emit(f"^bb0(%id: i64, %o: {a.dtype}):")
        em.emit("  %row = arith.index_cast %id : i64 to index")
        em.emit("  %col = linalg.index 2 : index")
        em.emit(f"  %val = tensor.extract {table}[%row, %col] : {em.t([a.vocab, E])}")
        em.emit(f"  linalg.yield %val : {a.dtype}")
        em.emit(f"}} -> {em.t([B, S, E])}")
    else:
        x = param("x", [B, S, E], is_input=True)
    xs = [B, S, E]

    tables = rope_tables(em, a, S, D, param) if a.rope != "none" else None
    Skv = a.decode if a.decode is not None else S  # keys attended to
    caches = []  # (value, shape) of the updated caches, returned in order
    if a.decode is not None:
        pos_arg = param("pos", [1], "i64", is_input=True)
        c0 = em.fresh("c0")
        em.emit(f"{c0} = arith.constant 0 : index")
        p64 = em.fresh("pos")
        em.emit(f"{p64} = tensor.extract {pos_arg}[{c0}] : {em.t([1], 'i64')}")
        pos = em.fresh("pos")
        em.emit(f"{pos} = arith.index_cast {p64} : i64 to index")

        def write_cache(name, new, shape):
            # cache[:, :, pos:pos+S, :] = new
            cache = param(name, [B, G, Skv, D], is_input=True)
            v = em.fresh("cache")
            em.emit(f"{v} = tensor.insert_slice {new} into {cache}[0, 0, {pos}, 0] [{B}, {G}, {S}, {D}] [1, 1, 1, 1] : {em.t(shape)} into {em.t([B, G, Skv, D])}")
            caches.append((v, [B, G, Skv, D]))
            return v, [B, G, Skv, D]
    scale = em.const(1.0 / math.sqrt(D))
    neg = em.const(-1.0e9)
    for l in range(a.layers):
        pre = f"l{l}_"
        g1 = param(pre + "ln1_g", [E])
        b1 = param(pre + "ln1_b", [E]) if gpt2 else None
        h = em.layernorm(x, xs, g1, b1, rms=not gpt2)
        h2, h2s = em.collapse(h, xs, [[0, 1], [2]])
        bias = lambda n, size: param(pre + n, [size]) if gpt2 else None

        def heads_of(y, nheads, rope=False):
            v, s = em.expand(y, [T, nheads * D], [[0, 1], [2, 3]], [B, S, nheads, D])
            if rope and a.rope_layout == "bshd":
                v = apply_rope(em, a, v, s, tables)
            t, ts = em.transpose(v, s, [0, 2, 1, 3], named_t)  # [B, nh, S, D]
            if rope and a.rope_layout == "bhsd":
                t = apply_rope(em, a, t, ts, tables)
            return t, ts

        if a.fused_qkv_view:
            wqkv = param(pre + "wqkv", [3 * E, E])
            qkv, qkvs = em.linear(h2, h2s, wqkv, 3 * E, bias("bqkv", 3 * E), named_t, ann("column"))
            v5, v5s = em.expand(qkv, qkvs, [[0, 1], [2, 3, 4]], [B, S, 3, H, D])
            t5, t5s = em.transpose(v5, v5s, [2, 0, 3, 1, 4], named_t)  # [3, B, H, S, D]
            def select(i):
                v = em.fresh("sel")
                em.emit(f"{v} = tensor.extract_slice {t5}[{i}, 0, 0, 0, 0] [1, {B}, {H}, {S}, {D}] [1, 1, 1, 1, 1] : {em.t(t5s)} to {em.t([B, H, S, D])}")
                return v
            qh, kh, vh = select(0), select(1), select(2)
            qhs = khs = vhs = [B, H, S, D]
        elif a.fused_qkv:
            wqkv = param(pre + "wqkv", [(H + 2 * G) * D, E])
            qkv, qkvs = em.linear(h2, h2s, wqkv, (H + 2 * G) * D, bias("bqkv", (H + 2 * G) * D), named_t, ann("column"))
            def part(off, size):
                v = em.fresh("sl")
                em.emit(f"{v} = tensor.extract_slice {qkv}[0, {off}] [{T}, {size}] [1, 1] : {em.t(qkvs)} to {em.t([T, size])}")
                return v
            q = part(0, H * D)
            k = part(H * D, G * D)
            v = part((H + G) * D, G * D)
        else:
            wq = param(pre + "wq", [H * D, E])
            wk = param(pre + "wk", [G * D, E])
            wv = param(pre + "wv", [G * D, E])
            q, _ = em.linear(h2, h2s, wq, H * D, bias("bq", H * D), named_t, ann("column"))
            k, _ = em.linear(h2, h2s, wk, G * D, bias("bk", G * D), named_t, ann("column" if G % 1 == 0 else None))
            v, _ = em.linear(h2, h2s, wv, G * D, bias("bv", G * D), named_t, ann("column"))
        if not a.fused_qkv_view:
            qh, qhs = heads_of(q, H, a.rope != "none")
            kh, khs = heads_of(k, G, a.rope != "none")
            vh, vhs = heads_of(v, G)
        if a.decode is not None:
            kh, khs = write_cache(pre + "k_cache", kh, khs)
            vh, vhs = write_cache(pre + "v_cache", vh, vhs)
        if G != H:
            rep = H // G
            def repeat(t, ts):
                # [B, G, S, D] -> [B, G, rep, S, D] (broadcast) -> [B, H, S, D]
                out = [B, G, rep, ts[2], D]
                r = em.generic([(t, ts)], out, [em.amap(5, ["d0", "d1", "d3", "d4"]), em.amap(5, [f"d{i}" for i in range(5)])],
                               ["parallel"] * 5, lambda a_: [f"linalg.yield {a_[0]} : {em.dt}"])
                return em.collapse(r, out, [[0], [1, 2], [3], [4]])
            kh, khs = repeat(kh, khs)
            vh, vhs = repeat(vh, vhs)
        # scores = q @ k^T / sqrt(D), causal mask, softmax
        if a.scores == "bmm-merged":
            q3, q3s = em.collapse(qh, qhs, [[0, 1], [2], [3]])
            km, kms = em.collapse(kh, khs, [[0, 1], [2], [3]])
            k3, k3s = em.transpose(km, kms, [0, 2, 1], named_t)
            s3, s3s = em.batch_matmul(q3, q3s, k3, k3s)
            sc, scs = em.expand(s3, s3s, [[0, 1], [2], [3]], [B, H, S, Skv])
        elif a.scores == "bmm":
            q3, q3s = em.collapse(qh, qhs, [[0, 1], [2], [3]])
            kt, kts = em.transpose(kh, khs, [0, 1, 3, 2], named_t)
            k3, k3s = em.collapse(kt, kts, [[0, 1], [2], [3]])
            s3, s3s = em.batch_matmul(q3, q3s, k3, k3s)
            sc, scs = em.expand(s3, s3s, [[0, 1], [2], [3]], [B, H, S, Skv])
        else:
            f = em.fill(0.0, [B, H, S, Skv])
            sc = em.generic([(qh, qhs), (kh, khs)], [B, H, S, Skv],
                            [em.amap(5, ["d0", "d1", "d2", "d4"]), em.amap(5, ["d0", "d1", "d3", "d4"]), em.amap(5, ["d0", "d1", "d2", "d3"])],
                            ["parallel"] * 4 + ["reduction"],
                            lambda a_: [f"%p = arith.mulf {a_[0]}, {a_[1]} : {em.dt}", f"%s = arith.addf {a_[2]}, %p : {em.dt}", f"linalg.yield %s : {em.dt}"],
                            out_init=f)
            scs = [B, H, S, Skv]
        ident4 = em.amap(4, ["d0", "d1", "d2", "d3"])
        masked = em.generic([(sc, scs)], scs, [ident4, ident4], ["parallel"] * 4,
                            lambda a_: ["%i = linalg.index 2 : index", "%j = linalg.index 3 : index"] +
                                       ([f"%ip = arith.addi %i, {pos} : index",
                                         "%future = arith.cmpi ugt, %j, %ip : index"]
                                        if a.decode is not None else
                                        ["%future = arith.cmpi ugt, %j, %i : index"]) + [
                                        f"%s = arith.mulf {a_[0]}, {scale} : {em.dt}",
                                        f"%m = arith.select %future, {neg}, %s : {em.dt}",
                                        f"linalg.yield %m : {em.dt}"])
        probs = em.softmax_last(masked, scs, a.softmax == "named")
        if a.scores in ("bmm", "bmm-merged"):
            p3, p3s = em.collapse(probs, scs, [[0, 1], [2], [3]])
            v3, v3s = em.collapse(vh, vhs, [[0, 1], [2], [3]])
            c3, c3s = em.batch_matmul(p3, p3s, v3, v3s)
            ctx, ctxs = em.expand(c3, c3s, [[0, 1], [2], [3]], [B, H, S, D])
        else:
            f = em.fill(0.0, [B, H, S, D])
            ctx = em.generic([(probs, scs), (vh, vhs)], [B, H, S, D],
                             [em.amap(5, ["d0", "d1", "d2", "d4"]), em.amap(5, ["d0", "d1", "d4", "d3"]), em.amap(5, ["d0", "d1", "d2", "d3"])],
                             ["parallel"] * 4 + ["reduction"],
                             lambda a_: [f"%p = arith.mulf {a_[0]}, {a_[1]} : {em.dt}", f"%s = arith.addf {a_[2]}, %p : {em.dt}", f"linalg.yield %s : {em.dt}"],
                             out_init=f)
            ctxs = [B, H, S, D]
        ct, cts = em.transpose(ctx, ctxs, [0, 2, 1, 3], named_t)  # [B, S, H, D]
        c2, c2s = em.collapse(ct, cts, [[0, 1], [2, 3]])
        wo = param(pre + "wo", [E, H * D])
        o, os_ = em.linear(c2, c2s, wo, E, bias("bo", E), named_t, ann("row"))
        o3, _ = em.expand(o, os_, [[0, 1], [2]], xs)
        x = em.binary(x, o3, xs, "addf")
        # MLP
        g2 = param(pre + "ln2_g", [E])
        b2 = param(pre + "ln2_b", [E]) if gpt2 else None
        h = em.layernorm(x, xs, g2, b2, rms=not gpt2)
        h2, h2s = em.collapse(h, xs, [[0, 1], [2]])
        if gpt2:
            w1 = param(pre + "w1", [F, E])
            u, us = em.linear(h2, h2s, w1, F, bias("b1", F), named_t, ann("column"))
            c0, c1, half, one = em.const(0.044715), em.const(0.7978845608), em.const(0.5), em.const(1.0)
            ident2 = em.amap(2, ["d0", "d1"])
            act = em.generic([(u, us)], us, [ident2, ident2], ["parallel"] * 2,
                             lambda a_: [f"%v2 = arith.mulf {a_[0]}, {a_[0]} : {em.dt}", f"%v3 = arith.mulf %v2, {a_[0]} : {em.dt}",
                                         f"%t0 = arith.mulf %v3, {c0} : {em.dt}", f"%t1 = arith.addf {a_[0]}, %t0 : {em.dt}",
                                         f"%t2 = arith.mulf %t1, {c1} : {em.dt}", f"%t3 = math.tanh %t2 : {em.dt}",
                                         f"%t4 = arith.addf %t3, {one} : {em.dt}", f"%t5 = arith.mulf {a_[0]}, {half} : {em.dt}",
                                         f"%r = arith.mulf %t5, %t4 : {em.dt}", f"linalg.yield %r : {em.dt}"])
        else:
            wg = param(pre + "w_gate", [F, E])
            wu = param(pre + "w_up", [F, E])
            gt, us = em.linear(h2, h2s, wg, F, None, named_t, ann("column"))
            up, _ = em.linear(h2, h2s, wu, F, None, named_t, ann("column"))
            ident2 = em.amap(2, ["d0", "d1"])
            one = em.const(1.0)
            act = em.generic([(gt, us), (up, us)], us, [ident2, ident2, ident2], ["parallel"] * 2,
                             lambda a_: [f"%n = arith.negf {a_[0]} : {em.dt}", f"%e = math.exp %n : {em.dt}",
                                         f"%d = arith.addf %e, {one} : {em.dt}", f"%s = arith.divf {a_[0]}, %d : {em.dt}",
                                         f"%r = arith.mulf %s, {a_[1]} : {em.dt}", f"linalg.yield %r : {em.dt}"])
        wd = param(pre + ("w2" if gpt2 else "w_down"), [E, F])
        d, ds = em.linear(act, us, wd, E, bias("b2", E), named_t, ann("row"))
        d3, _ = em.expand(d, ds, [[0, 1], [2]], xs)
        x = em.binary(x, d3, xs, "addf")

    result, rtype = x, xs
    if a.lm_head:
        gf = param("lnf_g", [E])
        bf = param("lnf_b", [E]) if gpt2 else None
        h = em.layernorm(x, xs, gf, bf, rms=not gpt2)
        h2, h2s = em.collapse(h, xs, [[0, 1], [2]])
        wlm = param("w_lm", [a.vocab, E])
        logits, ls = em.linear(h2, h2s, wlm, a.vocab, None, named_t, ann("column"))
        result, rtype = em.expand(logits, ls, [[0, 1], [2]], [B, S, a.vocab])

    # The packed arguments' types, now that their sizes are known.
    for pk, (size, ph) in packs.items():
        shape = [size, E] if a.packed == "attn" else [size]
        em.lines = [l.replace(ph, em.t(shape)) for l in em.lines]
        params = [(n, shape if n == pk else s, dt) for n, s, dt in params]
    name = a.name or f"{a.arch}_{'layer' if a.layers == 1 else str(a.layers) + '_layers'}"
    em.write_module(a.output, name,
                    [f"Generated by scripts/gen_transformer.py {' '.join(sys.argv[1:])}",
                     f"{a.arch}: batch {B}, seq {S}, hidden {E}, heads {H}, kv heads {G}, head dim {D}, ffn {F}, layers {a.layers}"],
                    [(n, em.t(s, dt)) for n, s, dt in params],
                    [(result, rtype)] + caches)

if __name__ == "__main__":
    main()
