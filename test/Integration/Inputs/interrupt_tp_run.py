#!/usr/bin/env python3
"""SIGINT / SIGTERM to tp-run, as Ctrl-C, `timeout` or a scheduler send them.

  interrupt_tp_run.py TP_RUN MODEL.mlir WORK_DIR

Three moments:
- while the job starts: tp-run is given a slow `--mpiexec` (a script that
  records its pid, sleeps, then runs mpiexec), and the signal comes once that
  script started. tp-run must forward it, wait for the job, exit with
  128 + the signal number, remove its scratch folder, and no output may
  appear afterwards (the job would have written it when the sleep ended).
- while the ranks run: the `--mpiexec` script runs the hand-written fixture
  model of the runtime tests (next to tp-run in the build tree) whose rank 1
  hangs; after the signal no rank may be left and no output written.
- while compiling: the signal comes as soon as tp-run's scratch folder
  exists; the same exit code and cleanup.
"""
import os
import signal
import struct
import subprocess
import sys
import time

tp_run, model, work = sys.argv[1:4]
work = os.path.abspath(work)
os.makedirs(work, exist_ok=True)
tmp = os.path.join(work, "tmp")
marker = os.path.join(work, "launcher.pid")
wrapper = os.path.join(work, "slow-mpiexec")
with open(wrapper, "w") as f:
    f.write(f"#!/bin/sh\necho $$ > '{marker}'\nsleep 5\nexec mpiexec \"$@\"\n")
os.chmod(wrapper, 0o755)

# The fixture model (runtime/test/FixtureModel.c) with mode 3: rank 1 hangs.
bin_dir = os.path.dirname(os.path.abspath(tp_run))
fixture = os.path.join(bin_dir, "..", "runtime", "test", "fixtures",
                       "fixture_model_tp2.so")


def write_npy(path, code, shape, values):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        code, "".join(f"{d}," for d in shape))
    header += " " * ((64 - (11 + len(header)) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) +
                header.encode())
        f.write(struct.pack("<%d%s" % (len(values), code[-2] == "f" and "f"
                                       or "i"), *values))


hang_inputs = []
for name, code, shape, count, value in [
        ("x", "<f4", (3, 4), 12, 0.5), ("a", "<f4", (12, 3), 36, 0.25),
        ("b", "<f4", (2, 7), 14, 1.0), ("mode", "<i4", (), 1, 3),
        ("h", "<f4", (5,), 5, 1.5), ("g", "<f4", (4,), 4, 0.5)]:
    hang_inputs.append(os.path.join(work, name + ".npy"))
    write_npy(hang_inputs[-1], code, shape, [value] * count)
hang_outputs = [os.path.join(work, f"hang-y{j}.npy") for j in range(8)]
hanging = os.path.join(work, "hanging-mpiexec")
with open(hanging, "w") as f:
    f.write(f"#!/bin/sh\necho $$ > '{marker}'\n"
            f"exec mpiexec -n 2 '{bin_dir}/tp-launch' --model '{fixture}' "
            f"--inputs '{','.join(hang_inputs)}' "
            f"--output '{','.join(hang_outputs)}' --timeout 120\n")
os.chmod(hanging, 0o755)


def ranks_left():
    """Processes whose command line names this test's folder."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read()
        except OSError:
            continue
        if work.encode() in command and b"tp-launch" in command:
            found.append(int(pid))
    return found


def check(condition, message):
    if not condition:
        print("FAILED:", message)
        sys.exit(1)


def wait_for(condition, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.02)
    check(False, f"timed out waiting for {what}")


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


moments = ["starting", "running", "compiling"]
if not os.path.exists(fixture):
    print(f"no {fixture}: skipping the running moment")
    moments.remove("running")
for moment in moments:
    for sig in (signal.SIGTERM, signal.SIGINT):
        name = signal.Signals(sig).name
        print(f"--- {name} while {moment}", flush=True)
        os.makedirs(tmp, exist_ok=True)
        for path in (marker,):
            if os.path.exists(path):
                os.unlink(path)
        out = os.path.join(work, f"y-{moment}-{name}.npy")
        env = dict(os.environ, TMPDIR=tmp)
        launcher = hanging if moment == "running" else wrapper
        proc = subprocess.Popen([tp_run, model, "--tp-size=2", "--quiet",
                                 "--output=" + out, "--mpiexec=" + launcher],
                                env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        if moment != "compiling":
            wait_for(lambda: os.path.exists(marker) and
                     os.path.getsize(marker) > 0, 300, "the launcher")
            if moment == "running":
                wait_for(lambda: len(ranks_left()) >= 2, 60, "the ranks")
                time.sleep(1)  # rank 1 is in tp_entry, rank 0 waits for it
        else:
            wait_for(lambda: os.listdir(tmp), 60, "the scratch folder")
        start = time.monotonic()
        proc.send_signal(sig)
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            check(False, "tp-run did not end within 30 s of the signal")
        elapsed = time.monotonic() - start
        print(f"exit code {proc.returncode} after {elapsed:.1f} s")
        print("stderr:\n" + stderr)
        check(proc.returncode == 128 + sig,
              f"exit code {proc.returncode}, expected {128 + sig}")
        check(f"interrupted by {name}" in stderr, "no message")
        check(elapsed < 15, "took too long")
        if moment != "compiling":
            with open(marker) as f:
                pid = int(f.read())
            check(not alive(pid), "the launcher is still running")
        if moment == "starting":
            time.sleep(6)  # past the wrapper's sleep: nothing may run now
        if moment == "running":
            check(not ranks_left(), f"ranks left: {ranks_left()}")
            for path in hang_outputs:
                check(not os.path.exists(path), f"{path} was written")
        check(not os.path.exists(out), f"{out} was written")
        check(os.listdir(tmp) == [],
              f"scratch left behind: {os.listdir(tmp)}")
print("PASSED")
