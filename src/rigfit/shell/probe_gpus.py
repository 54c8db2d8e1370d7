"""GPU probes: NVML, nvidia-smi, Linux sysfs, rocm-smi/amd-smi, xpu-smi, lspci, the Windows registry, macOS.

Each reader collects raw text (or NVML's values) and hands it to a pure parser in ``rigfit.core.parsers``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rigfit.core.hardware import Cpu, Gpu
from rigfit.shell.probes import in_thread, read_text
from rigfit.shell.runner import Completed, run

if TYPE_CHECKING:
    from rigfit.shell.probes import ProbeLog

# Where sysfs is mounted and where macOS keeps its tools (absolute: never a look-alike on PATH); tests point
# these at folders built from captured outputs.
SYS_ROOT = Path("/sys")
MACOS_SYSCTL = "/usr/sbin/sysctl"
MACOS_PROFILER = "/usr/sbin/system_profiler"


def probe_gpus(os_name: str, log: ProbeLog) -> list[Gpu]:
    """Every GPU on Linux or Windows: NVIDIA first (NVML, else nvidia-smi), then AMD and Intel."""
    gpus = probe_nvidia(os_name, log)
    if os_name == "linux":
        gpus += probe_linux_amd_intel(log)
    elif os_name == "windows":
        gpus += probe_windows_registry(log, skip_nvidia=bool(gpus))
    return gpus


# ---------------------------------------------------------------------------------------------- NVIDIA


# WSL2 exposes the Windows driver's NVML and nvidia-smi here, with no /proc/driver/nvidia and no /dev/nvidia*.
WSL_LIB = Path("/usr/lib/wsl/lib")


def _nvidia_likely(os_name: str) -> bool:
    """Cheap signs of an NVIDIA driver, so that machines without one don't pay for importing pynvml."""
    if nvidia_smi_path(os_name):
        return True
    if os_name == "linux":
        return any(p.exists() for p in (Path("/proc/driver/nvidia/version"), Path("/dev/nvidiactl"),
                                        SYS_ROOT / "module" / "nvidia", WSL_LIB / "libnvidia-ml.so.1"))
    if os_name == "windows":
        system32 = Path(os.environ.get("SYSTEMROOT", r"C:\Windows")) / "System32"
        return (system32 / "nvml.dll").exists()
    return False


def nvidia_smi_path(os_name: str) -> str | None:
    """nvidia-smi as an absolute path (never a nvidia-smi.exe planted in the current folder): PATH first,
    then where drivers install it when PATH misses it."""
    found = shutil.which("nvidia-smi")
    if found:
        return found
    if os_name == "linux":
        candidates = [WSL_LIB / "nvidia-smi"]
    elif os_name == "windows":
        system32 = Path(os.environ.get("SYSTEMROOT", r"C:\Windows")) / "System32"
        program_files = Path(os.environ.get("PROGRAMFILES", r"C:\Program Files"))
        candidates = [system32 / "nvidia-smi.exe", program_files / "NVIDIA Corporation" / "NVSMI" / "nvidia-smi.exe"]
    else:
        candidates = []
    return next((str(p) for p in candidates if p.is_file()), None)


def probe_nvidia(os_name: str, log: ProbeLog) -> list[Gpu]:
    if not _nvidia_likely(os_name):
        return []
    gpus = None
    if os.environ.get("RIGFIT_DISABLE_NVML") != "1":
        gpus = probe_nvml(log)
    if gpus is None:
        gpus = probe_nvidia_smi(log, nvidia_smi_path(os_name))
    return apply_cuda_visible_devices(gpus or [], log)


