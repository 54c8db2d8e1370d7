"""The name table, compute capability and gfx target rules, and Apple's unified-memory share."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.core.gpu_names import (
    apple_gpu_share,
    architecture_from_compute_capability,
    architecture_from_gfx,
    lookup_gpu,
    normalise_name,
    vendor_from_name,
)
from rigfit.core.units import GIB, MIB


@pytest.mark.parametrize(
    ("cc", "arch"),
    [("6.1", "pascal"), ("6.0", "pascal"), ("7.0", "volta"), ("7.5", "turing"), ("8.0", "ampere"),
     ("8.6", "ampere"), ("8.7", "ampere"), ("8.9", "ada"), ("9.0", "hopper"), ("10.0", "blackwell"),
     ("10.3", "blackwell"), ("12.0", "blackwell"), ("12.1", "blackwell"), ("5.2", "maxwell"),
     ("3.5", None), ("", None), ("eight", None), (None, None)],
    ids=lambda v: str(v),
)
def test_compute_capability_names_the_architecture(cc: str | None, arch: str | None) -> None:
    assert architecture_from_compute_capability(cc) == arch


@pytest.mark.parametrize(
    ("gfx", "arch"),
    [("gfx1010", "rdna1"), ("gfx1030", "rdna2"), ("gfx1031", "rdna2"), ("gfx1100", "rdna3"),
     ("gfx1103", "rdna3"), ("gfx1150", "rdna3.5"), ("gfx1151", "rdna3.5"), ("gfx1200", "rdna4"),
     ("gfx1201", "rdna4"), ("gfx908", "cdna"), ("gfx90a", "cdna2"), ("gfx942", "cdna3"), ("gfx950", "cdna4"),
     ("gfx906", "gcn5"), ("gfx90a:sramecc+:xnack-", "cdna2"), ("GFX1100", "rdna3"), ("gfx9999", None), (None, None)],
    ids=lambda v: str(v),
)
def test_gfx_target_names_the_architecture(gfx: str | None, arch: str | None) -> None:
    assert architecture_from_gfx(gfx) == arch


# (product name as tools print it, vendor, architecture, compute capability)
TABLE = [
    ("NVIDIA GeForce GTX 1060 6GB", "nvidia", "pascal", "6.1"),
    ("GeForce GTX 1080 Ti", "nvidia", "pascal", "6.1"),
    ("NVIDIA GeForce GTX 1650", "nvidia", "turing", "7.5"),
    ("NVIDIA GeForce GTX 1660 SUPER", "nvidia", "turing", "7.5"),
    ("NVIDIA GeForce RTX 2060", "nvidia", "turing", "7.5"),
    ("NVIDIA GeForce RTX 2080 Ti", "nvidia", "turing", "7.5"),
    ("NVIDIA GeForce RTX 3060 Laptop GPU", "nvidia", "ampere", "8.6"),
    ("NVIDIA GeForce RTX 3090 Ti", "nvidia", "ampere", "8.6"),
    ("NVIDIA GeForce RTX 4060 Ti", "nvidia", "ada", "8.9"),
    ("NVIDIA GeForce RTX 4090 D", "nvidia", "ada", "8.9"),
    ("NVIDIA GeForce RTX 4080 SUPER", "nvidia", "ada", "8.9"),
    ("NVIDIA GeForce RTX 5060 Laptop GPU", "nvidia", "blackwell", "12.0"),
    ("NVIDIA GeForce RTX 5090", "nvidia", "blackwell", "12.0"),
    ("NVIDIA GeForce RTX4070", "nvidia", "ada", "8.9"),
    ("NVIDIA TITAN V", "nvidia", "volta", "7.0"),
    ("NVIDIA TITAN RTX", "nvidia", "turing", "7.5"),
    ("Tesla V100-SXM2-16GB", "nvidia", "volta", "7.0"),
    ("Tesla T4", "nvidia", "turing", "7.5"),
    ("Quadro RTX 6000", "nvidia", "turing", "7.5"),
    ("NVIDIA RTX A2000 12GB", "nvidia", "ampere", "8.6"),
    ("NVIDIA RTX A6000", "nvidia", "ampere", "8.6"),
    ("NVIDIA A10", "nvidia", "ampere", "8.6"),
    ("NVIDIA A100-SXM4-80GB", "nvidia", "ampere", "8.0"),
    ("NVIDIA RTX 6000 Ada Generation", "nvidia", "ada", "8.9"),
    ("NVIDIA RTX 5880 Ada Generation", "nvidia", "ada", "8.9"),
    ("NVIDIA L4", "nvidia", "ada", "8.9"),
    ("NVIDIA L40S", "nvidia", "ada", "8.9"),
    ("NVIDIA H100 80GB HBM3", "nvidia", "hopper", "9.0"),
    ("NVIDIA H200", "nvidia", "hopper", "9.0"),
    ("NVIDIA GH200 480GB", "nvidia", "hopper", "9.0"),
    ("NVIDIA B200", "nvidia", "blackwell", "10.0"),
    ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "nvidia", "blackwell", "12.0"),
    ("NVIDIA GB10", "nvidia", "blackwell", "12.1"),
    ("AMD Radeon RX 6700 XT", "amd", "rdna2", None),
    ("AMD Radeon RX 6800", "amd", "rdna2", None),
    ("Radeon RX 7900 XT", "amd", "rdna3", None),
    ("AMD Radeon RX 7900 XTX", "amd", "rdna3", None),
    ("AMD Radeon RX 7600", "amd", "rdna3", None),
    ("AMD Radeon RX 9070 XT", "amd", "rdna4", None),
    ("AMD Radeon RX 9060 XT", "amd", "rdna4", None),
    ("Navi 31 [Radeon RX 7900 XT/7900 XTX/7900M]", "amd", "rdna3", None),
    ("AMD Radeon 780M Graphics", "amd", "rdna3", None),
    ("AMD Instinct MI300X", "amd", "cdna3", None),
    ("AMD Instinct MI350X", "amd", "cdna4", None),
    ("Intel(R) Arc(TM) A770 Graphics", "intel", "alchemist", None),
    ("DG2 [Arc A750]", "intel", "alchemist", None),
    ("Intel Arc B580", "intel", "battlemage", None),
    ("Battlemage G21 [Arc B580]", "intel", "battlemage", None),
    ("Apple M1", "apple", "m1", None),
    ("Apple M2 Pro", "apple", "m2", None),
    ("Apple M3 Max", "apple", "m3", None),
    ("Apple M4 Max", "apple", "m4", None),
    ("Apple M2 Ultra", "apple", "m2", None),
]


@pytest.mark.parametrize(("name", "vendor", "arch", "cc"), TABLE, ids=[row[0] for row in TABLE])
def test_name_table_knows_the_product(name: str, vendor: str, arch: str, cc: str | None) -> None:
    model = lookup_gpu(name)
    assert model is not None, f"{name!r} is not in the name table"
    assert (model.vendor, model.architecture, model.compute_capability) == (vendor, arch, cc)


def test_name_table_agrees_with_the_compute_capability_rule() -> None:
    """Every NVIDIA row's architecture is the one its compute capability names (the two tables cannot drift)."""
    for name, vendor, _, _cc in TABLE:
        model = lookup_gpu(name)
        if vendor == "nvidia" and model is not None:
            assert architecture_from_compute_capability(model.compute_capability) == model.architecture, name


