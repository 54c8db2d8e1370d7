"""The probes in the shell: bounded, never crashing, and reading the right sources."""

from __future__ import annotations

import shutil
import sys
import time
import types
from pathlib import Path

import pytest

from rigfit.core.hardware import Gpu
from rigfit.shell import probe_gpus, probes
from rigfit.shell.probes import ProbeLog, in_thread, probe_disk, probe_hardware, rotational_of

DATA = Path(__file__).resolve().parents[2] / "data" / "probes"


def _log(timeout: float = 5.0) -> ProbeLog:
    return ProbeLog(timeout=timeout)


def test_missing_program_is_a_warning_not_an_error() -> None:
    log = _log()
    assert log.command("x", ["rigfit-no-such-program-xyz"]) is None
    assert log.warnings == ["rigfit-no-such-program-xyz not found"]


def test_hanging_call_on_a_thread_is_abandoned_at_its_timeout() -> None:
    start = time.monotonic()
    result, error, timed_out = in_thread(lambda: time.sleep(5), 0.2)
    assert (result, error, timed_out) == (None, None, True)
    assert time.monotonic() - start < 2


def test_thread_reports_the_exception_of_the_call() -> None:
    _, error, timed_out = in_thread(lambda: 1 / 0, 2)
    assert isinstance(error, ZeroDivisionError) and not timed_out


# ------------------------------------------------------------------------------------- NVML (a stand-in)


class _Memory:
    def __init__(self, total: int, free: int) -> None:
        self.total, self.free = total, free


def _fake_pynvml(*, hang: float = 0.0, missing_library: bool = False) -> types.ModuleType:
    """A module with pynvml's API over two GPUs, as NVML on a two-GPU machine answers."""
    mod = types.ModuleType("pynvml")

    class NVMLError(Exception):
        pass

    class NVMLError_LibraryNotFound(NVMLError):
        pass

    class NVMLError_FunctionNotFound(NVMLError):
        pass

    gpus = [("NVIDIA GeForce RTX 4090", 25757220864, (8, 9), "GPU-aaaa"), ("NVIDIA GeForce RTX 3060", 12884901888,
                                                                           (8, 6), "GPU-bbbb")]

    def init() -> None:
        if missing_library:
            raise NVMLError_LibraryNotFound("NVML Shared Library Not Found")
        time.sleep(hang)

    def v2() -> int:
        raise NVMLError_FunctionNotFound("old driver")

    mod.NVMLError = NVMLError  # type: ignore[attr-defined]
    mod.NVMLError_LibraryNotFound = NVMLError_LibraryNotFound  # type: ignore[attr-defined]
    mod.nvmlInit = init  # type: ignore[attr-defined]
    mod.nvmlShutdown = lambda: None  # type: ignore[attr-defined]
    mod.nvmlDeviceGetCount = lambda: len(gpus)  # type: ignore[attr-defined]
    mod.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    mod.nvmlDeviceGetName = lambda h: gpus[h][0]  # type: ignore[attr-defined]
    mod.nvmlDeviceGetMemoryInfo = lambda h: _Memory(gpus[h][1], gpus[h][1] // 2)  # type: ignore[attr-defined]
    mod.nvmlDeviceGetCudaComputeCapability = lambda h: gpus[h][2]  # type: ignore[attr-defined]
    mod.nvmlDeviceGetPciInfo = lambda h: types.SimpleNamespace(busId=b"00000000:0%d:00.0" % (h + 1))  # type: ignore[attr-defined]
    mod.nvmlDeviceGetUUID = lambda h: gpus[h][3]  # type: ignore[attr-defined]
    mod.nvmlSystemGetCudaDriverVersion_v2 = v2  # type: ignore[attr-defined]
    mod.nvmlSystemGetCudaDriverVersion = lambda: 12080  # type: ignore[attr-defined]
    mod.nvmlSystemGetDriverVersion = lambda: "570.153.02"  # type: ignore[attr-defined]
    return mod


def test_nvml_reports_every_gpu_with_versions_falling_back_to_the_v1_cuda_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml())
    log = _log()
    gpus = probe_gpus.probe_nvml(log)
    assert gpus is not None and log.warnings == []
    assert [(g.name, g.compute_capability, g.architecture, g.pci_bus_id, g.uuid) for g in gpus] == [
        ("NVIDIA GeForce RTX 4090", "8.9", "ada", "00000000:01:00.0", "GPU-aaaa"),
        ("NVIDIA GeForce RTX 3060", "8.6", "ampere", "00000000:02:00.0", "GPU-bbbb")]
    assert {(g.driver_version, g.cuda_driver_version) for g in gpus} == {("570.153.02", "12.8")}
    assert gpus[0].free_vram_bytes == 25757220864 // 2
    assert "nvml-readout.json" in log.raw


def test_absent_nvml_library_falls_back_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(missing_library=True))
    log = _log()
    assert probe_gpus.probe_nvml(log) is None
    assert log.warnings == []


