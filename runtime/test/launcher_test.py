#!/usr/bin/env python3
"""End-to-end tests of tp-launch with the hand-written fixture models.

Each ctest test runs one case: `launcher_test.py --case NAME ...`. Inputs are
written and outputs read with the small .npy helpers below (numpy is not
needed). See FixtureModel.c for what the fixture computes.

Success cases check every output value at 1..4 ranks. Error cases check that
the run fails (non-zero exit), quickly, with a message naming the rank and
the argument / file, and that no output file (or temporary) was left behind.

GPU cases use the hand-written GPU model (GpuFixtureModel.c): gpu_stub_*
run against CUDA's stub driver (no GPU here: the runtime must fail cleanly on
every rank), gpu_ok_spawnN run it for real and exit 77 (skipped) where there
is no GPU.
"""

import argparse
import ast
import json
import os
import re
import shutil
import stat
import threading
import struct
import subprocess
import sys
import time

FORMATS = {"<f4": ("f", 4), "<f8": ("d", 8), "<i4": ("i", 4), "<i8": ("q", 8),
           ">f4": ("f", 4)}


def npy_bytes(descr, shape, values, fortran=False):
    code, _ = FORMATS[descr]
    order = ">" if descr.startswith(">") else "<"
    data = struct.pack(f"{order}{len(values)}{code}", *values)
    if len(shape) == 1:
        shape_text = f"({shape[0]},)"
    else:
        shape_text = "(" + ", ".join(str(d) for d in shape) + ")"
    header = ("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }"
              % (descr, "True" if fortran else "False", shape_text))
    total = 10 + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + \
        header.encode() + data


def write_npy(path, descr, shape, values, **kwargs):
    with open(path, "wb") as f:
        f.write(npy_bytes(descr, shape, values, **kwargs))


def read_npy(path):
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:6] == b"\x93NUMPY", f"{path}: bad magic"
    major = blob[6]
    if major == 1:
        (length,) = struct.unpack("<H", blob[8:10])
        start = 10
    else:
        (length,) = struct.unpack("<I", blob[8:12])
        start = 12
    header = ast.literal_eval(blob[start:start + length].decode())
    code, size = FORMATS[header["descr"]]
    data = blob[start + length:]
    count = len(data) // size
    values = list(struct.unpack(f"<{count}{code}", data))
    return header["descr"], tuple(header["shape"]), values


# The fixture's inputs (full tensors) and the expected full outputs.
X = [0.5 * i - 1 for i in range(12)]             # [3, 4]
A = [0.25 * i for i in range(36)]                # [12, 3]
B = [i - 5.0 for i in range(14)]                 # [2, 7]
H = [1.5, -2.0, 3.25, 100.0, 0.125]              # [5], fed to a bf16 argument
G = [0.5, -1.25, 2.0, 1000.0]                    # [4], fed to an f16 argument
NUM_RESULTS = 8


def expected_outputs(p, mode):
    return [
        ("<f4", (3, 4), [x * p * (p + 1) / 2 for x in X]),
        ("<f4", (12, 3), [2 * a for a in A]),
        ("<f4", (2, 7), [b + 1 for b in B]),
        ("<f4", (), [sum(A)]),
        ("<f4", (5,), [2 * h for h in H]),
        ("<i4", (), [mode]),
        ("<i8", (3,), [(p - 1) * 10 + k for k in range(3)]),
        ("<f4", (4,), [g * p for g in G]),
    ]


class Case:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.outputs = [self.path(f"y{j}.npy") for j in range(NUM_RESULTS)]

    def path(self, name):
        return os.path.join(self.work, name)

    def fixture(self, name):
        return os.path.join(self.args.fixtures, name + ".so")

    def write_inputs(self, mode=0):
        specs = [("x", "<f4", (3, 4), X), ("a", "<f4", (12, 3), A),
                 ("b", "<f4", (2, 7), B), ("mode", "<i4", (), [mode]),
                 ("h", "<f4", (5,), H), ("g", "<f4", (4,), G)]
        paths = []
        for name, descr, shape, values in specs:
            paths.append(self.path(name + ".npy"))
            write_npy(paths[-1], descr, shape, values)
        return paths

    def run(self, np, model, inputs, outputs=None, extra=(), timeout=30,
            spawn=False, env=None, preexec=None, escape=False):
        """np ranks through mpiexec, or tp-launch --spawn np, or (np = 0)
        one plain process."""
        outputs = self.outputs if outputs is None else outputs
        if spawn:
            prefix = [self.args.launcher, "--spawn", str(np)]
        elif np == 0:
            prefix = [self.args.launcher]
        else:
            prefix = [self.args.mpiexec, "-n", str(np), self.args.launcher]
        join = escaped_list if escape else ",".join
        command = [*prefix, "--model", model, "--inputs", join(inputs),
                   "--output", join(outputs),
                   "--timeout", str(timeout), *extra]
        print("+", " ".join(command), flush=True)
        start = time.monotonic()
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=90, env=env, preexec_fn=preexec)
        elapsed = time.monotonic() - start
        print(f"exit code {proc.returncode} after {elapsed:.1f} s")
        print("stdout:\n" + proc.stdout + "stderr:\n" + proc.stderr)
        return proc, elapsed

    def check_outputs(self, p, mode=0):
        for j, (descr, shape, values) in enumerate(expected_outputs(p, mode)):
            got_descr, got_shape, got = read_npy(self.outputs[j])
            check(got_descr == descr, f"y{j}: descr {got_descr} != {descr}")
            check(got_shape == shape, f"y{j}: shape {got_shape} != {shape}")
            check(got == values, f"y{j}: values {got} != {values}")

    def expect_failure(self, proc, elapsed, pattern, limit=20,
                       forbid=r"the model called exit|Assertion|Sanitizer|"
                              r"runtime error"):
        check(proc.returncode != 0, "the run should have failed")
        check(re.search(pattern, proc.stderr) is not None,
              f"stderr lacks /{pattern}/")
        # No misleading second message, no crash of the MPI library.
        check(forbid is None or re.search(forbid, proc.stderr) is None,
              f"stderr has /{forbid}/")
        check(elapsed < limit, f"took {elapsed:.1f} s (limit {limit} s)")
        for path in self.outputs:
            check(not os.path.exists(path), f"{path} was created")
        leftovers = [n for n in os.listdir(self.work) if ".tmp." in n]
        check(not leftovers, f"temporary files left behind: {leftovers}")