def test_amd_names_carry_the_gfx_target_of_their_architecture() -> None:
    for name, vendor, _, _ in TABLE:
        model = lookup_gpu(name)
        if vendor == "amd" and model is not None:
            assert architecture_from_gfx(model.gfx_target) == model.architecture, name


@pytest.mark.parametrize("name", ["Microsoft Basic Display Adapter", "llvmpipe", "", "Matrox G200eR2",
                                  "Intel(R) UHD Graphics 630", "RTX 40900"])
def test_unknown_products_are_not_guessed(name: str) -> None:
    assert lookup_gpu(name) is None


@pytest.mark.parametrize(("name", "vendor"), [("NVIDIA Graphics Device", "nvidia"), ("Radeon Pro 5500M", "amd"),
                                              ("Intel(R) UHD Graphics 630", "intel"), ("llvmpipe", None)])
def test_vendor_from_brand_words(name: str, vendor: str | None) -> None:
    assert vendor_from_name(name) == vendor


def test_normalise_name_splits_glued_series_and_suffixes() -> None:
    assert normalise_name("NVIDIA GeForce RTX4060Ti") == "nvidia geforce rtx 4060 ti"
    assert normalise_name("Intel(R) Arc(TM) A770 Graphics") == "intel arc a770"


@pytest.mark.parametrize(
    ("ram_gib", "share_mib"),
    # llama.cpp's logged recommendedMaxWorkingSetSize on real machines (gpu_names.py cites them).
    [(8, 5461.33), (16, 10922.67), (32, 21845.33), (64, 49152.0), (96, 73728.0)],
    ids=["8GB", "16GB", "32GB", "64GB", "96GB"],
)
def test_apple_share_matches_metal_working_set_reports(ram_gib: int, share_mib: float) -> None:
    assert apple_gpu_share(ram_gib * GIB) / MIB == pytest.approx(share_mib, abs=0.01)


@settings(deadline=None)  # first calls import lazily; a loaded CI box must not fail them
@given(st.integers(min_value=0, max_value=2**50))
def test_apple_share_is_between_two_thirds_and_three_quarters(ram: int) -> None:
    share = apple_gpu_share(ram)
    assert ram * 2 // 3 <= share <= ram * 3 // 4


@settings(deadline=None)  # first calls import lazily; a loaded CI box must not fail them
@given(st.text(max_size=60))
def test_lookup_never_raises(name: str) -> None:
    lookup_gpu(name)
    vendor_from_name(name)
