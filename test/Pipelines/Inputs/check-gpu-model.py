#!/usr/bin/env python3
"""Checks a model.so built by `tp-run --target=gpu`:

- its undefined dynamic symbols (`nm -D --undefined-only`) are only the tp
  runtime's (tp_rt_*), MLIR's GPU runtime ABI (mgpu*, in libtp_runtime_nccl.so),
  and what libc / libm define (C runtime hooks included);
- it embeds a CUDA fatbin (magic 0xBA55ED50) holding a cubin, an ELF for
  EM_CUDA, for the expected SM (--sm 90).

Prints one line per finding and `ok` at the end; exits 1 on any problem.
"""
import argparse
import struct
import subprocess
import sys

EM_CUDA = 190
FATBIN_MAGIC = struct.pack("<I", 0xBA55ED50)


def defined_symbols(library):
    out = subprocess.run(["nm", "-D", "--defined-only", library],
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--sm", type=int, default=90)
    args = parser.parse_args()
    ok = True

    out = subprocess.run(["nm", "-D", "--undefined-only", args.model],
                         capture_output=True, text=True, check=True).stdout
    undefined = [line.split()[-1] for line in out.splitlines() if line.strip()]
    system = set()
    for lib in ("/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6"):
        system |= defined_symbols(lib)
    crt = {"_ITM_deregisterTMCloneTable", "_ITM_registerTMCloneTable",
           "__cxa_finalize", "__gmon_start__"}
    kinds = {"tp_rt": 0, "mgpu": 0, "libc/libm": 0}
    for name in undefined:
        base = name.split("@")[0]
        if base.startswith("tp_rt_"):
            kinds["tp_rt"] += 1
        elif base.startswith("mgpu"):
            kinds["mgpu"] += 1
        elif base in system or base in crt:
            kinds["libc/libm"] += 1
        else:
            print(f"unexpected undefined symbol: {name}")
            ok = False
    print("undefined: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))

    data = open(args.model, "rb").read()
    start = data.find(FATBIN_MAGIC)
    if start < 0:
        print("no CUDA fatbin embedded")
        ok = False
    else:
        cubins = []
        pos = data.find(b"\x7fELF", start)
        while pos >= 0:
            ei_class = data[pos + 4]
            machine = struct.unpack_from("<H", data, pos + 18)[0]
            flags_at = pos + (48 if ei_class == 2 else 36)
            flags = struct.unpack_from("<I", data, flags_at)[0]
            if machine == EM_CUDA:
                # The SM is the low byte of e_flags up to ELF ABI version 7,
                # the next byte from version 8 (CUDA 12.8+).
                abi_version = data[pos + 8]
                cubins.append((flags >> 8) & 0xFF if abi_version >= 8 else flags & 0xFF)
            pos = data.find(b"\x7fELF", pos + 4)
        print("fatbin: cubins for " + ", ".join(f"sm_{sm}" for sm in cubins))
        if args.sm not in cubins:
            print(f"no cubin for sm_{args.sm}")
            ok = False
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