def escaped_list(names):
    """A file list as tp-launch reads it: "\\," is a comma in a name."""
    return ",".join(n.replace("\\", "\\\\").replace(",", "\\,")
                    for n in names)


def try_mknod(path, major, minor):
    """A character device like /dev/null (1, 3) in the work folder; False
    where this user or container may not create devices."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        return True
    except OSError:
        return False


def check(condition, message):
    if not condition:
        print("FAILED:", message)
        sys.exit(1)


def case_ok(case, p):
    inputs = case.write_inputs()
    # An output that already exists is replaced (only) on success.
    with open(case.outputs[0], "wb") as f:
        f.write(b"stale")
    quiet = ["--quiet"] if p == 1 else []
    proc, _ = case.run(p, case.fixture(f"fixture_model_tp{p}"), inputs,
                       extra=quiet)
    check(proc.returncode == 0, "tp-launch failed")
    if quiet:
        check(proc.stdout == "", "--quiet printed something")
    else:
        check(re.search(rf"tp-launch: @fixture on {p} ranks? \(mpi\): "
                        r"tp_entry [0-9.]+ ms \(max over ranks\)",
                        proc.stdout) is not None, "no summary line")
    case.check_outputs(p)
    leftovers = [n for n in os.listdir(case.work) if ".tmp." in n]
    check(not leftovers, f"temporary files left behind: {leftovers}")


STATS_LINE = (r"tp-launch: rank (\d+): tp_entry median ([0-9.]+) ms min "
              r"([0-9.]+) ms max ([0-9.]+) ms \((\d+) calls?\); peak RSS "
              r"([0-9.]+) MiB \(arguments ([0-9.]+) MiB\)")


def case_timing(case, p, extra, calls):
    """--warmup / --repeat / --rank-stats: the summary says what was timed, every
    rank has its line (median within [min, max], a peak RSS at least the
    arguments), and the outputs are exactly those of one call (the earlier
    calls' results were freed, the last call's written)."""
    inputs = case.write_inputs()
    proc, _ = case.run(p, case.fixture(f"fixture_model_tp{p}"), inputs,
                       extra=extra)
    check(proc.returncode == 0, "tp-launch failed")
    timed = (rf"median of {calls} calls? after \d+ warm-up, max over ranks"
             if calls > 1 or "--warmup" in extra else "max over ranks")
    check(re.search(rf"tp-launch: @fixture on {p} ranks? \(mpi\): "
                    rf"tp_entry [0-9.]+ ms \({timed}\); wrote ",
                    proc.stdout) is not None, "no summary line")
    lines = re.findall(STATS_LINE, proc.stdout)
    check([int(line[0]) for line in lines] == list(range(p)),
          f"expected one stats line per rank 0..{p - 1}, got {lines}")
    for rank, median, low, high, count, rss, args in lines:
        median, low, high = float(median), float(low), float(high)
        check(low <= median <= high, f"rank {rank}: median outside [min, max]")
        check(int(count) == calls, f"rank {rank}: {count} calls, not {calls}")
        # The fixture's arguments are a few bytes; a process is megabytes.
        check(float(rss) >= 1.0, f"rank {rank}: peak RSS {rss} MiB")
        check(float(args) < 0.1, f"rank {rank}: arguments {args} MiB")
    case.check_outputs(p)


ST_DTYPES = {"F32": ("f", 4), "I32": ("i", 4), "I64": ("q", 8),
             "F64": ("d", 8)}


def write_safetensors(path, tensors, truncate=0):
    """tensors: [(name, dtype, shape, values)] -> a .safetensors file."""
    header, blob = {"__metadata__": {"format": "test"}}, b""
    for name, dtype, shape, values in tensors:
        code, _ = ST_DTYPES[dtype]
        data = struct.pack(f"<{len(values)}{code}", *values)
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    content = struct.pack("<Q", len(text)) + text + blob
    with open(path, "wb") as f:
        f.write(content[:len(content) - truncate])


WEIGHTS = [("model.x", "F32", (3, 4), X), ("model.a", "F32", (12, 3), A),
           ("model.b", "F32", (2, 7), B), ("model.h", "F32", (5,), H),
           ("model.g", "F32", (4,), G)]
WEIGHT_MAP = {"0": "model.x", "1": "model.a", "2": "model.b", "4": "model.h",
              "5": "model.g"}


def case_weights(case, name):
    """Arguments from .safetensors files (--weights, --weight-map): every
    output exact, as with .npy inputs; the per-rank line says how much was
    read."""
    weights = case.path("w.safetensors")
    mode = case.path("mode.npy")
    write_npy(mode, "<i4", (), [0])
    if name == "weights_np2":
        # Five arguments from one file (inline map), `mode` from --inputs.
        write_safetensors(weights, WEIGHTS)
        extra = ["--weights", weights, "--weight-map", json.dumps(WEIGHT_MAP),
                 "--rank-stats"]
        proc, _ = case.run(2, case.fixture("fixture_model_tp2"), [mode],
                           extra=extra)
    else:
        # Every argument from two files, the map in a file, no --inputs.
        first, second = case.path("a.safetensors"), case.path("b.safetensors")
        write_safetensors(first, WEIGHTS[:2])
        write_safetensors(second, WEIGHTS[2:] + [("mode", "I32", (), [0])])
        with open(case.path("map.json"), "w") as f:
            json.dump(dict(WEIGHT_MAP, **{"3": "mode"}), f)
        command = [case.args.mpiexec, "-n", "3", case.args.launcher,
                   "--model", case.fixture("fixture_model_tp3"),
                   "--weights", f"{first},{second}",
                   "--weight-map", case.path("map.json"),
                   "--output", ",".join(case.outputs), "--rank-stats"]
        print("+", " ".join(command), flush=True)
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=90)
        print("stdout:\n" + proc.stdout + "stderr:\n" + proc.stderr)
    check(proc.returncode == 0, "tp-launch failed")
    p = 2 if name == "weights_np2" else 3
    lines = re.findall(r"tp-launch: rank (\d+): .*\(arguments [0-9.]+ MiB; "
                       r"([0-9.]+) MiB read from --weights\)", proc.stdout)
    check([int(r) for r, _ in lines] == list(range(p)),
          f"expected a line per rank with the bytes read, got {lines}")
    case.check_outputs(p)


def read_safetensors(path):
    """(dtype, shape, values) of the one tensor of a .safetensors output,
    with its name and the file's metadata checked."""
    with open(path, "rb") as f:
        blob = f.read()
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + size])
    meta = header.pop("__metadata__", {})
    check(meta.get("format") == "tp-mlir", f"{path}: metadata {meta}")
    check(len(header) == 1, f"{path}: tensors {list(header)}")
    (name, info), = header.items()
    begin, end = info["data_offsets"]
    data = blob[8 + size + begin:8 + size + end]
    check(8 + size + end == len(blob), f"{path}: trailing bytes")
    code, width = ST_DTYPES[info["dtype"]]
    values = list(struct.unpack(f"<{len(data) // width}{code}", data))
    return name, info["dtype"], tuple(info["shape"]), values


