#!/usr/bin/env python3
"""PyTorch eager baseline for tp-mlir's GPU models (runs on a GPU machine).

Times one GPT-2-small style block -- or just its MLP or attention part -- in
plain PyTorch eager mode, with CUDA events, and prints the median time:

    torch_layer.py --part layer --hidden 768 --heads 12 --seq 1024 --batch 8 \\
                   --dtype bf16 [--tp 1] [--iters 50]

--tp P times the work ONE rank does under Megatron tensor parallelism at P
(heads / P, MLP width / P, no communication), to compare with one rank of a
tp-size-P model. The parts:
  mlp        y = gelu_tanh(x W1 + b1) W2 + b2
  attention  y = proj(causal_softmax(q k^T / sqrt(d)) v) with qkv = x Wqkv + b
  layer      x + attention(ln1(x)), then + mlp(ln2(.)) (pre-LN, GPT-2)
Prints: "torch_layer: part=... tp=P dtype=D: 1.234 ms (median of N)".
"""

import argparse
import math
import sys

import torch
import torch.nn.functional as F


def build(args, device, dtype):
    torch.manual_seed(0)
    h, p = args.hidden, args.tp
    heads = args.heads // p
    ffn = 4 * h // p
    t = lambda *shape: (torch.randn(*shape, device=device, dtype=dtype) *
                        0.02)
    w = {
        "ln1_w": torch.ones(h, device=device, dtype=dtype),
        "ln1_b": torch.zeros(h, device=device, dtype=dtype),
        "ln2_w": torch.ones(h, device=device, dtype=dtype),
        "ln2_b": torch.zeros(h, device=device, dtype=dtype),
        "wqkv": t(h, 3 * h // p), "bqkv": t(3 * h // p),
        "wo": t(h // p, h), "bo": t(h),
        "w1": t(h, ffn), "b1": t(ffn),
        "w2": t(ffn, h), "b2": t(h),
    }
    x = torch.randn(args.batch, args.seq, h, device=device, dtype=dtype)
    mask = torch.triu(torch.ones(args.seq, args.seq, device=device,
                                 dtype=torch.bool), diagonal=1)

    def mlp(z):
        return F.gelu(z @ w["w1"] + w["b1"], approximate="tanh") @ w["w2"] + \
            w["b2"]

    def attention(z):
        b, s, _ = z.shape
        qkv = z @ w["wqkv"] + w["bqkv"]
        q, k, v = qkv.split(h // p, dim=-1)
        shape = (b, s, heads, args.hidden // args.heads)
        q, k, v = (u.reshape(shape).transpose(1, 2) for u in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(shape[-1])
        scores = scores.masked_fill(mask, float("-inf"))
        ctx = torch.softmax(scores, dim=-1) @ v
        ctx = ctx.transpose(1, 2).reshape(b, s, h // p)
        return ctx @ w["wo"] + w["bo"]

    def layer(z):
        z = z + attention(F.layer_norm(z, (h,), w["ln1_w"], w["ln1_b"]))
        return z + mlp(F.layer_norm(z, (h,), w["ln2_w"], w["ln2_b"]))

    return {"mlp": mlp, "attention": attention, "layer": layer}[args.part], x


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["mlp", "attention", "layer"],
                        default="layer")
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--seq", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--dtype", choices=["bf16", "f16", "f32"],
                        default="bf16")
    parser.add_argument("--tp", type=int, default=1)
    parser.add_argument("--iters", type=int, default=50)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("torch_layer: no CUDA device", file=sys.stderr)
        return 77
    if args.heads % args.tp or (4 * args.hidden) % args.tp:
        print("torch_layer: heads and 4*hidden must divide by --tp",
              file=sys.stderr)
        return 2
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16,
             "f32": torch.float32}[args.dtype]
    torch.backends.cuda.matmul.allow_tf32 = False
    device = torch.device("cuda")
    fn, x = build(args, device, dtype)
    times = []
    with torch.no_grad():
        for _ in range(10):
            fn(x)
        torch.cuda.synchronize()
        for _ in range(args.iters):
            start = torch.cuda.Event(enable_timing=True)
            stop = torch.cuda.Event(enable_timing=True)
            start.record()
            fn(x)
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop))
    times.sort()
    median = times[len(times) // 2]
    print(f"torch_layer: part={args.part} hidden={args.hidden} "
          f"heads={args.heads} seq={args.seq} batch={args.batch} tp={args.tp} "
          f"dtype={args.dtype} on {torch.cuda.get_device_name()}: "
          f"{median:.3f} ms (median of {args.iters})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
