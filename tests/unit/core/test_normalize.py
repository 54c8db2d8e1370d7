"""The OpenCV and onnxruntime families collapse to one distribution; the torch family is pinned."""

from __future__ import annotations

import pytest

from rigfit.core.normalize import (
    NEVER,
    OPENCV_FAMILY,
    Target,
    in_torch_family,
    lock_fix,
    normalize,
    onnxruntime_for,
    opencv_for,
    requirement_set,
    torch_pins,
)
from rigfit.core.requirements import Declared, Origin, parse_requirement

LINUX_NVIDIA = Target("linux", "x86_64", "nvidia")


def declared(pack: str, *lines: str) -> tuple[Declared, ...]:
    return tuple(Declared(parse_requirement(line), Origin(pack, "requirements.txt", i))
                 for i, line in enumerate(lines, start=1))


@pytest.mark.parametrize(
    ("asked", "chosen"),
    [
        pytest.param(["opencv-python"], "opencv-python", id="alone"),
        pytest.param(["opencv-python-headless"], "opencv-python-headless", id="headless-alone"),
        pytest.param(["opencv-python", "opencv-python-headless"], "opencv-python", id="gui-covers-headless"),
        pytest.param(["opencv-python-headless", "opencv-contrib-python-headless"], "opencv-contrib-python-headless",
                     id="contrib-covers-main"),
        pytest.param(["opencv-python-headless", "opencv-contrib-python"], "opencv-contrib-python",
                     id="contrib-gui-covers-all"),
        pytest.param(list(OPENCV_FAMILY), "opencv-contrib-python", id="all-four"),
    ],
)
def test_opencv_choice_covers_every_variant_asked_for(asked: list[str], chosen: str) -> None:
    assert opencv_for(asked) == chosen


def test_opencv_family_collapses_keeping_every_packs_bounds_and_origin() -> None:
    items = (declared("LayerStyle", "opencv-contrib-python>=4.8", "numpy<2")
             + declared("ReActor", "opencv-python-headless>=4.7.0.72")
             + declared("KJNodes", "opencv-python"))
    result = normalize(items, LINUX_NVIDIA, {})
    cv = [d for d in result.declared if d.requirement.name.startswith("opencv")]
    assert {d.requirement.name for d in cv} == {"opencv-contrib-python"}
    assert sorted((d.origin.pack, d.requirement.specifier) for d in cv) == [
        ("KJNodes", ""), ("LayerStyle", ">=4.8"), ("ReActor", ">=4.7.0.72")]
    assert sorted(result.overrides) == sorted(f"{n} ; {NEVER}" for n in OPENCV_FAMILY
                                              if n != "opencv-contrib-python")
    assert any("ReActor asks for opencv-python-headless" in note for note in result.notes)


def test_no_opencv_means_no_overrides() -> None:
    result = normalize(declared("A", "numpy"), LINUX_NVIDIA, {})
    assert result.overrides == ()
    assert result.notes == ()


@pytest.mark.parametrize(
    ("target", "chosen"),
    [
        pytest.param(Target("linux", "x86_64", "nvidia"), "onnxruntime-gpu", id="linux-nvidia"),
        pytest.param(Target("windows", "x86_64", "nvidia"), "onnxruntime-gpu", id="windows-nvidia"),
        pytest.param(Target("windows", "x86_64", "amd"), "onnxruntime-directml", id="windows-amd"),
        pytest.param(Target("windows", "x86_64", "intel"), "onnxruntime-directml", id="windows-intel"),
        pytest.param(Target("linux", "x86_64", "amd"), "onnxruntime", id="linux-amd"),
        pytest.param(Target("macos", "arm64", "apple"), "onnxruntime", id="mac"),
        pytest.param(Target("linux", "arm64", "nvidia"), "onnxruntime", id="linux-arm-nvidia"),
        pytest.param(Target("linux", "x86_64", "cpu"), "onnxruntime", id="cpu"),
    ],
)
def test_onnxruntime_build_follows_the_platform(target: Target, chosen: str) -> None:
    assert onnxruntime_for(target) == chosen
    result = normalize(declared("A", "onnxruntime>=1.16") + declared("B", "onnxruntime-gpu"), target, {})
    assert {d.requirement.name for d in result.declared} == {chosen}
    assert f"{chosen} ; {NEVER}" not in result.overrides


@pytest.mark.parametrize(
    ("name", "family"),
    [("torch", True), ("TorchVision", True), ("xformers", True), ("nvidia-cudnn-cu13", True),
     ("nvidia-cuda-runtime", True), ("nvidia_nccl_cu12", True), ("nvidia-ml-py", False), ("torchsde", False),
     ("numpy", False), ("triton", True)],
)
def test_torch_family_membership(name: str, family: bool) -> None:
    assert in_torch_family(name) is family


def test_torch_build_becomes_constraints_and_pack_bounds_are_kept_for_checking() -> None:
    installed = {"torch": "2.13.0+cu130", "torchvision": "0.28.0", "nvidia-cublas": "13.1.1.3", "numpy": "2.4.6"}
    assert torch_pins(installed) == ("nvidia-cublas==13.1.1.3", "torch==2.13.0+cu130", "torchvision==0.28.0")
    result = normalize(declared("DragNUWA", "torch==2.0.1", "numpy"), LINUX_NVIDIA, installed)
    assert result.constraints == torch_pins(installed)
    # the pack's own torch line stays, so the resolver reports it against the pin instead of obeying it
    assert [str(d.requirement) for d in result.declared] == ["torch==2.0.1", "numpy"]
    assert any("DragNUWA" in note for note in result.notes)


def test_lock_fix_removes_variants_pulled_in_by_dependencies() -> None:
    fix = lock_fix(["ultralytics", "opencv-python", "opencv-python-headless", "onnxruntime"], LINUX_NVIDIA)
    assert fix.requirements == ("opencv-python", "onnxruntime-gpu")
    assert "opencv-python-headless ; " + NEVER in fix.overrides
    assert "onnxruntime ; " + NEVER in fix.overrides
    assert lock_fix(["opencv-python", "numpy"], LINUX_NVIDIA).overrides == ()


@pytest.mark.parametrize(
    ("target", "platform"),
    [
        (Target("linux", "x86_64"), "x86_64-manylinux_2_28"),
        (Target("windows", "x86_64"), "x86_64-pc-windows-msvc"),
        (Target("darwin", "arm64"), "aarch64-apple-darwin"),
        (Target("linux", "aarch64"), "aarch64-manylinux_2_28"),
    ],
    ids=["linux", "windows", "mac", "linux-arm"],
)
def test_uv_platform_names(target: Target, platform: str) -> None:
    assert target.uv_platform() == platform


def test_requirement_set_screens_and_normalises_catalog_declarations() -> None:
    """The plan's entry point: hostile lines come back refused, the rest settled and pinned."""
    result = requirement_set({"reactor": ["opencv-python>=4.7", "onnxruntime", "--index-url https://evil.example"],
                              "layerstyle": ["opencv-contrib-python", "numpy<2"]},
                             LINUX_NVIDIA, {"torch": "2.13.0+cu130"})
    assert result.lines() == ("opencv-contrib-python>=4.7", "onnxruntime-gpu", "opencv-contrib-python", "numpy<2")
    assert [r.origin.pack for r in result.refused] == ["reactor"]
    assert result.normalized.constraints == ("torch==2.13.0+cu130",)
