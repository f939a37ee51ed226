#!/usr/bin/env python3
"""Generates training steps in linalg-on-tensors, written out op by op as
AOTAutograd + torch-mlir emit them (a joint forward + backward graph), for
tp-mlir's tests and benchmarks.

  gen_training.py --block mlp|attention|layer [--arch gpt2|llama]
                  [--layers N] [--batch B] [--seq S] [--hidden E]
                  [--heads H] [--kv-heads G] [--ffn F]
                  [--rope none|slices|concat|interleaved]
                  [--rope-table arg|const|gather] [--rope-layout bhsd|bshd]
                  [--fused-qkv] [--embed] [--lm-head] [--vocab V]
                  [--optimizer sgd|adam] [--weights io|oi]
                  [--transpose generic|named] [--name NAME] [-o FILE]

One function per step. It takes the input activations `x` ([B*S, E]; with
--embed the token ids `ids` [B, S] i64 instead), the rotary tables when they
are arguments (`rope_cos`, `rope_sin`, or `pos_ids` and the gathered
tables; never trained), the parameters (in the order the forward pass uses
them), the optimizer state when there is one (Adam: `m_<param>` and
`v_<param>` after the parameters) and the upstream gradient `g` = dL/dy
([B*S, E]; with --lm-head dL/dlogits [B*S, V]); it returns the output y (a
joint graph returns its forward outputs), the input gradient dL/dx (not
with --embed: token ids have no gradient), the updated parameters and the
updated optimizer state, in that order. Nothing is annotated: which
arguments are parameters is for the planner to find out.

Idioms of real frontends (each forward as gen_transformer.py emits it):
  --rope FORM     rotary position embeddings on Q and K: rotate_half by two
                  extract_slice halves, a negation and insert_slices
                  (`slices`), by tensor.concat (`concat`), or Meta's
                  interleaved pairs read with tensor.extract (`interleaved`);
                  tables as arguments, constants or gathered by position ids
                  (--rope-table), applied on [B, H, S, D] or [B, S, H, D]
                  (--rope-layout). The backward applies the transposed
                  rotation to dQ and dK: dx = dy cos + R^T(dy sin), with
                  R^T(u) = [u2, -u1] for rotate_half (written in the same
                  form as the forward) and, for pairs, the forward with the
                  sin table negated.
  --kv-heads G    grouped-query attention: K/V projections of G heads,
                  repeated to the H query heads in the forward (a broadcast
                  generic to [B, G, H/G, S, D] and a collapse); the backward
                  views the repeated heads' gradient as [B, G, H/G, S, D] and
                  sums over the repeats.
  --fused-qkv     one projection of (H + 2G) D outputs ([E, 3E] for GPT-2's
                  Conv1D) cut into Q, K, V with extract_slice; the backward
                  concatenates dQ, dK, dV (tensor.concat) before the
                  projection's weight and input gradients.
  --embed         a token embedding `wte` [V, E] looked up by a generic that
                  reads the table with tensor.extract. Its weight gradient is
                  the one-hot matmul onehot(ids)^T dx: a generic builds the
                  [B*S, V] one-hot matrix (each id compared with its column
                  index), then transpose + linalg.matmul. Why this form:
                  linalg has no scatter (torch-mlir lowers index_put with
                  accumulate to tm_tensor.scatter, outside linalg), so a
                  lowering that stays in linalg writes the scatter-add of
                  dx's rows onto their ids as a dense contraction over the
                  tokens; of its two spellings (this one, or a generic
                  over [V, E, tokens] that compares and accumulates), the
                  one-hot matmul runs as a GEMM. The vocabulary-parallel
                  plan splits it by rows like the table (Megatron).
  --lm-head       a final norm and an LM head (no bias) over V words (vocab
                  --vocab); g is then dL/dlogits. Megatron's plan: the head
                  column-parallel (vocabulary split), its backward
                  dh = g W row-parallel (one all_reduce), dW split like W.
--batch B > 1 works for every block (tokens flattened to [B*S, E], heads
merged with the batch as [B*H, S, D]).

Blocks:
  mlp        y = act(x W1 + b1) W2 + b2 (gpt2: tanh-GELU, biases;
             llama: SwiGLU, down(silu(x Wg) * (x Wu)), no biases)
  attention  Q, K, V projections, heads through [B, S, H, D] views and a
             transpose to [B*H, S, D], softmax(Q K^T / sqrt(D)) V with
             batch_matmuls, the output projection (biases for gpt2)
  layer      pre-norm transformer layers (gpt2: LayerNorm, llama: RMSNorm),
             attention and MLP with residual adds; --layers stacks them

Weights are `[in, out]` (`io`, GPT-2's Conv1D: y = x W) or `[out, in]`
(`oi`, nn.Linear: y = x W^T through a transpose); the backward pass reads
them as AOTAutograd does (dx = dy W^T, or dy W for `oi`) and computes
dW = x^T dy (`io`) or dy^T x (`oi`). SGD: W' = W - lr dW. Adam: m' = b1 m
+ (1-b1) dW, v' = b2 v + (1-b2) dW^2, W' = W - lr m' / (sqrt(|v'|) + eps),
the bias corrections folded into lr (one step of a loop at a fixed step
count); |v'| = v' in training, and keeps random test inputs (v < 0) finite.
"""
import argparse
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_transformer import Emitter, apply_rope, rope_tables  # noqa: E402


