"""The machine as frozen values, and its wire format ``rigfit.hardware/1`` (probe output and profile files).

``hardware_from_json`` is strict about what it is given (unknown keys, wrong types: a ``ProfileError`` naming
the field) and lenient about what is left out: architecture and compute capability come from the GPU name,
the vendor from the name, an Apple GPU's share of unified memory from the RAM.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple, NoReturn

from rigfit.core.errors import ProfileError
from rigfit.core.gpu_names import (
    apple_gpu_share,
    architecture_from_compute_capability,
    architecture_from_gfx,
    lookup_gpu,
    vendor_from_name,
)

SCHEMA = "rigfit.hardware/1"
VENDORS = ("nvidia", "amd", "intel", "apple")
# Operating systems as rigfit names them; inputs "darwin"/"mac"/"osx" and "win32" are normalised to these.
OSES = ("linux", "windows", "macos", "unknown")


class Gpu(NamedTuple):
    vendor: str  # nvidia | amd | intel | apple
    name: str
    vram_bytes: int | None  # Apple: the share of unified memory the GPU may use
    compute_capability: str | None  # NVIDIA only: "8.9"
    architecture: str | None  # pascal ... blackwell, rdna2 ..., alchemist, battlemage, m1 ...
    driver_version: str | None
    cuda_driver_version: str | None  # NVIDIA only: "12.6"
    unified_memory: bool
    free_vram_bytes: int | None = None
    index: int = 0  # type: ignore[assignment]  # the GPU's position; shadows tuple.index, unused here
    pci_bus_id: str | None = None
    gfx_target: str | None = None  # AMD only: "gfx1100"
    cores: int | None = None  # Apple only: GPU cores
    # Only used to apply CUDA_VISIBLE_DEVICES; deliberately left out of the JSON document so that shared
    # hardware documents (bug reports, profiles) carry no unique hardware id.
    uuid: str | None = None


class Cpu(NamedTuple):
    model: str | None
    cores: int | None


class Disk(NamedTuple):
    path: str
    free_bytes: int | None
    rotational: bool | None


class Hardware(NamedTuple):
    os: str
    arch: str
    cpu: Cpu | None
    ram_bytes: int | None
    gpus: tuple[Gpu, ...]
    disk: Disk | None
    warnings: tuple[str, ...] = ()

    @property
    def primary_gpu(self) -> Gpu | None:
        """The GPU with the most VRAM (the first one on a tie; unknown VRAM counts as none)."""
        if not self.gpus:
            return None
        best = max(range(len(self.gpus)), key=lambda i: (self.gpus[i].vram_bytes or 0, -i))
        return self.gpus[best]


def complete_gpu(gpu: Gpu, *, ram_bytes: int | None = None) -> Gpu:
    """Fill what the name table and the rules can tell: compute capability, architecture, Apple's share."""
    model = lookup_gpu(gpu.name)
    cc = gpu.compute_capability
    if cc is None and gpu.vendor == "nvidia" and model is not None:
        cc = model.compute_capability
    gfx = gpu.gfx_target
    if gfx is None and gpu.vendor == "amd" and model is not None:
        gfx = model.gfx_target
    arch = gpu.architecture
    if arch is None and cc is not None and gpu.vendor == "nvidia":
        arch = architecture_from_compute_capability(cc)
    if arch is None and gfx is not None and gpu.vendor == "amd":
        arch = architecture_from_gfx(gfx)
    if arch is None and model is not None and model.vendor == gpu.vendor:
        arch = model.architecture
    vram = gpu.vram_bytes
    if vram is None and gpu.vendor == "apple" and ram_bytes is not None:
        vram = apple_gpu_share(ram_bytes)
    return gpu._replace(compute_capability=cc, architecture=arch, gfx_target=gfx, vram_bytes=vram)


# ----------------------------------------------------------------------------------------------- to JSON


