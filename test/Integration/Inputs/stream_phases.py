"""Runs tp-run (the arguments after this script) with stdout and stderr in one
pipe, reads its output line by line as it streams, and checks that the phase
lines arrive while tp-run is still running, in order, with the plan report
before code generation starts and the compile summary after it:

  python3 stream_phases.py tp-run MODEL --tp-size=2 --report --progress ...

Prints the lines it saw (for FileCheck) and exits non-zero on a violation."""
import subprocess
import sys

proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, bufsize=1)
lines = []
running_at = {}  # first line index of each marker -> process still running?
markers = {"report": "tp plan for @", "partition": "] partition",
           "codegen": "] codegen", "summary": "tp-run: compile "}
for line in proc.stdout:
    index = len(lines)
    lines.append(line.rstrip("\n"))
    for name, text in markers.items():
        if text in line and name not in running_at:
            running_at[name] = (index, proc.poll() is None)
rc = proc.wait()
sys.stdout.write("\n".join(lines) + "\n")
problems = []
for name in markers:
    if name not in running_at:
        problems.append("no %s line" % name)
if not problems:
    if not running_at["partition"][1] or not running_at["codegen"][1]:
        problems.append("a phase line arrived only after tp-run had exited")
    order = sorted(markers, key=lambda n: running_at[n][0])
    if order != ["partition", "report", "codegen", "summary"]:
        problems.append("lines in the order %s" % ", ".join(order))
if rc != 0:
    problems.append("tp-run exited with %d" % rc)
for problem in problems:
    print("stream_phases: " + problem)
print("stream_phases: %s" % ("FAILED" if problems else "ok"))
sys.exit(1 if problems else 0)
