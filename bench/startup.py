"""Start-up cost of the CLI: median wall time of `rigfit --help`, `rigfit detect`, `rigfit detect --json`.

Usage: .venv/bin/python bench/startup.py [--runs N] [--rigfit PATH]

Each command runs N times in a fresh process (after one warm-up run that fills the OS file cache and writes
the .pyc files, as an installed package has them); the
median, min and max wall times are printed as a Markdown table, followed by the `python -X importtime`
breakdown of `rigfit detect --json` (the modules with the largest cumulative import time) and a baseline
`python -c pass`.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall_times(argv: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of each run; CPU time is what a busy machine distorts least."""
    subprocess.run(argv, capture_output=True, env=env, check=False)  # warm-up: file cache, .pyc files
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if result.returncode not in (0, 2):  # `rigfit` without a command exits 2 by design
            raise SystemExit(f"{' '.join(argv)} failed: {result.stderr.decode()[-500:]}")
    return times, cpu


def import_breakdown(python: str, env: dict[str, str], top: int) -> tuple[list[tuple[int, int, str]], int]:
    """(cumulative µs, self µs, module) of the slowest imports of `rigfit detect --json`, and the module count."""
    result = subprocess.run([python, "-X", "importtime", "-m", "rigfit", "detect", "--json"], capture_output=True,
                            text=True, env=env, check=False)
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            rows.append((int(match.group(2)), int(match.group(1)), len(match.group(3)), match.group(4)))
    top_level = [(cum, own, name) for cum, own, depth, name in rows if depth <= 1]
    return sorted(top_level, reverse=True)[:top], len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--rigfit", default=str(ROOT / ".venv" / "bin" / "rigfit"))
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    python = str(Path(args.rigfit).with_name("python"))
    # PYTHONDONTWRITEBYTECODE would make every run compile the modules again; an installed rigfit has its .pyc
    # files, so the warm-up run writes them here too.
    dropped = ("RIGFIT_HARDWARE", "CUDA_VISIBLE_DEVICES", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["COLUMNS"] = "100"
    commands = {
        "python -c pass (baseline)": [python, "-c", "pass"],
        "rigfit --help": [args.rigfit, "--help"],
        "rigfit detect": [args.rigfit, "detect"],
        "rigfit detect --json": [args.rigfit, "detect", "--json"],
        "rigfit profiles": [args.rigfit, "profiles"],
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.runs} runs each, {sys.platform}, {os.cpu_count()} CPUs, load average {load:.1f} at the start\n")
    print("| command | median wall ms | min wall ms | max wall ms | median CPU ms |")
    print("|---|---:|---:|---:|---:|")
    for label, argv in commands.items():
        times, cpu = wall_times(argv, args.runs, env)
        print(f"| `{label}` | {statistics.median(times) * 1000:.0f} | {min(times) * 1000:.0f} "
              f"| {max(times) * 1000:.0f} | {statistics.median(cpu) * 1000:.0f} |")
    rows, count = import_breakdown(python, env, args.top)
    print(f"\n`python -X importtime -m rigfit detect --json`: {count} modules imported; the slowest top-level "
          "imports (cumulative, including what they import):\n")
    print("| module | cumulative ms | self ms |")
    print("|---|---:|---:|")
    for cumulative, own, name in rows:
        print(f"| `{name}` | {cumulative / 1000:.1f} | {own / 1000:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
