#!/usr/bin/env python3
"""bench-sim-gen-swf.py N OUT [--procs P] [--seed S]: a synthetic SWF trace of N
jobs for the simulator's benchmark: Poisson arrivals sized so that the
offered load is about 0.9 of P processors, power-of-two-ish widths, log-uniform
runtimes up to a day and users' walltime over-estimates.  Deterministic from
the seed."""
import argparse
import math
import random
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--procs", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--load", type=float, default=0.9)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    widths = [1, 1, 1, 2, 4, 4, 8, 16, 32, 64, 128, 256]
    # mean work of one job, to set the arrival rate for the load
    mean_w = sum(widths) / len(widths)
    lo, hi = math.log(10), math.log(86400)
    mean_rt = (86400 - 10) / (hi - lo)
    gap = mean_w * mean_rt / (a.load * a.procs)
    out = sys.stdout if a.out == "-" else open(a.out, "w")
    out.write("; Version: 2.2\n; Computer: minna bench-sim synthetic\n")
    out.write("; MaxJobs: %d\n; MaxRecords: %d\n; MaxProcs: %d\n; MaxNodes: %d\n;\n"
              % (a.n, a.n, a.procs, a.procs))
    t = 0.0
    lines = []
    for i in range(1, a.n + 1):
        t += rnd.expovariate(1.0 / gap)
        w = rnd.choice(widths)
        rt = int(math.exp(rnd.uniform(lo, hi)))
        req = min(86400, int(rt * rnd.choice([1.0, 1.5, 2.0, 4.0])) + 60)
        lines.append("%d %d -1 %d %d -1 -1 %d %d -1 1 %d 1 -1 1 -1 -1 -1\n"
                     % (i, int(t), rt, w, w, req, 1 + i % 997))
        if len(lines) >= 10000:
            out.write("".join(lines))
            lines = []
    out.write("".join(lines))
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
