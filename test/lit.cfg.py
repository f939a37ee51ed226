# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "TP"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tp_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%tp_src_root", config.tp_src_root))
config.substitutions.append(("%tp_lib_dir", config.tp_lib_dir))
config.substitutions.append(("%tp_tools_dir", config.tp_tools_dir))
import sys
config.substitutions.append(("%gen_transformer", sys.executable + " " +
                             os.path.join(config.tp_src_root, "scripts", "gen_transformer.py")))
config.substitutions.append(("%gen_training", sys.executable + " " +
                             os.path.join(config.tp_src_root, "scripts", "gen_training.py")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP",
                                     "ASAN_OPTIONS", "UBSAN_OPTIONS"])
llvm_config.use_default_substitutions()

tool_dirs = [config.tp_tools_dir, config.llvm_tools_dir]
tools = ["tp-opt", "tp-run", "tp-compare", "FileCheck", "not", "count"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

if config.tp_enable_mpi:
    config.available_features.add("mpi")
# Graphviz's dot draws tp-run's --dot=FILE.svg/.png pictures.
import shutil
if shutil.which("dot"):
    config.available_features.add("graphviz")
if config.tp_enable_cuda:
    config.available_features.add("cuda")
# ptxas, to check the generated PTX (registers, spills) without a GPU.
import shutil
ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
if os.path.exists(ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
if config.tp_enable_sanitizers:
    config.available_features.add("sanitizers")
    # LLVM's allocator annotations (manual poisoning in inline header code)
    # are compiled out of a GCC sanitizer build (top-level CMakeLists.txt,
    # test/Sanitizers): Debian's libMLIR.so is uninstrumented and shares the
    # allocators' slabs with our code. allow_user_poisoning=0 stays for
    # compilers where that is not possible (clang); with GCC it changes
    # nothing, since nothing poisons by hand. It reaches every process of a
    # test: tp-run compiles in-process and passes its whole environment to
    # mpiexec, which passes it to the ranks (tp-launch and the model, no LLVM
    # code).
    asan = config.environment.get("ASAN_OPTIONS", "")
    config.environment["ASAN_OPTIONS"] = (
        (asan + ":" if asan else "") + "allow_user_poisoning=0")

# The dialect + pass plugin and the stock mlir-opt it loads into
# (test/Embedding). A sanitizer build's plugin cannot load into an
# uninstrumented mlir-opt.
config.substitutions.append(("%tp_plugin",
                             os.path.join(config.tp_lib_dir, "TPPlugin.so")))
config.substitutions.append(("%mlir_opt",
                             os.path.join(config.llvm_tools_dir, "mlir-opt")))
if (os.path.exists(os.path.join(config.llvm_tools_dir, "mlir-opt"))
        and not config.tp_enable_sanitizers):
    config.available_features.add("tp_plugin")

# mlir-runner and its C runner library run small host programs lowered to
# LLVM (test/Target/GPU/row-statistics.mlir: the GPU kernels' statistics
# formulas, run on the CPU).
_runner = os.path.join(config.llvm_tools_dir, "mlir-runner")
_runner_utils = os.path.join(os.path.dirname(config.llvm_tools_dir), "lib",
                             "libmlir_c_runner_utils.so")
config.substitutions.append(("%mlir_runner", _runner))
config.substitutions.append(("%mlir_c_runner_utils", _runner_utils))
if os.path.exists(_runner) and os.path.exists(_runner_utils):
    config.available_features.add("mlir-runner")
