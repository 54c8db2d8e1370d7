"""Build the local wheel index the dependency benchmark resolves against (run once; needs PyPI).

The 15 node packs' requirement files (``packs/``) are screened by rigfit, and the same screened lines are what
every tool in ``run.py`` resolves. Wheels are fetched with ``pip download`` for each pack alone and for the
packs that resolve together, so the index holds several versions of the contested packages (numpy 1 and 2,
several transformers, OpenCV builds for both numpy lines). Source distributions that dependencies need
(e.g. antlr4-python3-runtime) are built into wheels once here, so no tool runs a build backend while timed.

    .venv/bin/python bench/deps/prepare.py            # into bench/out/deps (git-ignored)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = Path(os.environ.get("RIGFIT_BENCH_DEPS", ROOT / "bench" / "out" / "deps"))
# The torch build of the reference ComfyUI install (shared/comfyui/pip-freeze.txt).
TORCH_PINS = ("torch==2.13.0", "torchvision==0.28.0", "torchaudio==2.11.0")
CONFLICTING = ("newnode_np2", "was-node-suite-comfyui")  # left out of the resolvable scenario


def pip_env() -> dict[str, str]:
    """Plain PyPI: no machine-wide pip config, find-links or constraints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def pip_python() -> Path:
    """A venv with a current pip (the one timed in run.py too)."""
    python = OUT / "pip-venv" / "bin" / "python"
    if not python.exists():
        venv.create(OUT / "pip-venv", with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True, env=pip_env())
    return python


def screened_inputs() -> dict[str, list[str]]:
    """Pack id → the requirement lines rigfit accepts (refused lines are dropped for every tool)."""
    sys.path.insert(0, str(ROOT / "src"))
    from rigfit.core.requirements import screen_requirements_txt

    packs: dict[str, list[str]] = {}
    for folder in sorted(p for p in (HERE / "packs").iterdir() if p.is_dir()):
        text = (folder / "requirements.txt").read_text(encoding="utf-8")
        screened = screen_requirements_txt(folder.name, "requirements.txt", text)
        packs[folder.name] = [str(d.requirement) for d in screened.declared]
        for refused in screened.refused:
            print(f"refused {refused.origin}: {refused.text} ({refused.reason})")
    return packs


def write_inputs(packs: dict[str, list[str]]) -> None:
    work = OUT / "inputs"
    work.mkdir(parents=True, exist_ok=True)
    from rigfit.core.declared_conflicts import COMFYUI_REQUIREMENTS  # ComfyUI's versioned requirement lines

    (work / "comfyui-constraints.txt").write_text("\n".join(COMFYUI_REQUIREMENTS) + "\n")
    constraints = [*COMFYUI_REQUIREMENTS, *TORCH_PINS]
    (work / "constraints.txt").write_text("\n".join(constraints) + "\n")
    ok = [line for pack, lines in packs.items() if pack not in CONFLICTING for line in lines]
    every = [line for lines in packs.values() for line in lines]
    (work / "flat-ok.txt").write_text("\n".join(ok) + "\n")
    (work / "flat-all.txt").write_text("\n".join(every) + "\n")
    for pack, lines in packs.items():
        (work / f"pack-{pack}.txt").write_text("\n".join(lines) + "\n")
    (work / "packs.json").write_text(json.dumps(packs, indent=1))


def download(python: Path) -> None:
    raw = OUT / "download"
    raw.mkdir(parents=True, exist_ok=True)
    work = OUT / "inputs"
    sets = [work / "flat-ok.txt", *sorted(work.glob("pack-*.txt"))]
    for requirements in sets:
        done = subprocess.run([python, "-m", "pip", "download", "-q", "-d", raw, "-r", requirements,
                               "-c", work / "constraints.txt", *TORCH_PINS], env=pip_env(), text=True,
                              capture_output=True)
        status = "ok" if done.returncode == 0 else "failed: " + done.stderr.strip().splitlines()[-1][:160]
        print(f"download {requirements.name}: {status}", flush=True)
        if done.returncode != 0:
            # A pack that conflicts with ComfyUI or the torch build: fetch what it asks for on its own (torch
            # lines left out: the pinned build is what every tool must keep), so tools meet the real conflict
            # rather than a missing package.
            alone = requirements.with_suffix(".alone")
            alone.write_text("".join(line + "\n" for line in requirements.read_text().splitlines()
                                     if not line.startswith(("torch", "xformers"))))
            again = subprocess.run([python, "-m", "pip", "download", "-q", "-d", raw, "-r", alone], env=pip_env(),
                                   text=True, capture_output=True)
            print(f"download {alone.name} without constraints: "
                  f"{'ok' if again.returncode == 0 else again.stderr.strip()[-160:]}", flush=True)
    wheels = OUT / "wheels"
    wheels.mkdir(exist_ok=True)
    for item in sorted(raw.iterdir()):
        if item.suffix == ".whl":
            shutil.copy2(item, wheels / item.name)
        else:  # an sdist a dependency needs: build it once, here
            built = subprocess.run([python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, item],
                                   env=pip_env(), text=True, capture_output=True)
            print(f"built {item.name}: {'ok' if built.returncode == 0 else built.stderr[-200:]}", flush=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    packs = screened_inputs()
    write_inputs(packs)
    download(pip_python())
    count = len(list((OUT / "wheels").glob("*.whl")))
    size = sum(p.stat().st_size for p in (OUT / "wheels").glob("*.whl"))
    print(f"{count} wheels, {size / 2**30:.1f} GiB in {OUT / 'wheels'}")


if __name__ == "__main__":
    main()
