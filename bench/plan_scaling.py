#!/usr/bin/env python3
"""Planning and partitioning time of a GPT-3-width model (hidden 12288, 96
heads, 4x MLP) against the time tp-opt takes to parse and print it, at 24, 48
and 96 layers (time should grow linearly with layers), and the same figures
for upstream MLIR's sharding-propagation + shard-partition on an annotated
MLP-only model of the same size.

  bench/plan_scaling.py [--build build] [--layers 24,48,96] [--tp-size 8]
                        [--repeat 5]

Times come from --mlir-timing (wall time of each pass; parse and print are
the Parser and Output rows), best of --repeat rounds. They are taken twice:
with --verify-each=false (each pass's own work; tp-opt otherwise re-verifies
the whole module after every pass, once after parsing but twice more here)
and with the verifier on (and, for comparison, the verifier alone after a
pass that changes nothing). Each round runs every command of every size once,
in turn, so that a machine that slows down or speeds up during the run
(a shared 2-core machine does) weighs on all of them alike rather than on
whichever size ran last. Nothing here fails on a time: it prints the
figures and the ratios, and how parse + print itself grows per layer (the
machine's own non-linearity: the IR outgrows the caches).

With --instructions the first table counts instructions instead (valgrind's
callgrind, inclusive counts of the parser, the printer and the two passes'
runOnOperation): slow (minutes at 96 layers), but the same on a loaded
machine, where wall times are not.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--build", default=os.path.join(root, "build"))
p.add_argument("--layers", default="24,48,96")
p.add_argument("--tp-size", type=int, default=8)
p.add_argument("--repeat", type=int, default=5)
p.add_argument("--mlir-opt", default="/usr/lib/llvm-22/bin/mlir-opt")
p.add_argument("--instructions", action="store_true",
               help="count instructions with callgrind (first table only)")
a = p.parse_args()

tp_opt = os.path.join(a.build, "bin", "tp-opt")
gen = os.path.join(root, "scripts", "gen_transformer.py")
row_re = re.compile(r"^\s*([0-9.]+) \(\s*[0-9.]+%\)\s+(.*\S)\s*$")


def timing_rows(cmd, verify=False):
    """Per-pass wall times (seconds) of one run, from --mlir-timing."""
    flags = ["--mlir-timing", "-o", os.devnull]
    if not verify:
        flags.append("--verify-each=false")
    out = subprocess.run(cmd + flags, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    rows = {}
    for line in out.stderr.splitlines():
        m = row_re.match(line)
        if m and m.group(2) != "Total":
            rows[m.group(2)] = rows.get(m.group(2), 0.0) + float(m.group(1))
    return rows


def best_of_rounds(commands):
    """{key: best per-pass rows} for commands given as {key: (cmd, verify)},
    taking --repeat rounds that each run every command once, in turn."""
    best = {}
    for _ in range(a.repeat):
        for key, (cmd, verify) in commands.items():
            rows = timing_rows(cmd, verify)
            if key not in best or sum(rows.values()) < sum(best[key].values()):
                best[key] = rows
    return best


def timing(cmd, verify=False):
    """Best-of-repeat per-pass wall times of one command."""
    return best_of_rounds({0: (cmd, verify)})[0]


# Inclusive callgrind rows that make up each column (function name prefixes).
counted = {
    "Parser": ["mlir::parseSourceFile("],
    "Output": ["mlir::AsmState::AsmState(", "mlir::Operation::print(llvm::raw_ostream&, mlir::AsmState&)"],
    "TPPlan": ["(anonymous namespace)::TPPlanPass::runOnOperation()"],
    "TPPartition": ["(anonymous namespace)::TPPartitionPass::runOnOperation()"],
}


def instructions(cmd):
    """Inclusive instruction counts (in units of 1e9, to print like seconds)
    of the parser, the printer and the passes, from one callgrind run."""
    out_file = os.path.join(tmp, "callgrind.out")
    run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"] + cmd +
                         ["--verify-each=false", "-o", os.devnull], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{run.stderr[-2000:]}")
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", out_file],
                          capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([0-9,]+) \(\s*[0-9.]+%\)\s+\?\?\?:(.*)$", line)
        if not m:
            continue
        for column, names in counted.items():
            if any(m.group(2).startswith(n) for n in names):
                rows[column] = rows.get(column, 0.0) + int(m.group(1).replace(",", "")) / 1e9
    return rows


def mlp_shard_model(path, layers, hidden, tokens):
    """An MLP-only model annotated for upstream's shard dialect (Megatron)."""
    ffn = 4 * hidden
    lines = [f"shard.grid @tp(shape = {a.tp_size})", "func.func @mlp("]
    args = [f"%x: tensor<{tokens}x{hidden}xf32>"]
    for l in range(layers):
        args += [f"%w1_{l}: tensor<{hidden}x{ffn}xf32>", f"%w2_{l}: tensor<{ffn}x{hidden}xf32>"]
    lines.append("    " + ",\n    ".join(args) + f") -> tensor<{tokens}x{hidden}xf32> {{")
    lines.append("  %zero = arith.constant 0.0 : f32")
    lines.append("  %col = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding")
    lines.append("  %row = shard.sharding @tp split_axes = [[0], []] : !shard.sharding")
    cur = "%x"
    for l in range(layers):
        lines.append(f"  %w1s_{l} = shard.shard %w1_{l} to %col : tensor<{hidden}x{ffn}xf32>")
        lines.append(f"  %w2s_{l} = shard.shard %w2_{l} to %row : tensor<{ffn}x{hidden}xf32>")
        lines.append(f"  %e1_{l} = tensor.empty() : tensor<{tokens}x{ffn}xf32>")
        lines.append(f"  %f1_{l} = linalg.fill ins(%zero : f32) outs(%e1_{l} : tensor<{tokens}x{ffn}xf32>) -> tensor<{tokens}x{ffn}xf32>")
        lines.append(f"  %h_{l} = linalg.matmul ins({cur}, %w1s_{l} : tensor<{tokens}x{hidden}xf32>, tensor<{hidden}x{ffn}xf32>) outs(%f1_{l} : tensor<{tokens}x{ffn}xf32>) -> tensor<{tokens}x{ffn}xf32>")
        lines.append(f"  %r_{l} = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = [\"parallel\", \"parallel\"]}} ins(%h_{l} : tensor<{tokens}x{ffn}xf32>) outs(%e1_{l} : tensor<{tokens}x{ffn}xf32>) {{")
        lines.append("  ^bb0(%a: f32, %o: f32):")
        lines.append("    %m = arith.maximumf %a, %zero : f32")
        lines.append("    linalg.yield %m : f32")
        lines.append(f"  }} -> tensor<{tokens}x{ffn}xf32>")
        lines.append(f"  %e2_{l} = tensor.empty() : tensor<{tokens}x{hidden}xf32>")
        lines.append(f"  %f2_{l} = linalg.fill ins(%zero : f32) outs(%e2_{l} : tensor<{tokens}x{hidden}xf32>) -> tensor<{tokens}x{hidden}xf32>")
        lines.append(f"  %y_{l} = linalg.matmul ins(%r_{l}, %w2s_{l} : tensor<{tokens}x{ffn}xf32>, tensor<{ffn}x{hidden}xf32>) outs(%f2_{l} : tensor<{tokens}x{hidden}xf32>) -> tensor<{tokens}x{hidden}xf32>")
        cur = f"%y_{l}"
    lines.append(f"  return {cur} : tensor<{tokens}x{hidden}xf32>")
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def tp_mlp_model(path, layers, hidden, tokens):
    """The same MLP-only model with tp.parallel annotations."""
    text = open(path.replace(".tp.", ".shard.")).read()
    text = re.sub(r"shard\.grid.*\n", "", text)
    text = re.sub(r"  %(col|row) = shard\.sharding.*\n", "", text)
    text = re.sub(r"  %(w[12])s_(\d+) = shard\.shard %\1_\2 to %\w+ : .*\n", "", text)
    text = re.sub(r"%(w[12])s_(\d+)", r"%\1_\2", text)
    text = re.sub(r"(%h_\d+ = linalg\.matmul)", r'\1 {tp.parallel = "column"}', text)
    text = re.sub(r"(%y_\d+ = linalg\.matmul)", r'\1 {tp.parallel = "row"}', text)
    with open(path, "w") as f:
        f.write(text)


