#!/usr/bin/env python3
"""What a generated transformer program computes, read from its entry
function's signature -- the part of the PyTorch comparison that needs no
NumPy and no PyTorch (scripts/torch_reference.py builds the PyTorch model
from it; test/Scripts/layer-spec.test checks it against
scripts/gen_transformer.py's programs).

  layer_spec.py --describe MODEL.mlir [--heads H]   the description, as JSON
  layer_spec.py --arg-names MODEL.mlir              the arguments, as JSON

Programs it understands: scripts/gen_transformer.py's GPT-2 and Llama
layers (arguments x or ids/wte, l<i>_ln1_g, l<i>_wq ..., lnf_g, w_lm), one
or more layers, grouped-query attention, fused QKV weights, embedding and
LM head; and the bare MLP block of examples/gpt2-mlp.mlir (x, w1, b1, w2,
b2). Rotary embeddings and KV-cache decode steps are refused by name (the
PyTorch mirror does not have them).
"""

import argparse
import json
import math
import re
import sys


class SpecError(Exception):
    """The program is not one the PyTorch mirror reproduces."""


_TENSOR = re.compile(r"%([A-Za-z_][\w$.]*)\s*:\s*tensor<([^>]*)>")


def parse_signature(text, entry=None):
    """(name, [(name, shape, dtype)]) of the entry function: the first
    func.func in the text, or the one named `entry`."""
    for match in re.finditer(r"func\.func\s+(?:public\s+|private\s+)?@([\w$.]+)\s*\(",
                             text):
        if entry is not None and match.group(1) != entry:
            continue
        depth, i = 1, match.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        args = []
        for name, body in _TENSOR.findall(text[match.end():i - 1]):
            parts = body.split("x")
            dims, dtype = parts[:-1], parts[-1]
            if any(not d.isdigit() for d in dims):
                raise SpecError(f"argument %{name} has a dynamic shape "
                                f"tensor<{body}>")
            args.append((name, [int(d) for d in dims], dtype))
        return match.group(1), args
    raise SpecError("no func.func" + (f" @{entry}" if entry else "") +
                    " in the program")


