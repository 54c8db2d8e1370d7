"""Intel: ``xpu-smi discovery -j`` (documented for data-centre GPUs) and ``lspci -nn`` (any PCI GPU)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rigfit.core.errors import HardwareError
from rigfit.core.hardware import Gpu, complete_gpu
from rigfit.core.parsers.common import load_json, size_to_bytes, to_int

XPU = "xpu-smi"
LSPCI = "lspci"


def parse_xpu_smi(text: str) -> tuple[Gpu, ...]:
    """GPUs from ``xpu-smi discovery`` output: its JSON (``-j``) or its text table.

    JSON: ``{"device_list": [...]}`` or one device (``discovery -d N -j``, which adds
    ``memory_physical_size_byte``). Text: ``Device Name: Intel(R) Arc(TM) A770 Graphics`` rows, one block
    per device, with ``Memory Physical Size: 16288.00 MiB`` where the tool reports it.
    """
    if text.lstrip().startswith(("{", "[")):
        return _xpu_json(text)
    names = re.findall(r"Device Name:\s*(.+?)\s*$", text, re.MULTILINE)
    if not names:
        raise HardwareError(f"{XPU}: no 'Device Name' in the output", source=XPU)
    sizes = re.findall(r"Memory Physical Size:\s*([\d.]+\s*[A-Za-z]{0,3})\s*$", text, re.MULTILINE)
    buses = re.findall(r"PCI BDF Address:\s*(\S+)\s*$", text, re.MULTILINE)
    gpus = []
    for i, name in enumerate(names):
        vram = size_to_bytes(sizes[i], default_unit="MiB", source=XPU, what="memory size") if i < len(sizes) else None
        gpus.append(complete_gpu(Gpu(
            vendor="intel", name=name, vram_bytes=vram, compute_capability=None, architecture=None,
            driver_version=None, cuda_driver_version=None, unified_memory=False, index=i,
            pci_bus_id=buses[i] if i < len(buses) else None)))
    return tuple(gpus)


def _xpu_json(text: str) -> tuple[Gpu, ...]:
    doc = load_json(text, source=XPU)
    if isinstance(doc, dict) and isinstance(doc.get("device_list"), list):
        entries = doc["device_list"]
    elif isinstance(doc, dict) and "device_name" in doc:
        entries = [doc]
    else:
        raise HardwareError(f"{XPU}: expected a device_list or one device", source=XPU)
    gpus = []
    for position, dev in enumerate(entries):
        if not isinstance(dev, dict) or not isinstance(dev.get("device_name"), str):
            raise HardwareError(f"{XPU}: device {position} has no device_name", source=XPU)
        index = to_int(dev.get("device_id"), source=XPU, what="device_id")
        vram = size_to_bytes(dev.get("memory_physical_size_byte"), default_unit="B", source=XPU, what="memory size")
        bus = dev.get("pci_bdf_address")
        driver = dev.get("driver_version")
        gpus.append(complete_gpu(Gpu(
            vendor="intel", name=dev["device_name"].strip(), vram_bytes=vram, compute_capability=None,
            architecture=None, driver_version=driver if isinstance(driver, str) and driver else None,
            cuda_driver_version=None, unified_memory=False, index=position if index is None else index,
            pci_bus_id=bus if isinstance(bus, str) and bus else None,
        )))
    return tuple(gpus)


_LSPCI_LINE = re.compile(
    r"^(?P<slot>(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])\s+"
    r"(?P<cls>VGA compatible controller|3D controller|Display controller)(?:\s*\[(?P<clsid>03[0-9a-fA-F]{2})\])?:\s*"
    r"(?P<rest>.*)$")
_IDS = re.compile(r"\s*\[(?P<ven>[0-9a-fA-F]{4}):(?P<dev>[0-9a-fA-F]{4})\]")


_VENDOR_PREFIX = re.compile(
    r"^(Advanced Micro Devices, Inc\. \[AMD/ATI\]|Advanced Micro Devices \[AMD/ATI\]|NVIDIA Corporation|"
    r"Intel Corporation|ATI Technologies Inc)\s*")
_PCI_VENDORS = {"1002": "amd", "10de": "nvidia", "8086": "intel"}


@dataclass(frozen=True, slots=True)
class PciDisplay:
    """One display-class PCI device as lspci lists it."""

    slot: str
    vendor: str | None  # nvidia | amd | intel | None (others: virtual GPUs, ASPEED BMCs ...)
    vendor_id: str | None
    device_id: str | None
    name: str


def parse_lspci(text: str) -> tuple[PciDisplay, ...]:
    """Display controllers from ``lspci -nn`` (or plain ``lspci``); other devices are ignored.

    ``03:00.0 VGA compatible controller [0300]: Advanced Micro Devices, Inc. [AMD/ATI] Navi 31 [Radeon RX
    7900 XT/7900 XTX/7900M] [1002:744c] (rev c8)`` → slot ``03:00.0``, vendor ``amd``, name ``Navi 31
    [Radeon RX 7900 XT/7900 XTX/7900M]``. An empty output is a machine without PCI GPUs, not an error.
    """
    if "\x00" in text:
        raise HardwareError(f"{LSPCI}: binary output", source=LSPCI)
    found = []
    for line in text.replace("\r", "").split("\n"):
        match = _LSPCI_LINE.match(line.strip())
        if not match:
            continue
        rest = re.sub(r"\s*\((rev [0-9a-fA-F]+|prog-if [^)]*)\)", "", match.group("rest")).strip()
        all_ids = list(_IDS.finditer(rest))
        ids = all_ids[-1] if all_ids else None
        vendor_id = ids.group("ven").lower() if ids else None
        device_id = ids.group("dev").lower() if ids else None
        if ids:
            rest = rest[: ids.start()] + rest[ids.end():]
        vendor_word = _VENDOR_PREFIX.match(rest)
        vendor = _PCI_VENDORS.get(vendor_id or "")
        if vendor is None and vendor_word:
            word = vendor_word.group(1).lower()
            vendor = "nvidia" if "nvidia" in word else "intel" if "intel" in word else "amd"
        name = _VENDOR_PREFIX.sub("", rest).strip() or rest.strip()
        found.append(PciDisplay(match.group("slot"), vendor, vendor_id, device_id, name))
    return tuple(found)