def nvml_readout() -> dict[str, Any]:
    """Raw NVML values as a plain dict (parse_nvml_readout's input); raises pynvml's errors."""
    import pynvml

    def optional(call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except pynvml.NVMLError:
            return None

    pynvml.nvmlInit()
    try:
        devices = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = optional(pynvml.nvmlDeviceGetMemoryInfo, handle)
            cc = optional(pynvml.nvmlDeviceGetCudaComputeCapability, handle)
            pci = optional(pynvml.nvmlDeviceGetPciInfo, handle)
            bus = getattr(pci, "busId", None) if pci is not None else None
            devices.append({
                "index": index, "name": optional(pynvml.nvmlDeviceGetName, handle),
                "memory_total": getattr(memory, "total", None), "memory_free": getattr(memory, "free", None),
                "cc_major": cc[0] if cc else None, "cc_minor": cc[1] if cc else None,
                "pci_bus_id": bus.decode() if isinstance(bus, bytes) else bus,
                "uuid": optional(pynvml.nvmlDeviceGetUUID, handle),
            })
        cuda = optional(pynvml.nvmlSystemGetCudaDriverVersion_v2) or optional(pynvml.nvmlSystemGetCudaDriverVersion)
        return {"driver_version": optional(pynvml.nvmlSystemGetDriverVersion), "cuda_driver_version": cuda,
                "devices": devices}
    finally:
        optional(pynvml.nvmlShutdown)


def probe_nvml(log: ProbeLog) -> list[Gpu] | None:
    """GPUs from NVML, or ``None`` (with a warning unless the library is simply absent) to fall back."""
    from rigfit.core.parsers.nvidia import parse_nvml_readout

    readout, error, timed_out = in_thread(nvml_readout, log.timeout)
    if timed_out:
        log.warn(f"NVML did not answer within {log.timeout:.1f} s; trying nvidia-smi")
        return None
    if error is not None:
        name = type(error).__name__
        if name not in ("NVMLError_LibraryNotFound", "ModuleNotFoundError"):
            log.warn(f"NVML failed ({name}: {str(error)[:120]}); trying nvidia-smi")
        return None
    log.raw["nvml-readout.json"] = json.dumps(readout, indent=2, default=str)
    return log.parse("NVML", lambda: list(parse_nvml_readout(readout or {})))


def probe_nvidia_smi(log: ProbeLog, exe: str | None) -> list[Gpu] | None:
    from rigfit.core.parsers.nvidia import QUERY_FIELDS, parse_nvidia_smi_banner, parse_nvidia_smi_csv

    if exe is None:
        return None
    fields = list(QUERY_FIELDS)

    def query() -> Completed:
        result = run([exe, f"--query-gpu={','.join(fields)}", "--format=csv,nounits"], timeout=log.timeout)
        log.raw["nvidia-smi-query.csv"] = result.stdout
        return result

    result = query()
    if not result.ok and "compute_cap" in result.stdout + result.stderr:
        # Drivers before 510 do not know the compute_cap field; the name table fills it in.
        fields.remove("compute_cap")
        result = query()
    if not result.ok:
        log.warn(result.describe_failure())
        return None
    text = result.stdout
    gpus = log.parse("nvidia-smi", lambda: list(parse_nvidia_smi_csv(text)))
    if not gpus:
        return gpus
    banner = log.command("nvidia-smi.txt", [exe])
    versions = log.parse("nvidia-smi", lambda: parse_nvidia_smi_banner(banner or ""))
    if versions is not None:
        driver, cuda = versions
        gpus = [g._replace(driver_version=g.driver_version or driver, cuda_driver_version=cuda) for g in gpus]
    return gpus


def apply_cuda_visible_devices(gpus: list[Gpu], log: ProbeLog) -> list[Gpu]:
    from rigfit.core.parsers.nvidia import select_visible

    setting = os.environ.get("CUDA_VISIBLE_DEVICES")
    if setting is None or not gpus:
        return gpus
    chosen = select_visible([(g.index, g.uuid) for g in gpus], setting)
    if len(chosen) < len(gpus):
        log.warn(f"CUDA_VISIBLE_DEVICES={setting!r} hides {len(gpus) - len(chosen)} of {len(gpus)} NVIDIA GPU(s)")
    # Programs see the visible GPUs renumbered from 0 in the listed order, as CUDA does.
    return [gpus[p]._replace(index=i) for i, p in enumerate(chosen)]


# ----------------------------------------------------------------------------------- Linux AMD and Intel

_CARD_FILES = ("vendor", "device", "uevent", "product_name", "mem_info_vram_total", "mem_info_vram_used",
               "ip_discovery/die/0/GC/0/major", "ip_discovery/die/0/GC/0/minor",
               "ip_discovery/die/0/GC/0/revision", "tile0/physical_vram_size_bytes", "lmem_total_bytes")


def _kfd_targets() -> dict[str, str]:
    """PCI slot → KFD ``gfx_target_version`` for every GPU node ROCm's kernel driver knows."""
    targets: dict[str, str] = {}
    nodes = SYS_ROOT / "class" / "kfd" / "kfd" / "topology" / "nodes"
    if not nodes.is_dir():
        return targets
    for node in nodes.iterdir():
        props = dict(re.findall(r"^(\w+)\s+(\d+)$", read_text(node / "properties") or "", re.MULTILINE))
        if props.get("gfx_target_version", "0") == "0":
            continue
        loc, domain = int(props.get("location_id", "0")), int(props.get("domain", "0"))
        slot = f"{domain:04x}:{loc >> 8:02x}:{(loc >> 3) & 0x1F:02x}.{loc & 0x7}"
        targets[slot] = props["gfx_target_version"]
    return targets


def probe_linux_amd_intel(log: ProbeLog) -> list[Gpu]:
    drm = SYS_ROOT / "class" / "drm"
    if not drm.is_dir():
        return []
    from rigfit.core.parsers.drm import PCI_VENDORS, parse_drm_card

    cards = {}
    for entry in sorted(drm.glob("card[0-9]*")):
        if not re.fullmatch(r"card\d+", entry.name):
            continue  # connectors: card0-DP-1
        files = {name: text for name in _CARD_FILES if (text := read_text(entry / "device" / name)) is not None}
        if PCI_VENDORS.get(files.get("vendor", "").strip().lower()) in ("amd", "intel"):
            cards[entry.name] = files
    if not cards:
        return []
    kfd = _kfd_targets()
    names = _lspci_names(log) if any("product_name" not in f for f in cards.values()) else {}
    gpus = []
    for card, files in cards.items():
        slot = re.search(r"PCI_SLOT_NAME=(\S+)", files.get("uevent", ""))
        if slot and slot.group(1) in kfd:
            files["kfd_gfx_target_version"] = kfd[slot.group(1)]
        for file_name, content in files.items():
            log.raw[f"sysfs-{card}-{file_name.replace('/', '-')}"] = content
        pci_name = names.get(slot.group(1).split(":", 1)[-1]) if slot else None
        gpu = log.parse(f"sysfs {card}", partial(parse_drm_card, files, card=card, pci_name=pci_name))
        if gpu is not None:
            gpus.append(gpu)
    if any(g.vendor == "amd" and g.vram_bytes is None for g in gpus):
        gpus = _amd_tools(gpus, log)
    if any(g.vendor == "intel" and g.vram_bytes is None for g in gpus) and shutil.which("xpu-smi"):
        gpus = _xpu_smi(gpus, log)
    return gpus


def _lspci_names(log: ProbeLog) -> dict[str, str]:
    """``"03:00.0"`` → lspci's product name, when lspci is installed."""
    from rigfit.core.parsers.intel import parse_lspci

    if not shutil.which("lspci"):
        return {}
    text = log.command("lspci.txt", ["lspci", "-nn"])
    devices = log.parse("lspci", lambda: parse_lspci(text or "")) or ()
    return {d.slot.split(":", 1)[-1] if d.slot.count(":") == 2 else d.slot: d.name for d in devices}


def _amd_tools(gpus: list[Gpu], log: ProbeLog) -> list[Gpu]:
    """Fill unknown AMD VRAM from amd-smi or rocm-smi (slow Python tools: only when sysfs had no answer)."""
    from rigfit.core.parsers.amd import parse_amd_smi_json, parse_rocm_smi_json

    found: tuple[Gpu, ...] | None = None
    if shutil.which("amd-smi"):
        text = log.command("amd-smi-static.json", ["amd-smi", "static", "--json"])
        found = log.parse("amd-smi", lambda: parse_amd_smi_json(text or ""))
    if not found and shutil.which("rocm-smi"):
        argv = ["rocm-smi", "--showproductname", "--showmeminfo", "vram", "--showbus", "--json"]
        text = log.command("rocm-smi.json", argv)
        found = log.parse("rocm-smi", lambda: parse_rocm_smi_json(text or ""))
    if not found:
        return gpus
    by_bus = {(g.pci_bus_id or "").lower()[-7:]: g for g in found}
    amd = [g for g in gpus if g.vendor == "amd"]
    out = []
    for g in gpus:
        if g.vendor != "amd" or g.vram_bytes is not None:
            out.append(g)
            continue
        match = by_bus.get((g.pci_bus_id or "").lower()[-7:]) or (found[0] if len(found) == len(amd) == 1 else None)
        out.append(g._replace(vram_bytes=match.vram_bytes, name=match.name if "GPU [" in g.name else g.name)
                   if match else g)
    return out


def _xpu_smi(gpus: list[Gpu], log: ProbeLog) -> list[Gpu]:
    from rigfit.core.parsers.intel import parse_xpu_smi

    out = []
    for g in gpus:
        if g.vendor == "intel" and g.vram_bytes is None:
            text = log.command(f"xpu-smi-{g.index}.json", ["xpu-smi", "discovery", "-d", str(g.index), "-j"])
            found = log.parse("xpu-smi", partial(parse_xpu_smi, text or ""))
            if found and found[0].vram_bytes:
                g = g._replace(vram_bytes=found[0].vram_bytes)
        out.append(g)
    return out


# -------------------------------------------------------------------------------------- Windows and macOS


def probe_windows_registry(log: ProbeLog, *, skip_nvidia: bool) -> list[Gpu]:
    from rigfit.core.parsers.windows import DISPLAY_CLASS, parse_windows_adapters

    text = log.command("reg-query.txt", ["reg", "query", DISPLAY_CLASS, "/s"])
    if text is None:
        return []
    gpus = log.parse("registry", lambda: parse_windows_adapters(text)) or ()
    return [g for g in gpus if not (skip_nvidia and g.vendor == "nvidia")]


def probe_macos(log: ProbeLog) -> tuple[int | None, Cpu | None, list[Gpu]]:
    from rigfit.core.parsers.apple import parse_sysctl, parse_system_profiler_displays, sysctl_cpu, sysctl_ram

    ram, cpu = None, None
    # One sysctl for all names; an unknown name (sysctl.proc_translated on Intel Macs) makes it exit non-zero
    # while still printing the others, so its output is read whatever the exit status.
    result = run([MACOS_SYSCTL, "hw.memsize", "hw.physicalcpu", "hw.ncpu", "machdep.cpu.brand_string",
                  "sysctl.proc_translated"], timeout=log.timeout)
    log.raw["sysctl.txt"] = result.stdout
    values = log.parse("sysctl", lambda: parse_sysctl(result.stdout)) if result.stdout.strip() else None
    if values is None:
        log.warn(result.describe_failure() if not result.ok else "sysctl printed nothing")
    else:
        ram = log.parse("sysctl", lambda: sysctl_ram(values))
        cpu = log.parse("sysctl", lambda: sysctl_cpu(values))
        if values.get("sysctl.proc_translated", "0").strip() == "1":
            # comfy-cli checks this too: an x86_64 Python under Rosetta cannot use MPS at full speed.
            log.warn("this Python runs under Rosetta (x86_64 on Apple silicon): install an arm64 Python for ComfyUI")
    profile = log.command("system_profiler.json", [MACOS_PROFILER, "SPDisplaysDataType", "-json"],
                          timeout=max(log.timeout, 15.0))  # system_profiler is slow on a cold start
    gpus: tuple[Gpu, ...] = ()
    if profile is not None:
        gpus = log.parse("system_profiler", lambda: parse_system_profiler_displays(profile, ram_bytes=ram)) or ()
    return ram, cpu, list(gpus)
