"""AMD: ``rocm-smi --json`` and ``amd-smi static --json`` output."""

from __future__ import annotations

import re

from rigfit.core.errors import HardwareError
from rigfit.core.gpu_names import is_amd_apu
from rigfit.core.hardware import Gpu, complete_gpu
from rigfit.core.parsers.common import load_json, missing, size_to_bytes, to_int

ROCM = "rocm-smi"
AMDSMI = "amd-smi"

_NAME_KEYS = ("Card Series", "Card series", "Marketing Name", "Device Name", "Card SKU", "Card model", "Card Model")


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and not missing(value) else None


def _obj(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _clean_name(name: str) -> str:
    # rocm-smi sometimes gives lspci's "Navi 31 [Radeon RX 7900 XT/7900 XTX]"; the bracket is the product.
    inner = re.search(r"\[(Radeon[^\]]*|AMD[^\]]*|Instinct[^\]]*)\]", name)
    return inner.group(1).strip() if inner else name


def parse_rocm_smi_json(text: str) -> tuple[Gpu, ...]:
    """GPUs from ``rocm-smi --showproductname --showmeminfo vram [--showbus] --json``.

    The document maps ``card0``, ``card1``... to objects with string values; VRAM is in bytes under
    ``"VRAM Total Memory (B)"``. Some versions nest the cards under ``"system"``.
    """
    doc = load_json(text, source=ROCM)
    if not isinstance(doc, dict):
        raise HardwareError(f"{ROCM}: expected a JSON object of cards", source=ROCM)
    system = _obj(doc.get("system"))
    cards = {k: v for k, v in doc.items() if re.fullmatch(r"card\d+", str(k))}
    cards.update({k: v for k, v in system.items() if re.fullmatch(r"card\d+", str(k))})
    if not cards:
        raise HardwareError(f"{ROCM}: no card entries in the output", source=ROCM)
    driver = _text(system.get("Driver version"))
    gpus = []
    for key in sorted(cards, key=lambda k: int(k[4:])):
        card = cards[key]
        if not isinstance(card, dict):
            raise HardwareError(f"{ROCM}: {key} is not an object", source=ROCM)
        name = next((n for n in (_text(card.get(k)) for k in _NAME_KEYS) if n), None)
        gfx = _text(card.get("GFX Version"))
        vram = to_int(card.get("VRAM Total Memory (B)"), source=ROCM, what=f"{key} VRAM total")
        used = to_int(card.get("VRAM Total Used Memory (B)"), source=ROCM, what=f"{key} VRAM used")
        gpus.append(complete_gpu(Gpu(
            vendor="amd", name=_clean_name(name) if name else f"AMD GPU ({gfx or key})", vram_bytes=vram,
            compute_capability=None, architecture=None, driver_version=driver or _text(card.get("Driver version")),
            cuda_driver_version=None, unified_memory=is_amd_apu(gfx),
            free_vram_bytes=vram - used if vram is not None and used is not None and used <= vram else None,
            index=int(key[4:]), pci_bus_id=_text(card.get("PCI Bus")),
            gfx_target=gfx.lower() if gfx and re.fullmatch(r"gfx[0-9a-fA-F]{3,5}", gfx) else None,
        )))
    return tuple(gpus)


def parse_amd_smi_json(text: str) -> tuple[Gpu, ...]:
    """GPUs from ``amd-smi static --json``.

    Its schema is not stable across ROCm versions: a list of GPUs or ``{"gpu_data": [...]}``; the VRAM size
    as ``vram.size = {"value": N, "unit": "MB"}``, a plain ``vram.vram_size`` or ``vram.vram_size_mb``.
    """
    doc = load_json(text, source=AMDSMI)
    if isinstance(doc, dict) and isinstance(doc.get("gpu_data"), list):
        doc = doc["gpu_data"]
    if isinstance(doc, dict) and ("asic" in doc or "vram" in doc):
        doc = [doc]
    if not isinstance(doc, list) or not doc:
        raise HardwareError(f"{AMDSMI}: expected a list of GPUs", source=AMDSMI)
    gpus = []
    for position, entry in enumerate(doc):
        if not isinstance(entry, dict):
            raise HardwareError(f"{AMDSMI}: GPU {position} is not an object", source=AMDSMI)
        asic, vram_info = _obj(entry.get("asic")), _obj(entry.get("vram"))
        bus, driver_info = _obj(entry.get("bus")), _obj(entry.get("driver"))
        name = _text(asic.get("market_name"))
        gfx = _text(asic.get("target_graphics_version"))
        if "vram_size_mb" in vram_info:
            vram = size_to_bytes(vram_info["vram_size_mb"], default_unit="MB", source=AMDSMI, what="vram_size_mb")
        else:
            raw = vram_info.get("size", vram_info.get("vram_size"))
            vram = size_to_bytes(raw, default_unit="MB", source=AMDSMI, what="vram size")
        index = to_int(entry.get("gpu"), source=AMDSMI, what="gpu")
        gpus.append(complete_gpu(Gpu(
            vendor="amd", name=_clean_name(name) if name else f"AMD GPU ({gfx or position})", vram_bytes=vram,
            compute_capability=None, architecture=None, driver_version=_text(driver_info.get("version")),
            cuda_driver_version=None, unified_memory=is_amd_apu(gfx), index=position if index is None else index,
            pci_bus_id=_text(bus.get("bdf")),
            gfx_target=gfx.lower() if gfx and re.fullmatch(r"gfx[0-9a-fA-F]{3,5}", gfx) else None,
        )))
    return tuple(gpus)


def gfx_from_kfd_version(value: str) -> str | None:
    """KFD topology ``gfx_target_version`` (``110000``, ``90010``) → ``"gfx1100"``, ``"gfx90a"``."""
    number = to_int(value, source="kfd", what="gfx_target_version")
    if not number:
        return None
    major, minor, step = number // 10000, number // 100 % 100, number % 100
    if minor > 15 or step > 15:
        return None
    return f"gfx{major}{minor:x}{step:x}"


def gfx_from_ip_version(major: str, minor: str, revision: str) -> str | None:
    """``ip_discovery/die/0/GC/0/{major,minor,revision}`` (11, 0, 0) → ``"gfx1100"``."""
    a = to_int(major, source="sysfs", what="GC major")
    b = to_int(minor, source="sysfs", what="GC minor")
    c = to_int(revision, source="sysfs", what="GC revision")
    if a is None or b is None or c is None or not 6 <= a <= 99 or b > 15 or c > 15:
        return None
    return f"gfx{a}{b:x}{c:x}"
