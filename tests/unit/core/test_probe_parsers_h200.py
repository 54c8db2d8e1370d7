"""Outputs captured on this project's NVIDIA H200 machine (tests/data/probes/nvidia-h200/), when present.

Two capture scripts may have filled the folder: `rigfit detect --save-raw` (nvml-readout.json,
nvidia-smi-query.csv, nvidia-smi.txt, proc-meminfo, rigfit-detect.json) and bench/gpu/run_device.sh
(nvml.json, query-gpu-*.csv, nvidia-smi.txt, proc-meminfo.txt, lscpu.txt, rigfit-detect.json). Each test
reads whichever file exists and is skipped when none does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rigfit.core.hardware import Gpu, hardware_from_json
from rigfit.core.parsers.nvidia import parse_nvidia_smi_banner, parse_nvidia_smi_csv, parse_nvml_readout
from rigfit.core.parsers.system import parse_lscpu, parse_meminfo

FOLDER = Path(__file__).resolve().parents[2] / "data" / "probes" / "nvidia-h200"
# bench/gpu/run_device.sh asks nvidia-smi for these fields in its noheader,nounits query.
RUN_DEVICE_FIELDS = ("index", "name", "uuid", "pci.bus_id", "memory.total", "memory.free", "memory.used",
                     "compute_cap", "driver_version")


def _first(*names: str) -> Path:
    for name in names:
        if (FOLDER / name).is_file():
            return FOLDER / name
    pytest.skip(f"none of {', '.join(names)} captured in {FOLDER.name}/ yet")


def _assert_h200(gpus: tuple[Gpu, ...]) -> None:
    assert gpus, "the capture lists no GPU"
    for gpu in gpus:
        assert "H200" in gpu.name
        assert (gpu.vendor, gpu.compute_capability, gpu.architecture) == ("nvidia", "9.0", "hopper")
        assert gpu.vram_bytes is not None and gpu.vram_bytes > 130 * 1024**3


def test_h200_nvidia_smi_query_with_header() -> None:
    _assert_h200(parse_nvidia_smi_csv(_first("nvidia-smi-query.csv", "query-gpu-header-units.csv").read_text()))


def test_h200_nvidia_smi_query_without_header() -> None:
    text = _first("query-gpu-noheader-nounits.csv").read_text()
    _assert_h200(parse_nvidia_smi_csv(text, RUN_DEVICE_FIELDS))


def _readout_from_run_device(doc: dict[str, Any]) -> dict[str, Any]:
    """bench/gpu/probe_nvml.py writes NVML's answers under its own keys; map them to rigfit's readout."""
    return {
        "driver_version": doc.get("driver_version"),
        "cuda_driver_version": doc.get("cuda_driver_version_v2", doc.get("cuda_driver_version")),
        "devices": [{"index": g.get("index"), "name": g.get("name"), "memory_total": g.get("memory_total_bytes"),
                     "memory_free": g.get("memory_free_bytes"), "cc_major": (g.get("cuda_compute_capability") or
                                                                              [None, None])[0],
                     "cc_minor": (g.get("cuda_compute_capability") or [None, None])[1],
                     "pci_bus_id": g.get("pci_bus_id"), "uuid": g.get("uuid")} for g in doc.get("gpus", [])],
    }


def test_h200_nvml_readout() -> None:
    path = _first("nvml-readout.json", "nvml.json")
    doc = json.loads(path.read_text())
    readout = doc if "devices" in doc else _readout_from_run_device(doc)
    gpus = parse_nvml_readout(readout)
    _assert_h200(gpus)
    assert all(g.driver_version and g.cuda_driver_version for g in gpus)


def test_h200_banner() -> None:
    driver, cuda = parse_nvidia_smi_banner(_first("nvidia-smi.txt").read_text())
    assert driver and cuda


def test_h200_host_ram_and_cpu() -> None:
    assert parse_meminfo(_first("proc-meminfo", "proc-meminfo.txt").read_text()) > 64 * 1024**3
    cpu = parse_lscpu(_first("lscpu.txt").read_text())
    assert cpu.model and cpu.cores


def test_h200_detect_document() -> None:
    hw = hardware_from_json(json.loads(_first("rigfit-detect.json").read_text()), source="rigfit-detect.json")
    _assert_h200(hw.gpus)
    assert hw.ram_bytes and hw.cpu is not None


def test_h200_sources_agree() -> None:
    """NVML, nvidia-smi and the detect document captured on the same machine give the same GPU facts."""
    nvml = parse_nvml_readout(_readout_from_run_device(json.loads(_first("nvml.json").read_text())))
    smi = parse_nvidia_smi_csv(_first("query-gpu-header-units.csv").read_text())
    detect = hardware_from_json(json.loads(_first("rigfit-detect.json").read_text()), source="rigfit-detect.json")
    driver, cuda = parse_nvidia_smi_banner(_first("nvidia-smi.txt").read_text())

    def facts(g: Gpu) -> tuple[object, ...]:
        return (g.name, g.vram_bytes, g.compute_capability, g.architecture, g.pci_bus_id)

    assert [facts(g) for g in nvml] == [facts(g) for g in smi] == [facts(g) for g in detect.gpus]
    assert {(g.driver_version, g.cuda_driver_version) for g in nvml} == {(driver, cuda)}