hidden, heads, tokens = 12288, 96, 2048
tmp = tempfile.mkdtemp(prefix="tp-bench-")
unit = "Ginstr" if a.instructions else "s"
how = "instructions counted by callgrind" if a.instructions else f"best of {a.repeat}"
print(f"GPT-3 width: hidden {hidden}, {heads} heads, ffn {4 * hidden}, seq {tokens}; tp-size {a.tp_size}; {how}")
print()
print(f"{'layers':>6} {'ops':>7} {'parse ' + unit:>11} {'print ' + unit:>11} {'plan ' + unit:>11} {'partition ' + unit:>15} "
      f"{'(plan+part)/(parse+print)':>26} {'plan+part/layer':>18} {'ratio, verifier on':>19}")
layer_counts = [int(x) for x in a.layers.split(",")]
models = {}
for layers in layer_counts:
    model = os.path.join(tmp, f"gpt3-{layers}.mlir")
    subprocess.run([sys.executable, gen, "--arch", "gpt2", "--layers", str(layers), "--hidden", str(hidden),
                    "--heads", str(heads), "--seq", str(tokens), "-o", model], check=True)
    models[layers] = model
passes = [f"--tp-plan=tp-size={a.tp_size}", f"--tp-partition=tp-size={a.tp_size}"]
if a.instructions:
    measured = {}
    for layers, model in models.items():
        measured[(layers, "base", False)] = instructions([tp_opt, model])
        measured[(layers, "full", False)] = instructions([tp_opt, model] + passes)
