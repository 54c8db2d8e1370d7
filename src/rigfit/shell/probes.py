"""Probe this machine: tiny ``run_*`` readers around the pure parsers in ``rigfit.core.parsers``.

Contract (as comfy-cli's ``detect_hardware``): never raise, never block long. Every external program runs
through ``rigfit.shell.runner.run`` with a timeout, NVML calls run on a daemon thread joined with a
timeout, and any failure becomes "unknown" plus a line in ``Hardware.warnings``. Programs are only
started on the platform they belong to, and only when ``shutil.which`` finds them.

Environment: ``RIGFIT_PROBE_TIMEOUT`` (seconds per probe, default 5), ``RIGFIT_DISABLE_NVML=1`` (skip NVML,
as on a machine without the library: tests the ``nvidia-smi`` fallback), ``CUDA_VISIBLE_DEVICES``.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rigfit.core.errors import HardwareError
from rigfit.core.hardware import Cpu, Disk, Hardware, normalise_arch, normalise_os
from rigfit.shell.runner import run

T = TypeVar("T")


@dataclass
class ProbeLog:
    """What one detection run saw: warnings for the user, raw outputs for bug reports and test data."""

    timeout: float
    warnings: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def command(self, name: str, argv: list[str], *, timeout: float | None = None) -> str | None:
        """stdout of ``argv`` if it ran and succeeded; otherwise a warning and ``None``."""
        result = run(argv, timeout=timeout or self.timeout)
        self.raw[name] = result.stdout
        if not result.ok:
            self.warn(result.describe_failure())
            return None
        return result.stdout

    def parse(self, what: str, parser: Callable[[], T]) -> T | None:
        try:
            return parser()
        except HardwareError as exc:
            self.warn(f"{what}: {exc}")
            return None


def probe_timeout() -> float:
    try:
        return max(0.1, float(os.environ.get("RIGFIT_PROBE_TIMEOUT", "5")))
    except ValueError:
        return 5.0


def read_text(path: str | Path, limit: int = 1 << 20) -> str | None:
    """A small text file (sysfs, /proc), or ``None`` when it is absent or unreadable."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return None


def in_thread(call: Callable[[], T], timeout: float) -> tuple[T | None, BaseException | None, bool]:
    """Run ``call`` on a daemon thread: ``(result, error, timed_out)``. A hung call is left behind."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # reported to the caller, which turns it into a warning
            box["error"] = exc

    thread = threading.Thread(target=target, name="rigfit-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return None, None, True
    return box.get("result"), box.get("error"), False


# ------------------------------------------------------------------------------------------ entry point


def probe_hardware(disk_path: str | None = None) -> Hardware:
    """Everything rigfit needs to know about this machine; never raises for a failed probe."""
    return probe_hardware_logged(disk_path)[0]


def probe_hardware_logged(disk_path: str | None = None) -> tuple[Hardware, ProbeLog]:
    """``probe_hardware`` plus the log of raw outputs (``rigfit detect --save-raw``)."""
    from rigfit.shell import probe_gpus

    log = ProbeLog(timeout=probe_timeout())
    os_name = normalise_os(platform.system())
    arch = normalise_arch(platform.machine())
    if os_name == "macos":
        ram, cpu, gpus = probe_gpus.probe_macos(log)
    else:
        ram, cpu = (probe_linux_ram_cpu(log) if os_name == "linux" else probe_windows_ram_cpu(log))
        gpus = probe_gpus.probe_gpus(os_name, log)
    disk = probe_disk(disk_path or default_disk_path(), os_name, log)
    return Hardware(os=os_name, arch=arch, cpu=cpu, ram_bytes=ram, gpus=tuple(gpus), disk=disk,
                    warnings=tuple(log.warnings)), log


def default_disk_path() -> str:
    """Where models go by default: rigfit's data folder (``RIGFIT_HOME`` moves it)."""
    from rigfit.shell.paths import data_dir

    try:
        return str(data_dir())
    except (ImportError, OSError, RuntimeError):  # a stripped-down environment: the home folder's disk
        return str(Path.home())