class StepEmitter(Emitter):
    """Emitter with the broadcasting elementwise ops, reductions and views a
    backward pass needs."""

    def generic(self, ins, out_shape, maps, iters, body, out_init=None, attrs=""):
        """Emitter.generic with the body's own values renamed %_name: the
        region sees the function's arguments, whose names (%b1, %g) must not
        be redefined."""
        def renamed(args):
            lines = body(args)
            defined = [m.group(1) for m in (re.match(r"(%[A-Za-z_][\w]*) =", l) for l in lines) if m]
            for name in defined:
                lines = [re.sub(re.escape(name) + r"\b", "%_" + name[1:], l) for l in lines]
            return lines
        return super().generic(ins, out_shape, maps, iters, renamed, out_init, attrs)

    def ident(self, n):
        return self.amap(n, [f"d{i}" for i in range(n)])

    def ew(self, ins, out_shape, body):
        """Elementwise generic over out_shape; each input is (value, shape)
        with shape == out_shape, out_shape[:-1] (per row) or [out_shape[-1]]
        (per feature). body(args) -> lines, the last yields."""
        n = len(out_shape)
        maps = []
        for _, s in ins:
            if list(s) == list(out_shape):
                maps.append(self.ident(n))
            elif list(s) == list(out_shape[:-1]):
                maps.append(self.amap(n, [f"d{i}" for i in range(n - 1)]))
            elif list(s) == [out_shape[-1]]:
                maps.append(self.amap(n, [f"d{n-1}"]))
            else:
                raise ValueError(f"cannot broadcast {s} to {out_shape}")
        maps.append(self.ident(n))
        return self.generic(ins, out_shape, maps, ["parallel"] * n, body)

    def rowdot(self, a, b, shape):
        """sum over the last dimension of a * b."""
        n = len(shape)
        f = self.fill(0.0, shape[:-1])
        row = self.amap(n, [f"d{i}" for i in range(n - 1)])
        return self.generic([(a, shape), (b, shape)], shape[:-1], [self.ident(n)] * 2 + [row],
                            ["parallel"] * (n - 1) + ["reduction"],
                            lambda x: [f"%p = arith.mulf {x[0]}, {x[1]} : {self.dt}",
                                       f"%s = arith.addf %p, {x[2]} : {self.dt}",
                                       f"linalg.yield %s : {self.dt}"], out_init=f)

    def colsum(self, x, shape, y=None):
        """sum over the token dimension of a [T, E] tensor (of x * y)."""
        f = self.fill(0.0, [shape[1]])
        ins = [(x, shape)] + ([(y, shape)] if y else [])

        def body(a):
            if y:
                return [f"%p = arith.mulf {a[0]}, {a[1]} : {self.dt}",
                        f"%s = arith.addf %p, {a[2]} : {self.dt}", f"linalg.yield %s : {self.dt}"]
            return [f"%s = arith.addf {a[0]}, {a[1]} : {self.dt}", f"linalg.yield %s : {self.dt}"]
        return self.generic(ins, [shape[1]], [self.ident(2)] * len(ins) + [self.amap(2, ["d1"])],
                            ["reduction", "parallel"], body, out_init=f)

    def add(self, x, y, shape):
        return self.binary(x, y, shape, "addf")

    def t2(self, x, shape, named):
        return self.transpose(x, shape, [1, 0], named)

    def heads(self, y, B, S, H, D, named, rope=None):
        """[B*S, H*D] -> [B*H, S, D] (view, head transpose, merge); rope(v,
        shape, layout) rotates the [B, S, H, D] or [B, H, S, D] view."""
        t, ts = self.heads4(y, B, S, H, D, named, rope)
        return self.collapse(t, ts, [[0, 1], [2], [3]])

    def heads4(self, y, B, S, H, D, named, rope=None):
        """[B*S, H*D] -> [B, H, S, D]."""
        v4, s4 = self.expand(y, [B * S, H * D], [[0, 1], [2, 3]], [B, S, H, D])
        if rope:
            v4 = rope(v4, s4, "bshd")
        t, ts = self.transpose(v4, s4, [0, 2, 1, 3], named)
        if rope:
            t = rope(t, ts, "bhsd")
        return t, ts

    def unheads(self, y, B, S, H, D, named, rope=None):
        """[B*H, S, D] -> [B*S, H*D]."""
        v4, s4 = self.expand(y, [B * H, S, D], [[0, 1], [2], [3]], [B, H, S, D])
        return self.unheads4(v4, B, S, H, D, named, rope)

    def unheads4(self, v4, B, S, H, D, named, rope=None):
        """[B, H, S, D] -> [B*S, H*D]; rope as in heads (the backward's)."""
        if rope:
            v4 = rope(v4, [B, H, S, D], "bhsd")
        t, ts = self.transpose(v4, [B, H, S, D], [0, 2, 1, 3], named)
        if rope:
            t = rope(t, ts, "bshd")
        return self.collapse(t, ts, [[0, 1], [2, 3]])


