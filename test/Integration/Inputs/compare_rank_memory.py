#!/usr/bin/env python3
"""Compares the per-rank memory two tp-run --rank-stats runs report.

  compare_rank_memory.py A.txt B.txt [--rss-margin MIB] [--args-margin MIB]

Reads, from each file, every 'tp-launch: rank R: ... peak RSS X MiB
(arguments Y MiB...' line, prints the figures of both runs side by side
with their differences, and exits 1 unless every rank is in both runs and,
per rank, the peak RSS differs by at most --rss-margin MiB and the
argument (shard) bytes by at most --args-margin MiB.
"""
import argparse
import re
import sys

LINE = re.compile(r"tp-launch: rank (\d+): .*peak RSS ([0-9.]+) MiB \(arguments ([0-9.]+) MiB")


def read(path):
    ranks = {}
    with open(path) as f:
        for line in f:
            m = LINE.search(line)
            if m:
                ranks[int(m.group(1))] = (float(m.group(2)), float(m.group(3)))
    if not ranks:
        sys.exit(f"{path}: no 'tp-launch: rank R: ... peak RSS' line (run tp-run with --rank-stats)")
    return ranks


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rss-margin", type=float, default=1.0)
    p.add_argument("--args-margin", type=float, default=0.1)
    o = p.parse_args()
    a, b = read(o.a), read(o.b)
    ok = sorted(a) == sorted(b)
    if not ok:
        print(f"ranks differ: {sorted(a)} vs {sorted(b)}")
    print("rank  peak RSS A  peak RSS B  diff   |  arguments A  arguments B  diff  (MiB)")
    for r in sorted(set(a) & set(b)):
        (ra, xa), (rb, xb) = a[r], b[r]
        good = abs(ra - rb) <= o.rss_margin and abs(xa - xb) <= o.args_margin
        ok &= good
        print(f"{r:4}  {ra:10.1f}  {rb:10.1f}  {rb - ra:+5.1f}  |  {xa:11.1f}  {xb:11.1f}  {xb - xa:+5.1f}"
              f"  {'same' if good else 'DIFFERENT'}")
    print(f"margins: peak RSS {o.rss_margin} MiB, arguments {o.args_margin} MiB: "
          f"{'same memory per rank' if ok else 'memory per rank differs'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
