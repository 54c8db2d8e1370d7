"""The torch wheel index follows the driver's CUDA version and the GPU's architecture."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rigfit.core.torch_index import (
    BASE_URL,
    CUDA_LADDER,
    DEFAULT_INDEX,
    ROCM_TAG,
    choose_torch_index,
    cuda_from_driver,
    ships_kernels,
    torch_index_for,
)


@pytest.mark.parametrize(
    ("cc", "cuda", "tag", "spec"),
    [
        pytest.param("8.9", "13.0", "cu130", "", id="ada-driver580-cu130"),
        pytest.param("8.9", "13.2", "cu132", "", id="ada-cuda132"),
        pytest.param("8.9", "12.8", "cu128", "<2.12", id="ada-driver570-cu128"),
        pytest.param("8.6", "12.6", "cu126", "<2.15", id="ampere-driver560-cu126"),
        pytest.param("8.6", "12.4", "cu124", "<2.7", id="ampere-driver550-cu124"),
        pytest.param("12.0", "13.0", "cu130", "", id="blackwell-cu130"),
        pytest.param("12.0", "12.8", "cu128", "<2.12", id="blackwell-needs-cu128"),
        pytest.param("12.0", "12.6", "cpu", "", id="blackwell-driver-too-old"),
        pytest.param("6.1", "13.0", "cu126", "<2.15", id="pascal-new-driver-stays-cu126"),
        pytest.param("6.1", "12.4", "cu124", "<2.7", id="pascal-older-driver"),
        pytest.param("7.0", "13.0", "cu128", "<2.11", id="volta-not-cu130"),
        pytest.param("7.0", "12.8", "cu128", "<2.11", id="volta-cu128-until-2.11"),
        pytest.param("7.5", "13.0", "cu130", "", id="turing-cu130"),
        pytest.param("12.1", "13.0", "cu130", "", id="gb10-runs-sm120-kernels"),
        pytest.param("3.0", "12.6", "cpu", "", id="kepler-no-wheels"),
        pytest.param("8.9", "11.4", "cpu", "", id="driver-too-old"),
    ],
)
def test_nvidia_ladder(cc: str, cuda: str, tag: str, spec: str) -> None:
    index = choose_torch_index("nvidia", "linux", compute_capabilities=[cc], cuda_driver_version=cuda)
    assert (index.tag, index.torch_spec) == (tag, spec)
    assert index.url == BASE_URL + tag
    assert index.reason


def test_old_driver_message_says_what_to_do() -> None:
    index = choose_torch_index("nvidia", "linux", compute_capabilities=["12.0"], cuda_driver_version="12.6")
    assert "update the NVIDIA driver" in index.reason
    assert "12.8" in index.reason


@pytest.mark.parametrize(
    ("driver", "os", "cuda"),
    [
        pytest.param("580.95.05", "linux", (13, 0), id="linux-580"),
        pytest.param("590.44.01", "linux", (13, 0), id="linux-newer-reads-as-13.0"),
        pytest.param("570.26", "linux", (12, 8), id="linux-570"),
        pytest.param("571.96", "windows", (12, 6), id="windows-571-is-not-12.8"),
        pytest.param("572.16", "windows", (12, 8), id="windows-572"),
        pytest.param("560.94", "windows", (12, 6), id="windows-560"),
        pytest.param("535.104.05", "linux", (12, 2), id="linux-535"),
        pytest.param("470.82", "linux", None, id="too-old"),
        pytest.param(None, "linux", None, id="unknown"),
    ],
)
def test_driver_version_to_cuda(driver: str | None, os: str, cuda: tuple[int, int] | None) -> None:
    assert cuda_from_driver(driver, os) == cuda


def test_driver_number_is_used_when_cuda_version_is_missing() -> None:
    index = choose_torch_index("nvidia", "windows", compute_capabilities=["8.9"], driver_version="560.94")
    assert index.tag == "cu126"


def test_architecture_name_stands_in_for_a_missing_compute_capability() -> None:
    index = choose_torch_index("nvidia", "linux", architectures=["pascal"], cuda_driver_version="13.0")
    assert index.tag == "cu126"


@pytest.mark.parametrize(
    ("vendor", "os", "tag", "url"),
    [
        pytest.param("amd", "linux", ROCM_TAG, BASE_URL + ROCM_TAG, id="amd-linux-rocm"),
        pytest.param("amd", "windows", "cpu", BASE_URL + "cpu", id="amd-windows-cpu"),
        pytest.param("intel", "windows", "xpu", BASE_URL + "xpu", id="intel-xpu"),
        pytest.param("intel", "linux", "xpu", BASE_URL + "xpu", id="intel-linux-xpu"),
        pytest.param("apple", "macos", "default", DEFAULT_INDEX, id="mac-default"),
        pytest.param(None, "darwin", "default", DEFAULT_INDEX, id="intel-mac-default"),
        pytest.param(None, "linux", "cpu", BASE_URL + "cpu", id="no-gpu"),
    ],
)
def test_other_vendors(vendor: str | None, os: str, tag: str, url: str) -> None:
    index = choose_torch_index(vendor, os)
    assert (index.tag, index.url) == (tag, url)


def test_every_ladder_row_is_consistent() -> None:
    """Rows are newest CUDA first, each ships some architecture, and retired rows end after they start."""
    cudas = [row.cuda for row in CUDA_LADDER]
    assert cudas == sorted(cudas, reverse=True)
    for row in CUDA_LADDER:
        assert row.archs and row.tag.startswith("cu")
        assert row.torch_until is None or row.torch_until > row.first_torch
    assert not any(ships_kernels(row, (6, 1)) for row in CUDA_LADDER if row.cuda >= (12, 8))
    assert all(ships_kernels(row, (12, 0)) for row in CUDA_LADDER if row.cuda >= (12, 8))


@dataclass(frozen=True)
class FakeGpu:
    vendor: str
    compute_capability: str | None
    architecture: str | None = None
    driver_version: str | None = "580.95"
    cuda_driver_version: str | None = "13.0"


@dataclass(frozen=True)
class FakeHardware:
    os: str
    gpus: tuple[FakeGpu, ...]


def test_hardware_profile_with_mixed_gpus_serves_the_oldest() -> None:
    """An RTX 4090 next to a GTX 1080 needs wheels with sm_61 kernels too."""
    hw = FakeHardware("linux", (FakeGpu("nvidia", "8.9"), FakeGpu("nvidia", "6.1")))
    assert torch_index_for(hw).tag == "cu126"
    assert torch_index_for(FakeHardware("linux", (FakeGpu("nvidia", "8.9"),))).tag == "cu130"
    assert torch_index_for(FakeHardware("linux", ())).tag == "cpu"
    assert torch_index_for(FakeHardware("linux", (FakeGpu("amd", None, cuda_driver_version=None),))).tag == ROCM_TAG
