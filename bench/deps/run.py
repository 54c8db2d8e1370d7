"""Resolve the 15-pack set three ways against the same local wheel index, and time each (warm).

1. ``rigfit deps check`` — the real CLI end to end (Python start-up, screening, planned torch, one synthetic
   package per pack, attribution of every conflict to the smallest set of packs).
2. ComfyUI-Manager's unified approach — ``uv pip compile`` of the concatenated requirements with ComfyUI's
   requirements as ``--constraint`` and its default torch blacklist (torch, torchaudio, torchsde,
   torchvision) applied to the input; one run, no attribution.
3. ``pip install --dry-run --ignore-installed --report`` of the same lines with ComfyUI's requirements and the
   torch pins as ``-c``.

All three resolve for the same interpreter (the pip venv's Python 3.11.x: exact version and wheel tags) and
the same torch build (torch 2.13.0, torchvision 0.28.0, torchaudio 2.11.0).

Every tool reads the lines rigfit's screening accepts (prepare.py), from ``--no-index --find-links`` of the
wheels prepare.py fetched. Scenarios: ``ok`` (13 packs that resolve together) and ``all`` (15 packs, with
numpy, torch and transformers conflicts).

    .venv/bin/python bench/deps/run.py [--repeat 5] [--pip-repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = Path(os.environ.get("RIGFIT_BENCH_DEPS", ROOT / "bench" / "out" / "deps"))
WHEELS = OUT / "wheels"
INPUTS = OUT / "inputs"
MANAGER_BLACKLIST = ("torch", "torchaudio", "torchsde", "torchvision")
CONFLICTING = ("newnode_np2", "was-node-suite-comfyui")
TORCH_PINS = ("torch==2.13.0", "torchvision==0.28.0", "torchaudio==2.11.0")  # as in prepare.py


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    clean.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", UV_CACHE_DIR=str(OUT / "uv-cache"),
                 NO_COLOR="1")
    return clean


def timed(argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env(), capture_output=True, text=True, timeout=1800)
    return time.perf_counter() - start, done


def uv() -> str:
    import uv as uv_package

    return str(uv_package.find_uv_bin())


def commands(scenario: str) -> dict[str, list[str]]:
    packs = json.loads((INPUTS / "packs.json").read_text())
    chosen = [p for p in packs if scenario == "all" or p not in CONFLICTING]
    flat = INPUTS / f"flat-{scenario}.txt"
    python = str(OUT / "pip-venv" / "bin" / "python")  # every tool resolves for this one interpreter
    manager_input = OUT / f"manager-{scenario}.txt"
    manager_input.write_text("".join(line + "\n" for line in flat.read_text().splitlines()
                                     if line.split("[")[0].split("=")[0].split("<")[0].split(">")[0].strip()
                                     not in MANAGER_BLACKLIST))
    return {
        "rigfit deps check": [str(ROOT / ".venv" / "bin" / "rigfit"), "deps", "check",
                              *[str(HERE / "packs" / p) for p in chosen], "--find-links", str(WHEELS),
                              "--hardware", str(HERE / "rtx4090.json"), "--python", python,
                              *[arg for pin in TORCH_PINS for arg in ("--torch", pin)], "--json"],
        "Manager unified (uv pip compile)": [
            uv(), "pip", "compile", str(manager_input), "--constraint", str(INPUTS / "comfyui-constraints.txt"),
            "--python", python, "--no-index",
            "--find-links", str(WHEELS), "--no-header", "-o", str(OUT / f"manager-{scenario}.lock")],
        "pip --dry-run --report": [
            python, "-m", "pip", "install", "--dry-run", "--ignore-installed",
            "--quiet", "--report", str(OUT / f"pip-{scenario}.json"), "-r", str(flat), "-c",
            str(INPUTS / "constraints.txt"), "--no-index", "--find-links", str(WHEELS)],
    }


def lock_facts(pins: dict[str, str], torch_kept: str | None = None) -> str:
    """What the lock would install: how many OpenCV and onnxruntime builds, and which torch."""
    cv = sorted(n for n in pins if n.startswith("opencv"))
    ort = sorted(n for n in pins if n.startswith("onnxruntime"))
    torch = torch_kept or pins.get("torch", "none")
    return (f"{len(pins)} pins; OpenCV: {', '.join(cv) or '-'}; onnxruntime: {', '.join(ort) or '-'}; "
            f"torch {torch}")


def summary(tool: str, done: subprocess.CompletedProcess[str], scenario: str) -> str:
    if tool.startswith("rigfit"):
        doc = json.loads(done.stdout)
        if doc["conflicts"]:
            return "; ".join(f"{'+'.join(c['packs'])} ({', '.join(c['packages'])})" for c in doc["conflicts"]) + \
                f" — {doc['resolver_runs']} uv runs"
        pins = dict(line.split("==", 1) for line in doc["lock"])
        kept = next(p.split("==")[1] for p in doc["torch"]["pins"] if p.startswith("torch=="))
        return f"{lock_facts(pins, kept + ' (pinned, kept)')} — {doc['resolver_runs']} uv runs"
    if done.returncode == 0:
        if tool.startswith("pip"):
            report = json.loads((OUT / f"pip-{scenario}.json").read_text())
            return lock_facts({i["metadata"]["name"].lower(): i["metadata"]["version"] for i in report["install"]})
        lock = (OUT / f"manager-{scenario}.lock").read_text().splitlines()
        return lock_facts(dict(ln.split("==", 1) for ln in lock if "==" in ln and not ln.startswith(" ")))
    lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
    first = next((ln for ln in lines if "cause:" in ln or "Cannot install" in ln or "ResolutionImpossible" in ln),
                 lines[-1] if lines else "")
    return "fails: " + first[:110]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pip-repeat", type=int, default=3)
    args = parser.parse_args()
    results = []
    for scenario in ("ok", "all"):
        for tool, argv in commands(scenario).items():
            timed(argv)  # warm-up: uv's cache, pip's wheel metadata, the OS page cache
            repeat = args.pip_repeat if tool.startswith("pip") else args.repeat
            runs = [timed(argv) for _ in range(repeat)]
            seconds = [s for s, _ in runs]
            done = runs[-1][1]
            results.append({"scenario": scenario, "tool": tool, "median_s": statistics.median(seconds),
                            "runs_s": [round(s, 3) for s in seconds], "exit": done.returncode,
                            "result": summary(tool, done, scenario)})
            print(json.dumps(results[-1]), flush=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    print("\n| scenario | tool | warm median (s) | runs (s) | exit | outcome |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['scenario']} | {r['tool']} | {r['median_s']:.2f} | {', '.join(f'{s:.2f}' for s in r['runs_s'])}"
              f" | {r['exit']} | {r['result']} |")
    for scenario in ("ok", "all"):
        by = {r["tool"]: r["median_s"] for r in results if r["scenario"] == scenario}
        print(f"{scenario}: pip / rigfit = {by['pip --dry-run --report'] / by['rigfit deps check']:.1f}x")
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
