"""NVIDIA: ``nvidia-smi --query-gpu=... --format=csv`` output, its banner, and NVML readouts."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence

from rigfit.core.errors import HardwareError
from rigfit.core.hardware import Gpu, complete_gpu
from rigfit.core.parsers.common import missing, size_to_bytes, to_int

SMI = "nvidia-smi"
NVML = "NVML"

# The fields rigfit's fallback asks for, in this order (shell/probes.py runs the query with a header).
QUERY_FIELDS = ("index", "name", "memory.total", "memory.free", "compute_cap", "driver_version",
                "pci.bus_id", "uuid")
# nvidia-smi --help-query-gpu lists these aliases.
_ALIASES = {"gpu_name": "name", "gpu_bus_id": "pci.bus_id", "gpu_uuid": "uuid", "compute_capability": "compute_cap"}


def _field(header_cell: str) -> tuple[str, str | None]:
    """``"memory.total [MiB]"`` → ``("memory.total", "MiB")``."""
    match = re.fullmatch(r"\s*([\w.]+)\s*(?:\[([^\]]*)\])?\s*", header_cell)
    if not match:
        raise HardwareError(f"{SMI}: unexpected column header {header_cell.strip()[:40]!r}", source=SMI)
    name = match.group(1).lower()
    return _ALIASES.get(name, name), match.group(2)


def parse_nvidia_smi_csv(text: str, fields: Sequence[str] | None = None) -> tuple[Gpu, ...]:
    """GPUs from ``nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]``.

    With ``fields`` the output has no header and the columns are those fields; without, the first line is
    the header nvidia-smi prints (``name, memory.total [MiB], ...``). Memory is in MiB.
    """
    lines = [line for line in text.replace("\r", "").split("\n") if line.strip()]
    if not lines:
        raise HardwareError(f"{SMI}: no output (no GPU listed)", source=SMI)
    if lines[0].lower().lstrip().startswith(("field ", "nvidia-smi has failed", "failed to", "no devices")):
        raise HardwareError(f"{SMI}: {lines[0].strip()[:160]}", source=SMI)
    try:
        rows = list(csv.reader(lines, skipinitialspace=True))
    except csv.Error as exc:  # a field over csv's 128 KiB limit: not nvidia-smi output
        raise HardwareError(f"{SMI}: unreadable CSV ({exc})", source=SMI) from exc
    if fields is None:
        columns = [_field(cell) for cell in rows[0]]
        rows = rows[1:]
        if not rows:
            raise HardwareError(f"{SMI}: a header but no GPU rows", source=SMI)
    else:
        columns = [(_ALIASES.get(f, f), None) for f in fields]
    names = [c[0] for c in columns]
    if "name" not in names:
        raise HardwareError(f"{SMI}: the output has no name column", source=SMI)
    gpus = []
    for position, row in enumerate(rows):
        if len(row) != len(columns):
            raise HardwareError(
                f"{SMI}: line {position + 1 + (fields is None)} has {len(row)} columns, expected {len(columns)} "
                f"(truncated output?)", source=SMI)
        cells = {name: cell.strip() for name, cell in zip(names, row, strict=True)}
        units = {name: unit for name, unit in columns}
        gpus.append(_gpu_from_cells(cells, units, position))
    return tuple(gpus)


def _gpu_from_cells(cells: Mapping[str, str], units: Mapping[str, str | None], position: int) -> Gpu:
    name = cells["name"]
    if missing(name):
        raise HardwareError(f"{SMI}: GPU {position} has no name", source=SMI)

    def mib(key: str) -> int | None:
        if key not in cells:
            return None
        return size_to_bytes(cells[key], default_unit=units.get(key) or "MiB", source=SMI, what=key)

    cc = cells.get("compute_cap")
    if cc is not None and (missing(cc) or not re.fullmatch(r"\d{1,2}\.\d", cc)):
        if not missing(cc):
            raise HardwareError(f"{SMI}: compute_cap {cc[:20]!r} is not like 8.9", source=SMI)
        cc = None
    index = to_int(cells["index"], source=SMI, what="index") if "index" in cells else None
    driver = cells.get("driver_version")
    bus = cells.get("pci.bus_id")
    uuid = cells.get("uuid")
    gpu = Gpu(
        vendor="nvidia", name=name, vram_bytes=mib("memory.total"), compute_capability=cc, architecture=None,
        driver_version=None if driver is None or missing(driver) else driver, cuda_driver_version=None,
        unified_memory=False, free_vram_bytes=mib("memory.free"), index=position if index is None else index,
        pci_bus_id=None if bus is None or missing(bus) else bus, uuid=None if uuid is None or missing(uuid) else uuid,
    )
    return complete_gpu(gpu)


def parse_nvidia_smi_banner(text: str) -> tuple[str | None, str | None]:
    """``(driver_version, cuda_driver_version)`` from plain ``nvidia-smi`` output's first box."""
    driver = re.search(r"Driver Version:\s*([\d.]+)", text)
    cuda = re.search(r"CUDA Version:\s*(\d+\.\d+)", text)
    if driver is None and cuda is None:
        raise HardwareError(f"{SMI}: no driver or CUDA version in the output", source=SMI)
    return (driver.group(1) if driver else None, cuda.group(1) if cuda else None)