def describe(args, heads):
    """The layer configuration from argument names and shapes; `heads` (query
    heads) is the one figure the shapes do not give. Raises SpecError."""
    shapes = {name: shape for name, shape, _ in args}
    names = [name for name, _, _ in args]
    for name in names:
        if re.search(r"(cos|sin|pos|cache)", name):
            raise SpecError(f"argument %{name}: rotary embeddings and KV "
                            "caches are not mirrored in PyTorch")
    dtypes = sorted({dtype for name, _, dtype in args if name != "ids"})
    dtype = dtypes[0] if len(dtypes) == 1 else None
    if dtype is None:
        raise SpecError(f"mixed argument dtypes {dtypes}")
    if set(names) == {"x", "w1", "b1", "w2", "b2"}:
        x, w1 = shapes["x"], shapes["w1"]
        if len(x) != 2 or w1[1] != x[1] or shapes["w2"] != [x[1], w1[0]]:
            raise SpecError("an MLP whose shapes are not x[T, E], w1[F, E], "
                            "w2[E, F]")
        return {"kind": "mlp", "arch": "gpt2", "dtype": dtype,
                "hidden": x[1], "ffn": w1[0], "tokens": x[0]}
    embed = "ids" in shapes
    if embed:
        batch, seq = shapes["ids"]
        hidden = shapes["wte"][1]
    elif "x" in shapes and len(shapes["x"]) == 3:
        batch, seq, hidden = shapes["x"]
    else:
        raise SpecError("no x[B, S, E] or ids[B, S] argument: not a "
                        "gen_transformer.py program")
    layers = 0
    while f"l{layers}_ln1_g" in shapes:
        layers += 1
    if layers == 0:
        raise SpecError("no l0_ln1_g argument: not a gen_transformer.py "
                        "program")
    gpt2 = "l0_ln1_b" in shapes
    fused = "l0_wqkv" in shapes
    if heads <= 0 or hidden % heads:
        raise SpecError(f"hidden {hidden} is not divisible by {heads} heads")
    head_dim = hidden // heads
    if fused:
        rows = shapes["l0_wqkv"][0]
        kv_heads = (rows // head_dim - heads) // 2
    else:
        kv_heads = shapes["l0_wk"][0] // head_dim
    if kv_heads <= 0 or heads % kv_heads:
        raise SpecError(f"{kv_heads} KV heads do not divide {heads} heads")
    ffn = shapes["l0_w1" if gpt2 else "l0_w_gate"][0]
    expected = set(["ids", "wte"] if embed else ["x"])
    for l in range(layers):
        p = f"l{l}_"
        attention = ["wqkv"] if fused else ["wq", "wk", "wv"]
        if gpt2:
            attention += ["bqkv"] if fused else ["bq", "bk", "bv"]
            mlp = ["w1", "b1", "w2", "b2", "ln1_b", "ln2_b", "bo"]
        else:
            mlp = ["w_gate", "w_up", "w_down"]
        expected |= {p + n for n in attention + mlp + ["ln1_g", "ln2_g", "wo"]}
    lm_head = "w_lm" in shapes
    if lm_head:
        expected |= {"lnf_g", "w_lm"} | ({"lnf_b"} if gpt2 else set())
    unknown = sorted(set(names) - expected)
    missing = sorted(expected - set(names))
    if unknown or missing:
        raise SpecError("not the arguments of a gen_transformer.py layer: " +
                        (f"unexpected {unknown} " if unknown else "") +
                        (f"missing {missing}" if missing else "").strip())
    return {"kind": "layers", "arch": "gpt2" if gpt2 else "llama",
            "dtype": dtype, "layers": layers, "batch": batch, "seq": seq,
            "hidden": hidden, "heads": heads, "kv_heads": kv_heads,
            "head_dim": head_dim, "ffn": ffn, "fused_qkv": fused,
            "embed": embed, "lm_head": lm_head,
            "vocab": shapes["w_lm"][0] if lm_head else None}


def npy_shape(path):
    """The shape in a .npy file's header (versions 1-3), without NumPy."""
    import ast
    with open(path, "rb") as f:
        magic = f.read(8)
        if magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2, 3):
            raise SpecError(f"{path}: not a .npy file")
        size = int.from_bytes(f.read(2 if magic[6] == 1 else 4), "little")
        header = ast.literal_eval(f.read(size).decode("latin1"))
    return [int(d) for d in header["shape"]]


def relative_error(got, ref):
    """max|got - ref| / max|ref| over two equally long sequences of floats
    (gpu-check's measure); inf when a value is NaN or the lengths differ."""
    if len(got) != len(ref):
        return math.inf
    err = scale = 0.0
    for g, r in zip(got, ref):
        if math.isnan(g) or math.isnan(r):
            return math.inf
        err = max(err, abs(g - r))
        scale = max(scale, abs(r))
    return err / scale if scale > 0 else err


def tolerance(dtype):
    """The comparison's tolerance: bf16 / f16 storage keeps 8 / 11 bits, and
    two implementations round differently at every stored intermediate."""
    return {"f32": 1e-3, "bf16": 3e-2, "f16": 1e-2}.get(dtype, 3e-2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--describe", metavar="MLIR")
    what.add_argument("--arg-names", metavar="MLIR")
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--entry", default=None)
    args = parser.parse_args()
    path = args.describe or args.arg_names
    try:
        with open(path) as f:
            _, signature = parse_signature(f.read(), args.entry)
        if args.arg_names:
            print(json.dumps([name for name, _, _ in signature]))
        else:
            print(json.dumps(describe(signature, args.heads), sort_keys=True))
    except (OSError, SpecError) as e:
        print(f"layer_spec.py: {path}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