def _gpu_to_json(gpu: Gpu) -> dict[str, Any]:
    return {
        "vendor": gpu.vendor, "name": gpu.name, "vram_bytes": gpu.vram_bytes,
        "compute_capability": gpu.compute_capability, "architecture": gpu.architecture,
        "driver_version": gpu.driver_version, "cuda_driver_version": gpu.cuda_driver_version,
        "unified_memory": gpu.unified_memory, "free_vram_bytes": gpu.free_vram_bytes, "index": gpu.index,
        "pci_bus_id": gpu.pci_bus_id, "gfx_target": gpu.gfx_target, "cores": gpu.cores,
    }


def hardware_to_json(hw: Hardware) -> dict[str, Any]:
    """The ``rigfit.hardware/1`` document (CLI-CONTRACT.md), plus ``warnings`` from the probes."""
    return {
        "schema": SCHEMA,
        "os": hw.os,
        "arch": hw.arch,
        "cpu": None if hw.cpu is None else {"model": hw.cpu.model, "cores": hw.cpu.cores},
        "ram_bytes": hw.ram_bytes,
        "gpus": [_gpu_to_json(g) for g in hw.gpus],
        "disk": None if hw.disk is None else {
            "path": hw.disk.path, "free_bytes": hw.disk.free_bytes, "rotational": hw.disk.rotational},
        "warnings": list(hw.warnings),
    }


# --------------------------------------------------------------------------------------------- from JSON

_TOP_KEYS = ("schema", "os", "arch", "cpu", "ram_bytes", "gpus", "disk", "warnings", "id", "description")
_CPU_KEYS = ("model", "cores")
_DISK_KEYS = ("path", "free_bytes", "rotational")
_GPU_KEYS = tuple(_gpu_to_json(Gpu("nvidia", "", None, None, None, None, None, False)))  # uuid excluded
_CC_RE = re.compile(r"\d{1,2}\.\d")


class _Reader:
    """Typed access to one JSON object that names the offending field in every error."""

    def __init__(self, source: str, where: str, obj: object, allowed: tuple[str, ...]) -> None:
        self.source, self.where = source, where
        if not isinstance(obj, Mapping):
            self.fail(where, f"must be an object, not {_kind(obj)}")
        self.obj: Mapping[str, object] = obj
        for key in obj:
            if key not in allowed:
                import difflib  # only on the error path: it costs ~10 ms to import

                near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5) or [
                    k for k in allowed if str(key) and (k.startswith(str(key)) or str(key) in k)][:1]
                hint = f" (did you mean {near[0]!r}?)" if near else f" (known keys: {', '.join(allowed)})"
                self.fail(self.at(str(key)), f"unknown key{hint}")

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, field: str, problem: str) -> NoReturn:
        raise ProfileError(f"{self.source}: {field or 'document'}: {problem}", field=field, source=self.source)

    def string(self, key: str, *, required: bool = False) -> str | None:
        value = self.obj.get(key)
        if value is None:
            if required:
                self.fail(self.at(key), "is required (a string)")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(self.at(key), f"must be a non-empty string, not {_kind(value)}")
        return value.strip()

    def count(self, key: str, *, positive: bool = False) -> int | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if positive else 0):
            what = "a positive integer" if positive else "a non-negative integer"
            self.fail(self.at(key), f"must be {what}, not {_kind(value)}")
        return value

    def flag(self, key: str) -> bool | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(self.at(key), f"must be true or false, not {_kind(value)}")
        return value


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def normalise_os(text: str) -> str:
    low = text.strip().lower()
    if low in ("darwin", "mac", "macos", "osx", "mac os x"):
        return "macos"
    if low in ("win32", "windows", "win", "cygwin", "msys"):
        return "windows"
    if low.startswith("linux"):
        return "linux"
    return low or "unknown"


def normalise_arch(text: str) -> str:
    low = text.strip().lower()
    return {"amd64": "x86_64", "x64": "x86_64", "x86-64": "x86_64", "aarch64": "arm64", "armv8": "arm64"}.get(
        low, low or "unknown")


