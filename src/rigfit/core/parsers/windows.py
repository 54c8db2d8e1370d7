"""Windows: display adapters from ``reg query`` of the display class key.

WMI's ``Win32_VideoController.AdapterRAM`` is a uint32 and reads about 4 GiB on any larger card, so the
size comes from the driver's registry value ``HardwareInformation.qwMemorySize`` (REG_QWORD), falling back
to ``HardwareInformation.MemorySize`` (REG_BINARY or REG_DWORD, little-endian) on old drivers. The adapter
subkeys (``0000``, ``0001``...) move when drivers are reinstalled, so they are all read, never assumed.
"""

from __future__ import annotations

import re

from rigfit.core.errors import HardwareError
from rigfit.core.gpu_names import vendor_from_name
from rigfit.core.hardware import Gpu, complete_gpu

REG = "reg query"
DISPLAY_CLASS = r"HKLM\SYSTEM\CurrentControlSet\Control\Class\{4d36e968-e325-11ce-bfc1-08002be10318}"
_VALUE = re.compile(r"^\s{2,}(\S.*?)\s{2,}(REG_\w+)\s{2,}(.*?)\s*$|^\s{2,}(\S.*?)\s{2,}(REG_\w+)\s*$")


def parse_reg_query(text: str) -> dict[str, dict[str, tuple[str, str]]]:
    """``reg query KEY /s`` text → ``{subkey path: {value name: (type, data)}}``."""
    keys: dict[str, dict[str, tuple[str, str]]] = {}
    current: dict[str, tuple[str, str]] | None = None
    for line in text.replace("\r", "").split("\n"):
        if line.startswith("HKEY_") or line.startswith("HKLM\\"):
            current = keys.setdefault(line.strip(), {})
            continue
        match = _VALUE.match(line)
        if match and current is not None:
            if match.group(1) is not None:
                current[match.group(1)] = (match.group(2), match.group(3))
            else:
                current[match.group(4)] = (match.group(5), "")
    if not keys:
        raise HardwareError(f"{REG}: no registry keys in the output", source=REG)
    return keys


def _number(kind: str, data: str) -> int | None:
    data = data.strip()
    try:
        if kind in ("REG_QWORD", "REG_DWORD"):
            return int(data, 16) if data.lower().startswith("0x") else int(data)
        if kind == "REG_BINARY" and re.fullmatch(r"(?:[0-9a-fA-F]{2}){1,8}", data):
            return int.from_bytes(bytes.fromhex(data), "little")
    except ValueError:
        return None
    return None


def parse_windows_adapters(text: str) -> tuple[Gpu, ...]:
    """GPUs from ``reg query <display class key> /s`` (or several ``/s /v NAME`` outputs joined).

    An adapter subkey needs ``DriverDesc``; the vendor comes from ``MatchingDeviceId`` (``PCI\\VEN_1002``)
    or the name. Microsoft's Basic Display/Render adapters and remote-desktop adapters are skipped.
    """
    keys = parse_reg_query(text)
    gpus = []
    for path, values in keys.items():
        if not re.search(r"\\\d{4}$", path):
            continue
        desc = values.get("DriverDesc", ("", ""))[1].strip()
        if not desc or re.search(r"microsoft|basic (display|render)|remote", desc, re.IGNORECASE):
            continue
        match = re.search(r"ven_([0-9a-f]{4})", values.get("MatchingDeviceId", ("", ""))[1].lower())
        vendor = {"1002": "amd", "10de": "nvidia", "8086": "intel"}.get(match.group(1)) if match else None
        vendor = vendor or vendor_from_name(desc)
        if vendor not in ("nvidia", "amd", "intel"):
            continue
        size = None
        for name in ("HardwareInformation.qwMemorySize", "HardwareInformation.MemorySize"):
            if name in values:
                size = _number(*values[name])
                if size:
                    break
        version = values.get("DriverVersion", ("", ""))[1].strip() or None
        gpus.append(complete_gpu(Gpu(
            vendor=vendor, name=desc, vram_bytes=size or None, compute_capability=None, architecture=None,
            driver_version=version, cuda_driver_version=None, unified_memory=False, index=int(path[-4:]),
        )))
    return tuple(gpus)
