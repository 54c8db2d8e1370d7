"""nvidia-smi CSV and banner parsing and NVML readouts, on outputs captured from real machines."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigfit.core.errors import HardwareError
from rigfit.core.parsers.nvidia import (
    QUERY_FIELDS,
    cuda_version_text,
    parse_nvidia_smi_banner,
    parse_nvidia_smi_csv,
    parse_nvml_readout,
    select_visible,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "probes"
MIB = 1024**2

# file -> [(name, VRAM MiB or None, compute capability, architecture, driver)] as the capture shows them
CAPTURES = {
    "titanv-rtx5880ada-multi.csv": [("NVIDIA TITAN V", None, "7.0", "volta", "570.86.15"),
                                    ("NVIDIA RTX 5880 Ada Generation", None, "8.9", "ada", "570.86.15")],
    "rtx4080super.csv": [("NVIDIA GeForce RTX 4080 SUPER", 16376, "8.9", "ada", "610.88")],
    "h100.csv": [("NVIDIA H100 80GB HBM3", 81559, "9.0", "hopper", "580.82.07")],
    "rtx5070ti.csv": [("NVIDIA GeForce RTX 5070 Ti", 16303, "12.0", "blackwell", "580.95.05")],
    "gtx1080ti.csv": [("NVIDIA GeForce GTX 1080 Ti", 11264, "6.1", "pascal", "580.159.04")],
    "rtx3090-nounits.csv": [("GeForce RTX 3090", 24576, "8.6", "ampere", "535.129.03")],
    "a100-80gb-x8.csv": [("NVIDIA A100-SXM4-80GB", 81920, "8.0", "ampere", "570.133.20")] * 8,
    "rtx4060-laptop.csv": [("NVIDIA GeForce RTX 4060 Laptop GPU", 8188, "8.9", "ada", "576.02")],
    "rtx5060-laptop.csv": [("NVIDIA GeForce RTX 5060 Laptop GPU", 8151, "12.0", "blackwell", None)],
    "l40s-x2.csv": [("NVIDIA L40S", 46068, "8.9", "ada", "575.51.03")] * 2,
    "rtx-a6000-x2.csv": [("NVIDIA RTX A6000", 49140, "8.6", "ampere", None)] * 2,
    "rtx4090.csv": [("NVIDIA GeForce RTX 4090", None, "8.9", "ada", "550.107.02")],
    "rtx2070super.csv": [("NVIDIA GeForce RTX 2070 SUPER", 8192, "7.5", "turing", "560.94")],
    "l4.csv": [("NVIDIA L4", 24564, "8.9", "ada", "550.90.07")],
    "h200-x4.csv": [("NVIDIA H200", 143771, "9.0", "hopper", None)] * 4,
}


@pytest.mark.parametrize("filename", sorted(CAPTURES), ids=lambda f: f.removesuffix(".csv"))
def test_captured_query_output_gives_each_gpu(filename: str) -> None:
    gpus = parse_nvidia_smi_csv((DATA / "nvidia" / filename).read_text())
    got = [(g.name, None if g.vram_bytes is None else g.vram_bytes // MIB, g.compute_capability, g.architecture,
            g.driver_version) for g in gpus]
    assert got == CAPTURES[filename]
    assert all(g.vendor == "nvidia" and not g.unified_memory for g in gpus)


def test_captured_outputs_span_four_architectures_and_eight_gpu_models() -> None:
    rows = [row for rows in CAPTURES.values() for row in rows]
    assert len({row[0] for row in rows}) >= 8
    assert len({row[3] for row in rows}) >= 4


def test_index_column_numbers_the_gpus() -> None:
    gpus = parse_nvidia_smi_csv((DATA / "nvidia" / "titanv-rtx5880ada-multi.csv").read_text())
    assert [g.index for g in gpus] == [0, 1]


def test_free_memory_is_read_when_queried() -> None:
    (gpu,) = parse_nvidia_smi_csv((DATA / "nvidia" / "rtx4060-laptop.csv").read_text())
    assert gpu.free_vram_bytes == 7411 * MIB


def test_headerless_output_uses_the_given_field_list() -> None:
    """Ricks-Lab/gpu-utils#83 asked for 19 fields with noheader,nounits; name and memory.total are among them."""
    fields = ["power.limit", "power.min_limit", "power.max_limit", "memory.total", "vbios_version", "driver_version", "name", "gpu_uuid", "power.draw", "temperature.gpu", "temperature.memory", "clocks.current.graphics", "clocks.sm", "clocks.mem", "utilization.gpu", "utilization.memory", "fan.speed", "pcie.link.width.current", "pstate"]
    (gpu,) = parse_nvidia_smi_csv((DATA / "nvidia" / "rtx2080-noheader-nounits.csv").read_text(), fields)
    assert (gpu.name, gpu.vram_bytes, gpu.driver_version, gpu.architecture, gpu.compute_capability) == (
        "GeForce RTX 2080", 7979 * MIB, "440.64", "turing", "7.5")
    assert gpu.uuid == "GPU-22b2c6ac-2d49-4863-197c-9c469071178a"