def _read_gpu(source: str, where: str, obj: object, position: int, ram_bytes: int | None) -> Gpu:
    r = _Reader(source, where, obj, _GPU_KEYS)
    name = r.string("name", required=True) or ""
    found = r.string("vendor") or vendor_from_name(name)
    if found is None:
        r.fail(r.at("vendor"), f"is required: the vendor of {name!r} is not known from its name "
                                f"(one of {', '.join(VENDORS)})")
    vendor = found.lower()
    if vendor not in VENDORS:
        r.fail(r.at("vendor"), f"must be one of {', '.join(VENDORS)}, not {vendor!r}")
    cc = r.string("compute_capability")
    if cc is not None:
        if vendor != "nvidia":
            r.fail(r.at("compute_capability"), f"is for NVIDIA GPUs only; this one is {vendor}")
        if not _CC_RE.fullmatch(cc):
            r.fail(r.at("compute_capability"), f"must look like \"8.9\", not {cc!r}")
    arch = r.string("architecture")
    unified = r.flag("unified_memory")
    index = r.count("index")
    gpu = Gpu(
        vendor=vendor, name=name, vram_bytes=r.count("vram_bytes"), compute_capability=cc,
        architecture=None if arch is None else arch.lower(), driver_version=r.string("driver_version"),
        cuda_driver_version=r.string("cuda_driver_version"),
        unified_memory=(vendor == "apple") if unified is None else unified,
        free_vram_bytes=r.count("free_vram_bytes"), index=position if index is None else index,
        pci_bus_id=r.string("pci_bus_id"), gfx_target=r.string("gfx_target"), cores=r.count("cores", positive=True),
    )
    return complete_gpu(gpu, ram_bytes=ram_bytes)


def hardware_from_json(doc: object, *, source: str) -> Hardware:
    """A ``Hardware`` from a ``rigfit.hardware/1`` document; raises ``ProfileError`` naming the bad field."""
    top = _Reader(source, "", doc, _TOP_KEYS)
    schema = top.obj.get("schema")
    if schema is not None and schema != SCHEMA:
        top.fail("schema", f"must be {SCHEMA!r}, not {_kind(schema)}")
    ram = top.count("ram_bytes")
    cpu_obj = top.obj.get("cpu")
    cpu = None
    if cpu_obj is not None:
        c = _Reader(source, "cpu", cpu_obj, _CPU_KEYS)
        cpu = Cpu(model=c.string("model"), cores=c.count("cores", positive=True))
    gpus_obj = top.obj.get("gpus", [])
    if not isinstance(gpus_obj, list):
        top.fail("gpus", f"must be a list, not {_kind(gpus_obj)}")
    gpus = tuple(_read_gpu(source, f"gpus[{i}]", g, i, ram) for i, g in enumerate(gpus_obj))
    disk_obj = top.obj.get("disk")
    disk = None
    if disk_obj is not None:
        d = _Reader(source, "disk", disk_obj, _DISK_KEYS)
        disk = Disk(path=d.string("path", required=True) or "", free_bytes=d.count("free_bytes"),
                    rotational=d.flag("rotational"))
    warnings_obj = top.obj.get("warnings", [])
    if not isinstance(warnings_obj, list) or not all(isinstance(w, str) for w in warnings_obj):
        top.fail("warnings", "must be a list of strings")
    os_name = top.string("os")
    arch = top.string("arch")
    if os_name is None:
        os_name = "macos" if any(g.vendor == "apple" for g in gpus) else "unknown"
    if arch is None:
        arch = "arm64" if any(g.vendor == "apple" for g in gpus) else "unknown"
    return Hardware(os=normalise_os(os_name), arch=normalise_arch(arch), cpu=cpu, ram_bytes=ram, gpus=gpus,
                    disk=disk, warnings=tuple(str(w) for w in warnings_obj))
