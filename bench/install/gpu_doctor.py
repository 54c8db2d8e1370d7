"""``rigfit doctor`` on a real GPU machine (device check), without network: the ComfyUI venv is an existing
venv that holds a CUDA torch (``--venv``), the rest of the install is a stand-in with an empty plan.

``PYTHONPATH=src VENV/bin/python bench/install/gpu_doctor.py --venv VENV --out DIR`` writes
``doctor-<profile>.json`` for the card this machine has (from nvidia-smi) and for a CPU-only profile.
``uv`` must be on PATH (rigfit's own dependency is not installed in that venv).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import tempfile
from pathlib import Path

from rigfit.cli.main import main
from rigfit.core.install_state import STEPS, Journal, StepRecord, journal_to_json
from rigfit.core.plan import Plan, plan_to_json
from rigfit.shell import venv

parser = argparse.ArgumentParser()
parser.add_argument("--venv", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

work = Path(tempfile.mkdtemp(prefix="rigfit-gpu-doctor-"))
os.environ["RIGFIT_HOME"] = str(work / "home")
comfyui = work / "ComfyUI"
(comfyui / ".rigfit").mkdir(parents=True)
(comfyui / "main.py").write_text("# stand-in\n")
(comfyui / ".venv").symlink_to(Path(args.venv).resolve())
pins = venv.torch_pins(venv.freeze(venv.venv_python(comfyui / ".venv")))
journal = Journal()
for step in STEPS:
    journal = journal.with_step(step, StepRecord("done", "device-check", "now"))
journal = journal.with_facts(python={"torch": pins})
(comfyui / ".rigfit" / "install.json").write_text(json.dumps(journal_to_json(journal)))
(comfyui / ".rigfit" / "plan.json").write_text(json.dumps(plan_to_json(Plan(files=()))))

smi = subprocess.run(["nvidia-smi", "--query-gpu=name,compute_cap,memory.total", "--format=csv,noheader,nounits"],
                     capture_output=True, text=True, check=True).stdout.splitlines()[0]  # fmt: skip
name, cc, mib = (p.strip() for p in smi.split(","))
gpu = {"vendor": "nvidia", "name": name, "vram_bytes": int(mib) * 2**20, "compute_capability": cc}
profiles = {"this-gpu": [gpu], "cpu-only": []}
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
for label, gpus in profiles.items():
    profile = work / f"{label}.json"
    profile.write_text(
        json.dumps({"schema": "rigfit.hardware/1", "os": "linux", "arch": "x86_64", "gpus": gpus})
    )
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(["doctor", "--comfyui", str(comfyui), "--json", "--hardware", str(profile)])
    (out / f"doctor-{label}.json").write_text(buffer.getvalue())
    print(f"{label}: exit {code}")
    print(buffer.getvalue())
