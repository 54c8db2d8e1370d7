"""Fuzzing: no input makes a probe parser raise anything but HardwareError."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigfit.core.errors import HardwareError
from rigfit.core.parsers import amd, apple, drm, intel, nvidia, system, windows

DATA = Path(__file__).resolve().parents[2] / "data" / "probes"
CAPTURES = [p.read_bytes().decode("utf-8", "replace") for p in sorted(DATA.rglob("*")) if p.is_file()
            and p.suffix in (".csv", ".txt", ".json", "")]

TEXT_PARSERS: dict[str, Callable[[str], object]] = {
    "nvidia_smi_csv": nvidia.parse_nvidia_smi_csv,
    "nvidia_smi_csv_fields": lambda t: nvidia.parse_nvidia_smi_csv(t, nvidia.QUERY_FIELDS),
    "nvidia_smi_banner": nvidia.parse_nvidia_smi_banner,
    "rocm_smi_json": amd.parse_rocm_smi_json,
    "amd_smi_json": amd.parse_amd_smi_json,
    "kfd_gfx_version": amd.gfx_from_kfd_version,
    "ip_gfx_version": lambda t: amd.gfx_from_ip_version(t, t[:2], t[-1:]),
    "xpu_smi": intel.parse_xpu_smi,
    "lspci": intel.parse_lspci,
    "sysctl": lambda t: (apple.sysctl_cpu(v), apple.sysctl_ram(v)) if (v := apple.parse_sysctl(t)) else None,
    "system_profiler": lambda t: apple.parse_system_profiler_displays(t, ram_bytes=8 << 30),
    "reg_query": windows.parse_windows_adapters,
    "meminfo": system.parse_meminfo,
    "cpuinfo": system.parse_cpuinfo,
    "lscpu": system.parse_lscpu,
    "mountinfo": lambda t: system.parse_mountinfo(t, "/home/me/ComfyUI"),
    "drm_card_single_file": lambda t: drm.parse_drm_card(
        {"vendor": "0x1002", "mem_info_vram_total": t, "kfd_gfx_target_version": t}, card="card0"),
}


def _only_hardware_errors(parser: Callable[[Any], object], value: Any) -> None:
    with contextlib.suppress(HardwareError):
        parser(value)


@st.composite
def mutated_capture(draw: st.DrawFn) -> str:
    """A real capture, cut, spliced or sprinkled with junk: closer to real breakage than random text."""
    text = draw(st.sampled_from(CAPTURES))
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, len(text)))
    junk = draw(st.text(max_size=8))
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return text[:start]
    if choice == 1:
        return text[:start] + junk + text[end:]
    if choice == 2:
        return text[start:end]
    return text.replace(",", junk, 1).replace(":", junk[:1], 1)


@pytest.mark.parametrize("name", sorted(TEXT_PARSERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=200), mutated_capture()))
def test_text_parser_raises_only_hardware_error(name: str, text: str) -> None:
    _only_hardware_errors(TEXT_PARSERS[name], text)


@pytest.mark.parametrize("name", sorted(TEXT_PARSERS))
def test_every_capture_through_every_parser_raises_only_hardware_error(name: str) -> None:
    """Each parser is also fed every other tool's real output: the wrong file must not crash it."""
    for text in CAPTURES:
        _only_hardware_errors(TEXT_PARSERS[name], text)


_scalar = st.none() | st.booleans() | st.integers(-5, 2**64) | st.floats(allow_nan=True) | st.text(max_size=10)
_json = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)
ROCM_KEYS = ["VRAM Total Memory (B)", "VRAM Total Used Memory (B)", "Card Series", "GFX Version", "PCI Bus",
             "Driver version"]
NVML_KEYS = ["index", "name", "memory_total", "memory_free", "cc_major", "cc_minor", "pci_bus_id", "uuid"]


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["card0", "card1", "system", "x"]),
                       st.dictionaries(st.sampled_from(ROCM_KEYS), _json, max_size=6) | _json, max_size=3))
def test_rocm_smi_shaped_json_raises_only_hardware_error(doc: dict[str, Any]) -> None:
    _only_hardware_errors(amd.parse_rocm_smi_json, json.dumps(doc))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["gpu", "asic", "vram", "bus", "driver"]),
                                st.dictionaries(st.sampled_from(["market_name", "target_graphics_version", "size",
                                                                 "vram_size", "vram_size_mb", "bdf", "version",
                                                                 "value", "unit"]), _json, max_size=4) | _json,
                                max_size=5), max_size=3))
def test_amd_smi_shaped_json_raises_only_hardware_error(doc: list[Any]) -> None:
    _only_hardware_errors(amd.parse_amd_smi_json, json.dumps(doc))


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["driver_version", "cuda_driver_version", "devices"]),
                       st.lists(st.dictionaries(st.sampled_from(NVML_KEYS), _json, max_size=8), max_size=3) | _json,
                       max_size=3))
def test_nvml_readout_raises_only_hardware_error(readout: dict[str, Any]) -> None:
    _only_hardware_errors(nvidia.parse_nvml_readout, readout)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["vendor", "device", "uevent", "product_name", "mem_info_vram_total",
                                        "mem_info_vram_used", "ip_discovery/die/0/GC/0/major",
                                        "ip_discovery/die/0/GC/0/minor", "ip_discovery/die/0/GC/0/revision",
                                        "tile0/physical_vram_size_bytes", "kfd_gfx_target_version"]),
                       st.sampled_from(["0x1002", "0x8086", "0x10de", "11", "0", "-1", "0xe20b", ""]) | st.text(max_size=12),
                       max_size=8))
def test_drm_card_raises_only_hardware_error(files: dict[str, str]) -> None:
    _only_hardware_errors(lambda f: drm.parse_drm_card(f, card="card0"), files)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.just("SPDisplaysDataType"),
                       st.lists(st.dictionaries(st.sampled_from(["_name", "sppci_model", "sppci_cores",
                                                                 "spdisplays_vram", "spdisplays_vendor"]),
                                                _json, max_size=5) | _json, max_size=3)))
def test_system_profiler_shaped_json_raises_only_hardware_error(doc: dict[str, Any]) -> None:
    _only_hardware_errors(lambda t: apple.parse_system_profiler_displays(t, ram_bytes=None), json.dumps(doc))


def test_deeply_nested_json_is_a_hardware_error_not_a_recursion_error() -> None:
    deep = "[" * 100000 + "]" * 100000
    for parser in (amd.parse_rocm_smi_json, amd.parse_amd_smi_json, intel.parse_xpu_smi):
        with pytest.raises(HardwareError):
            parser(deep)
