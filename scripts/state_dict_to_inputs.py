#!/usr/bin/env python3
"""Writes a model's weights as the inputs tp-run and tp-launch take.

    state_dict_to_inputs.py WEIGHTS -o DIR [--mlir MODEL.mlir [--entry F]]
                            [--before x.npy,...] [--after y.npy,...]

WEIGHTS is a PyTorch state_dict saved with torch.save(model.state_dict(),
"weights.pt") (reading it needs PyTorch and NumPy), or an .npz archive of
NumPy arrays (numpy.savez("weights.npz", **arrays); read without PyTorch or
NumPy). Its tensors are taken in their saved order, which for a state_dict is
the module's registration order: the order in which an importer that takes
parameters as arguments (docs/workflow.md) lists them.

Writes DIR/NNN-NAME.npy for each tensor (little-endian, C order; bfloat16 as
float32, which tp-launch converts back with round to nearest even) and prints
the --inputs=... option for tp-run: the --before files (the activations that
come before the weights in the entry function's arguments), the weights, then
the --after files.

With --mlir, every file is first checked against the entry function's
arguments (count, shape, element type); a mismatch names the tensor and the
argument, and nothing is written. Exit codes: 0 done, 1 bad input, 2 bad
usage.
"""

import argparse
import ast
import os
import re
import struct
import sys
import tempfile
import zipfile

# npy descr (without byte order) -> element types of MLIR arguments it can feed
# (f32 data feeds f16/bf16 arguments: tp-launch converts it).
FEEDS = {
    "f4": {"f32", "f16", "bf16"},
    "f8": {"f64"},
    "f2": {"f16"},
    "i8": {"i64"},
    "i4": {"i32"},
    "i2": {"i16"},
    "i1": {"i8"},
    "u1": {"i8", "ui8"},
    "b1": {"i1"},
}
# npy descr -> the MLIR element type of the same name, for messages.
NAMES = {"f4": "f32", "f8": "f64", "f2": "f16", "i8": "i64", "i4": "i32", "i2": "i16",
         "i1": "i8", "u1": "ui8", "b1": "i1"}


class InputError(Exception):
    """Bad input: exit code 1, with the message."""


class Array:
    """One tensor: its name, npy descr ('<f4'), shape and raw C-order bytes."""

    def __init__(self, name, descr, shape, data):
        self.name, self.descr, self.shape, self.data = name, descr, tuple(shape), data

    def code(self):
        return self.descr.lstrip("<>|=")

    def npy(self):
        dims = ", ".join(str(d) for d in self.shape) + ("," if len(self.shape) == 1 else "")
        header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (self.descr, dims)
        # Version 1.0: the header (with its newline) pads the preamble to 64 bytes.
        total = 10 + len(header) + 1
        header += " " * ((64 - total % 64) % 64) + "\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + self.data


def parse_npy(name, blob):
    """An .npy file's bytes to an Array (checked: C order, little-endian, size)."""
    if blob[:6] != b"\x93NUMPY":
        raise InputError("%s: not an .npy file (bad magic)" % name)
    major = blob[6]
    if major == 1:
        (hlen,), start = struct.unpack("<H", blob[8:10]), 10
    elif major in (2, 3):
        (hlen,), start = struct.unpack("<I", blob[8:12]), 12
    else:
        raise InputError("%s: unsupported .npy version %d" % (name, major))
    try:
        header = ast.literal_eval(blob[start:start + hlen].decode("latin1"))
        descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    except (ValueError, SyntaxError, KeyError, TypeError):
        raise InputError("%s: unreadable .npy header" % name)
    if not isinstance(descr, str) or descr.lstrip("<>|=") not in FEEDS:
        raise InputError("%s: unsupported dtype %r" % (name, descr))
    if descr.startswith(">") and descr[1:] not in ("i1", "u1", "b1"):
        raise InputError("%s: big-endian data; save it little-endian" % name)
    if fortran:
        raise InputError("%s: Fortran-order data; save it in C order "
                         "(numpy.ascontiguousarray)" % name)
    data = blob[start + hlen:]
    size = int(descr.lstrip("<>|=")[1:])
    for d in shape:
        size *= d
    if len(data) != size:
        raise InputError("%s: %d bytes of data, the header says %d" % (name, len(data), size))
    return Array(name, "<" + descr.lstrip("<>|=") if descr[0] in "<>=" else descr, shape, data)


def read_npz(path):
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise InputError("%s: cannot read it as an .npz archive (%s)" % (path, e))
    arrays = []
    with archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise InputError("%s: member %s is not an .npy array" % (path, info.filename))
            name = info.filename[:-4]
            arrays.append(parse_npy("%s[%s]" % (path, name), archive.read(info)))
            arrays[-1].name = name
    return arrays


def read_state_dict(path):
    try:
        import torch  # noqa: F401 (only for .pt files)
    except ImportError:
        raise InputError("%s: reading a PyTorch file needs PyTorch (import torch failed); "
                         "save the weights as .npz instead: numpy.savez(\"weights.npz\", "
                         "**{k: v.float().numpy() for k, v in model.state_dict().items()})"
                         % path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise InputError("%s: holds a %s, not a state_dict (save model.state_dict())"
                         % (path, type(state).__name__))
    descrs = {torch.float32: "<f4", torch.float64: "<f8", torch.float16: "<f2",
              torch.int64: "<i8", torch.int32: "<i4", torch.int16: "<i2",
              torch.int8: "|i1", torch.uint8: "|u1", torch.bool: "|b1"}
    arrays = []
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor):
            raise InputError("%s: entry %s is a %s, not a tensor" % (path, name, type(tensor).__name__))
        tensor = tensor.detach().cpu().contiguous()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()  # NumPy has no bfloat16; tp-launch converts back
        if tensor.dtype not in descrs:
            raise InputError("%s: entry %s has dtype %s, which tp-run does not take"
                             % (path, name, tensor.dtype))
        arrays.append(Array(name, descrs[tensor.dtype], tensor.shape, tensor.numpy().tobytes()))
    return arrays


