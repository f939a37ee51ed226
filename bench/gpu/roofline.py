#!/usr/bin/env python3
"""Expected GPU time of tp-mlir's generated code against PyTorch eager, from
the compiler's output alone (no GPU needed): the paper estimate the device
check is then held to.

    bench/gpu/roofline.py [--tp-opt build/bin/tp-opt] [--arch gpt2,llama]
                          [--bandwidth 3.35e12] [--tflops 989] [--tp N]

For each layer (GPT-2 small's at 768 wide, 12 heads, 8 x 1024 tokens; and a
Llama-width one at 4096 wide, 32 heads, SwiGLU 11008, 1 x 2048 tokens; bf16,
made by scripts/gen_transformer.py), the model goes through
`tp-gpu-pipeline` and every launch and runtime call of the entry function is
read from the IR after `tp-gpu-async-chain`:

- generated kernels: bytes moved, the number of passes over the row (a
  row-group kernel's loops), the launch geometry (blocks x threads), the kernel's
  kind read from its body (warp per row: gpu.shuffle; thread per row: a
  scf.for over the row with the accumulator in memory; elementwise), and
  two times: at the memory roofline (bytes / bandwidth) and as the launch
  geometry allows (see `kernel_time`);
- tp_rt_gemm calls (cuBLASLt): flops and bytes, timed at max(flops at
  --gemm-efficiency of peak, bytes at the roofline), the same model as
  PyTorch's GEMMs below, so that GEMMs cancel in the ratio;
- tp_rt_attention calls (cuDNN's fused SDPA, when the layer has attention):
  Q, K, V, O and the mask moved once, both products' flops, timed like a
  GEMM; with --attention generated the table counts the generated fallback
  (the scf.if branch after each call) instead. Both totals are printed;
  the fused one assumes cuDNN accepts the graph, which no GPU has shown yet;
- PyTorch eager: the kernels bench/gpu/torch_layer.py's layer launches (one
  per torch op, each at --torch-efficiency of the roofline, GEMMs as above).

Bytes of a kernel: with --rereads dram (the default), a buffer argument
counts once per loop over the row that loads it and once per loop that
stores it (once where no loop does): every pass of a row-group kernel from
memory, the pessimistic case; with --rereads cache, every buffer argument
once (inputs read, outputs written): a pass re-reading what the same lane
touched moments before hits L1/L2.

Each launch also costs at least --launch-us (GPU-side gap between dependent
kernels). Assumptions are printed with the figures. The H100 SXM's HBM3 is
3.35 TB/s (the default); an H200's 4.8 TB/s is --bandwidth 4.8e12.
"""

import argparse
import math
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layers import LAYERS, ROOT, compile_layer, numel_bytes  # noqa: E402

# The IR the model reads: after the last pass of tp-gpu-pipeline that
# changes launches and calls.
AFTER = "tp-gpu-async-chain"


def constants(text):
    consts = {}
    for m in re.finditer(r"(%[\w.]+) = arith\.constant (-?\d+) : (?:index|i\d+)",
                         text):
        consts[m.group(1)] = int(m.group(2))
    return consts


def split_functions(ir):
    """gpu.func bodies by name, and the host function that launches them."""
    kernels = {}
    for m in re.finditer(r"gpu\.func @(\w+)\((.*?)\n\s*gpu\.return\n\s*\}",
                         ir, re.S):
        kernels[m.group(1)] = m.group(2)
    return kernels


def loop_bodies(body):
    """The text of each outermost scf.for of a kernel body, in order."""
    loops = []
    pos = 0
    for_re = re.compile(r"scf\.for ")
    while True:
        m = for_re.search(body, pos)
        if not m:
            return loops
        start = body.find("{", m.end())
        depth, i = 0, start
        while i < len(body):
            depth += {"{": 1, "}": -1}.get(body[i], 0)
            if depth == 0:
                break
            i += 1
        loops.append(body[start:i])
        pos = i


