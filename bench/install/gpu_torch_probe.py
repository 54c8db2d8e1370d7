"""Run doctor's torch probe and judgement against a real CUDA torch on a GPU machine (device check).

Usage on the GPU machine: ``PYTHONPATH=src PYTHON_WITH_TORCH bench/install/gpu_torch_probe.py > probe.json``.
It prints nvidia-smi's view, what ``rigfit.shell.venv.probe_torch`` reads from that interpreter, doctor's
findings for this card, and the findings the same torch build would get on other cards (compute
capabilities from the hardware facts), so the sm_XY rule is checked against a real ``get_arch_list()``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from rigfit.core.doctor_checks import expect_gpu, judge_torch
from rigfit.shell.venv import probe_torch

query = subprocess.run(
    ["nvidia-smi", "--query-gpu=name,compute_cap,driver_version", "--format=csv,noheader"],
    capture_output=True, text=True, timeout=60, check=False,
)  # fmt: skip
name, cc, driver = (part.strip() for part in query.stdout.splitlines()[0].split(","))
probe = probe_torch(Path(sys.executable))
others = {"RTX 5090 (Blackwell)": "12.0", "RTX 4060 (Ada)": "8.9", "GTX 1080 (Pascal)": "6.1", "B200": "10.0"}
print(json.dumps({
    "nvidia_smi": {"name": name, "compute_cap": cc, "driver": driver},
    "python": sys.executable,
    "probe": probe,
    "findings_this_card": [f.to_json() for f in judge_torch(probe, expect_gpu("nvidia", name, cc))],
    "findings_other_cards": {
        label: [f.to_json() for f in judge_torch(probe, expect_gpu("nvidia", label, c)) if f.name == "torch supports the card"]
        for label, c in others.items()
    },
}, indent=1))  # fmt: skip