# ------------------------------------------------------------------------------------------ RAM and CPU


def probe_linux_ram_cpu(log: ProbeLog) -> tuple[int | None, Cpu | None]:
    from rigfit.core.parsers.system import parse_cpuinfo, parse_lscpu, parse_meminfo

    ram = None
    meminfo = read_text("/proc/meminfo")
    if meminfo is None:
        log.warn("RAM unknown: /proc/meminfo is not readable")
    else:
        log.raw["proc-meminfo"] = meminfo
        ram = log.parse("RAM", lambda: parse_meminfo(meminfo))
    cpu = None
    cpuinfo = read_text("/proc/cpuinfo", limit=4 << 20)
    if cpuinfo is not None:
        log.raw["proc-cpuinfo"] = cpuinfo
        cpu = log.parse("CPU", lambda: parse_cpuinfo(cpuinfo))
    if (cpu is None or cpu.model is None) and shutil.which("lscpu"):
        text = log.command("lscpu", ["lscpu"])
        if text is not None:
            cpu = log.parse("CPU", lambda: parse_lscpu(text)) or cpu
    if cpu is None:
        cpu = Cpu(model=None, cores=os.cpu_count())
        log.warn("CPU model unknown")
    return ram, cpu


def probe_windows_ram_cpu(log: ProbeLog) -> tuple[int | None, Cpu | None]:
    ram = None
    try:
        import ctypes

        class MemoryStatus(ctypes.Structure):
            _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                        ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                        ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                        ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                        ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

        status = MemoryStatus()
        status.dwLength = ctypes.sizeof(MemoryStatus)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            ram = int(status.ullTotalPhys)
    except (OSError, AttributeError, ValueError) as exc:
        log.warn(f"RAM unknown: {exc}")
    model = platform.processor() or None
    if sys.platform == "win32":
        try:
            import winreg

            key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"HARDWARE\DESCRIPTION\System\CentralProcessor\0")
            model = str(winreg.QueryValueEx(key, "ProcessorNameString")[0]).strip() or model
        except OSError:
            pass
    # Windows offers no cheap physical-core count without WMI; logical processors it is.
    return ram, Cpu(model=model, cores=os.cpu_count())


# ------------------------------------------------------------------------------------------------ disk


def _existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or "/")


def probe_disk(path: str, os_name: str, log: ProbeLog) -> Disk:
    """Free space at ``path`` (its nearest existing parent) and, on Linux, whether its disk spins."""
    target = Path(path).expanduser().absolute()
    where = _existing(target)
    free = None
    try:
        free = shutil.disk_usage(where).free
    except OSError as exc:
        log.warn(f"free disk space at {target} unknown: {exc}")
    rotational = rotational_of(where, log) if os_name == "linux" else None
    return Disk(path=str(target), free_bytes=free, rotational=rotational)


def rotational_of(path: Path, log: ProbeLog) -> bool | None:
    """``/sys/block/<dev>/queue/rotational`` of the block device holding ``path``; ``None`` if unknown."""
    try:
        st_dev = path.stat().st_dev
    except OSError:
        return None
    block = Path(f"/sys/dev/block/{os.major(st_dev)}:{os.minor(st_dev)}")
    if not block.exists():
        # overlayfs, btrfs subvolumes, ZFS: the mount's source device names the disk, if it is a device.
        from rigfit.core.parsers.system import parse_mountinfo

        mountinfo = read_text("/proc/self/mountinfo")
        if mountinfo is None:
            return None
        resolved = str(path.resolve())
        mount = log.parse("mount of the disk path", lambda: parse_mountinfo(mountinfo, resolved))
        if mount is None or not mount.source.startswith("/dev/"):
            return None
        block = Path("/sys/class/block") / Path(mount.source).name
        if not block.exists():
            return None
    block = block.resolve()
    for candidate in (block, block.parent):  # a partition's queue lives on its parent disk
        flag = read_text(candidate / "queue" / "rotational")
        if flag is not None:
            return flag.strip() == "1"
    return None
