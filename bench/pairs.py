#!/usr/bin/env python3
"""Times two commands in interleaved pairs and reports the ratio of their wall times.

On a machine whose speed drifts (a shared VM), medians measured minutes apart differ by
more than most changes do; the ratio within a pair, run back to back, does not. Each
pair runs A then B, the next B then A (so neither always runs second), and the report
gives the median of A, of B, and of the per-pair ratios A/B with their quartiles.

    bench/pairs.py --runs 30 --cwd STACK_DIR -a 'NEW render --check' -b 'OLD render --check'

Used by bench/compare.sh; see bench/README.md.
"""

import argparse
import shlex
import statistics
import subprocess
import sys
import time


def timed(command, cwd, prepare=None):
    """Wall seconds of one run of `command`, after `prepare` (a shell command, untimed);
    the output is discarded, a failure stops."""
    if prepare:
        subprocess.run(prepare, shell=True, cwd=cwd, check=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"pairs: `{shlex.join(command)}` exited with {done.returncode} (in {cwd})")
    return elapsed


def quartiles(values):
    """The first quartile, median and third quartile."""
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def pairs(a, b, runs, warmup, cwd, prepare=None):
    """(seconds of A, seconds of B) for each pair, after `warmup` unpaired runs of each;
    `prepare` runs before every run."""
    def run(command):
        return timed(command, cwd, prepare)

    for _ in range(warmup):
        run(a)
        run(b)
    result = []
    for i in range(runs):
        if i % 2 == 0:
            ta, tb = run(a), run(b)
        else:
            tb, ta = run(b), run(a)
        result.append((ta, tb))
    return result


def report(label, measured):
    a = [ta for ta, _ in measured]
    b = [tb for _, tb in measured]
    ratios = [ta / tb for ta, tb in measured]
    q1, median, q3 = quartiles(ratios)
    return (
        f"| {label} | {statistics.median(a) * 1000:.1f} ms | {statistics.median(b) * 1000:.1f} ms "
        f"| {median:.3f} | {q1:.3f}–{q3:.3f} | {len(measured)} |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-a", required=True, help="command A (the new one), split as a shell splits words")
    parser.add_argument("-b", required=True, help="command B (the baseline)")
    parser.add_argument("--label", default="", help="the row's name in the report")
    parser.add_argument("--runs", type=int, default=30, help="pairs to time (at least 4)")
    parser.add_argument("--warmup", type=int, default=2, help="unpaired runs of each first")
    parser.add_argument("--cwd", default=".", help="directory to run both in")
    parser.add_argument("--prepare", help="a shell command run (untimed) before every run of A or B")
    parser.add_argument("--header", action="store_true", help="print the table header first")
    args = parser.parse_args()
    if args.runs < 4:
        parser.error("--runs must be at least 4 (quartiles)")
    if args.header:
        print("| measurement | A (median) | B (median) | A/B (median of pairs) | A/B quartiles | pairs |")
        print("|---|---:|---:|---:|---|---:|")
    measured = pairs(shlex.split(args.a), shlex.split(args.b), args.runs, args.warmup, args.cwd, args.prepare)
    print(report(args.label or args.a, measured), flush=True)


if __name__ == "__main__":
    main()