def cuda_version_text(value: int) -> str:
    """NVML's ``12080`` → ``"12.8"`` (major*1000 + minor*10)."""
    return f"{value // 1000}.{value % 1000 // 10}"


def select_visible(ids: Sequence[tuple[int, str | None]], setting: str | None) -> tuple[int, ...]:
    """Positions in ``ids`` (``(index, uuid)`` per GPU) that ``CUDA_VISIBLE_DEVICES=setting`` leaves visible.

    As CUDA reads it: a comma list of indices or ``GPU-<uuid>`` prefixes, in the order given, cut at the
    first entry that matches nothing (so ``"-1"`` and ``""`` hide every GPU). ``None`` (unset) keeps all.
    """
    if setting is None:
        return tuple(range(len(ids)))
    chosen: list[int] = []
    for raw in setting.split(","):
        entry = raw.strip()
        found = None
        if re.fullmatch(r"\d{1,4}", entry):
            found = next((p for p, (index, _) in enumerate(ids) if index == int(entry)), None)
        elif entry.upper().startswith(("GPU-", "MIG-")) and len(entry) > 4:
            matches = [p for p, (_, uuid) in enumerate(ids) if uuid and uuid.lower().startswith(entry.lower())]
            found = matches[0] if len(matches) == 1 else None  # an ambiguous prefix is invalid, as in CUDA
        if found is None or found in chosen:
            break
        chosen.append(found)
    return tuple(chosen)


def parse_nvml_readout(readout: Mapping[str, object]) -> tuple[Gpu, ...]:
    """GPUs from the dict shell/probes.py builds from NVML calls.

    ``{"driver_version": "580.65.06", "cuda_driver_version": 12080, "devices": [{"index": 0, "name": ...,
    "memory_total": bytes, "memory_free": bytes, "cc_major": 8, "cc_minor": 9, "pci_bus_id": ...}]}``;
    any device value may be missing or ``None`` (that NVML call failed).
    """
    if not isinstance(readout, Mapping):
        raise HardwareError(f"{NVML}: readout is not a mapping", source=NVML)
    devices = readout.get("devices")
    if not isinstance(devices, list):
        raise HardwareError(f"{NVML}: readout has no device list", source=NVML)
    driver = readout.get("driver_version")
    driver = driver if isinstance(driver, str) and driver.strip() else None
    cuda_raw = to_int(readout.get("cuda_driver_version"), source=NVML, what="cuda_driver_version")
    cuda = cuda_version_text(cuda_raw) if cuda_raw else None
    gpus = []
    for position, dev in enumerate(devices):
        if not isinstance(dev, Mapping):
            raise HardwareError(f"{NVML}: device {position} is not a mapping", source=NVML)
        name = dev.get("name")
        if isinstance(name, bytes):  # bindings before 11.515 return bytes
            name = name.decode("utf-8", "replace")
        if not isinstance(name, str) or not name.strip():
            raise HardwareError(f"{NVML}: device {position} has no name", source=NVML)
        major = to_int(dev.get("cc_major"), source=NVML, what="cc_major")
        minor = to_int(dev.get("cc_minor"), source=NVML, what="cc_minor")
        cc = f"{major}.{minor}" if major is not None and minor is not None and minor < 10 and major < 100 else None
        index = to_int(dev.get("index"), source=NVML, what="index")
        bus, uuid = dev.get("pci_bus_id"), dev.get("uuid")
        gpus.append(complete_gpu(Gpu(
            vendor="nvidia", name=name.strip(), vram_bytes=to_int(dev.get("memory_total"), source=NVML, what="memory_total"),
            compute_capability=cc, architecture=None, driver_version=driver, cuda_driver_version=cuda,
            unified_memory=False, free_vram_bytes=to_int(dev.get("memory_free"), source=NVML, what="memory_free"),
            index=position if index is None else index, pci_bus_id=bus if isinstance(bus, str) and bus else None,
            uuid=uuid if isinstance(uuid, str) and uuid else None,
        )))
    return tuple(gpus)
