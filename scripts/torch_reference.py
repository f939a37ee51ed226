#!/usr/bin/env python3
"""PyTorch eager's results for tp-mlir's device check: runs, on the same
weights and inputs, a small PyTorch model that mirrors the program
(scripts/gen_transformer.py's GPT-2 / Llama layers, or examples/gpt2-mlp.mlir's
MLP block), in the model's dtype (bf16 models in bf16, f32 models in f32 with
TF32 off), and writes its results beside tp-mlir's so that
scripts/gpu-check.sh compares the two.

  torch_reference.py MODEL_DIR [MODEL_DIR ...] -o OUT [--device cuda|cpu]
                     [--dry-run]

MODEL_DIR is a folder of scripts/gpu-artifacts.sh: meta.json ("args": the
entry function's argument names in order, "heads"), inputs/input<i>.npy.
Writes OUT/<model name>/output0.npy (f32). What the program computes is read
from its argument names and shapes by scripts/layer_spec.py (no PyTorch
needed for that part; programs it does not mirror are reported and skipped).
Exit status: 0 when every model was mirrored, 3 when some were skipped,
1 on a failure, 2 on bad usage.

Has never run: no session so far had PyTorch (the development machines have
none); test/Scripts/layer-spec.test checks its PyTorch-free parts and that it
compiles.
"""

import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layer_spec  # noqa: E402  (next to this script, also in artifacts)


def load_model(folder):
    """(name, signature, config) of a gpu-artifacts model folder."""
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    if "args" not in meta:
        raise layer_spec.SpecError("meta.json has no \"args\" (artifacts from "
                                   "before the PyTorch comparison)")
    signature = []
    for i, name in enumerate(meta["args"]):
        shape = layer_spec.npy_shape(os.path.join(folder, "inputs",
                                                  f"input{i}.npy"))
        dtype = "i64" if name == "ids" else meta["dtype"]
        signature.append((name, shape, dtype))
    return meta.get("name", os.path.basename(folder.rstrip("/"))), signature, \
        layer_spec.describe(signature, int(meta.get("heads", 0)))


def mirror(config, w, torch, F):
    """The program's result, computed by PyTorch from the weights `w`."""
    def linear(h, name, bias=None):
        y = h @ w[name].t()
        return y + w[bias] if bias is not None and bias in w else y

    if config["kind"] == "mlp":
        u = F.gelu(linear(w["x"], "w1", "b1"), approximate="tanh")
        return linear(u, "w2", "b2")

    E, H, G = config["hidden"], config["heads"], config["kv_heads"]
    D, B, S = config["head_dim"], config["batch"], config["seq"]
    gpt2 = config["arch"] == "gpt2"
    eps = 1e-5

    def norm(x, prefix):
        if gpt2:
            return F.layer_norm(x, (E,), w[prefix + "_g"], w[prefix + "_b"],
                                eps)
        # RMSNorm in f32, as Llama's reference code computes it.
        x32 = x.float()
        y = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
        return (y * w[prefix + "_g"].float()).to(x.dtype)

    x = w["wte"][w["ids"]] if config["embed"] else w["x"]
    future = torch.triu(torch.ones(S, S, dtype=torch.bool, device=x.device),
                        diagonal=1)
    for layer in range(config["layers"]):
        p = f"l{layer}_"
        h = norm(x, p + "ln1").reshape(B * S, E)
        if config["fused_qkv"]:
            qkv = linear(h, p + "wqkv", p + "bqkv")
            q, k, v = qkv.split([H * D, G * D, G * D], dim=-1)
        else:
            q = linear(h, p + "wq", p + "bq")
            k = linear(h, p + "wk", p + "bk")
            v = linear(h, p + "wv", p + "bv")
        q = q.reshape(B, S, H, D).transpose(1, 2)
        k = k.reshape(B, S, G, D).transpose(1, 2)
        v = v.reshape(B, S, G, D).transpose(1, 2)
        if G != H:  # query head i reads KV head i // (H / G)
            k = k.repeat_interleave(H // G, dim=1)
            v = v.repeat_interleave(H // G, dim=1)
        scores = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(D))
        scores = scores.masked_fill(future, -1.0e9)
        ctx = torch.softmax(scores, dim=-1) @ v
        ctx = ctx.transpose(1, 2).reshape(B * S, E)
        x = x + linear(ctx, p + "wo", p + "bo").reshape(B, S, E)
        h = norm(x, p + "ln2").reshape(B * S, E)
        if gpt2:
            act = F.gelu(linear(h, p + "w1", p + "b1"), approximate="tanh")
            d = linear(act, p + "w2", p + "b2")
        else:
            act = F.silu(linear(h, p + "w_gate")) * linear(h, p + "w_up")
            d = linear(act, p + "w_down")
        x = x + d.reshape(B, S, E)
    if config["lm_head"]:
        h = norm(x, "lnf").reshape(B * S, E)
        x = linear(h, "w_lm").reshape(B, S, config["vocab"])
    return x


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", metavar="MODEL_DIR")
    parser.add_argument("-o", "--output", required=True, metavar="OUT")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dry-run", action="store_true",
                        help="say what each model mirrors; no PyTorch")
    args = parser.parse_args()

    # The PyTorch-free part first: what each program is.
    models = []
    skipped = 0
    for folder in args.models:
        try:
            models.append((folder,) + load_model(folder))
        except (OSError, ValueError, KeyError, layer_spec.SpecError) as e:
            print(f"torch_reference: {folder}: not mirrored: {e}")
            skipped += 1
    if args.dry_run:
        for folder, name, _, config in models:
            print(f"torch_reference: {name}: mirrors " +
                  json.dumps(config, sort_keys=True))
        return 3 if skipped else 0
    if not models:
        return 3 if skipped else 1

    for _, name, _, config in models:
        print(f"torch_reference: {name}: {config['kind']} ({config['arch']}, "
              f"{config.get('layers', 1)} layer(s), hidden {config['hidden']}, "
              f"{config['dtype']}) mirrored")
    try:
        import numpy as np
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(f"torch_reference: cannot import PyTorch / NumPy: {e}")
        return 1
    if args.device == "cuda" and not torch.cuda.is_available():
        print("torch_reference: no CUDA device", file=sys.stderr)
        return 1
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device(args.device)
    status = 0
    for folder, name, signature, config in models:
        start = time.monotonic()
        dtype = {"bf16": torch.bfloat16, "f16": torch.float16,
                 "f32": torch.float32}[config["dtype"]]
        w = {}
        for i, (arg, _, _) in enumerate(signature):
            data = np.load(os.path.join(folder, "inputs", f"input{i}.npy"))
            tensor = torch.from_numpy(np.ascontiguousarray(data)).to(device)
            w[arg] = tensor if arg == "ids" else tensor.to(dtype)
        try:
            with torch.no_grad():
                y = mirror(config, w, torch, F)
                if device.type == "cuda":
                    torch.cuda.synchronize()
        except RuntimeError as e:  # out of memory, shape errors
            print(f"torch_reference: {name}: PyTorch failed: {e}")
            status = 1
            continue
        out = os.path.join(args.output, name)
        os.makedirs(out, exist_ok=True)
        np.save(os.path.join(out, "output0.npy"),
                y.float().cpu().numpy())
        print(f"torch_reference: {name}: {config['kind']} "
              f"({config['arch']}, {config['dtype']}) by PyTorch "
              f"{torch.__version__} eager on {device}: wrote "
              f"{os.path.join(out, 'output0.npy')} "
              f"({time.monotonic() - start:.1f} s)")
    return status or (3 if skipped else 0)


if __name__ == "__main__":
    sys.exit(main())
