"""Time a no-op re-run of ``rigfit install`` on the end-to-end test fixture (every step already done).

``.venv/bin/python bench/install/noop_rerun.py --runs 21`` builds the offline fixture of
``tests/integration/test_install.py`` (ComfyUI stand-in and two node packs over git's HTTP protocol, a
hand-made wheelhouse, two model files from the local file server), installs once, then times the re-runs:
``in-process`` calls ``run_install`` (the work itself), ``process`` runs ``rigfit install ... --json`` as a user
does (interpreter start-up and imports included). Prints the medians and the spread.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from fixtures.comfyui_world import build_world, json_dump  # noqa: E402
from fixtures.fileserver import FileServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rigfit-bench-install-"))
    os.environ.update(RIGFIT_HOME=str(work / "home"), UV_CACHE_DIR=str(work / "uv-cache"), UV_OFFLINE="1",
                      UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1")  # fmt: skip
    world = build_world(work, ROOT / "tests" / "data" / "comfyui" / "object_info.json")
    ckpt, upscaler = os.urandom(4096), os.urandom(1024)
    from rigfit.core.plan import parse_plan
    from rigfit.shell.install import InstallOptions, run_install

    with world.git, FileServer() as files:
        files.add("/c", ckpt)
        files.add("/u", upscaler)
        entries = [
            {"url": files.url("/c"), "filename": "v1-5-pruned-emaonly-fp16.safetensors", "folder": "checkpoints",
             "bytes": len(ckpt), "sha256": hashlib.sha256(ckpt).hexdigest()},
            {"url": files.url("/u"), "filename": "4x-UltraSharp.pth", "folder": "upscale_models",
             "bytes": len(upscaler), "sha256": None},
        ]  # fmt: skip
        plan_file = json_dump(work / "plan.json", world.plan(entries))
        plan = parse_plan(json.loads(plan_file.read_text()), source=str(plan_file))
        comfyui = work / "ComfyUI"
        options = InstallOptions(comfyui_source=world.git.url("ComfyUI"), comfyui_ref="master",
                                 find_links=(str(world.wheels),))  # fmt: skip
        start = time.perf_counter()
        run_install(plan, comfyui, options=options)
        first = time.perf_counter() - start
        in_process = []
        for _ in range(args.runs):
            start = time.perf_counter()
            report = run_install(plan, comfyui, options=options)
            in_process.append(time.perf_counter() - start)
            # Nothing is redone; the models step checks each file (one stat through the store's cache).
            assert {s["step"] for s in report.steps if s["action"] == "ran"} == {"models"}
        argv = [sys.executable, "-m", "rigfit", "install", str(plan_file), "--comfyui", str(comfyui),
                "--comfyui-source", world.git.url("ComfyUI"), "--comfyui-ref", "master",
                "--find-links", str(world.wheels), "--json"]  # fmt: skip
        process = []
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
            process.append(time.perf_counter() - start)
            if done.returncode != 0:
                process = []
                print(
                    f"rigfit install as a process failed (exit {done.returncode}): {done.stderr.strip()[:300]}"
                )
                break

    def show(name: str, values: list[float]) -> None:
        if values:
            print(f"{name:<12} median {statistics.median(values) * 1000:7.1f} ms   "
                  f"min {min(values) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms   ({len(values)} runs)")  # fmt: skip

    print(f"first install {first:.2f} s")
    show("in-process", in_process)
    show("process", process)


if __name__ == "__main__":
    main()
