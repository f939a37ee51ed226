#!/usr/bin/env python3
"""SIGINT / SIGTERM to tp-run, as Ctrl-C, `timeout` or a scheduler send them.

  interrupt_tp_run.py TP_RUN MODEL.mlir WORK_DIR

Two moments:
- while the ranks run: tp-run is given a slow `--mpiexec` (a script that
  records its pid, sleeps, then runs mpiexec), and the signal comes once that
  script started. tp-run must forward it, wait for the job, exit with
  128 + the signal number, remove its scratch folder, and no output may
  appear afterwards (the job would have written it when the sleep ended).
- while compiling: the signal comes as soon as tp-run's scratch folder
  exists; the same exit code and cleanup.
"""
import os
import signal
import subprocess
import sys
import time

tp_run, model, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
tmp = os.path.join(work, "tmp")
marker = os.path.join(work, "launcher.pid")
wrapper = os.path.join(work, "slow-mpiexec")
with open(wrapper, "w") as f:
    f.write(f"#!/bin/sh\necho $$ > '{marker}'\nsleep 5\nexec mpiexec \"$@\"\n")
os.chmod(wrapper, 0o755)


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


for moment in ("running", "compiling"):
    for sig in (signal.SIGTERM, signal.SIGINT):
        name = signal.Signals(sig).name
        print(f"--- {name} while {moment}", flush=True)
        os.makedirs(tmp, exist_ok=True)
        for path in (marker,):
            if os.path.exists(path):
                os.unlink(path)
        out = os.path.join(work, f"y-{moment}-{name}.npy")
        env = dict(os.environ, TMPDIR=tmp)
        proc = subprocess.Popen([tp_run, model, "--tp-size=2", "--quiet",
                                 "--output=" + out, "--mpiexec=" + wrapper],
                                env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        if moment == "running":
            wait_for(lambda: os.path.exists(marker) and
                     os.path.getsize(marker) > 0, 300, "the launcher")
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
        if moment == "running":
            with open(marker) as f:
                pid = int(f.read())
            check(not alive(pid), "the launcher is still running")
            time.sleep(6)  # past the wrapper's sleep: nothing may run now
        check(not os.path.exists(out), f"{out} was written")
        check(os.listdir(tmp) == [],
              f"scratch left behind: {os.listdir(tmp)}")
print("PASSED")