def test_rigfits_own_query_fields_parse_without_header() -> None:
    line = "0, NVIDIA GeForce RTX 4060, 8188, 7800, 8.9, 560.94, 00000000:01:00.0, GPU-abc\n"
    (gpu,) = parse_nvidia_smi_csv(line, QUERY_FIELDS)
    assert (gpu.vram_bytes, gpu.free_vram_bytes, gpu.pci_bus_id, gpu.uuid) == (8585740288, 7800 * MIB,
                                                                               "00000000:01:00.0", "GPU-abc")


@pytest.mark.parametrize(
    "filename",
    ["compute-cap-only.csv", "../broken/nvidia-smi-truncated-mid-row.csv", "../broken/nvidia-smi-old-driver-compute-cap.txt",
     "../broken/nvidia-smi-no-driver.txt", "../broken/nvidia-smi-driver-mismatch.txt", "../broken/empty.txt",
     "../broken/binary-garbage.bin"],
    ids=lambda f: Path(f).stem,
)
def test_unusable_output_is_a_hardware_error(filename: str) -> None:
    text = (DATA / "nvidia" / filename).read_bytes().decode("utf-8", "replace")
    with pytest.raises(HardwareError):
        parse_nvidia_smi_csv(text)


def test_error_message_of_the_tool_is_passed_on() -> None:
    with pytest.raises(HardwareError, match="couldn't communicate with the NVIDIA driver"):
        parse_nvidia_smi_csv((DATA / "broken" / "nvidia-smi-no-driver.txt").read_text())


@pytest.mark.parametrize(
    ("filename", "driver", "cuda"),
    [("banner-rtx3060.txt", "580.95.05", "13.0"), ("banner-rtx5070-cuda-na.txt", "575.64.03", None)],
)
def test_banner_gives_driver_and_cuda_version(filename: str, driver: str, cuda: str | None) -> None:
    assert parse_nvidia_smi_banner((DATA / "nvidia" / filename).read_text()) == (driver, cuda)


def test_banner_without_versions_is_an_error() -> None:
    with pytest.raises(HardwareError):
        parse_nvidia_smi_banner("No devices were found\n")


@pytest.mark.parametrize(("value", "text"), [(12080, "12.8"), (13000, "13.0"), (12060, "12.6"), (11020, "11.2")])
def test_cuda_driver_version_from_nvml_integer(value: int, text: str) -> None:
    assert cuda_version_text(value) == text


def test_nvml_readout_gives_every_gpu_with_versions() -> None:
    readout = {"driver_version": "580.65.06", "cuda_driver_version": 13000, "devices": [
        {"index": 0, "name": "NVIDIA GeForce RTX 4090", "memory_total": 25757220864, "memory_free": 25000000000,
         "cc_major": 8, "cc_minor": 9, "pci_bus_id": "00000000:01:00.0", "uuid": "GPU-1"},
        {"index": 1, "name": b"NVIDIA GeForce GTX 1080 Ti", "memory_total": None, "memory_free": None,
         "cc_major": None, "cc_minor": None, "pci_bus_id": None, "uuid": None},
    ]}
    first, second = parse_nvml_readout(readout)
    assert (first.compute_capability, first.architecture, first.cuda_driver_version, first.driver_version) == (
        "8.9", "ada", "13.0", "580.65.06")
    assert (second.name, second.vram_bytes, second.compute_capability, second.architecture) == (
        "NVIDIA GeForce GTX 1080 Ti", None, "6.1", "pascal")


@pytest.mark.parametrize("readout", [{}, {"devices": "x"}, {"devices": [{"name": ""}]}, {"devices": [3]},
                                     {"devices": [{"name": "x", "memory_total": "lots"}]}])
def test_bad_nvml_readout_is_a_hardware_error(readout: dict[str, object]) -> None:
    with pytest.raises(HardwareError):
        parse_nvml_readout(readout)


IDS = [(0, "GPU-aaaa1111"), (1, "GPU-bbbb2222"), (2, "GPU-cccc3333")]


@pytest.mark.parametrize(
    ("setting", "chosen"),
    [(None, (0, 1, 2)), ("", ()), ("-1", ()), ("1", (1,)), ("2,0", (2, 0)), ("0,7,1", (0,)),
     ("GPU-bbbb", (1,)), ("GPU-cccc3333,GPU-aaaa", (2, 0)), ("GPU-", ()), ("1,1", (1,)), (" 1 , 2 ", (1, 2))],
    ids=["unset", "empty", "minus-one", "one", "reordered", "stops-at-invalid", "uuid-prefix", "uuids",
         "bare-prefix", "duplicate", "spaces"],
)
def test_cuda_visible_devices_selection(setting: str | None, chosen: tuple[int, ...]) -> None:
    assert select_visible(IDS, setting) == chosen


def test_ambiguous_uuid_prefix_selects_nothing() -> None:
    assert select_visible([(0, "GPU-ab1"), (1, "GPU-ab2")], "GPU-ab") == ()


def test_oversized_field_is_a_hardware_error() -> None:
    with pytest.raises(HardwareError):
        parse_nvidia_smi_csv("name\n" + "x" * 200_000)
