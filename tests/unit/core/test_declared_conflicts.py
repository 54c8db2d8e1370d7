"""The offline check of node packs' declared requirements (``rigfit.core.declared_conflicts``): which
specifier clashes are conflicts, which known clashes are not, how the torch build and ComfyUI take part, and
what the shipped catalog's presets say on every embedded profile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from rigfit.core.catalog.schema import NodePack
from rigfit.core.declared_conflicts import (
    COMFYUI_PARTY,
    PLANNED_TORCH_PARTY,
    check_packs,
    find_conflicts,
    planned_torch_lines,
)
from rigfit.core.normalize import Target
from rigfit.core.requirements import screen_declarations
from rigfit.core.torch_index import TorchIndex

LINUX_NVIDIA = Target("linux", "x86_64", "nvidia")
CU130 = planned_torch_lines(TorchIndex("cu130", "https://download.pytorch.org/whl/cu130", "test"))


def pack(pid: str, *requirements: str) -> NodePack:
    return NodePack(pid, pid, f"https://github.com/example/{pid}", "0" * 40, 3, requirements=requirements)


def conflicts(declared: Mapping[str, Sequence[str]], fixed: Mapping[str, Sequence[str]] | None = None
              ) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    found = find_conflicts(screen_declarations(declared).declared, fixed or {})
    return [(c.package, c.packs, c.against) for c in found]


@pytest.mark.parametrize("declared, expected", [
    pytest.param({"foo": ["numpy<2"], "bar": ["numpy>=2"]}, [("numpy", ("foo", "bar"), ())], id="numpy-1-vs-2"),
    pytest.param({"foo": ["numpy<2"], "bar": ["numpy>=1.26"]}, [], id="overlapping-ranges"),
    pytest.param({"foo": ["numpy==1.23.4"], "bar": ["numpy<=1.26.4"], "baz": ["numpy>=1.26,<2"]},
                 [("numpy", ("foo", "baz"), ())], id="pin-below-a-floor"),
    pytest.param({"foo": ["numpy>=1.20", "numpy<1.22"], "bar": ["numpy~=1.24.0"]},
                 [("numpy", ("foo", "bar"), ())], id="one-pack-two-lines"),
    pytest.param({"a": ["numpy<2"], "b": ["numpy>=2"], "c": ["numpy>=2.1"]},
                 [("numpy", ("a", "b"), ()), ("numpy", ("a", "c"), ())], id="each-extra-pack-its-own-conflict"),
    pytest.param({"foo": ["numpy<2; python_version < '3.9'"], "bar": ["numpy>=2"]}, [], id="marker-lines-skipped"),
    pytest.param({"foo": ["Numpy<2"], "bar": ["numpy>=2"]}, [("numpy", ("foo", "bar"), ())], id="names-canonical"),
    pytest.param({"foo": ["numpy"], "bar": ["numpy>=2"]}, [], id="unversioned-never-conflicts"),
])
def test_which_declared_specifiers_conflict(declared: Mapping[str, Sequence[str]],
                                            expected: list[tuple[str, tuple[str, ...], tuple[str, ...]]]) -> None:
    assert conflicts(declared) == expected


def test_a_pack_against_comfyui_alone_is_a_conflict_of_its_own() -> None:
    found = conflicts({"was": ["transformers==4.26.1"], "ok": ["transformers>=4.40"]},
                      {COMFYUI_PARTY: ["transformers>=4.37.2"]})
    assert found == [("transformers", ("was",), (COMFYUI_PARTY,))]


def test_the_detail_names_every_pack_and_its_specifier() -> None:
    (c,) = find_conflicts(screen_declarations({"comfyui-foo": ["numpy<2"], "comfyui-bar": ["numpy>=2"]}).declared, {})
    assert c.detail.startswith("comfyui-foo needs numpy<2; comfyui-bar needs numpy>=2 — ")
    assert c.as_dict() == {"packages": ["numpy"], "packs": ["comfyui-foo", "comfyui-bar"], "against": [],
                           "detail": c.detail}


@pytest.mark.parametrize("packs, expected", [
    pytest.param([pack("a", "opencv-python<4.9"), pack("b", "opencv-contrib-python-headless>=4.8")], [],
                 id="opencv-variants-collapse"),
    pytest.param([pack("a", "opencv-python<4.9"), pack("b", "opencv-contrib-python>=4.10")],
                 [("opencv-contrib-python", ("a", "b"))], id="opencv-versions-still-count"),
    pytest.param([pack("a", "onnxruntime>=1.17"), pack("b", "onnxruntime-gpu")], [], id="onnxruntime-builds"),
    pytest.param([pack("a", "torch==2.7.1")], [("torch", ("a",))], id="torch-pin-outside-the-planned-build"),
    pytest.param([pack("a", "torch>=2.0", "torchvision")], [], id="torch-floor-inside"),
    pytest.param([pack("a", "torchvision<0.20")], [("torchvision", ("a",))], id="torchvision-outside"),
    pytest.param([pack("a", "transformers==4.35.0")], [("transformers", ("a",))], id="below-comfyuis-floor"),
])
def test_check_packs_settles_known_clashes_first(packs: list[NodePack],
                                                 expected: list[tuple[str, tuple[str, ...]]]) -> None:
    found = check_packs(tuple(packs), LINUX_NVIDIA, CU130)
    assert [(c.package, c.packs) for c in found.conflicts] == expected


def test_torch_conflicts_name_the_planned_build_and_say_it_is_a_declared_check() -> None:
    found = check_packs((pack("newnode", "torch==2.7.1", "numpy>=2"),), LINUX_NVIDIA, CU130)
    (c,) = found.conflicts
    assert c.against == (PLANNED_TORCH_PARTY,)
    assert "the planned torch build is torch>=2.15" in c.detail
    (warning,) = found.warnings()
    assert "declared requirements" in warning and "rigfit deps check" in warning


def test_refused_lines_become_one_warning_per_pack() -> None:
    found = check_packs((pack("audio", "git+https://github.com/x/y#egg=y", "voicefixer", "--index-url https://x"),),
                        LINUX_NVIDIA, CU130)
    assert not found.conflicts and len(found.refused) == 2
    (warning,) = found.warnings()
    assert warning.startswith("audio: 2 requirement line(s) refused")


@pytest.mark.parametrize("index, expected", [
    pytest.param(TorchIndex("cu126", "u", "r", "<2.15"), ("torch>=2.14,<2.15", "torchvision>=0.29,<0.30"),
                 id="retired-index-last-line"),
    pytest.param(TorchIndex("cu130", "u", "r"), ("torch>=2.15", "torchvision>=0.30"), id="current-index-newest"),
    pytest.param(TorchIndex("cpu", "u", "r"), ("torch>=2.15", "torchvision>=0.30"), id="cpu"),
])
def test_planned_torch_lines(index: TorchIndex, expected: tuple[str, ...]) -> None:
    assert planned_torch_lines(index) == expected


def test_shipped_catalog_every_preset_on_every_profile() -> None:
    """The whole shipped catalog, every preset × every embedded profile: the declared conflicts are TripoSR's node
    pack pinning transformers==4.35.0 below ComfyUI's transformers>=4.37.2, and SadTalker's pinning numpy==1.23.4
    and kornia==0.6.8 below ComfyUI's numpy>=1.25.0 and kornia>=0.7.1 (ComfyUI 0.3.64's requirements.txt)."""
    from rigfit.core.quant import device_of
    from rigfit.core.recommend import Choices, recommend
    from rigfit.core.report import with_dependency_checks
    from rigfit.shell.catalog_source import load_catalog
    from rigfit.shell.hardware_source import embedded_profiles

    catalog = load_catalog(())
    every = Choices(presets=tuple(catalog.presets), experimental=True)
    found = set()
    for hardware in embedded_profiles().values():
        for r in with_dependency_checks(recommend(catalog, device_of(hardware), every), hardware, catalog):
            found |= {(r.preset.id, c.package, c.packs, c.against) for c in r.dependency_conflicts}
    assert found == {("3d", "transformers", ("comfyui-flowty-triposr",), (COMFYUI_PARTY,)),
                     ("lipsync", "numpy", ("comfyui-sadtalker",), (COMFYUI_PARTY,)),
                     ("lipsync", "kornia", ("comfyui-sadtalker",), (COMFYUI_PARTY,))}
