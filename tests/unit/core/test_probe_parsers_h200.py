"""Outputs captured on this project's NVIDIA H200 machine (tests/data/probes/nvidia-h200/), when present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigfit.core.hardware import Gpu, hardware_from_json
from rigfit.core.parsers.nvidia import parse_nvidia_smi_banner, parse_nvidia_smi_csv, parse_nvml_readout

FOLDER = Path(__file__).resolve().parents[2] / "data" / "probes" / "nvidia-h200"


def _file(name: str) -> Path:
    path = FOLDER / name
    if not path.is_file():
        pytest.skip(f"no {name} captured in {FOLDER.name}/ yet")
    return path


def _assert_h200(gpus: tuple[Gpu, ...]) -> None:
    assert gpus, "the capture lists no GPU"
    for gpu in gpus:
        assert "H200" in gpu.name
        assert (gpu.vendor, gpu.compute_capability, gpu.architecture) == ("nvidia", "9.0", "hopper")
        assert gpu.vram_bytes is not None and gpu.vram_bytes > 130 * 1024**3


def test_h200_nvidia_smi_query() -> None:
    _assert_h200(parse_nvidia_smi_csv(_file("nvidia-smi-query.csv").read_text()))


def test_h200_nvml_readout() -> None:
    gpus = parse_nvml_readout(json.loads(_file("nvml-readout.json").read_text()))
    _assert_h200(gpus)
    assert all(g.driver_version and g.cuda_driver_version for g in gpus)


def test_h200_banner() -> None:
    driver, cuda = parse_nvidia_smi_banner(_file("nvidia-smi.txt").read_text())
    assert driver and cuda


def test_h200_detect_document() -> None:
    hw = hardware_from_json(json.loads(_file("rigfit-detect.json").read_text()), source="rigfit-detect.json")
    _assert_h200(hw.gpus)
    assert hw.ram_bytes and hw.cpu is not None