else:
    commands = {}
    for layers, model in models.items():
        for verify in (False, True):
            commands[(layers, "base", verify)] = ([tp_opt, model], verify)
            commands[(layers, "full", verify)] = ([tp_opt, model] + passes, verify)
        # The pass manager's verification alone: after a pass that changes
        # nothing here (one public function), its row is the verifier's time.
        commands[(layers, "verify", True)] = ([tp_opt, model, "--symbol-dce"], True)
    measured = best_of_rounds(commands)
per_layer, base_per_layer, verified_per_layer, verifier_per_layer = [], [], [], []
for layers, model in models.items():
    ops = sum(1 for line in open(model) if "=" in line and "%" in line)
    base, full = measured[(layers, "base", False)], measured[(layers, "full", False)]
    parse, output = base.get("Parser", 0), base.get("Output", 0)
    plan, part = full.get("TPPlan", 0), full.get("TPPartition", 0)
    if a.instructions:
        vratio = float("nan")  # the verifier's count does not depend on load
    else:
        vbase, vfull = measured[(layers, "base", True)], measured[(layers, "full", True)]
        vpasses = vfull.get("TPPlan", 0) + vfull.get("TPPartition", 0)
        vratio = vpasses / (vbase.get("Parser", 0) + vbase.get("Output", 0))
        verified_per_layer.append(vpasses / layers)
        verifier_per_layer.append(measured[(layers, "verify", True)].get("SymbolDCE", 0) / layers)
    per_layer.append((plan + part) / layers)
    base_per_layer.append((parse + output) / layers)
    per_unit = "M" if a.instructions else "ms"
    print(f"{layers:>6} {ops:>7} {parse:11.3f} {output:11.3f} {plan:11.3f} {part:15.3f} "
          f"{(plan + part) / (parse + output):26.2f} {(plan + part) / layers * 1000:15.2f} {per_unit:2} {vratio:19.2f}")
what = "instructions" if a.instructions else "time"
print(f"linearity: plan+partition {what} per layer at the most layers / at the fewest = "
      f"{per_layer[-1] / per_layer[0]:.2f} (1.00 = linear); parse+print's own: "
      f"{base_per_layer[-1] / base_per_layer[0]:.2f}")
if verified_per_layer:
    print(f"linearity with the verifier on: plan+partition time per layer at the most layers / at the fewest = "
          f"{verified_per_layer[-1] / verified_per_layer[0]:.2f}; one verification of the module "
          f"(upstream's verifier, two of which that column adds): {verifier_per_layer[-1] / verifier_per_layer[0]:.2f}")
if a.instructions:
    sys.exit(0)

print()
print("MLP-only model (no attention), annotated: tp-mlir vs upstream sharding-propagation + shard-partition")
print(f"{'layers':>6} {'tp parse s':>10} {'tp-partition s':>14} {'shard parse s':>13} {'propagation s':>13} "
      f"{'shard-partition s':>17} {'upstream/tp':>11}")
for layers in [int(x) for x in a.layers.split(",")]:
    shard_model = os.path.join(tmp, f"mlp-{layers}.shard.mlir")
    mlp_shard_model(shard_model, layers, hidden, tokens)
    tp_model = os.path.join(tmp, f"mlp-{layers}.tp.mlir")
    tp_mlp_model(tp_model, layers, hidden, tokens)
    tp = timing([tp_opt, tp_model, f"--tp-partition=tp-size={a.tp_size}"])
    up = timing([a.mlir_opt, shard_model,
                 "--pass-pipeline=builtin.module(func.func(sharding-propagation,shard-partition))"])
    prop = sum(v for k, v in up.items() if "ShardingPropagation" in k or "sharding-propagation" in k)
    spart = sum(v for k, v in up.items() if "Partition" in k or "partition" in k)
    ours = tp.get("TPPartition", 0)
    print(f"{layers:>6} {tp.get('Parser', 0):10.3f} {ours:14.3f} {up.get('Parser', 0):13.3f} {prop:13.3f} "
          f"{spart:17.3f} {(prop + spart) / ours if ours else float('nan'):11.2f}")
