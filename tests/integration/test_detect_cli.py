"""`rigfit detect` and `rigfit profiles` end to end, in subprocesses, with fake GPU tools on PATH."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "probes"
MIB = 1024**2


def rigfit(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("RIGFIT_HARDWARE", "CUDA_VISIBLE_DEVICES")}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "rigfit", *args], capture_output=True, text=True, env=full,
                          timeout=timeout)


def fake_tool(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def fake_nvidia_smi(bin_dir: Path, query_capture: str, banner: str = "banner-rtx3060.txt") -> None:
    """An nvidia-smi that prints a captured query output for --query-gpu and a captured banner otherwise."""
    fake_tool(bin_dir, "nvidia-smi",
              f'case "$*" in *--query-gpu*) cat "{DATA / "nvidia" / query_capture}";; '
              f'*) cat "{DATA / "nvidia" / banner}";; esac')


def with_path(bin_dir: Path, **extra: str) -> dict[str, str]:
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **extra}


def detect_json(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = rigfit("detect", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


# ---------------------------------------------------------------------------------------- this machine


def test_detect_on_this_machine_reports_no_gpu_right_ram_cpu_and_disk(tmp_path: Path) -> None:
    if shutil.which("nvidia-smi") or Path("/sys/class/drm").exists():
        pytest.skip("this machine has GPU tooling")
    doc = detect_json("--path", str(tmp_path))
    assert doc["schema"] == "rigfit.hardware/1"
    assert doc["gpus"] == []
    kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal:"))
    assert doc["ram_bytes"] == kib * 1024
    model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name"))
    assert doc["cpu"]["model"] == model and doc["cpu"]["cores"] >= 1
    assert doc["disk"]["path"] == str(tmp_path)
    assert abs(doc["disk"]["free_bytes"] - shutil.disk_usage(tmp_path).free) < 256 * MIB
    assert doc["os"] == "linux" and doc["warnings"] == []


def test_detect_json_is_fast_on_this_machine(tmp_path: Path) -> None:
    """Well under a second (the median of three, so one slow start on a busy machine does not decide)."""
    times = []
    for _ in range(3):
        start = time.monotonic()
        assert rigfit("detect", "--json", "--path", str(tmp_path)).returncode == 0
        times.append(time.monotonic() - start)
    assert sorted(times)[1] < 1.0, times


def test_detect_table_is_readable(tmp_path: Path) -> None:
    result = rigfit("detect", "--path", str(tmp_path), env={"COLUMNS": "120"})
    assert result.returncode == 0, result.stderr
    for label in ("System", "CPU", "RAM", "GPU", "Disk"):
        assert label in result.stdout


# ------------------------------------------------------------------------------- the nvidia-smi fallback


def test_fake_nvidia_smi_replaying_the_h200_capture(tmp_path: Path) -> None:
    """The project's own H200 capture (tests/data/probes/nvidia-h200/) through the nvidia-smi fallback."""
    capture = DATA / "nvidia-h200"
    if not (capture / "query-gpu-header-units.csv").is_file():
        pytest.skip("no H200 capture")
    fake_tool(tmp_path / "bin", "nvidia-smi",
              f'case "$*" in *--query-gpu*) cat "{capture / "query-gpu-header-units.csv"}";; '
              f'*) cat "{capture / "nvidia-smi.txt"}";; esac')
    doc = detect_json(env=with_path(tmp_path / "bin", RIGFIT_DISABLE_NVML="1"))
    (gpu,) = doc["gpus"]
    nvml = json.loads((capture / "nvml.json").read_text())["gpus"][0]
    assert (gpu["name"], gpu["vram_bytes"], gpu["free_vram_bytes"], gpu["pci_bus_id"]) == (
        nvml["name"], nvml["memory_total_bytes"], 143156 * MIB, nvml["pci_bus_id"])
    assert (gpu["compute_capability"], gpu["architecture"], gpu["driver_version"], gpu["cuda_driver_version"]) == (
        "9.0", "hopper", "580.159.04", "13.0")


@pytest.mark.parametrize("nvml", ["disabled", "absent-library"])
def test_fake_nvidia_smi_is_reported_when_nvml_is_unavailable(tmp_path: Path, nvml: str) -> None:
    """NVML off (RIGFIT_DISABLE_NVML=1), or the real bindings failing to find libnvidia-ml: nvidia-smi answers."""
    if nvml == "absent-library" and Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has a real NVIDIA driver")
    fake_nvidia_smi(tmp_path / "bin", "h100.csv")
    env = with_path(tmp_path / "bin", **({"RIGFIT_DISABLE_NVML": "1"} if nvml == "disabled" else {}))
    doc = detect_json(env=env)
    (gpu,) = doc["gpus"]
    assert gpu == {
        "vendor": "nvidia", "name": "NVIDIA H100 80GB HBM3", "vram_bytes": 81559 * MIB, "compute_capability": "9.0",
        "architecture": "hopper", "driver_version": "580.82.07", "cuda_driver_version": "13.0",
        "unified_memory": False, "free_vram_bytes": None, "index": 0, "pci_bus_id": None, "gfx_target": None,
        "cores": None}
    assert doc["warnings"] == []