def test_hanging_nvml_is_cut_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(hang=5))
    log = _log(timeout=0.3)
    start = time.monotonic()
    assert probe_gpus.probe_nvml(log) is None
    assert time.monotonic() - start < 2
    assert log.warnings == ["NVML did not answer within 0.3 s; trying nvidia-smi"]


def test_real_nvml_bindings_on_this_gpu_less_machine_fall_back_without_a_warning() -> None:
    """nvidia-ml-py is installed but no driver is: NVMLError_LibraryNotFound, which is not worth a warning."""
    log = _log()
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has an NVIDIA driver")
    assert probe_gpus.probe_nvml(log) is None
    assert log.warnings == []


@pytest.mark.parametrize(
    ("setting", "names", "warned"),
    [(None, ["a", "b"], False), ("1", ["b"], True), ("GPU-aa", ["a"], True), ("", [], True)],
    ids=["unset", "index", "uuid", "empty"],
)
def test_cuda_visible_devices_is_respected(monkeypatch: pytest.MonkeyPatch, setting: str | None, names: list[str],
                                           warned: bool) -> None:
    if setting is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", setting)
    gpus = [Gpu("nvidia", "a", 1, None, None, None, None, False, index=0, uuid="GPU-aaaa"),
            Gpu("nvidia", "b", 2, None, None, None, None, False, index=1, uuid="GPU-bbbb")]
    log = _log()
    visible = probe_gpus.apply_cuda_visible_devices(gpus, log)
    assert [g.name for g in visible] == names
    assert [g.index for g in visible] == list(range(len(names)))
    assert bool(log.warnings) is warned


# ---------------------------------------------------------------------------------- sysfs (a built tree)


def _sysfs(root: Path, card: str, files: dict[str, str]) -> None:
    device = root / "class" / "drm" / card / "device"
    for name, text in files.items():
        (device / name).parent.mkdir(parents=True, exist_ok=True)
        (device / name).write_text(text)
    (root / "class" / "drm" / f"{card}-DP-1").mkdir(parents=True, exist_ok=True)  # a connector, not a card


def test_linux_sysfs_probe_reads_amd_cards_and_kfd_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    halo = {p.name: p.read_text() for p in (DATA / "amd" / "sysfs-strix-halo").iterdir() if p.name != "kfd_gfx_target_version"}
    _sysfs(tmp_path, "card0", {**halo, "uevent": "DRIVER=amdgpu\nPCI_SLOT_NAME=0000:c5:00.0\n",
                               "product_name": "AMD Radeon 8060S"})
    _sysfs(tmp_path, "card1", {"vendor": "0x10de\n"})
    node = tmp_path / "class" / "kfd" / "kfd" / "topology" / "nodes" / "1"
    node.mkdir(parents=True)
    # location_id is bus << 8 | device << 3 | function: 0xc5 << 8 = 50432.
    node.joinpath("properties").write_text("gfx_target_version 110501\nlocation_id 50432\ndomain 0\n")
    monkeypatch.setattr(probe_gpus, "SYS_ROOT", tmp_path)
    monkeypatch.setattr(probe_gpus.shutil, "which", lambda name: None)
    log = _log()
    (gpu,) = probe_gpus.probe_linux_amd_intel(log)
    assert (gpu.name, gpu.vram_bytes, gpu.gfx_target, gpu.architecture, gpu.pci_bus_id) == (
        "AMD Radeon 8060S", 103079215104, "gfx1151", "rdna3.5", "0000:c5:00.0")
    assert log.warnings == []


def test_linux_sysfs_without_gpus_is_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_gpus, "SYS_ROOT", tmp_path)
    assert probe_gpus.probe_linux_amd_intel(_log()) == []


# ------------------------------------------------------------------------------------- disk, RAM, whole


def test_disk_probe_reports_free_space_of_the_nearest_existing_folder(tmp_path: Path) -> None:
    target = tmp_path / "not" / "yet" / "there"
    disk = probe_disk(str(target), "linux", _log())
    assert disk.path == str(target)
    assert disk.free_bytes is not None
    assert abs(disk.free_bytes - shutil.disk_usage(tmp_path).free) < 64 * 1024**2


def test_rotational_flag_agrees_with_the_mounted_device(tmp_path: Path) -> None:
    """Cross-check through the other route: the mount's source device in /proc/self/mountinfo."""
    from rigfit.core.parsers.system import parse_mountinfo

    mount = parse_mountinfo(Path("/proc/self/mountinfo").read_text(), str(tmp_path.resolve()))
    flag = Path("/sys/class/block") / Path(mount.source).name / "queue" / "rotational"
    if not mount.source.startswith("/dev/") or not flag.exists():
        pytest.skip(f"{tmp_path} is on {mount.source}, not a block device with a queue")
    assert rotational_of(tmp_path, _log()) is (flag.read_text().strip() == "1")


