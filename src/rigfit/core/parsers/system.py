"""Linux: ``/proc/meminfo``, ``/proc/cpuinfo``, ``lscpu`` and ``/proc/self/mountinfo``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rigfit.core.errors import HardwareError
from rigfit.core.hardware import Cpu
from rigfit.core.parsers.common import to_int

MEMINFO = "/proc/meminfo"
CPUINFO = "/proc/cpuinfo"
LSCPU = "lscpu"
MOUNTINFO = "/proc/self/mountinfo"


def parse_meminfo(text: str) -> int:
    """Total RAM in bytes from ``MemTotal:  32718108 kB`` (the kernel's kB are KiB)."""
    match = re.search(r"^MemTotal:\s*(\d{1,15})\s*kB\s*$", text, re.MULTILINE)
    if not match:
        raise HardwareError(f"{MEMINFO}: no MemTotal line", source=MEMINFO)
    return int(match.group(1)) * 1024


def _pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.replace("\r", "").split("\n"):
        if ":" in line:
            key, _, value = line.partition(":")
            out.append((key.strip(), value.strip()))
    return out


def parse_cpuinfo(text: str) -> Cpu:
    """CPU model and physical cores from ``/proc/cpuinfo``.

    Cores are the distinct (physical id, core id) pairs on x86; where those are absent (ARM, VMs that
    hide topology) each ``processor`` entry counts as a core.
    """
    pairs = _pairs(text)
    processors = sum(1 for k, _ in pairs if k == "processor")
    if not processors:
        raise HardwareError(f"{CPUINFO}: no processor entries", source=CPUINFO)
    model = next((v for k, v in pairs if k in ("model name", "Model", "Hardware", "cpu model") and v), None)
    cores: set[tuple[str, str]] = set()
    physical = "0"
    for key, value in pairs:
        if key == "physical id":
            physical = value
        elif key == "core id":
            cores.add((physical, value))
    return Cpu(model=model, cores=len(cores) or processors)


def parse_lscpu(text: str) -> Cpu:
    """CPU model and physical cores (cores per socket × sockets) from ``lscpu``."""
    values = dict(_pairs(text))
    if not values:
        raise HardwareError(f"{LSCPU}: no 'name: value' lines", source=LSCPU)
    model = values.get("Model name") or None
    per = to_int(values.get("Core(s) per socket") or values.get("Core(s) per cluster"), source=LSCPU,
                 what="cores per socket")
    sockets = to_int(values.get("Socket(s)") or values.get("Cluster(s)") or "1", source=LSCPU, what="sockets")
    cores = per * (sockets or 1) if per else to_int(values.get("CPU(s)"), source=LSCPU, what="CPU(s)")
    if model is None and cores is None:
        raise HardwareError(f"{LSCPU}: neither a model name nor a core count", source=LSCPU)
    return Cpu(model=model, cores=cores or None)


@dataclass(frozen=True, slots=True)
class Mount:
    mount_point: str
    major: int
    minor: int
    fstype: str
    source: str


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str, path: str) -> Mount:
    """The mount that holds ``path`` (an absolute, resolved path): the longest mount point above it."""
    best: Mount | None = None
    for line in text.split("\n"):
        fields = line.split()
        if len(fields) < 10 or "-" not in fields[6:]:
            continue
        dash = fields.index("-", 6)
        dev = re.fullmatch(r"(\d+):(\d+)", fields[2])
        if not dev or len(fields) < dash + 3:
            continue
        point = _unescape(fields[4])
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best.mount_point)):
            best = Mount(point, int(dev.group(1)), int(dev.group(2)), fields[dash + 1], _unescape(fields[dash + 2]))
    if best is None:
        raise HardwareError(f"{MOUNTINFO}: no mount holds {path}", source=MOUNTINFO)
    return best