class Step:
    def __init__(self, a):
        self.a = a
        self.em = StepEmitter("f32")
        self.params = []     # (name, shape)
        self.grads = {}      # name -> gradient value
        self.inputs = []     # (name, type): arguments that are not trained (rope tables, positions)
        self.tables = None   # rope (cos, sin, table shape)
        self.neg_sin = None
        self.named = a.transpose == "named"
        self.io = a.weights == "io"

    def param(self, name, shape):
        self.params.append((name, shape))
        return f"%{name}"

    def grad(self, name, value):
        self.grads[name] = value

    def input(self, name, shape, dt=None, is_input=False):
        """An argument that is not trained (gen_transformer's rope_tables
        calls it for its tables and position ids)."""
        self.inputs.append((name, self.em.t(shape, dt)))
        return f"%{name}"

    # -- token embedding --------------------------------------------------------
    def embed(self, T):
        """x[b, s] = wte[ids[b, s]] as gen_transformer.py gathers it (a
        generic reading the table with tensor.extract), viewed as [T, E]."""
        a, em = self.a, self.em
        B, S, E, V = a.batch, a.seq, a.hidden, a.vocab
        table = self.param("wte", [V, E])
        e = em.empty([B, S, E])
        x = em.fresh("emb")
        em.emit(f"{x} = linalg.generic {{indexing_maps = [{em.amap(3, ['d0', 'd1'])}, {em.ident(3)}], "
                f"iterator_types = [\"parallel\", \"parallel\", \"parallel\"]}} ins(%ids : {em.t([B, S], 'i64')}) "
                f"outs({e} : {em.t([B, S, E])}) {{")
        em.emit(f"^bb0(%id: i64, %o: {em.dt}):")
        em.emit("  %row = arith.index_cast %id : i64 to index")
        em.emit("  %col = linalg.index 2 : index")
        em.emit(f"  %val = tensor.extract {table}[%row, %col] : {em.t([V, E])}")
        em.emit(f"  linalg.yield %val : {em.dt}")
        em.emit(f"}} -> {em.t([B, S, E])}")
        return em.collapse(x, [B, S, E], [[0, 1], [2]])[0]

    def embed_bwd(self, dx, T):
        """dwte = onehot(ids)^T dx: the one-hot matrix [T, V] (a generic
        comparing each token id with its column index), transposed, times
        the gradient: the scatter-add of dx's rows onto their token ids as a
        dense matmul."""
        a, em = self.a, self.em
        B, S, E, V = a.batch, a.seq, a.hidden, a.vocab
        dt = em.dt
        ids_t = em.t([T], "i64")
        ids = em.fresh("r")
        em.emit(f"{ids} = tensor.collapse_shape %ids [[0, 1]] : {em.t([B, S], 'i64')} into {ids_t}")
        zero, one = em.const(0.0), em.const(1.0)
        e = em.empty([T, V])
        oh = em.fresh("onehot")
        em.emit(f"{oh} = linalg.generic {{indexing_maps = [{em.amap(2, ['d0'])}, {em.ident(2)}], "
                f"iterator_types = [\"parallel\", \"parallel\"]}} ins({ids} : {ids_t}) outs({e} : {em.t([T, V])}) {{")
        em.emit(f"^bb0(%id: i64, %o: {dt}):")
        em.emit("  %col = linalg.index 1 : index")
        em.emit("  %v = arith.index_cast %col : index to i64")
        em.emit("  %hit = arith.cmpi eq, %id, %v : i64")
        em.emit(f"  %r = arith.select %hit, {one}, {zero} : {dt}")
        em.emit(f"  linalg.yield %r : {dt}")
        em.emit(f"}} -> {em.t([T, V])}")
        oht, ohts = em.t2(oh, [T, V], self.named)
        dw, _ = em.matmul(oht, ohts, dx, [T, E])
        self.grad("wte", dw)

    # -- linear layers ------------------------------------------------------
    def linear(self, x, T, n_in, n_out, wname, bname=None):
        """Returns (y, ctx) for linear_bwd."""
        em = self.em
        if self.io:
            w = self.param(wname, [n_in, n_out])
            y, _ = em.matmul(x, [T, n_in], w, [n_in, n_out])
        else:
            w = self.param(wname, [n_out, n_in])
            wt, wts = em.t2(w, [n_out, n_in], self.named)
            y, _ = em.matmul(x, [T, n_in], wt, wts)
        b = None
        if bname:
            b = self.param(bname, [n_out])
            y = em.bias_add(y, [T, n_out], b)
        return y, (x, T, n_in, n_out, w, wname, bname)

    def linear_bwd(self, dy, ctx, need_dx=True):
        em = self.em
        x, T, n_in, n_out, w, wname, bname = ctx
        if bname:
            self.grad(bname, em.colsum(dy, [T, n_out]))
        if self.io:
            xt, xts = em.t2(x, [T, n_in], self.named)
            dw, _ = em.matmul(xt, xts, dy, [T, n_out])                # [in, out]
        else:
            dyt, dyts = em.t2(dy, [T, n_out], self.named)
            dw, _ = em.matmul(dyt, dyts, x, [T, n_in])                # [out, in]
        self.grad(wname, dw)
        if not need_dx:
            return None
        if self.io:
            wt, wts = em.t2(w, [n_in, n_out], self.named)
            dx, _ = em.matmul(dy, [T, n_out], wt, wts)
        else:
            dx, _ = em.matmul(dy, [T, n_out], w, [n_out, n_in])
        return dx

    # -- norms ----------------------------------------------------------------
    def norm(self, x, T, E, pre):
        em = self.em
        gpt2 = self.a.arch == "gpt2"
        inv_e, eps = em.const(1.0 / E), em.const(1e-5)
        dt = em.dt
        if gpt2:
            s = em.reduce_last(x, [T, E], "addf", 0.0)
            mean = em.ew([(s, [T])], [T], lambda a: [f"%m = arith.mulf {a[0]}, {inv_e} : {dt}", f"linalg.yield %m : {dt}"])
            d = em.ew([(x, [T, E]), (mean, [T])], [T, E],
                      lambda a: [f"%d = arith.subf {a[0]}, {a[1]} : {dt}", f"linalg.yield %d : {dt}"])
            ss = em.rowdot(d, d, [T, E])
        else:
            d = x
            ss = em.rowdot(x, x, [T, E])
        rstd = em.ew([(ss, [T])], [T], lambda a: [f"%v = arith.mulf {a[0]}, {inv_e} : {dt}", f"%ve = arith.addf %v, {eps} : {dt}",
                                                  f"%r = math.rsqrt %ve : {dt}", f"linalg.yield %r : {dt}"])
        xhat = em.ew([(d, [T, E]), (rstd, [T])], [T, E],
                     lambda a: [f"%y = arith.mulf {a[0]}, {a[1]} : {dt}", f"linalg.yield %y : {dt}"])
        gname = pre + ("ln_g" if gpt2 else "norm_g")
        gamma = self.param(gname, [E])
        ins = [(xhat, [T, E]), (gamma, [E])]
        bname = None
        if gpt2:
            bname = pre + "ln_b"
            ins.append((self.param(bname, [E]), [E]))
        y = em.ew(ins, [T, E], lambda a: [f"%y = arith.mulf {a[0]}, {a[1]} : {dt}"] +
                  ([f"%z = arith.addf %y, {a[2]} : {dt}", f"linalg.yield %z : {dt}"] if gpt2 else [f"linalg.yield %y : {dt}"]))
        return y, (T, E, xhat, rstd, gamma, gname, bname, inv_e)

    def norm_bwd(self, dy, ctx):
        em = self.em
        dt = em.dt
        T, E, xhat, rstd, gamma, gname, bname, inv_e = ctx
        self.grad(gname, em.colsum(dy, [T, E], xhat))
        if bname:
            self.grad(bname, em.colsum(dy, [T, E]))
        dxh = em.ew([(dy, [T, E]), (gamma, [E])], [T, E],
                    lambda a: [f"%y = arith.mulf {a[0]}, {a[1]} : {dt}", f"linalg.yield %y : {dt}"])
        b = em.rowdot(dxh, xhat, [T, E])
        if bname:  # LayerNorm: dx = rstd (dxh - mean(dxh) - xhat mean(dxh xhat))
            s = em.reduce_last(dxh, [T, E], "addf", 0.0)
            return em.ew([(dxh, [T, E]), (s, [T]), (b, [T]), (xhat, [T, E]), (rstd, [T])], [T, E],
                         lambda a: [f"%m = arith.mulf {a[1]}, {inv_e} : {dt}", f"%c = arith.mulf {a[2]}, {inv_e} : {dt}",
                                    f"%xc = arith.mulf {a[3]}, %c : {dt}", f"%d0 = arith.subf {a[0]}, %m : {dt}",
                                    f"%d1 = arith.subf %d0, %xc : {dt}", f"%r = arith.mulf %d1, {a[4]} : {dt}",
                                    f"linalg.yield %r : {dt}"])
        # RMSNorm: dx = rstd (dxh - xhat mean(dxh xhat))
        return em.ew([(dxh, [T, E]), (b, [T]), (xhat, [T, E]), (rstd, [T])], [T, E],
                     lambda a: [f"%c = arith.mulf {a[1]}, {inv_e} : {dt}", f"%xc = arith.mulf {a[2]}, %c : {dt}",
                                f"%d1 = arith.subf {a[0]}, %xc : {dt}", f"%r = arith.mulf %d1, {a[3]} : {dt}",
                                f"linalg.yield %r : {dt}"])

    # -- MLP ------------------------------------------------------------------
    def mlp(self, x, T, E, F, pre):
        em = self.em
        dt = em.dt
        if self.a.arch == "gpt2":
            z, c1 = self.linear(x, T, E, F, pre + "w1", pre + "b1")
            k0, k1, half, one = em.const(0.044715), em.const(0.7978845608), em.const(0.5), em.const(1.0)
            h = em.ew([(z, [T, F])], [T, F],
                      lambda a: [f"%v2 = arith.mulf {a[0]}, {a[0]} : {dt}", f"%v3 = arith.mulf %v2, {a[0]} : {dt}",
                                 f"%t0 = arith.mulf %v3, {k0} : {dt}", f"%t1 = arith.addf {a[0]}, %t0 : {dt}",
                                 f"%t2 = arith.mulf %t1, {k1} : {dt}", f"%t3 = math.tanh %t2 : {dt}",
                                 f"%t4 = arith.addf %t3, {one} : {dt}", f"%t5 = arith.mulf {a[0]}, {half} : {dt}",
                                 f"%r = arith.mulf %t5, %t4 : {dt}", f"linalg.yield %r : {dt}"])
            y, c2 = self.linear(h, T, F, E, pre + "w2", pre + "b2")
            return y, ("gelu", z, c1, c2, (k0, k1, half, one), T, F)
        gate, cg = self.linear(x, T, E, F, pre + "w_gate")
        up, cu = self.linear(x, T, E, F, pre + "w_up")
        one = em.const(1.0)
        h = em.ew([(gate, [T, F]), (up, [T, F])], [T, F],
                  lambda a: [f"%n = arith.negf {a[0]} : {dt}", f"%e = math.exp %n : {dt}",
                             f"%d = arith.addf %e, {one} : {dt}", f"%s = arith.divf {a[0]}, %d : {dt}",
                             f"%r = arith.mulf %s, {a[1]} : {dt}", f"linalg.yield %r : {dt}"])
        y, cd = self.linear(h, T, F, E, pre + "w_down")
        return y, ("swiglu", gate, up, cg, cu, cd, one, T, F)

    def mlp_bwd(self, dy, ctx, need_dx=True):
        em = self.em
        dt = em.dt
        if ctx[0] == "gelu":
            _, z, c1, c2, (k0, k1, half, one), T, F = ctx
            dh = self.linear_bwd(dy, c2)
            three = em.const(3.0)
            # d gelu/dz = 0.5 (1 + t) + 0.5 z (1 - t^2) k1 (1 + 3 k0 z^2)
            dz = em.ew([(dh, [T, F]), (z, [T, F])], [T, F],
                       lambda a: [f"%v2 = arith.mulf {a[1]}, {a[1]} : {dt}", f"%v3 = arith.mulf %v2, {a[1]} : {dt}",
                                  f"%t0 = arith.mulf %v3, {k0} : {dt}", f"%t1 = arith.addf {a[1]}, %t0 : {dt}",
                                  f"%t2 = arith.mulf %t1, {k1} : {dt}", f"%t = math.tanh %t2 : {dt}",
                                  f"%u0 = arith.addf %t, {one} : {dt}", f"%u1 = arith.mulf %u0, {half} : {dt}",
                                  f"%tt = arith.mulf %t, %t : {dt}", f"%b0 = arith.subf {one}, %tt : {dt}",
                                  f"%q0 = arith.mulf %v2, {k0} : {dt}", f"%q1 = arith.mulf %q0, {three} : {dt}",
                                  f"%q2 = arith.addf %q1, {one} : {dt}", f"%q3 = arith.mulf %q2, {k1} : {dt}",
                                  f"%b1 = arith.mulf %b0, %q3 : {dt}", f"%b2 = arith.mulf %b1, {a[1]} : {dt}",
                                  f"%b3 = arith.mulf %b2, {half} : {dt}", f"%d = arith.addf %u1, %b3 : {dt}",
                                  f"%r = arith.mulf %d, {a[0]} : {dt}", f"linalg.yield %r : {dt}"])
            return self.linear_bwd(dz, c1, need_dx)
        _, gate, up, cg, cu, cd, one, T, F = ctx
        dh = self.linear_bwd(dy, cd)
        # h = silu(gate) * up; silu' = s (1 + gate (1 - s)), s = sigmoid(gate)
        dgate = em.ew([(dh, [T, F]), (gate, [T, F]), (up, [T, F])], [T, F],
                      lambda a: [f"%n = arith.negf {a[1]} : {dt}", f"%e = math.exp %n : {dt}",
                                 f"%d = arith.addf %e, {one} : {dt}", f"%s = arith.divf {one}, %d : {dt}",
                                 f"%c = arith.subf {one}, %s : {dt}", f"%gc = arith.mulf {a[1]}, %c : {dt}",
                                 f"%w = arith.addf %gc, {one} : {dt}", f"%ds = arith.mulf %s, %w : {dt}",
                                 f"%u = arith.mulf %ds, {a[2]} : {dt}", f"%r = arith.mulf %u, {a[0]} : {dt}",
                                 f"linalg.yield %r : {dt}"])
        dup = em.ew([(dh, [T, F]), (gate, [T, F])], [T, F],
                    lambda a: [f"%n = arith.negf {a[1]} : {dt}", f"%e = math.exp %n : {dt}",
                               f"%d = arith.addf %e, {one} : {dt}", f"%s = arith.divf {a[1]}, %d : {dt}",
                               f"%r = arith.mulf %s, {a[0]} : {dt}", f"linalg.yield %r : {dt}"])
        dxg = self.linear_bwd(dgate, cg, need_dx)
        dxu = self.linear_bwd(dup, cu, need_dx)
        return em.add(dxg, dxu, [T, cg[2]]) if need_dx else None

    # -- rotary embeddings and grouped-query attention ---------------------------
    def rope_fwd(self, x, shape, layout):
        """gen_transformer.py's rotary embedding of x where --rope-layout is
        `layout`: y = x cos + R(x) sin, R(x) = [-x2, x1] (rotate_half by
        slices + insert_slice, or by concat) or the pairs (x0, x1) -> (-x1,
        x0) (interleaved)."""
        if self.a.rope_layout != layout:
            return x
        return apply_rope(self.em, self.a, x, shape, self.tables)

    def rope_bwd(self, dy, shape, layout):
        """The transposed rotation applied to a gradient: dx = dy cos +
        R^T(dy sin). rotate_half: R^T(u) = [u2, -u1], written in the same form
        as the forward (slices + insert_slice, or concat); interleaved pairs:
        the forward with the sin table negated (a rotation by -theta)."""
        a, em = self.a, self.em
        if a.rope_layout != layout:
            return dy
        dt = em.dt
        cos, sin, tshape = self.tables
        if a.rope == "interleaved":
            if self.neg_sin is None:
                self.neg_sin = em.ew([(sin, tshape)], tshape,
                                     lambda q: [f"%n = arith.negf {q[0]} : {dt}", f"linalg.yield %n : {dt}"])
            return apply_rope(em, a, dy, shape, (cos, self.neg_sin, tshape))
        s_dim = 2 if layout == "bhsd" else 1
        ident = em.ident(4)
        tmap = em.amap(4, [f"d{s_dim}", "d3"] if len(tshape) == 2 else ["d0", f"d{s_dim}", "d3"])
        u = em.generic([(dy, shape), (sin, tshape)], shape, [ident, tmap, ident], ["parallel"] * 4,
                       lambda q: [f"%m = arith.mulf {q[0]}, {q[1]} : {dt}", f"linalg.yield %m : {dt}"])
        half = shape[3] // 2
        hshape = shape[:3] + [half]
        sizes = ", ".join(map(str, hshape))

        def half_slice(off):
            v = em.fresh("rh")
            em.emit(f"{v} = tensor.extract_slice {u}[0, 0, 0, {off}] [{sizes}] [1, 1, 1, 1] : {em.t(shape)} to {em.t(hshape)}")
            return v
        u1, u2 = half_slice(0), half_slice(half)
        n1 = em.ew([(u1, hshape)], hshape, lambda q: [f"%n = arith.negf {q[0]} : {dt}", f"linalg.yield %n : {dt}"])
        if a.rope == "concat":
            rt = em.fresh("rc")
            em.emit(f"{rt} = tensor.concat dim(3) {u2}, {n1} : ({em.t(hshape)}, {em.t(hshape)}) -> {em.t(shape)}")
        else:
            e = em.empty(shape)
            i1 = em.fresh("ri")
            em.emit(f"{i1} = tensor.insert_slice {u2} into {e}[0, 0, 0, 0] [{sizes}] [1, 1, 1, 1] : {em.t(hshape)} into {em.t(shape)}")
            rt = em.fresh("ri")
            em.emit(f"{rt} = tensor.insert_slice {n1} into {i1}[0, 0, 0, {half}] [{sizes}] [1, 1, 1, 1] : {em.t(hshape)} into {em.t(shape)}")
        return em.generic([(dy, shape), (rt, shape), (cos, tshape)], shape, [ident, ident, tmap, ident], ["parallel"] * 4,
                          lambda q: [f"%c = arith.mulf {q[0]}, {q[2]} : {dt}", f"%r = arith.addf %c, {q[1]} : {dt}",
                                     f"linalg.yield %r : {dt}"])

    def repeat_kv(self, t, B, G, rep, S, D):
        """[B, G, S, D] -> [B, G*rep, S, D]: each KV head broadcast to its rep
        query heads (repeat_kv / expand + reshape)."""
        em = self.em
        out = [B, G, rep, S, D]
        r = em.generic([(t, [B, G, S, D])], out, [em.amap(5, ["d0", "d1", "d3", "d4"]), em.ident(5)],
                       ["parallel"] * 5, lambda q: [f"linalg.yield {q[0]} : {em.dt}"])
        return em.collapse(r, out, [[0], [1, 2], [3], [4]])[0]

    def unrepeat_kv(self, d, B, G, rep, S, D):
        """The backward of repeat_kv: [B, G*rep, S, D] viewed as [B, G, rep,
        S, D], summed over the repeats."""
        em = self.em
        v5, s5 = em.expand(d, [B, G * rep, S, D], [[0], [1, 2], [3], [4]], [B, G, rep, S, D])
        f = em.fill(0.0, [B, G, S, D])
        return em.generic([(v5, s5)], [B, G, S, D], [em.ident(5), em.amap(5, ["d0", "d1", "d3", "d4"])],
                          ["parallel", "parallel", "reduction", "parallel", "parallel"],
                          lambda q: [f"%s = arith.addf {q[0]}, {q[1]} : {em.dt}", f"linalg.yield %s : {em.dt}"],
                          out_init=f)

    # -- attention ------------------------------------------------------------
    def attention(self, x, B, S, E, H, pre):
        em = self.em
        dt = em.dt
        a = self.a
        T, D = B * S, E // H
        G = a.kv_heads or H
        bias = (lambda n: pre + n) if a.arch == "gpt2" else (lambda n: None)
        rope = self.rope_fwd if a.rope != "none" else None
        if a.fused_qkv:
            qkv, cqkv = self.linear(x, T, E, (H + 2 * G) * D, pre + "wqkv", bias("bqkv"))

            def part(off, size):
                v = em.fresh("sl")
                em.emit(f"{v} = tensor.extract_slice {qkv}[0, {off}] [{T}, {size}] [1, 1] : "
                        f"{em.t([T, (H + 2 * G) * D])} to {em.t([T, size])}")
                return v
            q, k, v = part(0, H * D), part(H * D, G * D), part((H + G) * D, G * D)
            lin = ("fused", cqkv)
        else:
            q, cq = self.linear(x, T, E, H * D, pre + "wq", bias("bq"))
            k, ck = self.linear(x, T, E, G * D, pre + "wk", bias("bk"))
            v, cv = self.linear(x, T, E, G * D, pre + "wv", bias("bv"))
            lin = ("split", cq, ck, cv)
        if G == H:
            q3, s3 = em.heads(q, B, S, H, D, self.named, rope)
            k3, _ = em.heads(k, B, S, H, D, self.named, rope)
            v3, _ = em.heads(v, B, S, H, D, self.named)
        else:
            rep = H // G
            q4, q4s = em.heads4(q, B, S, H, D, self.named, rope)
            k4, _ = em.heads4(k, B, S, G, D, self.named, rope)
            v4, _ = em.heads4(v, B, S, G, D, self.named)
            k4, v4 = self.repeat_kv(k4, B, G, rep, S, D), self.repeat_kv(v4, B, G, rep, S, D)
            q3, s3 = em.collapse(q4, q4s, [[0, 1], [2], [3]])
            k3, _ = em.collapse(k4, q4s, [[0, 1], [2], [3]])
            v3, _ = em.collapse(v4, q4s, [[0, 1], [2], [3]])
        kt, kts = em.transpose(k3, s3, [0, 2, 1], self.named)
        sc, scs = em.batch_matmul(q3, s3, kt, kts)
        scale = em.const(1.0 / math.sqrt(D))
        scaled = em.ew([(sc, scs)], scs, lambda a: [f"%s = arith.mulf {a[0]}, {scale} : {dt}", f"linalg.yield %s : {dt}"])
        p = em.softmax_last(scaled, scs, False)
        o3, _ = em.batch_matmul(p, scs, v3, s3)
        o, _ = em.unheads(o3, B, S, H, D, self.named)
        y, co = self.linear(o, T, E, E, pre + "wo", bias("bo"))
        return y, (B, S, H, G, D, q3, k3, v3, p, scs, s3, scale, lin, co)

    def attention_bwd(self, dy, ctx, need_dx=True):
        em = self.em
        dt = em.dt
        B, S, H, G, D, q3, k3, v3, p, scs, s3, scale, lin, co = ctx
        do = self.linear_bwd(dy, co)
        do3, _ = em.heads(do, B, S, H, D, self.named)
        vt, vts = em.transpose(v3, s3, [0, 2, 1], self.named)
        dp, _ = em.batch_matmul(do3, s3, vt, vts)                         # [BH, S, S]
        pt, pts = em.transpose(p, scs, [0, 2, 1], self.named)
        dv3, _ = em.batch_matmul(pt, pts, do3, s3)                         # [BH, S, D]
        rs = em.rowdot(dp, p, scs)
        ds = em.ew([(p, scs), (dp, scs), (rs, scs[:-1])], scs,
                   lambda a: [f"%d = arith.subf {a[1]}, {a[2]} : {dt}", f"%m = arith.mulf {a[0]}, %d : {dt}",
                              f"%s = arith.mulf %m, {scale} : {dt}", f"linalg.yield %s : {dt}"])
        dq3, _ = em.batch_matmul(ds, scs, k3, s3)
        dst, dsts = em.transpose(ds, scs, [0, 2, 1], self.named)
        dk3, _ = em.batch_matmul(dst, dsts, q3, s3)
        T, E = B * S, H * D
        rope = self.rope_bwd if self.a.rope != "none" else None
        if G == H:
            dq, _ = em.unheads(dq3, B, S, H, D, self.named, rope)
            dk, _ = em.unheads(dk3, B, S, H, D, self.named, rope)
            dv, _ = em.unheads(dv3, B, S, H, D, self.named)
        else:
            rep = H // G
            s4 = [B, H, S, D]
            dq4, _ = em.expand(dq3, s3, [[0, 1], [2], [3]], s4)
            dk4, _ = em.expand(dk3, s3, [[0, 1], [2], [3]], s4)
            dv4, _ = em.expand(dv3, s3, [[0, 1], [2], [3]], s4)
            dk4 = self.unrepeat_kv(dk4, B, G, rep, S, D)
            dv4 = self.unrepeat_kv(dv4, B, G, rep, S, D)
            dq, _ = em.unheads4(dq4, B, S, H, D, self.named, rope)
            dk, _ = em.unheads4(dk4, B, S, G, D, self.named, rope)
            dv, _ = em.unheads4(dv4, B, S, G, D, self.named)
        if lin[0] == "fused":
            # the slices' backward: one [T, (H + 2G) D] gradient, concatenated
            dqkv = em.fresh("cat")
            em.emit(f"{dqkv} = tensor.concat dim(1) {dq}, {dk}, {dv} : ({em.t([T, H * D])}, {em.t([T, G * D])}, "
                    f"{em.t([T, G * D])}) -> {em.t([T, (H + 2 * G) * D])}")
            return self.linear_bwd(dqkv, lin[1], need_dx)
        _, cq, ck, cv = lin
        dxq = self.linear_bwd(dq, cq, need_dx)
        dxk = self.linear_bwd(dk, ck, need_dx)
        dxv = self.linear_bwd(dv, cv, need_dx)
        if not need_dx:
            return None
        return em.add(em.add(dxq, dxk, [T, E]), dxv, [T, E])

    # -- the step ---------------------------------------------------------------
    def build(self):
        a, em = self.a, self.em
        B, S, E, H = a.batch, a.seq, a.hidden, a.heads
        T = B * S
        F = a.ffn or (4 * E if a.arch == "gpt2" else 2 * E)
        dt = em.dt
        if a.rope != "none":
            self.tables = rope_tables(em, a, S, E // H, self.input)
        x = "%x"
        if a.embed:
            x = self.embed(T)
        y = None
        if a.block == "mlp":
            y, ctx = self.mlp(x, T, E, F, "")
            bwd = [lambda d: self.mlp_bwd(d, ctx)]
        elif a.block == "attention":
            y, ctx = self.attention(x, B, S, E, H, "")
            bwd = [lambda d: self.attention_bwd(d, ctx)]
        else:
            bwd = []
            h = x
            for l in range(a.layers):
                pre = f"l{l}_" if a.layers > 1 else ""
                n1, cn1 = self.norm(h, T, E, pre + "attn_")
                att, ca = self.attention(n1, B, S, E, H, pre)
                h1 = em.add(h, att, [T, E])
                n2, cn2 = self.norm(h1, T, E, pre + "mlp_")
                m, cm = self.mlp(n2, T, E, F, pre)
                h = em.add(h1, m, [T, E])

                def layer_bwd(d, cn1=cn1, ca=ca, cn2=cn2, cm=cm):
                    d1 = em.add(d, self.norm_bwd(self.mlp_bwd(d, cm), cn2), [T, E])
                    return em.add(d1, self.norm_bwd(self.attention_bwd(d1, ca), cn1), [T, E])
                bwd.append(layer_bwd)
            y = h
        d = "%g"
        if a.lm_head:
            # final norm and the LM head; g is dL/dlogits [T, V]
            nf, cnf = self.norm(y, T, E, "final_")
            y, clm = self.linear(nf, T, E, a.vocab, "w_lm")
            d = self.norm_bwd(self.linear_bwd("%g", clm), cnf)
        for f in reversed(bwd):
            d = f(d)
        dx = d
        out_dim = a.vocab if a.lm_head else E
        # The joint graph returns the forward output too (the loss is
        # computed from it outside the step); with --embed the input is
        # token ids, which have no gradient: dx goes into the embedding's.
        results = [(y, [T, out_dim])]
        if a.embed:
            self.embed_bwd(dx, T)
        else:
            results.append((dx, [T, E]))
        # The joint graph returns the forward output too (the loss is
        # computed from it outside the step).
        state = []
        lr = em.const(a.lr)
        if a.optimizer == "sgd":
            for name, shape in self.params:
                w = em.ew([(f"%{name}", shape), (self.grads[name], shape)], shape,
                          lambda q: [f"%s = arith.mulf {q[1]}, {lr} : {dt}", f"%w = arith.subf {q[0]}, %s : {dt}",
                                     f"linalg.yield %w : {dt}"])
                results.append((w, shape))
        else:
            b1, b2, c1, c2, eps = em.const(0.9), em.const(0.999), em.const(0.1), em.const(0.001), em.const(1e-8)
            new_state = []
            for name, shape in self.params:
                m, v, dw = f"%m_{name}", f"%v_{name}", self.grads[name]
                state += [(f"m_{name}", shape), (f"v_{name}", shape)]
                m2 = em.ew([(m, shape), (dw, shape)], shape,
                           lambda q: [f"%a = arith.mulf {q[0]}, {b1} : {dt}", f"%b = arith.mulf {q[1]}, {c1} : {dt}",
                                      f"%s = arith.addf %a, %b : {dt}", f"linalg.yield %s : {dt}"])
                v2 = em.ew([(v, shape), (dw, shape)], shape,
                           lambda q: [f"%a = arith.mulf {q[0]}, {b2} : {dt}", f"%g2 = arith.mulf {q[1]}, {q[1]} : {dt}",
                                      f"%b = arith.mulf %g2, {c2} : {dt}", f"%s = arith.addf %a, %b : {dt}",
                                      f"linalg.yield %s : {dt}"])
                w = em.ew([(f"%{name}", shape), (m2, shape), (v2, shape)], shape,
                          lambda q: [f"%av = math.absf {q[2]} : {dt}", f"%r = math.sqrt %av : {dt}", f"%d = arith.addf %r, {eps} : {dt}",
                                     f"%u = arith.divf {q[1]}, %d : {dt}", f"%s = arith.mulf %u, {lr} : {dt}",
                                     f"%w = arith.subf {q[0]}, %s : {dt}", f"linalg.yield %w : {dt}"])
                results.append((w, shape))
                new_state += [(m2, shape), (v2, shape)]
            results += new_state
        first = [("ids", em.t([B, S], "i64"))] if a.embed else [("x", em.t([T, E]))]
        args = (first + self.inputs + [(n, em.t(sh)) for n, sh in self.params + state]
                + [("g", em.t([T, out_dim]))])
        return args, results


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--block", choices=["mlp", "attention", "layer"], default="layer")
    p.add_argument("--arch", choices=["gpt2", "llama"], default="gpt2")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seq", type=int, default=16)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--ffn", type=int, default=None)
    p.add_argument("--kv-heads", type=int, default=None)
    p.add_argument("--rope", choices=["none", "slices", "concat", "interleaved"], default="none")
    p.add_argument("--rope-table", choices=["arg", "const", "gather"], default="arg")
    p.add_argument("--rope-layout", choices=["bhsd", "bshd"], default="bhsd")
    p.add_argument("--fused-qkv", action="store_true")
    p.add_argument("--embed", action="store_true")
    p.add_argument("--lm-head", action="store_true")
    p.add_argument("--vocab", type=int, default=256)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--weights", choices=["io", "oi"], default=None,
                   help="weight layout: io = [in, out] (default for gpt2), oi = [out, in] (default for llama)")
    p.add_argument("--transpose", choices=["generic", "named"], default="generic")
    p.add_argument("--name", default=None)
    p.add_argument("-o", "--output", default="-")
    a = p.parse_args()
    if a.weights is None:
        a.weights = "io" if a.arch == "gpt2" else "oi"
    if a.hidden % a.heads:
        sys.exit("hidden must be divisible by heads")
    if a.layers > 1 and a.block != "layer":
        sys.exit("--layers needs --block layer")
    G = a.kv_heads or a.heads
    if a.heads % G:
        sys.exit("--kv-heads must divide --heads")
    if a.rope != "none" and (a.block == "mlp" or (a.hidden // a.heads) % 2):
        sys.exit("--rope needs attention and an even head dim")
    step = Step(a)
    args, results = step.build()
    em = step.em
    name = a.name or f"{a.arch}_{a.block}_{a.optimizer}_step"
    em.write_module(a.output, name,
                    [f"Generated by scripts/gen_training.py {' '.join(sys.argv[1:])}",
                     f"{a.arch} {a.block} training step ({a.optimizer}): batch {a.batch}, seq {a.seq}, hidden {a.hidden}, "
                     f"heads {a.heads}, kv heads {G}, layers {a.layers}, weights {a.weights}"
                     + (f", rope {a.rope} ({a.rope_table} tables, {a.rope_layout})" if a.rope != "none" else "")
                     + (", fused qkv" if a.fused_qkv else "")
                     + (f", vocab {a.vocab}" if a.embed or a.lm_head else "")
                     + (", embedding" if a.embed else "") + (", lm head" if a.lm_head else "")],
                    args, results)

if __name__ == "__main__":
    main()
