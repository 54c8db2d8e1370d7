#!/usr/bin/env python3
"""Recommendation speed: the engine over every embedded profile, and the commands' wall time.

Run from the repository root: ``.venv/bin/python bench/recommend.py [--comfy /tmp/comfycli/bin/comfy]``.
Prints a Markdown table for bench/README.md ("Recommendation speed"). Medians of several runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RIGFIT = ROOT / ".venv" / "bin" / "rigfit"


def _median_wall(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (user + system of the child) of ``argv``."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, timeout=120, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def engine(runs: int) -> tuple[float, float, int, int]:
    """Seconds for every default preset on every embedded profile, GPU-tier unlocks and the node packs'
    declared-requirement check included."""
    from rigfit.core.quant import device_of
    from rigfit.core.recommend import Choices, recommend, unlocks
    from rigfit.core.report import with_dependency_checks
    from rigfit.shell.catalog_source import load_catalog
    from rigfit.shell.hardware_source import embedded_profiles

    catalog = load_catalog(())
    profiles = embedded_profiles()
    times, cpus = [], []
    count = 0
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        count = 0
        for hw in profiles.values():
            device = device_of(hw)
            results = recommend(catalog, device, Choices())
            with_dependency_checks(results, hw, catalog)
            unlocks(catalog, device, results, Choices())
            unlocks(catalog, device, results, Choices(), runs=True)
            count += len(results)
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    print(f"engine first (cold) run: {times[0] * 1000:.0f} ms wall, {cpus[0] * 1000:.0f} ms CPU")
    return statistics.median(times), statistics.median(cpus), len(profiles), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--comfy", help="path of comfy-cli's `comfy` executable (a scratch venv)")
    ns = parser.parse_args()
    secs, cpu, n_profiles, n_results = engine(ns.runs)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians of {ns.runs} runs\n")
    print("| measurement | wall | CPU (user+sys) | limit |")
    print("| --- | --- | --- | --- |")
    print(f"| engine: default presets × {n_profiles} embedded profiles ({n_results} results, GPU-tier unlocks "
          f"included), in process | {secs * 1000:.0f} ms | {cpu * 1000:.0f} ms | < 500 ms |")
    rec, rec_cpu = _median_wall([str(RIGFIT), "recommend", "--json"], ns.runs)
    print(f"| `rigfit recommend --json`, this machine | {rec * 1000:.0f} ms | {rec_cpu * 1000:.0f} ms | < 500 ms |")
    helptime, help_cpu = _median_wall([str(RIGFIT), "--help"], ns.runs)
    print(f"| `rigfit --help` | {helptime * 1000:.0f} ms | {help_cpu * 1000:.0f} ms | ≤ ½ of `comfy --help` |")
    if ns.comfy:
        comfy, comfy_cpu = _median_wall([ns.comfy, "--help"], ns.runs)
        print(f"| `comfy --help` (comfy-cli) | {comfy * 1000:.0f} ms | {comfy_cpu * 1000:.0f} ms | |")
        print(f"| ratio rigfit / comfy | {helptime / comfy:.2f} | {help_cpu / comfy_cpu:.2f} | ≤ 0.50 |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