def test_fake_multi_gpu_and_cuda_visible_devices(tmp_path: Path) -> None:
    fake_nvidia_smi(tmp_path / "bin", "l40s-x2.csv")
    doc = detect_json(env=with_path(tmp_path / "bin", RIGFIT_DISABLE_NVML="1"))
    assert [(g["name"], g["index"]) for g in doc["gpus"]] == [("NVIDIA L40S", 0), ("NVIDIA L40S", 1)]
    doc = detect_json(env=with_path(tmp_path / "bin", RIGFIT_DISABLE_NVML="1", CUDA_VISIBLE_DEVICES="1"))
    assert [(g["name"], g["index"]) for g in doc["gpus"]] == [("NVIDIA L40S", 0)]
    assert doc["warnings"] == ["CUDA_VISIBLE_DEVICES='1' hides 1 of 2 NVIDIA GPU(s)"]


def test_old_driver_without_compute_cap_field_is_asked_again_without_it(tmp_path: Path) -> None:
    fake_tool(tmp_path / "bin", "nvidia-smi",
              f'case "$*" in *compute_cap*) cat "{DATA / "broken" / "nvidia-smi-old-driver-compute-cap.txt"}"; exit 2;; '
              f'*--query-gpu*) cat "{DATA / "nvidia" / "gtx1080ti.csv"}";; *) cat "{DATA / "nvidia" / "banner-rtx3060.txt"}";; esac')
    doc = detect_json(env=with_path(tmp_path / "bin", RIGFIT_DISABLE_NVML="1"))
    (gpu,) = doc["gpus"]
    assert (gpu["name"], gpu["compute_capability"], gpu["architecture"], gpu["vram_bytes"]) == (
        "NVIDIA GeForce GTX 1080 Ti", "6.1", "pascal", 11264 * MIB)
    assert doc["warnings"] == []


def test_hanging_nvidia_smi_is_cut_by_the_timeout_with_a_warning(tmp_path: Path) -> None:
    fake_tool(tmp_path / "bin", "nvidia-smi", "sleep 30")
    start = time.monotonic()
    doc = detect_json(env=with_path(tmp_path / "bin", RIGFIT_DISABLE_NVML="1", RIGFIT_PROBE_TIMEOUT="1"))
    assert time.monotonic() - start < 10
    assert doc["gpus"] == []
    assert len(doc["warnings"]) == 1 and "timed out after 1" in doc["warnings"][0]


def test_failing_nvidia_smi_degrades_to_no_gpu_with_its_message(tmp_path: Path) -> None:
    fake_tool(tmp_path / "bin", "nvidia-smi", f'cat "{DATA / "broken" / "nvidia-smi-no-driver.txt"}"; exit 9')
    result = rigfit("detect", env=with_path(tmp_path / "bin", RIGFIT_DISABLE_NVML="1"))
    assert result.returncode == 0
    assert "couldn't communicate with the NVIDIA driver" in result.stderr
    assert "none found" in result.stdout


def test_save_raw_keeps_the_probe_outputs(tmp_path: Path) -> None:
    fake_nvidia_smi(tmp_path / "bin", "rtx4080super.csv")
    raw = tmp_path / "raw"
    result = rigfit("detect", "--save-raw", str(raw), env=with_path(tmp_path / "bin", RIGFIT_DISABLE_NVML="1"))
    assert result.returncode == 0, result.stderr
    assert (raw / "nvidia-smi-query.csv").read_text() == (DATA / "nvidia" / "rtx4080super.csv").read_text()
    saved = json.loads((raw / "rigfit-detect.json").read_text())
    assert saved["gpus"][0]["name"] == "NVIDIA GeForce RTX 4080 SUPER"


# --------------------------------------------------------------------------------------------- profiles


def test_profiles_lists_at_least_twenty_usable_ids() -> None:
    result = rigfit("profiles", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "rigfit.profiles/1"
    assert len(doc["profiles"]) >= 20
    table = rigfit("profiles", env={"COLUMNS": "200"})
    for entry in doc["profiles"]:
        assert entry["id"] in table.stdout


def test_detect_with_a_profile_id_prints_that_profile() -> None:
    doc = detect_json("--hardware", "rtx4060-8gb")
    assert doc["gpus"][0]["vram_bytes"] == 8585740288 and doc["ram_bytes"] == 34359738368
    assert detect_json(env={"RIGFIT_HARDWARE": "m3-max-64gb"})["gpus"][0]["architecture"] == "m3"


def test_malformed_profile_is_one_line_naming_the_field_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"gpus": [{"name": "NVIDIA GeForce RTX 4090", "vram_bytes": "24GB"}]}))
    result = rigfit("detect", "--hardware", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"{path}: gpus[0].vram_bytes: must be a non-negative integer" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_profile_id_exit_2_with_suggestion() -> None:
    result = rigfit("detect", "--hardware", "rtx4090")
    assert result.returncode == 2
    assert "did you mean rtx4090-24gb" in result.stderr
