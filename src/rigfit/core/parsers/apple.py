"""macOS: ``sysctl`` and ``system_profiler SPDisplaysDataType -json``."""

from __future__ import annotations

import re

from rigfit.core.errors import HardwareError
from rigfit.core.gpu_names import apple_gpu_share
from rigfit.core.hardware import Cpu, Gpu, complete_gpu
from rigfit.core.parsers.common import load_json, size_to_bytes, to_int

SYSCTL = "sysctl"
PROFILER = "system_profiler"


def parse_sysctl(text: str) -> dict[str, str]:
    """``sysctl hw.memsize machdep.cpu.brand_string ...`` (``name: value`` lines) → ``{name: value}``."""
    values: dict[str, str] = {}
    for line in text.replace("\r", "").split("\n"):
        match = re.match(r"^([A-Za-z0-9_.]+)\s*(?::|=)\s*(.*?)\s*$", line)
        if match:
            values[match.group(1)] = match.group(2)
    if not values:
        raise HardwareError(f"{SYSCTL}: no 'name: value' lines in the output", source=SYSCTL)
    return values


def sysctl_ram(values: dict[str, str]) -> int | None:
    return to_int(values.get("hw.memsize"), source=SYSCTL, what="hw.memsize")


def sysctl_cpu(values: dict[str, str]) -> Cpu:
    """CPU model and cores: performance + efficiency cores are all physical cores (``hw.physicalcpu``)."""
    model = values.get("machdep.cpu.brand_string", "").strip() or None
    cores = to_int(values.get("hw.physicalcpu") or values.get("hw.ncpu"), source=SYSCTL, what="hw.physicalcpu")
    return Cpu(model=model, cores=cores or None)


def _apple_name(item: dict[str, object]) -> str | None:
    for key in ("sppci_model", "_name"):
        value = item.get(key)
        if not isinstance(value, str):
            continue
        if value.startswith("Apple "):
            return value.strip()
        legacy = re.fullmatch(r"kHW_Apple(M\d+)(Pro|Max|Ultra)?Item", value)  # macOS 11/12: "kHW_AppleM1Item"
        if legacy:
            return " ".join(p for p in ("Apple", legacy.group(1), legacy.group(2)) if p)
    return None


def parse_system_profiler_displays(text: str, *, ram_bytes: int | None) -> tuple[Gpu, ...]:
    """GPUs from ``system_profiler SPDisplaysDataType -json``.

    Apple silicon: one unified-memory GPU (``sppci_model`` "Apple M3 Pro", ``sppci_cores`` "14" as a
    string); its ``vram_bytes`` is Metal's default working-set share of ``ram_bytes`` (gpu_names.py).
    Intel Macs: discrete GPUs with ``spdisplays_vram`` ("4 GB"); integrated Intel graphics are skipped.
    """
    doc = load_json(text, source=PROFILER)
    items = doc.get("SPDisplaysDataType") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise HardwareError(f"{PROFILER}: no SPDisplaysDataType list in the output", source=PROFILER)
    gpus = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise HardwareError(f"{PROFILER}: item {position} is not an object", source=PROFILER)
        cores = to_int(item.get("sppci_cores"), source=PROFILER, what="sppci_cores")
        apple = _apple_name(item)
        if apple is not None:
            gpus.append(complete_gpu(Gpu(
                vendor="apple", name=apple, vram_bytes=apple_gpu_share(ram_bytes) if ram_bytes else None,
                compute_capability=None, architecture=None, driver_version=None, cuda_driver_version=None,
                unified_memory=True, index=position, cores=cores or None,
            )))
            continue
        vram_text = item.get("spdisplays_vram") or item.get("_spdisplays_vram")
        name = item.get("sppci_model")
        vendor_text = str(item.get("spdisplays_vendor", "")).lower()
        vendor = next((v for v in ("amd", "nvidia", "intel") if v in vendor_text), None)
        if vendor is None and isinstance(name, str):
            vendor = next((v for k, v in (("radeon", "amd"), ("amd", "amd"), ("nvidia", "nvidia"))
                           if k in name.lower()), None)
        if vram_text is None or not isinstance(name, str) or vendor is None:
            continue
        gpus.append(complete_gpu(Gpu(
            vendor=vendor, name=name.strip(), compute_capability=None, architecture=None, driver_version=None,
            vram_bytes=size_to_bytes(vram_text, default_unit="MB", source=PROFILER, what="spdisplays_vram"),
            cuda_driver_version=None, unified_memory=False, index=position,
        )))
    return tuple(gpus)
