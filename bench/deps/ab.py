#!/usr/bin/env python3
"""Two versions of ``rigfit deps check`` run alternately on the benchmark's conflicting set (``all``).

Alternating the runs puts both versions under the same machine load, so their difference is the change and not
the weather. The other version is a source tree put first on ``PYTHONPATH`` (e.g. a ``git worktree`` of an
older commit); this checkout's ``src`` is the second. Both run as ``python -m rigfit`` with the benchmark's
arguments and environment (``run.py``); the keys of their JSON that differ (the timing field aside) are listed,
so a change of behaviour is not mistaken for a change of speed.

    git worktree add /tmp/before <commit> && .venv/bin/python -m compileall -q /tmp/before/src src
    .venv/bin/python bench/deps/ab.py /tmp/before/src --runs 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import run as bench  # noqa: E402  (the benchmark's commands and environment)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="source folder of the other version (its src/)")
    parser.add_argument("--runs", type=int, default=20)
    ns = parser.parse_args()
    command = bench.commands("all")["rigfit deps check"]
    argv = [str(ROOT / ".venv" / "bin" / "python"), "-m", "rigfit", *command[1:]]
    versions = {"before": {"PYTHONPATH": str(ns.before.resolve())}, "after": {"PYTHONPATH": str(ROOT / "src")}}
    times: dict[str, list[float]] = {name: [] for name in versions}
    answers: dict[str, dict[str, object]] = {}
    for _ in range(ns.runs):
        for name, extra in versions.items():
            start = time.perf_counter()
            done = subprocess.run(argv, env={**bench.env(), **extra}, capture_output=True, text=True, timeout=300)
            times[name].append(time.perf_counter() - start)
            doc = json.loads(done.stdout)
            doc.pop("seconds", None)
            answers.setdefault(name, doc)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values) * 1000:.1f} ms, fastest {min(values) * 1000:.1f} ms "
              f"({len(values)} runs)")
    before, after = answers["before"], answers["after"]
    differ = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
    print("same JSON" if not differ else f"JSON differs in: {', '.join(differ)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
