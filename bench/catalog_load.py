#!/usr/bin/env python3
"""Catalog load time: the shipped catalog read, parsed and validated, cold (a fresh process) and warm.

Run from the repository root: ``.venv/bin/python bench/catalog_load.py [--runs 21]``.
Prints a Markdown table for bench/README.md ("Catalog load"). Medians of ``--runs`` runs.

* cold: a fresh interpreter per run; ``import`` is the time to import ``rigfit.shell.catalog_source``,
  ``load_catalog()`` the first call (read 9 JSON files, parse, decode, cross-check), ``total`` both.
* warm rebuild: the in-process caches cleared before each call, so the files are read, parsed and validated
  again (decoders already compiled): the cost of a second load with ``--catalog`` files.
* cached: ``load_catalog()`` again in the same process (what every command after the first pays).

Wall-clock medians on a busy machine mostly measure waiting for a CPU; the CPU time of the first load is printed
beside them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MS = 100.0

_COLD = """
import json, time
t0, c0 = time.perf_counter(), time.process_time()
from rigfit.shell.catalog_source import load_catalog
t1, c1 = time.perf_counter(), time.process_time()
catalog = load_catalog()
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "load_cpu": c2 - c1, "models": len(catalog.models)}))
"""


def cold(runs: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {"import": [], "load": [], "load_cpu": [], "total": []}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _COLD], capture_output=True, text=True, check=True, timeout=60, cwd=ROOT
        ).stdout
        doc = json.loads(out)
        samples["import"].append(doc["import"])
        samples["load"].append(doc["load"])
        samples["load_cpu"].append(doc["load_cpu"])
        samples["total"].append(doc["import"] + doc["load"])
    return {key: statistics.median(values) * 1000 for key, values in samples.items()}


def warm(runs: int) -> tuple[float, float]:
    from rigfit.shell import catalog_source

    catalog_source.load_catalog()
    rebuild, cached = [], []
    for _ in range(runs):
        catalog_source.shipped_documents.cache_clear()
        catalog_source._shipped_catalog.cache_clear()
        start = time.perf_counter()
        catalog_source.load_catalog()
        rebuild.append(time.perf_counter() - start)
        start = time.perf_counter()
        catalog_source.load_catalog()
        cached.append(time.perf_counter() - start)
    return statistics.median(rebuild) * 1000, statistics.median(cached) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    ns = parser.parse_args()
    from rigfit.core.catalog.query import counts
    from rigfit.shell.catalog_source import load_catalog

    numbers = counts(load_catalog())
    cold_ms = cold(ns.runs)
    rebuild_ms, cached_ms = warm(ns.runs)
    print(
        f"catalog: {numbers['models']} models, {numbers['variants']} variants, {numbers['files']} files, "
        f"{numbers['node_packs']} node packs, {numbers['presets']} presets; median of {ns.runs} runs\n"
    )
    print("| measurement | median | limit |")
    print("| --- | --- | --- |")
    print(f"| cold: import rigfit.shell.catalog_source | {cold_ms['import']:.1f} ms | |")
    print(f"| cold: first load_catalog() (read + parse + validate) | {cold_ms['load']:.1f} ms | {LIMIT_MS:.0f} ms |")
    print(f"| cold: first load_catalog(), CPU time of the process | {cold_ms['load_cpu']:.1f} ms | |")
    print(f"| cold: import + first load | {cold_ms['total']:.1f} ms | |")
    print(f"| warm: rebuild (caches cleared) | {rebuild_ms:.1f} ms | {LIMIT_MS:.0f} ms |")
    print(f"| warm: cached load_catalog() | {cached_ms:.3f} ms | |")
    return 0 if cold_ms["load"] < LIMIT_MS and rebuild_ms < LIMIT_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