def case_safetensors_output(case):
    """Outputs named *.safetensors are safetensors files holding their result
    as "result<j>" (f16 / bf16 results widened to F32, as in .npy); the
    others stay .npy."""
    inputs = case.write_inputs()
    picked = {0: "F32", 4: "F32", 5: "I32", 6: "I64"}
    for j in picked:
        case.outputs[j] = case.path(f"y{j}.safetensors")
    proc, _ = case.run(2, case.fixture("fixture_model_tp2"), inputs)
    check(proc.returncode == 0, "tp-launch failed")
    for j, (descr, shape, values) in enumerate(expected_outputs(2, 0)):
        if j in picked:
            name, dtype, got_shape, got = read_safetensors(case.outputs[j])
            check(name == f"result{j}", f"y{j}: tensor {name}")
            check(dtype == picked[j], f"y{j}: dtype {dtype}")
        else:
            _, got_shape, got = read_npy(case.outputs[j])
        check(got_shape == shape, f"y{j}: shape {got_shape} != {shape}")
        check(got == values, f"y{j}: values {got} != {values}")


def weights_error_case(case, name):
    model2 = case.fixture("fixture_model_tp2")
    weights = case.path("w.safetensors")
    mode = case.path("mode.npy")
    write_npy(mode, "<i4", (), [0])
    write_safetensors(weights, WEIGHTS)
    rank = r"tp: rank \d+: "
    inline = json.dumps(WEIGHT_MAP)

    def run(extra, inputs=(mode,)):
        return case.run(2, model2, list(inputs), extra=extra)

    cases = [
        # A name the files do not have.
        (["--weights", weights, "--weight-map", inline.replace("model.b",
                                                                "model.c")],
         r"argument 2: no tensor 'model\.c' in [^ ]*w\.safetensors"),
        # Shape and dtype against the argument, naming the tensor.
        (["--weights", weights, "--weight-map",
          json.dumps(dict(WEIGHT_MAP, **{"1": "model.x"}))],
         r"argument 1 \([^)]*w\.safetensors\): tensor 'model\.x' has shape "
         r"\[3, 4\], but the argument is \[12, 3\]"),
        (["--weights", weights, "--weight-map",
          json.dumps(dict(WEIGHT_MAP, **{"3": "model.h"}))],
         r"argument 3 \([^)]*w\.safetensors\): tensor 'model\.h' has dtype "
         r"F32, but the argument is i32 \(I32\)"),
        # The map itself.
        (["--weights", weights, "--weight-map", '{"0": "model.x",'],
         r"--weight-map: malformed JSON: line 1"),
        (["--weights", weights, "--weight-map", '{"7": "model.x"}'],
         r"--weight-map: key '7' is not an argument index of @fixture "
         r"\(0 to 5"),
        (["--weights", weights, "--weight-map", '{"0": 3}'],
         r"--weight-map: the value of '0' must be a tensor name"),
        (["--weights", weights, "--weight-map", case.path("nothing.json")],
         r"--weight-map [^ ]*nothing\.json: cannot open file"),
        (["--weight-map", inline], r"tp-launch: --weight-map needs --weights"),
        # --inputs must list exactly the arguments the map leaves.
        (["--weights", weights, "--weight-map", inline],
         r"expected 1 input \(one per argument of @fixture not read from "
         r"--weights\), got 2"),
    ]
    for extra, pattern in cases:
        inputs = (mode, mode) if "got 2" in pattern else (mode,)
        proc, t = run(extra, inputs)
        case.expect_failure(proc, t, rank + pattern)
    # Broken files: truncated data, and a name held by two files.
    write_safetensors(weights, WEIGHTS, truncate=4)
    proc, t = run(["--weights", weights, "--weight-map", inline])
    case.expect_failure(proc, t, rank + r"weights [^ ]*w\.safetensors: tensor "
                        r"'model\.g': data_offsets \[\d+, \d+\] go past the "
                        r"end of the data")
    write_safetensors(weights, WEIGHTS)
    other = case.path("other.safetensors")
    write_safetensors(other, WEIGHTS[:1])
    proc, t = run(["--weights", f"{weights},{other}", "--weight-map", inline])
    case.expect_failure(proc, t, rank + r"argument 0: tensor 'model\.x' is in "
                        r"both [^ ]*w\.safetensors and [^ ]*other\.safetensors")