def test_disk_elsewhere_than_linux_has_unknown_rotation(tmp_path: Path) -> None:
    assert probe_disk(str(tmp_path), "windows", _log()).rotational is None


def test_this_machine_has_no_gpu_and_the_right_ram(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("nvidia-smi") or Path("/sys/class/drm").exists():
        pytest.skip("this machine has GPU tooling")
    monkeypatch.delenv("RIGFIT_DISABLE_NVML", raising=False)
    hw = probe_hardware(str(tmp_path))
    meminfo = Path("/proc/meminfo").read_text()
    kib = int(next(line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal:")))
    assert (hw.os, hw.gpus, hw.ram_bytes, hw.warnings) == ("linux", (), kib * 1024, ())
    assert hw.cpu is not None and hw.cpu.cores and hw.cpu.model
    assert hw.disk is not None and hw.disk.path == str(tmp_path)


def test_probe_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGFIT_PROBE_TIMEOUT", "1.5")
    assert probes.probe_timeout() == 1.5
    monkeypatch.setenv("RIGFIT_PROBE_TIMEOUT", "soon")
    assert probes.probe_timeout() == 5.0


# ------------------------------------------------------------------------------- macOS (captured tools)


def _script(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("translated", [False, True], ids=["native", "rosetta"])
def test_macos_probe_reads_sysctl_and_system_profiler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      translated: bool) -> None:
    """sysctl exits 1 for an unknown name yet prints the rest; its output is still used."""
    sysctl_out = tmp_path / "sysctl.txt"
    sysctl_out.write_text("hw.memsize: 68719476736\nhw.physicalcpu: 16\nhw.ncpu: 16\n"
                          "machdep.cpu.brand_string: Apple M3 Max\n"
                          + ("sysctl.proc_translated: 1\n" if translated else ""))
    exit_code = 0 if translated else 1
    monkeypatch.setattr(probe_gpus, "MACOS_SYSCTL", _script(tmp_path / "sysctl", f'cat "{sysctl_out}"; exit {exit_code}'))
    monkeypatch.setattr(probe_gpus, "MACOS_PROFILER", _script(
        tmp_path / "system_profiler", f'cat "{DATA / "apple" / "system_profiler-m3-max.json"}"'))
    log = _log()
    ram, cpu, gpus = probe_gpus.probe_macos(log)
    assert ram == 64 * 1024**3
    assert cpu is not None and (cpu.model, cpu.cores) == ("Apple M3 Max", 16)
    (gpu,) = gpus
    assert (gpu.name, gpu.cores, gpu.architecture, gpu.vram_bytes) == ("Apple M3 Max", 40, "m3", 48 * 1024**3)
    assert bool(log.warnings) is translated


def test_macos_probe_without_tools_degrades_to_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_gpus, "MACOS_SYSCTL", str(tmp_path / "missing-sysctl"))
    monkeypatch.setattr(probe_gpus, "MACOS_PROFILER", str(tmp_path / "missing-profiler"))
    log = _log()
    assert probe_gpus.probe_macos(log) == (None, None, [])
    assert len(log.warnings) == 2


def test_windows_registry_probe_with_a_captured_reg_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cat = shutil.which("cat")
    _script(bin_dir / "reg", f'{cat} "{DATA / "windows" / "reg-query-rtx4080super-igpu-fr.joined.txt"}"')
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("SYSTEMROOT", str(tmp_path))  # no nvml.dll there: NVIDIA is not probed through NVML
    log = _log()
    gpus = probe_gpus.probe_gpus("windows", log)
    assert [(g.vendor, g.name) for g in gpus] == [("nvidia", "NVIDIA GeForce RTX 4080 SUPER"),
                                                  ("amd", "AMD Radeon(TM) Graphics")]
    assert log.warnings == []
    # Where NVIDIA GPUs were found by NVML or nvidia-smi, the registry adds only the others.
    assert [g.vendor for g in probe_gpus.probe_windows_registry(log, skip_nvidia=True)] == ["amd"]


def test_wsl_nvidia_smi_outside_path_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WSL2 keeps nvidia-smi in /usr/lib/wsl/lib, which is not always on PATH."""
    cat = shutil.which("cat")
    _script(tmp_path / "nvidia-smi",
            f'case "$*" in *--query-gpu*) {cat} "{DATA / "nvidia" / "rtx4060-laptop.csv"}";; '
            f'*) {cat} "{DATA / "nvidia" / "banner-rtx3060.txt"}";; esac')
    monkeypatch.setattr(probe_gpus, "WSL_LIB", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("RIGFIT_DISABLE_NVML", "1")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    log = _log()
    (gpu,) = probe_gpus.probe_nvidia("linux", log)
    assert (gpu.name, gpu.vram_bytes, gpu.cuda_driver_version) == ("NVIDIA GeForce RTX 4060 Laptop GPU", 8585740288,
                                                                   "13.0")
    assert log.warnings == []