def kernel_traffic(body, operand_bytes, rereads):
    """(bytes, passes): with rereads == "dram", each buffer parameter's bytes
    times the loops that load it plus the loops that store it, or once where
    no loop does; with "cache", each buffer once."""
    params = re.findall(r"(%arg\d+): ", body[:body.find(")")])
    loops = loop_bodies(body)
    total = 0
    for param, bytes_ in zip(params, operand_bytes):
        if not bytes_:
            continue
        reads = sum(1 for l in loops
                    if re.search(rf"(?:vector|memref)\.load {param}\[", l))
        writes = sum(1 for l in loops
                     if re.search(rf"(?:vector|memref)\.store [^\n]*?, {param}\[", l))
        total += bytes_ * (max(1, reads + writes) if rereads == "dram" else 1)
    return total, len(loops)


def kernel_kind(body, launch_operands, host_consts):
    """(kind, trips of the kernel's loops, uses vector loads). Loop bounds
    are the kernel's constants or, where they are parameters, the host
    constants the launch passes."""
    consts = constants(body)
    params = re.findall(r"(%arg\d+): ", body[:body.find(")")])
    for param, operand in zip(params, launch_operands):
        if operand in host_consts:
            consts.setdefault(param, host_consts[operand])
    # Loops inside a kernel run one after another (a row group's passes
    # over its row): their trips add up.
    trips = 0
    for m in re.finditer(r"scf\.for %\w+ = (%[\w]+) to (%[\w]+) step (%[\w]+)",
                         body):
        lo, hi, st = (consts.get(v) for v in m.groups())
        if None not in (hi, st) and st > 0:
            trips += max(1, -(-(hi - (lo or 0)) // st))
    trips = max(trips, 1)
    vector = "vector.load" in body
    if "gpu.shuffle" in body:
        return "warp/row", trips, vector
    if "scf.for" in body:
        return "thread/row", trips, vector
    return "elementwise", 1, vector


def kernel_time(kind, trips, vector, bytes_, blocks, threads, a):
    """Seconds, as the launch geometry allows (Little's law: the bandwidth a
    launch reaches is the bytes its resident threads have in flight divided
    by the DRAM latency, --latency-us). An elementwise thread issues all its
    loads at once (bytes / threads in flight); a warp-per-row lane has one
    load per step in flight (16 bytes with vector loads, else 4), for
    `trips` steps; a thread-per-row loop keeps its accumulator in memory, so
    its steps are dependent read-modify-writes (--dependent-us each)."""
    roof = bytes_ / a.bandwidth
    resident = a.sms * 2048
    total = max(1, blocks * threads)
    waves = max(1, math.ceil(total / resident))
    concurrent = min(total, resident)
    if kind == "thread/row":
        latency = waves * trips * a.dependent_us * 1e-6
    else:
        per_thread = (16 if vector else 4) if kind == "warp/row" else bytes_ / total
        bw = min(a.bandwidth, concurrent * per_thread / (a.latency_us * 1e-6))
        latency = max(waves * a.latency_us * 1e-6, bytes_ / bw)
    return roof, max(roof, latency)


def gemm_time(m, n, k, batch, a):
    flops = 2.0 * m * n * k * batch
    bytes_ = 2.0 * batch * (m * k + k * n + m * n)
    return flops, bytes_, max(flops / (a.tflops * 1e12 * a.gemm_efficiency),
                              bytes_ / a.bandwidth)


def attention_time(ops, consts, a):
    """A tp_rt_attention call (cuDNN's fused SDPA) as one kernel: Q, K, V, O
    (and the mask) read or written once, the scores never stored; flops of
    both products (the causal half not subtracted), timed like a GEMM."""
    vals = [consts.get(o) for o in ops[1:6]]
    if None in vals:
        return None
    n, sq, skv, d, dv = vals
    elem = 4 if consts.get(ops[0]) == 0 else 2
    bytes_ = elem * n * (sq * d + skv * d + skv * dv + sq * dv)
    mask_row = consts.get(ops[20], 0)
    if mask_row:
        bytes_ += elem * sq * skv * (1 if consts.get(ops[19], 0) == 0 else n)
    flops = 2.0 * n * sq * skv * (d + dv)
    t = max(flops / (a.tflops * 1e12 * a.gemm_efficiency), bytes_ / a.bandwidth)
    return f"tp_rt_attention {n}x{sq}x{skv} d {d}", bytes_, t


def analyse(ir, a, attention="fused"):
    """Rows for the launches and calls of the entry function. Each
    tp_rt_attention call is followed by the scf.if whose else branch is its
    generated fallback: `attention` says which of the two is counted."""
    kernels = split_functions(ir)
    host = ir[ir.find("func.func @"):] if "func.func @" in ir else ir
    consts = constants(host)
    rows = []
    state, indent = None, ""
    for line in host.splitlines():
        # Skip the path not taken: the call, or its fallback branch.
        if state == "await-if":
            m = re.match(r"(\s*)scf\.if ", line)
            if m:
                state, indent = "then", m.group(1)
                continue
        elif state == "then":
            if line == indent + "} else {":
                state = "else"
            continue
        elif state == "else":
            if line == indent + "}":
                state = None
                continue
            if attention == "fused":
                continue
        m = re.search(r"call @tp_rt_attention\(([^)]*)\)", line)
        if m:
            state = "await-if"
            if attention == "fused":
                ops = [o.strip() for o in m.group(1).split(",")]
                fused = attention_time(ops, consts, a)
                if fused:
                    what, bytes_, t = fused
                    rows.append(dict(what=what, geometry="cuDNN fused SDPA",
                                     bytes=bytes_, roof=t, geom=t))
            continue
        m = re.search(r"gpu\.launch_func .*?@\w+::@(\w+) blocks in \((%\w+), (%\w+), (%\w+)\) threads in \((%\w+), (%\w+), (%\w+)\)(?:.*args\((.*)\))?",
                      line)
        if m:
            name = m.group(1)
            b = [consts.get(v, 1) for v in m.group(2, 3, 4)]
            t = [consts.get(v, 1) for v in m.group(5, 6, 7)]
            typed = re.findall(r"(%[\w.]+) : (memref<(?:[^<>]|<[^<>]*>)*>|[\w]+)",
                               m.group(8) or "")
            operands = [o for o, _ in typed]
            sizes = [numel_bytes(t) if t.startswith("memref") else 0
                     for _, t in typed]
            body = kernels.get(name, "")
            bytes_, passes = kernel_traffic(body, sizes, a.rereads)
            kind, trips, vector = kernel_kind(body, operands, consts)
            blocks, threads = b[0] * b[1] * b[2], t[0] * t[1] * t[2]
            roof, geom = kernel_time(kind, trips, vector, bytes_, blocks,
                                     threads, a)
            shape = kind + (", vec" if vector else "") + (
                f", {passes} passes" if kind == "warp/row" else "")
            rows.append(dict(what=f"{name} ({shape})",
                             geometry=f"{b[0]}x{b[1]}x{b[2]} blk, {t[0]}x{t[1]}x{t[2]} thr",
                             bytes=bytes_, roof=roof, geom=geom))
            continue
        m = re.search(r"call @tp_rt_gemm\(([^)]*)\)", line)
        if m:
            ops = [o.strip() for o in m.group(1).split(",")]
            batch, mm, nn, kk = (consts.get(o) for o in ops[3:7])
            if None in (batch, mm, nn, kk):
                continue
            flops, bytes_, t = gemm_time(mm, nn, kk, batch, a)
            rows.append(dict(what=f"tp_rt_gemm {batch}x{mm}x{nn}x{kk}",
                             geometry="cuBLASLt", bytes=bytes_, roof=t,
                             geom=t))
    return rows


def eager_ops(spec, tp):
    """The kernels bench/gpu/torch_layer.py's layer (gpt2) or a Llama layer
    written the same way (RMSNorm as pow/mean/rsqrt/mul/mul, SiLU-gated MLP)
    launches in eager mode, bf16: (label, bytes) or (label, gemm m, n, k, batch)."""
    h, heads, ffn = spec["hidden"], spec["heads"] // tp, spec["ffn"] // tp
    t = spec["seq"] * spec["batch"]
    s, b = spec["seq"], spec["batch"]
    d = spec["hidden"] // spec["heads"]
    hl = heads * d
    e = 2
    act = lambda n: n * e
    ops = []
    if spec["arch"] == "gpt2":
        norm = [("layer_norm", act(2 * t * h))]
    else:
        # pow, mean, add eps + rsqrt, x * r, * w
        norm = [("pow", act(2 * t * h)), ("mean", act(t * h)),
                ("rsqrt", act(2 * t)), ("mul", act(2 * t * h)),
                ("mul w", act(2 * t * h))]
    ops += norm
    ops += [("gemm qkv", t, 3 * hl, h, 1), ("add bias", act(2 * t * 3 * hl))]
    if spec["arch"] == "llama":
        ops = [o for o in ops if o[0] != "add bias"]
        ops += [("rope q,k (4 ops each)", act(8 * 2 * t * 2 * hl))]
    ops += [("copy q,k,v to heads", act(2 * 3 * t * hl)),
            ("bmm scores", s, s, d, b * heads),
            ("div sqrt(d)", act(2 * b * heads * s * s)),
            ("masked_fill", act(2 * b * heads * s * s)),
            ("softmax", act(2 * b * heads * s * s)),
            ("bmm context", s, d, s, b * heads),
            ("copy heads back", act(2 * t * hl)),
            ("gemm out", t, h, hl, 1)]
    if spec["arch"] == "gpt2":
        ops += [("add bias", act(2 * t * h))]
    ops += [("residual add", act(3 * t * h))]
    ops += norm
    if spec["arch"] == "gpt2":
        ops += [("gemm fc1", t, ffn, h, 1), ("add bias", act(2 * t * ffn)),
                ("gelu", act(2 * t * ffn)), ("gemm fc2", t, h, ffn, 1),
                ("add bias", act(2 * t * h))]
    else:
        ops += [("gemm gate", t, ffn, h, 1), ("gemm up", t, ffn, h, 1),
                ("silu", act(2 * t * ffn)), ("mul", act(3 * t * ffn)),
                ("gemm down", t, h, ffn, 1)]
    ops += [("residual add", act(3 * t * h))]
    return ops


def eager_time(spec, tp, a):
    total = 0.0
    rows = []
    for op in eager_ops(spec, tp):
        if len(op) == 2:
            label, bytes_ = op
            t = bytes_ / (a.bandwidth * a.torch_efficiency)
        else:
            label, m, n, k, batch = op
            _, bytes_, t = gemm_time(m, n, k, batch, a)
        t = max(t, a.launch_us * 1e-6)
        rows.append((label, bytes_, t))
        total += t
    return total, rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tp-opt", default=os.path.join(ROOT, "build", "bin", "tp-opt"))
    p.add_argument("--arch", default="gpt2,llama")
    p.add_argument("--tp", type=int, default=1)
    p.add_argument("--bandwidth", type=float, default=3.35e12,
                   help="HBM bytes/s (H100 SXM 3.35e12, H200 4.8e12)")
    p.add_argument("--tflops", type=float, default=989.0,
                   help="dense bf16 tensor-core peak (H100/H200 SXM 989)")
    p.add_argument("--sms", type=int, default=132)
    p.add_argument("--gemm-efficiency", type=float, default=0.7)
    p.add_argument("--torch-efficiency", type=float, default=0.85,
                   help="fraction of the roofline PyTorch's memory-bound kernels reach")
    p.add_argument("--latency-us", type=float, default=0.6,
                   help="DRAM load latency")
    p.add_argument("--dependent-us", type=float, default=0.25,
                   help="one dependent read-modify-write of a global accumulator (L2)")
    p.add_argument("--launch-us", type=float, default=2.0,
                   help="least time per kernel (launch gap between dependent kernels)")
    p.add_argument("--rereads", choices=["dram", "cache"], default="dram",
                   help="a row-group kernel's later passes over a row: from "
                        "DRAM (counted in the bytes) or from L1/L2 (not counted)")
    p.add_argument("--attention", choices=["fused", "generated"], default="fused",
                   help="which path of each attention the table counts: the "
                        "tp_rt_attention call (cuDNN's fused SDPA) or the "
                        "generated fallback (both totals are printed)")
    p.add_argument("--ir", help="analyse this IR dump instead of compiling (one --arch)")
    a = p.parse_args()

    print(f"assumed: HBM {a.bandwidth / 1e12:.2f} TB/s, {a.sms} SMs, bf16 peak "
          f"{a.tflops:.0f} TFLOP/s at {a.gemm_efficiency:.0%} for GEMMs (both sides), "
          f"PyTorch memory-bound kernels at {a.torch_efficiency:.0%} of the roofline, "
          f"DRAM latency {a.latency_us} us, dependent global RMW {a.dependent_us} us, "
          f"at least {a.launch_us} us per launch, a row's re-reads from "
          f"{'DRAM' if a.rereads == 'dram' else 'L1/L2'}")
    with tempfile.TemporaryDirectory() as work:
        for name in a.arch.split(","):
            spec = LAYERS[name]
            ir = open(a.ir).read() if a.ir else compile_layer(
                "roofline", a.tp_opt, name, spec, a.tp, work, "", [AFTER])[AFTER]
            rows = analyse(ir, a, a.attention)
            other = "generated" if a.attention == "fused" else "fused"
            other_rows = analyse(ir, a, other)
            print()
            print(f"== {name} layer: hidden {spec['hidden']}, heads {spec['heads']}, "
                  f"ffn {spec['ffn']}, {spec['batch']} x {spec['seq']} tokens, bf16, tp {a.tp}")
            print(f"{'tp-mlir kernel / call':58} {'launch geometry':32} {'MiB':>8} "
                  f"{'roofline us':>12} {'geometry us':>12}")
            roof_total = geom_total = 0.0
            for r in rows:
                roof = max(r["roof"], a.launch_us * 1e-6)
                geom = max(r["geom"], a.launch_us * 1e-6)
                roof_total += roof
                geom_total += geom
                print(f"{r['what'][:58]:58} {r['geometry']:32} {r['bytes'] / 2**20:8.2f} "
                      f"{roof * 1e6:12.1f} {geom * 1e6:12.1f}")
            eager, erows = eager_time(spec, a.tp, a)
            print(f"{'tp-mlir total (' + str(len(rows)) + ' launches/calls)':58} {'':32} {'':8} "
                  f"{roof_total * 1e6:12.1f} {geom_total * 1e6:12.1f}")
            print(f"PyTorch eager model ({len(erows)} kernels): {eager * 1e6:.1f} us")
            for label, bytes_, t in erows:
                print(f"    {label:40} {bytes_ / 2**20:8.2f} MiB {t * 1e6:10.1f} us")
            print(f"expected ratio tp-mlir / PyTorch eager: {roof_total / eager:.2f}x "
                  f"if every kernel ran at the roofline, {geom_total / eager:.2f}x as "
                  f"the launch geometry allows (target <= 1.0x), attention {a.attention}")
            if len(other_rows) != len(rows) or other_rows != rows:
                o_roof = sum(max(r["roof"], a.launch_us * 1e-6) for r in other_rows)
                o_geom = sum(max(r["geom"], a.launch_us * 1e-6) for r in other_rows)
                print(f"with attention {other}: {len(other_rows)} launches/calls, "
                      f"{o_roof * 1e6:.1f} us at the roofline, {o_geom * 1e6:.1f} us "
                      f"as the geometry allows: {o_roof / eager:.2f}x / "
                      f"{o_geom / eager:.2f}x of PyTorch eager")


if __name__ == "__main__":
    main()
