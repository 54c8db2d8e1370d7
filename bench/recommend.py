#!/usr/bin/env python3
"""Recommendation speed: the engine over every embedded profile, and the commands' wall time.

Run from the repository root: ``.venv/bin/python bench/recommend.py [--comfy /tmp/comfycli/bin/comfy]``.
Prints a Markdown table for bench/README.md ("Recommendation speed"). Medians of several runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RIGFIT = ROOT / ".venv" / "bin" / "rigfit"


def _median_wall(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, timeout=120, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def engine(runs: int) -> tuple[float, int, int]:
    """Seconds for every default preset on every embedded profile, GPU-tier unlocks included."""
    from rigfit.core.quant import device_of
    from rigfit.core.recommend import Choices, recommend, unlocks
    from rigfit.shell.catalog_source import load_catalog
    from rigfit.shell.hardware_source import embedded_profiles

    catalog = load_catalog(())
    profiles = embedded_profiles()
    times = []
    count = 0
    for _ in range(runs):
        start = time.perf_counter()
        count = 0
        for hw in profiles.values():
            device = device_of(hw)
            results = recommend(catalog, device, Choices())
            unlocks(catalog, device, results, Choices())
            count += len(results)
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(profiles), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--comfy", help="path of comfy-cli's `comfy` executable (a scratch venv)")
    ns = parser.parse_args()
    secs, n_profiles, n_results = engine(ns.runs)
    print("| measurement | median | limit |")
    print("| --- | --- | --- |")
    print(f"| engine: default presets × {n_profiles} embedded profiles ({n_results} results, GPU-tier unlocks "
          f"included), in process | {secs * 1000:.0f} ms | < 500 ms |")
    rec = _median_wall([str(RIGFIT), "recommend", "--json"], ns.runs)
    print(f"| `rigfit recommend --json` wall, this machine | {rec * 1000:.0f} ms | < 500 ms |")
    helptime = _median_wall([str(RIGFIT), "--help"], ns.runs)
    print(f"| `rigfit --help` wall | {helptime * 1000:.0f} ms | ≤ ½ of `comfy --help` |")
    if ns.comfy:
        comfy = _median_wall([ns.comfy, "--help"], ns.runs)
        print(f"| `comfy --help` wall (comfy-cli) | {comfy * 1000:.0f} ms | |")
        print(f"| ratio rigfit / comfy | {helptime / comfy:.2f} | ≤ 0.50 |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
