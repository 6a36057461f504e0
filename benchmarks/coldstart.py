"""Cold start of crashplan commands against the interpreter and the click floor, measured side by side.

Whole-process wall time, every case run once per round in a shuffled order, medians over the rounds:
``python3 benchmarks/coldstart.py [--rounds N]``.  Prints a table of medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def crashplan_cmd() -> list[str]:
    exe = shutil.which("crashplan")
    return [exe] if exe else [sys.executable, "-m", "crashplan"]


def cases() -> dict[str, list[str]]:
    cp = crashplan_cmd()
    lint_file = ROOT / "tests" / "data" / "bench" / "grub"
    c = {
        "python3 -c pass": [sys.executable, "-c", "pass"],
        'python3 -c "import click"': [sys.executable, "-c", "import click"],
        "check --format json": cp + ["check", "crashkernel=256M crashkernel=1G,cma", "--kernel", "7.2", "--arch",
                                     "x86_64", "--ram", "16G", "--no-map", "--format", "json"],
        "check (text)": cp + ["check", "crashkernel=256M crashkernel=1G,cma", "--kernel", "7.2", "--arch",
                              "x86_64", "--ram", "16G", "--no-map"],
    }
    if lint_file.exists():
        c["lint --format json (1 file)"] = cp + ["lint", "--format", "json", str(lint_file)]
    return c


def run_once(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"})
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=31)
    args = ap.parse_args()
    cs = cases()
    for argv in cs.values():  # warm the page cache and .pyc files
        run_once(argv)
    samples: dict[str, list[float]] = {k: [] for k in cs}
    order = list(cs)
    for _ in range(args.rounds):
        random.shuffle(order)
        for k in order:
            samples[k].append(run_once(cs[k]))
    med = {k: statistics.median(v) for k, v in samples.items()}
    base, floor = med["python3 -c pass"], med['python3 -c "import click"']
    print(f"rounds: {args.rounds}; python {sys.version.split()[0]}; {os.uname().machine}; {os.cpu_count()} CPUs")
    print(f"{'case':32} {'median ms':>10} {'x pass':>8} {'x click':>8}")
    for k, v in med.items():
        print(f"{k:32} {v * 1000:10.1f} {v / base:8.2f} {v / floor:8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