def error_case(case, name):
    model2 = case.fixture("fixture_model_tp2")
    inputs = case.write_inputs()
    rank = r"tp: rank \d+: "
    if name == "wrong_input_count":
        proc, t = case.run(2, model2, inputs[:-1])
        case.expect_failure(proc, t, rank + r"expected 6 inputs \(one per "
                            r"argument of @fixture\), got 5")
    elif name == "wrong_output_count":
        proc, t = case.run(2, model2, inputs, outputs=case.outputs[:-1])
        case.expect_failure(proc, t, rank + r"expected 8 outputs \(one per "
                            r"result of @fixture\), got 7")
    elif name == "shape_mismatch":
        write_npy(inputs[1], "<f4", (3, 12), A)
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, rank + r"argument 1 \([^)]*a\.npy\): "
                            r"shape \[3, 12\] does not match the expected "
                            r"\[12, 3\]")
    elif name == "dtype_mismatch":
        write_npy(inputs[0], "<i8", (3, 4), list(range(12)))
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, rank + r"argument 0 \([^)]*x\.npy\): "
                            r"dtype i64 does not match the expected f32")
    elif name == "missing_file":
        inputs[2] = case.path("no-such-file.npy")
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, rank + r"argument 2 \([^)]*no-such-file"
                            r"\.npy\): cannot open file: No such file")
    elif name == "truncated_file":
        blob = npy_bytes("<f4", (12, 3), A)
        with open(inputs[1], "wb") as f:
            f.write(blob[:-10])
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, rank + r"argument 1 \([^)]*a\.npy\): "
                            r"truncated data")
    elif name == "big_endian_file":
        write_npy(inputs[0], ">f4", (3, 4), X)
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, rank + r"argument 0 \([^)]*x\.npy\): "
                            r"big-endian data")
    elif name == "tp_size_mismatch":
        proc, t = case.run(3, model2, inputs)
        case.expect_failure(proc, t, rank + r"this model was partitioned for "
                            r"tp-size 2 but launched on 3 ranks")
    elif name == "bad_manifest":
        proc, t = case.run(2, case.fixture("fixture_bad_manifest"), inputs)
        case.expect_failure(proc, t, rank + r"model '[^']*fixture_bad_"
                            r"manifest\.so': invalid tp_manifest: malformed "
                            r"JSON: line 1, column \d+")
    elif name == "missing_model":
        proc, t = case.run(2, case.path("nothing.so"), inputs)
        case.expect_failure(proc, t, rank + r"cannot load model "
                            r"'[^']*nothing\.so'")
    elif name == "output_dir_missing":
        case.outputs[3] = case.path("no-such-dir/y3.npy")
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, r"tp: rank 0: output 3 \([^)]*y3\.npy\): "
                            r"directory '[^']*no-such-dir' does not exist")
    elif name == "bad_option":
        proc, t = case.run(2, model2, inputs, extra=["--bogus"])
        case.expect_failure(proc, t, rank + r"tp-launch: unknown option "
                            r"'--bogus'")
    elif name == "bad_repeat":
        for extra, message in [
                (["--repeat", "0"], r"--repeat wants a whole number from 1 "
                                    r"to 1000000, got '0'"),
                (["--warmup=-1"], r"--warmup wants a whole number from 0 to "
                                  r"1000000, got '-1'"),
                (["--repeat", "3x"], r"--repeat wants a whole number from 1 "
                                     r"to 1000000, got '3x'")]:
            proc, t = case.run(2, model2, inputs, extra=extra)
            case.expect_failure(proc, t, rank + "tp-launch: " + message)
            check(proc.returncode == 2, "a bad option should exit with 2")
    elif name == "rank_exit":
        # A pre-existing output survives a failed run untouched.
        with open(case.outputs[0], "wb") as f:
            f.write(b"previous result")
        inputs = case.write_inputs(mode=1)
        proc, t = case.run(2, model2, inputs)
        with open(case.outputs[0], "rb") as f:
            check(f.read() == b"previous result", "y0.npy was modified")
        os.unlink(case.outputs[0])
        case.expect_failure(proc, t, r"tp: rank 1: the model called exit\(3\) "
                            r"inside tp_entry",
                            forbid=r"rank 0: the model|Sanitizer|"
                            r"Assertion")
    elif name == "rank_exit_256":
        # exit(256) is status 0 to the OS: the job must still fail.
        inputs = case.write_inputs(mode=6)
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, r"tp: rank 1: the model called "
                            r"exit\(256\) inside tp_entry",
                            forbid=r"rank 0: the model|Sanitizer|Assertion")
        check(proc.returncode == 1, "exit code should be 1")
    elif name in ("model_directory", "model_truncated", "model_fifo",
                  "model_dev_zero"):
        if name == "model_directory":
            model = case.path("model-dir.so")
            os.mkdir(model)
            why = r"it is a directory, not a shared object"
        elif name == "model_truncated":
            # dlopen maps the missing pages and dies of SIGBUS on them.
            model = case.path("truncated.so")
            with open(model2, "rb") as f:
                blob = f.read()
            with open(model, "wb") as f:
                f.write(blob[:len(blob) // 2])
            why = r"truncated ELF file: it has \d+ bytes"
        elif name == "model_fifo":
            model = case.path("model.fifo")
            os.mkfifo(model)
            why = r"it is a FIFO, not a shared object"
        else:
            model = "/dev/zero"
            why = r"it is a device, not a shared object"
        proc, t = case.run(2, model, inputs, timeout=5)
        case.expect_failure(proc, t, rank + r"cannot load model '[^']*': " +
                            why, limit=10,
                            forbid=r"SIGBUS|Bus error|terminate called|"
                            r"Sanitizer|Assertion")
        check(proc.returncode == 1, "exit code should be 1")
    elif name == "output_planted_symlink":
        # Someone who can write to the output folder plants a symlink where
        # the temporary would go (the old name was .y0.npy.tmp.<pid>): the
        # run must not write through it.
        model1 = case.fixture("fixture_model_tp1")
        victim = case.path("victim.txt")
        with open(victim, "w") as f:
            f.write("precious")

        def plant():
            for j in range(NUM_RESULTS):
                os.symlink(victim, case.path(f".y{j}.npy.tmp.{os.getpid()}"))
        proc, _ = case.run(0, model1, inputs, preexec=plant)
        check(proc.returncode == 0, "tp-launch failed")
        with open(victim, "rb") as f:
            check(f.read() == b"precious", "the symlink's target was written")
        for path in case.outputs:
            check(not os.path.islink(path), f"{path} is a symlink")
        case.check_outputs(1)
    elif name == "output_keeps_mode":
        model1 = case.fixture("fixture_model_tp1")
        with open(case.outputs[0], "wb") as f:
            f.write(b"old")
        os.chmod(case.outputs[0], 0o640)
        proc, _ = case.run(0, model1, inputs,
                           preexec=lambda: os.umask(0o022))
        check(proc.returncode == 0, "tp-launch failed")
        mode = stat.S_IMODE(os.stat(case.outputs[0]).st_mode)
        check(mode == 0o640, f"the existing output's mode became {mode:o}")
        mode = stat.S_IMODE(os.stat(case.outputs[1]).st_mode)
        check(mode == 0o644, f"a new output has mode {mode:o}, not 644")
        case.check_outputs(1)
    elif name == "output_fifo":
        # A FIFO (like /dev/null) is written into, never replaced.
        model1 = case.fixture("fixture_model_tp1")
        os.mkfifo(case.outputs[5])
        received = []

        def reader():
            with open(case.outputs[5], "rb") as f:
                received.append(f.read())
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        time.sleep(0.2)  # the reader is waiting in open()
        proc, _ = case.run(0, model1, inputs)
        check(proc.returncode == 0, "tp-launch failed")
        check(stat.S_ISFIFO(os.lstat(case.outputs[5]).st_mode),
              "the FIFO was replaced")
        thread.join(5)
        check(received and received[0] == npy_bytes("<i4", (), [0]),
              f"the FIFO's reader got {received!r}")
    elif name == "output_fifo_no_reader":
        os.mkfifo(case.outputs[2])
        proc, t = case.run(2, model2, inputs)
        check(stat.S_ISFIFO(os.lstat(case.outputs[2]).st_mode),
              "the FIFO was replaced")
        os.unlink(case.outputs[2])
        case.expect_failure(proc, t, r"tp: rank 0: output 2 \([^)]*y2\.npy\): "
                            r"no process is reading the FIFO", limit=10)
        check(proc.returncode == 1, "exit code should be 1")
    elif name == "output_directory":
        os.mkdir(case.outputs[1])
        proc, t = case.run(2, model2, inputs)
        check(os.path.isdir(case.outputs[1]), "the directory was replaced")
        os.rmdir(case.outputs[1])
        case.expect_failure(proc, t, r"tp: rank 0: output 1 \([^)]*y1\.npy\): "
                            r"it is a directory; name a regular file",
                            limit=10)
        check(proc.returncode == 1, "exit code should be 1")
    elif name == "output_devices":
        # /dev/null and /dev/full as outputs, made in the work folder (renaming
        # over the real /dev/null would break the machine if this regressed).
        if not (try_mknod(case.outputs[0], 1, 3) and
                try_mknod(case.outputs[3], 1, 3)):
            print("SKIPPED: cannot create device nodes here")
            sys.exit(77)
        proc, _ = case.run(2, model2, inputs)
        check(proc.returncode == 0, "tp-launch failed with /dev/null outputs")
        for j in (0, 3):
            check(stat.S_ISCHR(os.lstat(case.outputs[j]).st_mode),
                  f"output {j}, a /dev/null device, was replaced")
        # A full disk: /dev/full fails every write with ENOSPC.
        for path in case.outputs:
            os.unlink(path)
        check(try_mknod(case.outputs[4], 1, 7), "mknod /dev/full failed")
        proc, t = case.run(2, model2, inputs)
        check(stat.S_ISCHR(os.lstat(case.outputs[4]).st_mode),
              "the /dev/full device was replaced")
        os.unlink(case.outputs[4])
        case.expect_failure(proc, t, r"tp: rank 0: output 4 \([^)]*y4\.npy\): "
                            r"cannot write file: No space left on device",
                            limit=8)
        check(proc.returncode == 1, "exit code should be 1")
    elif name == "output_write_fails":
        # The output folder disappears after tp-launch checked it (the
        # fixture's rank 0 removes it inside tp_entry): the write fails after
        # the last collective. Every rank must end quickly with exit code 1,
        # not hang in MPI_Abort and die of SIGALRM (14).
        outdir = case.path("out")
        os.mkdir(outdir)
        case.outputs = [os.path.join(outdir, f"y{j}.npy")
                        for j in range(NUM_RESULTS)]
        env = dict(os.environ, TP_FIXTURE_REMOVE_DIR=outdir)
        proc, t = case.run(2, model2, inputs, env=env)
        case.expect_failure(proc, t, r"tp: rank 0: output 0 \([^)]*y0\.npy\): "
                            r"cannot create a temporary file in '[^']*out': "
                            r"No such file or directory", limit=5)
        check(proc.returncode == 1,
              f"exit code should be 1, got {proc.returncode}")
    elif name == "output_comma":
        # Any file name can be passed: "\\," is a comma inside a name.
        case.outputs = [case.path(f"y,{j}.npy") for j in range(NUM_RESULTS)]
        proc, _ = case.run(2, model2, inputs, escape=True)
        check(proc.returncode == 0, "tp-launch failed")
        case.check_outputs(2)
    elif name == "rank_abort":
        inputs = case.write_inputs(mode=2)
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, r"tp: rank 1: the model crashed inside "
                            r"tp_entry \(signal SIGABRT\)")
    elif name == "rank_segfault":
        inputs = case.write_inputs(mode=5)
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, r"tp: rank 1: the model crashed inside "
                            r"tp_entry \(signal SIGSEGV\)")
    elif name == "rank_bad_collective":
        inputs = case.write_inputs(mode=4)
        proc, t = case.run(2, model2, inputs)
        case.expect_failure(proc, t, r"tp: rank 1: in compiled code: "
                            r"tp_rt_all_reduce: unknown dtype 99")
    elif name == "rank_hang":
        inputs = case.write_inputs(mode=3)
        proc, t = case.run(2, model2, inputs, timeout=2)
        # Usually 124, but hydra may report a rank it SIGKILLed (README).
        case.expect_failure(proc, t, r"tp: rank 0: timed out after 2 s",
                            limit=15)
    elif name == "spawn_cpu_model":
        proc, t = case.run(2, model2, inputs, spawn=True)
        case.expect_failure(proc, t, r"tp: tp-launch: --spawn runs GPU models "
                            r"\(the nccl backend\); model '[^']*fixture_model"
                            r"_tp2\.so' is for target 'cpu'")
        check(proc.returncode == 2, "exit code should be 2")
    elif name == "bad_collectives":
        # --collectives host is a GPU option; a bad kind is a usage error.
        proc, t = case.run(1, model2, inputs, extra=["--collectives", "host"])
        case.expect_failure(proc, t, r"tp-launch: --collectives host is for "
                            r"GPU models \(the nccl backend\)")
        check(proc.returncode == 2, "exit code should be 2")
        proc, t = case.run(1, model2, inputs, extra=["--collectives", "mpi"])
        case.expect_failure(proc, t, rank + r"tp-launch: --collectives must be "
                            r"nccl or host, got 'mpi'")
        check(proc.returncode == 2, "exit code should be 2")
    elif name == "bad_backend":
        proc, t = case.run(1, model2, inputs, extra=["--backend", "cuda"])
        case.expect_failure(proc, t, rank + r"tp-launch: --backend must be mpi "
                            r"or nccl, got 'cuda'")
    elif name == "mpi_runs_gpu_model":
        case.outputs = [case.path("gy.npy"), case.path("gh.npy")]
        proc, t = case.run(1, case.fixture("fixture_gpu_tp1"),
                           gpu_inputs(case), extra=["--backend", "mpi"])
        case.expect_failure(proc, t, rank + r"model '[^']*fixture_gpu_tp1\.so'"
                            r" was compiled for target 'gpu', but this "
                            r"tp-launch runs the mpi backend")
    else:
        check(False, f"unknown case {name}")


