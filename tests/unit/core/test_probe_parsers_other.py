"""AMD, Intel, Apple, Windows and Linux system parsers on outputs captured from real machines."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigfit.core.errors import HardwareError
from rigfit.core.gpu_names import apple_gpu_share
from rigfit.core.parsers.amd import (
    gfx_from_ip_version,
    gfx_from_kfd_version,
    parse_amd_smi_json,
    parse_rocm_smi_json,
)
from rigfit.core.parsers.apple import parse_sysctl, parse_system_profiler_displays, sysctl_cpu, sysctl_ram
from rigfit.core.parsers.drm import parse_drm_card
from rigfit.core.parsers.intel import parse_lspci, parse_xpu_smi
from rigfit.core.parsers.system import parse_cpuinfo, parse_lscpu, parse_meminfo, parse_mountinfo
from rigfit.core.parsers.windows import parse_reg_query, parse_windows_adapters

DATA = Path(__file__).resolve().parents[2] / "data" / "probes"
GIB = 1024**3


def _text(*parts: str) -> str:
    return DATA.joinpath(*parts).read_text(encoding="utf-8")


def _card(folder: str) -> dict[str, str]:
    return {p.name: p.read_text() for p in (DATA / "amd" / folder).iterdir()}


# ------------------------------------------------------------------------------------------------- AMD


def test_rocm_smi_rx7900xt() -> None:
    (gpu,) = parse_rocm_smi_json(_text("amd", "rocm-smi-rx7900xt.json"))
    assert (gpu.vendor, gpu.name, gpu.vram_bytes, gpu.gfx_target, gpu.architecture) == (
        "amd", "Radeon RX 7900 XT", 21458059264, "gfx1100", "rdna3")
    assert gpu.free_vram_bytes == 21458059264 - 27856896


def test_rocm_smi_without_vram_keys_still_lists_the_cards() -> None:
    gpus = parse_rocm_smi_json(_text("amd", "rocm-smi-2x-rx6800-memuse.json"))
    assert [(g.index, g.vram_bytes, g.vendor) for g in gpus] == [(0, None, "amd"), (1, None, "amd")]


def test_amd_smi_static_mi350x() -> None:
    (gpu,) = parse_amd_smi_json(_text("amd", "amd-smi-static-mi350x.reconstructed.json"))
    assert (gpu.name, gpu.gfx_target, gpu.architecture, gpu.pci_bus_id, gpu.driver_version) == (
        "AMD Instinct MI350X", "gfx950", "cdna4", "0000:05:00.0", "6.18.3")
    assert gpu.vram_bytes == 294912 * 1024**2


@pytest.mark.parametrize(
    "doc",
    ['{"gpu_data": [{"gpu": 0, "asic": {"market_name": "AMD Radeon RX 7900 XTX", "target_graphics_version": '
     '"gfx1100"}, "vram": {"vram_size": 24560}}]}',
     '[{"gpu": 0, "asic": {"market_name": "AMD Radeon RX 7900 XTX"}, "vram": {"vram_size_mb": 24560}}]'],
    ids=["gpu_data-plain-number", "vram_size_mb"],
)
def test_amd_smi_schema_variants_across_rocm_versions(doc: str) -> None:
    (gpu,) = parse_amd_smi_json(doc)
    assert (gpu.vram_bytes, gpu.architecture) == (24560 * 1024**2, "rdna3")


@pytest.mark.parametrize(("folder", "vram", "gfx", "arch"),
                         [("sysfs-strix-halo", 103079215104, "gfx1151", "rdna3.5"),
                          ("sysfs-890m", 51539607552, "gfx1150", "rdna3.5")])
def test_sysfs_amd_card(folder: str, vram: int, gfx: str, arch: str) -> None:
    gpu = parse_drm_card(_card(folder), card="card0")
    assert gpu is not None
    assert (gpu.vendor, gpu.vram_bytes, gpu.gfx_target, gpu.architecture) == ("amd", vram, gfx, arch)
    assert gpu.unified_memory, "an APU's VRAM is a carve-out of system memory"


def test_sysfs_ip_discovery_gives_the_gfx_target_and_lspci_the_name() -> None:
    files = {"vendor": "0x1002\n", "device": "0x744c\n", "mem_info_vram_total": "25753026560\n",
             "mem_info_vram_used": "1000\n", "uevent": "DRIVER=amdgpu\nPCI_SLOT_NAME=0000:03:00.0\n",
             "ip_discovery/die/0/GC/0/major": "11\n", "ip_discovery/die/0/GC/0/minor": "0\n",
             "ip_discovery/die/0/GC/0/revision": "0\n"}
    gpu = parse_drm_card(files, card="card1", pci_name="Navi 31 [Radeon RX 7900 XT/7900 XTX/7900M]")
    assert gpu is not None
    assert (gpu.gfx_target, gpu.index, gpu.pci_bus_id, gpu.free_vram_bytes) == ("gfx1100", 1, "0000:03:00.0",
                                                                                 25753026560 - 1000)
    assert not gpu.unified_memory
    assert gpu.name.startswith("Navi 31")


@pytest.mark.parametrize("vendor", ["0x10de", "0x1af4", ""])
def test_sysfs_cards_of_other_vendors_are_skipped(vendor: str) -> None:
    assert parse_drm_card({"vendor": vendor}, card="card0") is None


def test_sysfs_intel_integrated_graphics_are_skipped_but_arc_is_named_by_device_id() -> None:
    assert parse_drm_card({"vendor": "0x8086", "device": "0x4680"}, card="card0") is None
    arc = parse_drm_card({"vendor": "0x8086", "device": "0xe20b", "tile0/physical_vram_size_bytes": "12884901888"},
                         card="card1")
    assert arc is not None and (arc.name, arc.architecture, arc.vram_bytes) == ("Intel Arc B580", "battlemage",
                                                                                 12 * GIB)


@pytest.mark.parametrize(("value", "gfx"), [("110000", "gfx1100"), ("90010", "gfx90a"), ("120001", "gfx1201"),
                                            ("0", None), ("91600", None)])
def test_kfd_gfx_target_version(value: str, gfx: str | None) -> None:
    assert gfx_from_kfd_version(value) == gfx


def test_ip_version_out_of_range_is_unknown() -> None:
    assert gfx_from_ip_version("11", "0", "0") == "gfx1100"
    assert gfx_from_ip_version("1", "0", "0") is None


# ----------------------------------------------------------------------------------------------- Intel


def test_xpu_smi_text_table_names_the_arc_card() -> None:
    (gpu,) = parse_xpu_smi(_text("intel", "xpu-smi-discovery-a770.txt"))
    assert (gpu.vendor, gpu.name, gpu.architecture, gpu.vram_bytes) == (
        "intel", "Intel(R) Arc(TM) A770 Graphics", "alchemist", None)


def test_xpu_smi_json_with_memory_size() -> None:
    doc = ('{"device_id": 0, "device_name": "Intel(R) Data Center GPU Max 1550", "pci_bdf_address": "0000:29:00.0",'
           ' "memory_physical_size_byte": "68719476736"}')
    (gpu,) = parse_xpu_smi(doc)
    assert (gpu.vram_bytes, gpu.architecture, gpu.pci_bus_id) == (64 * GIB, "ponte-vecchio", "0000:29:00.0")


@pytest.mark.parametrize(("filename", "name", "arch"),
                         [("lspci-v-arc-a770.txt", "DG2 [Arc A770]", "alchemist"),
                          ("lspci-v-arc-b580.txt", "Battlemage G21 [Arc B580]", "battlemage")])
def test_lspci_verbose_lines_name_the_arc_card(filename: str, name: str, arch: str) -> None:
    from rigfit.core.gpu_names import lookup_gpu

    (dev,) = parse_lspci(_text("intel", filename))
    assert (dev.vendor, dev.name) == ("intel", name)
    model = lookup_gpu(dev.name)
    assert model is not None and model.architecture == arch


def test_lspci_nn_gives_ids_and_skips_other_devices() -> None:
    text = ("00:1f.3 Audio device [0403]: Intel Corporation Device [8086:7ad0] (rev 11)\n"
            "03:00.0 VGA compatible controller [0300]: Advanced Micro Devices, Inc. [AMD/ATI] Navi 31 [Radeon RX "
            "7900 XT/7900 XTX/7900M] [1002:744c] (rev cc)\n")
    (dev,) = parse_lspci(text)
    assert (dev.slot, dev.vendor, dev.vendor_id, dev.device_id) == ("03:00.0", "amd", "1002", "744c")
    assert parse_lspci("") == ()


# ----------------------------------------------------------------------------------------------- Apple

APPLE = [
    ("system_profiler-m1-legacy-name.json", "Apple M1", "m1", 7),
    ("system_profiler-m1-kHW-only.trimmed.json", "Apple M1", "m1", None),
    ("system_profiler-m2-max.json", "Apple M2 Max", "m2", 30),
    ("system_profiler-m3-max.json", "Apple M3 Max", "m3", 40),
    ("system_profiler-m4.json", "Apple M4", "m4", 10),
]


@pytest.mark.parametrize(("filename", "name", "arch", "cores"), APPLE, ids=[a[1] + "-" + a[0][16:-5] for a in APPLE])
def test_system_profiler_apple_silicon(filename: str, name: str, arch: str, cores: int | None) -> None:
    ram = 32 * GIB
    (gpu,) = parse_system_profiler_displays(_text("apple", filename), ram_bytes=ram)
    assert (gpu.vendor, gpu.name, gpu.architecture, gpu.cores, gpu.unified_memory) == ("apple", name, arch, cores, True)
    assert gpu.vram_bytes == apple_gpu_share(ram)


def test_system_profiler_without_ram_leaves_the_share_unknown() -> None:
    (gpu,) = parse_system_profiler_displays(_text("apple", "system_profiler-m4.json"), ram_bytes=None)
    assert gpu.vram_bytes is None


def test_intel_mac_lists_the_discrete_gpu_not_the_integrated_one() -> None:
    doc = ('{"SPDisplaysDataType": [{"_name": "kHW_IntelUHDGraphics630Item", "spdisplays_vendor": '
           '"sppci_vendor_intel", "spdisplays_vram_shared": "1536 MB", "sppci_model": "Intel UHD Graphics 630"}, '
           '{"_name": "Radeon RX 580", "spdisplays_vendor": "sppci_vendor_amd", "spdisplays_vram": "8 GB", '
           '"sppci_model": "Radeon RX 580"}]}')
    (gpu,) = parse_system_profiler_displays(doc, ram_bytes=32 * GIB)
    assert (gpu.vendor, gpu.name, gpu.vram_bytes, gpu.unified_memory) == ("amd", "Radeon RX 580", 8 * GIB, False)


def test_sysctl_m1_and_m1_pro() -> None:
    m1 = parse_sysctl(_text("apple", "sysctl-m1-machdep.txt"))
    assert sysctl_cpu(m1).model == "Apple M1"
    pro = parse_sysctl(_text("apple", "sysctl-m1-pro-hw.txt"))
    assert sysctl_cpu(pro).cores == 10
    assert sysctl_ram(parse_sysctl("hw.memsize: 17179869184\n")) == 16 * GIB


# --------------------------------------------------------------------------------------------- Windows


def test_registry_gives_the_64_bit_size_not_wmis_capped_one() -> None:
    (gpu,) = parse_windows_adapters(_text("windows", "reg-query-rx7900xt.reconstructed.txt"))
    assert (gpu.vendor, gpu.name, gpu.vram_bytes, gpu.architecture) == ("amd", "AMD Radeon RX 7900 XT", 21458059264,
                                                                        "rdna3")


def test_registry_joined_listings_pair_names_with_sizes() -> None:
    gpus = parse_windows_adapters(_text("windows", "reg-query-rtx4080super-igpu-fr.joined.txt"))
    assert [(g.vendor, g.name, g.vram_bytes) for g in gpus] == [
        ("nvidia", "NVIDIA GeForce RTX 4080 SUPER", 16376 * 1024**2), ("amd", "AMD Radeon(TM) Graphics", 512 * 1024**2)]
    assert gpus[0].architecture == "ada"


def test_registry_binary_memory_size_and_basic_adapter() -> None:
    text = ("HKEY_LOCAL_MACHINE\\X\\0000\n    DriverDesc    REG_SZ    Microsoft Basic Display Adapter\n"
            "    HardwareInformation.qwMemorySize    REG_QWORD    0x20000000\n\n"
            "HKEY_LOCAL_MACHINE\\X\\0002\n    DriverDesc    REG_SZ    NVIDIA GeForce RTX 3060\n"
            "    HardwareInformation.MemorySize    REG_BINARY    0000000003000000\n")
    (gpu,) = parse_windows_adapters(text)
    assert (gpu.name, gpu.vram_bytes, gpu.index) == ("NVIDIA GeForce RTX 3060", 12 * GIB, 2)
    assert parse_reg_query(text)["HKEY_LOCAL_MACHINE\\X\\0000"]["DriverDesc"] == ("REG_SZ",
                                                                                  "Microsoft Basic Display Adapter")


# ---------------------------------------------------------------------------------------------- system


def test_meminfo_of_this_vm() -> None:
    assert parse_meminfo(_text("system", "meminfo-2vcpu-vm.txt")) == 24684084 * 1024


def test_cpuinfo_and_lscpu_of_this_vm_agree() -> None:
    from_cpuinfo = parse_cpuinfo(_text("system", "cpuinfo-2vcpu-vm.txt"))
    from_lscpu = parse_lscpu(_text("system", "lscpu-2vcpu-vm.txt"))
    assert from_cpuinfo == from_lscpu
    assert from_cpuinfo.model == "AMD EPYC" and from_cpuinfo.cores == 2


def test_cpuinfo_counts_physical_cores_not_threads() -> None:
    block = "processor\t: {p}\nmodel name\t: Ryzen\nphysical id\t: 0\ncore id\t\t: {c}\n\n"
    text = "".join(block.format(p=p, c=p % 4) for p in range(8))  # 4 cores, 2 threads each
    assert parse_cpuinfo(text).cores == 4


def test_mountinfo_finds_the_root_filesystem_of_this_vm() -> None:
    mount = parse_mountinfo(_text("system", "mountinfo-2vcpu-vm.txt"), "/work/main/models")
    assert (mount.mount_point, mount.source, mount.fstype) == ("/", "/dev/vda", "ext4")
    assert parse_mountinfo(_text("system", "mountinfo-2vcpu-vm.txt"), "/dev/shm/x").fstype == "tmpfs"


@pytest.mark.parametrize(
    ("parser", "filename"),
    [(parse_meminfo, "meminfo-garbled.txt"), (parse_meminfo, "empty.txt"), (parse_cpuinfo, "empty.txt"),
     (parse_lscpu, "binary-garbage.bin"), (parse_rocm_smi_json, "rocm-smi-truncated.json"),
     (parse_amd_smi_json, "empty.txt"), (parse_xpu_smi, "empty.txt"), (parse_sysctl, "empty.txt"),
     (parse_windows_adapters, "empty.txt"),
     (lambda t: parse_system_profiler_displays(t, ram_bytes=None), "system_profiler-truncated.json"),
     (lambda t: parse_system_profiler_displays(t, ram_bytes=None), "system_profiler-wrong-shape.json"),
     (lambda t: parse_mountinfo(t, "/x"), "empty.txt")],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", "parser"),
)
def test_broken_outputs_are_hardware_errors(parser: object, filename: str) -> None:
    text = (DATA / "broken" / filename).read_bytes().decode("utf-8", "replace")
    with pytest.raises(HardwareError):
        parser(text)  # type: ignore[operator]


def test_detect_document_of_the_gpu_less_vm_reads_back() -> None:
    """The no-GPU machine: `rigfit detect --json` as captured on the development VM."""
    import json

    from rigfit.core.hardware import hardware_from_json

    hw = hardware_from_json(json.loads(_text("system", "rigfit-detect-no-gpu.json")), source="rigfit-detect-no-gpu.json")
    assert (hw.gpus, hw.primary_gpu, hw.os) == ((), None, "linux")
    assert hw.ram_bytes == parse_meminfo(_text("system", "meminfo-2vcpu-vm.txt"))
