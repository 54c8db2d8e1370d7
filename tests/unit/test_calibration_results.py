"""The committed GPU calibration results (bench/gpu/results/*.json) are complete and self-consistent.

These files are measurements made by bench/gpu/calibrate.py on a real NVIDIA GPU; the budget model is
fitted to them. The checks below hold for any honest run and catch a truncated, hand-edited or
CPU-smoke file committed by mistake.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "gpu" / "results"
FILES = sorted(RESULTS.glob("calibration-*.json"))
PER_POINT_STAGES = ("diffusion", "vae_decode")
GROUP_STAGES = ("text_encode", "diffusion_load", "vae_load")
GIB = 1024**3


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def _measured_points(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in doc["points"] if "error" not in p]


def test_there_is_a_committed_results_file() -> None:
    """The calibration data exists in the repository (the budget-model fit reads it)."""
    assert FILES, f"no calibration-*.json under {RESULTS}"


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_run_metadata_names_gpu_comfyui_and_is_not_a_smoke_run(path: Path) -> None:
    """A results file says which GPU and which ComfyUI produced it, and is not the CPU smoke output."""
    doc = _load(path)
    assert doc["schema"] == "rigfit-comfyui-calibration/1"
    assert doc["smoke"] is False
    machine = doc["machine"]
    assert isinstance(machine["gpu_name"], str) and machine["gpu_name"]
    assert machine["gpu_memory_total_bytes"] > 0
    assert doc["comfyui"]["version"] not in ("", "unknown")
    assert len(doc["comfyui"]["commit"]) == 40
    assert machine["gpu_name"].lower().replace(" ", "-") in path.name.lower()


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_every_measured_point_has_all_stage_peaks(path: Path) -> None:
    """Each point carries text-encode, load, diffusion and VAE-decode stages with both torch peaks."""
    doc = _load(path)
    points = _measured_points(doc)
    assert points, "no point was measured"
    for p in points:
        names = [s["stage"] for s in p["stages"]]
        for stage in GROUP_STAGES + PER_POINT_STAGES:
            assert stage in names, f"{p['group']} {p['width']}x{p['height']}: no {stage} stage"
        for s in p["stages"]:
            assert "error" not in s, f"{p['group']} {s['stage']}: {s.get('error')}"
            for key in ("peak_allocated_bytes", "peak_reserved_bytes", "nvml_peak_used_bytes"):
                assert isinstance(s[key], int) and s[key] >= 0, f"{p['group']} {s['stage']} {key}"


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_peaks_are_physically_consistent(path: Path) -> None:
    """Reserved >= allocated at every stage; the diffusion peak covers the resident weights under the
    default policy; and under a simulated small card the device never used more than that card has."""
    doc = _load(path)
    for p in _measured_points(doc):
        for s in p["stages"]:
            assert s["peak_reserved_bytes"] >= s["peak_allocated_bytes"], (p["group"], s["stage"])
        diffusion = next(s for s in p["stages"] if s["stage"] == "diffusion")
        policy = p["policy"]
        if policy["name"] == "default":
            assert diffusion["peak_allocated_bytes"] >= p["weights"]["diffusion_model_bytes"], p["group"]
        if policy.get("sim_gib"):
            # NVML's "used" also counts memory the driver keeps back, which cudaMemGetInfo (and so
            # the ballast size) leaves out: allow 1 GiB for it.
            limit = (policy["sim_gib"] + 1) * GIB
            for s in p["stages"]:
                assert s["nvml_peak_used_bytes"] <= limit, (p["group"], s["stage"])


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_sampling_time_is_recorded_per_point(path: Path) -> None:
    """Every measured point has a positive seconds-per-step figure (the offload slow-down needs it)."""
    for p in _measured_points(_load(path)):
        assert p["seconds_per_step"] is not None and p["seconds_per_step"] > 0, p["group"]