# The GPU fixture: y = relu(x w + b) v (replicated), h = relu(x w + b).
GX = [float((i * 7) % 5 - 2) for i in range(8 * 16)]       # [8, 16]
GW = [float((i * 3) % 5 - 2) for i in range(16 * 12)]      # [16, 12]
GB = [float(i % 3 - 1) for i in range(12)]                 # [12]
GV = [float((i * 5) % 3 - 1) for i in range(12 * 8)]       # [12, 8]


def gpu_expected():
    h = [[max(0.0, sum(GX[i * 16 + p] * GW[p * 12 + j] for p in range(16)) +
              GB[j]) for j in range(12)] for i in range(8)]
    y = [[sum(h[i][q] * GV[q * 8 + j] for q in range(12)) for j in range(8)]
         for i in range(8)]
    return ([v for row in y for v in row], [v for row in h for v in row])


def gpu_inputs(case):
    paths = []
    for name, shape, values in [("x", (8, 16), GX), ("w", (16, 12), GW),
                                ("b", (12,), GB), ("v", (12, 8), GV)]:
        paths.append(case.path(name + ".npy"))
        write_npy(paths[-1], "<f4", shape, values)
    return paths


def stub_env(case):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = case.args.stub_driver + (
        ":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


def have_gpu():
    if os.path.exists("/dev/nvidia0"):
        return True
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def gpu_case(case, name):
    outputs = [case.path("gy.npy"), case.path("gh.npy")]
    case.outputs = outputs
    inputs = gpu_inputs(case)
    stub = r"cuInit: CUDA driver is a stub library"
    if name == "gpu_stub_np1":
        proc, t = case.run(0, case.fixture("fixture_gpu_tp1"), inputs,
                           env=stub_env(case))
        case.expect_failure(proc, t, r"tp: rank 0: cannot initialize the "
                            r"runtime: tp_init: " + stub)
    elif name == "gpu_stub_spawn2":
        proc, t = case.run(2, case.fixture("fixture_gpu_tp2"), inputs,
                           spawn=True, env=stub_env(case))
        case.expect_failure(proc, t, r"tp: rank [01]: cannot initialize the "
                            r"runtime: tp_init: " + stub)
    elif name == "gpu_stub_host_spawn2":
        # --collectives host reaches every spawned rank: rank 0 creates the
        # shared segment, the rendezvous hands its name over, and the first
        # CUDA call then fails as usual (no segment left behind).
        before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") \
            else set()
        proc, t = case.run(2, case.fixture("fixture_gpu_tp2"), inputs,
                           spawn=True, env=stub_env(case),
                           extra=["--collectives", "host"])
        case.expect_failure(proc, t, r"tp: rank [01]: cannot initialize the "
                            r"runtime: tp_init: " + stub)
        if os.path.isdir("/dev/shm"):
            left = [n for n in set(os.listdir("/dev/shm")) - before
                    if n.startswith("tp-host-")]
            check(not left, f"shared memory left behind: {left}")
    elif name.startswith("gpu_host_spawn"):
        # Ranks sharing one GPU through --collectives host (any GPU count):
        # exact outputs; capture is refused, with the reason, so every call
        # runs plainly.
        n = int(name[len("gpu_host_spawn"):])
        if not have_gpu():
            print("SKIPPED: no GPU on this machine")
            sys.exit(77)
        proc, _ = case.run(n, case.fixture(f"fixture_gpu_tp{n}"), inputs,
                           spawn=True, extra=["--collectives", "host",
                                              "--warmup", "1", "--repeat", "2"])
        check(proc.returncode == 0, "tp-launch failed")
        check(re.search(rf"tp-launch: @gpu_mlp on {n} ranks \(nccl, "
                        r"collectives over host memory\): tp_entry",
                        proc.stdout) is not None, "no summary line")
        check("CUDA graph not used: collectives over host memory"
              in proc.stderr, "no note on the CUDA graph")
        check(len(re.findall(r"CUDA graph unavailable", proc.stdout)) == n,
              "expected every rank line to say the graph is unavailable")
        want_y, want_h = gpu_expected()
        for path, shape, want in [(outputs[0], (8, 8), want_y),
                                  (outputs[1], (8, 12), want_h)]:
            _, got_shape, got = read_npy(path)
            check(got_shape == shape, f"{path}: shape {got_shape}")
            check(got == want, f"{path}: {got} != {want}")
    elif name == "gpu_graph_spawn1":
        # The second call is captured and replayed (exact outputs of the
        # last replay); --no-cuda-graph runs every call plainly.
        if not have_gpu():
            print("SKIPPED: no GPU on this machine")
            sys.exit(77)
        for extra, want_line in [((), "CUDA graph replayed"),
                                 (("--no-cuda-graph",), "no CUDA graph")]:
            proc, _ = case.run(1, case.fixture("fixture_gpu_tp1"), inputs,
                               spawn=True, extra=["--warmup", "1", "--repeat",
                                                  "3", *extra])
            check(proc.returncode == 0, "tp-launch failed")
            check(re.search(r"tp-launch: rank 0: tp_entry median .*; " +
                            want_line, proc.stdout) is not None,
                  f"the rank line lacks '{want_line}'")
            check("capture failed" not in proc.stderr,
                  "the capture failed: " + proc.stderr)
            want_y, want_h = gpu_expected()
            for path, shape, want in [(outputs[0], (8, 8), want_y),
                                      (outputs[1], (8, 12), want_h)]:
                _, got_shape, got = read_npy(path)
                check(got == want, f"{path} ({want_line}): {got} != {want}")
    elif name.startswith("gpu_ok_spawn") or name.startswith("gpu_timing"):
        # gpu_timing_spawnN: --warmup 2 --repeat 3 on the device (results of
        # the earlier calls freed with mgpuMemFree, CUDA-event times, peak
        # device memory per rank), same exact outputs.
        timing = name.startswith("gpu_timing")
        n = int(name[len("gpu_timing_spawn" if timing else "gpu_ok_spawn"):])
        if not have_gpu():
            print("SKIPPED: no GPU on this machine")
            sys.exit(77)
        proc, _ = case.run(n, case.fixture(f"fixture_gpu_tp{n}"), inputs,
                           spawn=True,
                           extra=["--warmup", "2", "--repeat", "3"]
                           if timing else ())
        check(proc.returncode == 0, "tp-launch failed")
        check(re.search(rf"tp-launch: @gpu_mlp on {n} ranks? \(nccl\): "
                        r"tp_entry [0-9.]+ ms", proc.stdout) is not None,
              "no summary line")
        if timing:
            lines = re.findall(r"tp-launch: rank (\d+): tp_entry median "
                               r"[0-9.]+ ms min [0-9.]+ ms max [0-9.]+ ms "
                               r"\(3 calls\); peak RSS [0-9.]+ MiB "
                               r"\(arguments [0-9.]+ MiB\); peak device "
                               r"memory ([0-9.]+) MiB", proc.stdout)
            check([int(r) for r, _ in lines] == list(range(n)),
                  f"expected a line per rank with device memory: {lines}")
            check(all(float(m) > 0 for _, m in lines),
                  "no device memory reported")
        want_y, want_h = gpu_expected()
        for path, shape, want in [(outputs[0], (8, 8), want_y),
                                  (outputs[1], (8, 12), want_h)]:
            _, got_shape, got = read_npy(path)
            check(got_shape == shape, f"{path}: shape {got_shape}")
            check(got == want, f"{path}: {got} != {want}")
    else:
        check(False, f"unknown case {name}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", required=True)
    parser.add_argument("--launcher", required=True)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--mpiexec", default="mpiexec")
    parser.add_argument("--stub-driver", default="")
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    case = Case(args)
    match = re.fullmatch(r"ok_np(\d)", args.case)
    timing = re.fullmatch(r"timing_np(\d)", args.case)
    if match:
        case_ok(case, int(match.group(1)))
    elif timing:
        case_timing(case, int(timing.group(1)),
                    ["--warmup", "2", "--repeat", "3"], 3)
    elif args.case in ("weights_np2", "weights_files_np3"):
        case_weights(case, args.case)
    elif args.case == "safetensors_output_np2":
        case_safetensors_output(case)
    elif args.case == "weights_errors":
        weights_error_case(case, args.case)
    elif args.case == "stats_np2":
        case_timing(case, 2, ["--rank-stats"], 1)
    elif args.case.startswith("gpu_"):
        gpu_case(case, args.case)
    else:
        error_case(case, args.case)
    print("PASSED:", args.case)


if __name__ == "__main__":
    main()