def read_npy_file(path):
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror))
    return parse_npy(path, blob)


def entry_arguments(path, entry):
    """The tensor types of the entry function's arguments: [(shape, element)]."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror))
    funcs = [m for m in re.finditer(r"func\.func\s+(private\s+)?@([\w$.-]+)\s*\(", text)]
    if entry:
        funcs = [m for m in funcs if m.group(2) == entry]
    else:
        funcs = [m for m in funcs if not m.group(1)]
    if len(funcs) != 1:
        raise InputError("%s: %s" % (path, ("no function @%s" % entry) if entry else
                                     "%d public functions; name the entry with --entry" % len(funcs)))
    # The argument list: up to the parenthesis that closes the one after the name.
    depth, i = 1, funcs[0].end()
    while depth and i < len(text):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    signature = text[funcs[0].end():i - 1]
    args = []
    for m in re.finditer(r"%[\w$.-]+\s*:\s*([^,{)]+(?:<[^>]*>)?)", signature):
        t = m.group(1).strip()
        tm = re.fullmatch(r"tensor<((?:[0-9?]+x)*)(\w+)>", t)
        if not tm:
            args.append((None, t))
            continue
        dims = [d for d in tm.group(1).split("x") if d]
        args.append(([None if d == "?" else int(d) for d in dims], tm.group(2)))
    return funcs[0].group(2), args


def check(arrays, model, entry):
    name, args = entry_arguments(model, entry)
    if len(args) != len(arrays):
        raise InputError("@%s of %s has %d arguments, but there are %d input files "
                         "(--before, the weights, --after)" % (name, model, len(args), len(arrays)))
    for index, (array, (shape, element)) in enumerate(zip(arrays, args)):
        wanted = "tensor<%s%s>" % ("".join("%sx" % ("?" if d is None else d) for d in shape or []),
                                   element) if shape is not None else element
        got = "%s %s" % (list(array.shape), NAMES[array.code()])
        if shape is None:
            raise InputError("argument #%d of @%s has type %s, which tp-run does not take"
                             % (index, name, element))
        if len(shape) != len(array.shape) or any(
                d is not None and d != s for d, s in zip(shape, array.shape)):
            raise InputError("%s (%s) does not fit argument #%d of @%s: %s (is the order of "
                             "the weights the order of the arguments?)"
                             % (array.name, got, index, name, wanted))
        if element not in FEEDS[array.code()]:
            raise InputError("%s (%s) cannot feed argument #%d of @%s: %s"
                             % (array.name, got, index, name, wanted))


def split_list(text):
    return [p for p in re.split(r"(?<!\\),", text) if p] if text else []


def escape(path):
    return path.replace("\\", "\\\\").replace(",", "\\,")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].strip(),
        epilog="Example (docs/workflow.md): state_dict_to_inputs.py weights.npz -o weights "
               "--mlir mlp.mlir --before x.npy",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", help="a torch.save'd state_dict (.pt, .pth, .bin) or an .npz")
    parser.add_argument("-o", "--out", required=True, help="folder for the .npy files")
    parser.add_argument("--mlir", help="check the files against this model's entry function")
    parser.add_argument("--entry", help="the entry function (default: the only public one)")
    parser.add_argument("--before", default="", help="comma-separated .npy files of the "
                        "arguments before the weights (the activations)")
    parser.add_argument("--after", default="", help="comma-separated .npy files of the "
                        "arguments after the weights")
    args = parser.parse_args()
    try:
        weights = (read_npz(args.weights) if args.weights.endswith(".npz")
                   else read_state_dict(args.weights))
        before = [read_npy_file(p.replace("\\,", ",")) for p in split_list(args.before)]
        after = [read_npy_file(p.replace("\\,", ",")) for p in split_list(args.after)]
        if args.mlir:
            check(before + weights + after, args.mlir, args.entry)
        # Everything is checked: write into a new folder next to the target, then
        # move it in place, so a failure leaves no partial output.
        if os.path.exists(args.out) and os.listdir(args.out):
            raise InputError("%s exists and is not empty" % args.out)
        parent = os.path.dirname(os.path.abspath(args.out))
        staging = tempfile.mkdtemp(prefix=".weights.", dir=parent)
        paths = []
        try:
            for index, array in enumerate(weights):
                safe = re.sub(r"[^\w.-]", "_", array.name)
                file = "%03d-%s.npy" % (index, safe)
                with open(os.path.join(staging, file), "wb") as f:
                    f.write(array.npy())
                paths.append(os.path.join(args.out, file))
            if os.path.exists(args.out):
                os.rmdir(args.out)
            os.rename(staging, args.out)
        except OSError:
            for f in os.listdir(staging):
                os.unlink(os.path.join(staging, f))
            os.rmdir(staging)
            raise
    except InputError as e:
        print("state_dict_to_inputs: error: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("state_dict_to_inputs: error: %s" % e, file=sys.stderr)
        return 1
    files = split_list(args.before) + [escape(p) for p in paths] + split_list(args.after)
    print("--inputs=" + ",".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
