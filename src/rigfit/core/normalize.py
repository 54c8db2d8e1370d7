"""The known clashes between node packs, settled before resolution.

* OpenCV ships one ``cv2`` import package in four distributions; installed side by side they overwrite each
  other (``cv2.ximgproc`` missing, circular imports: chflame163/ComfyUI_LayerStyle#5,
  Gourieff/comfyui-reactor-node#56). No resolver flags this (``shared/reference/ecosystem.md`` §2.3), so
  the family collapses to one distribution that gives every pack what it asked for: contrib if any pack
  wants contrib modules, the GUI build if any pack asked for it, every pack's version bounds kept.
* ``onnxruntime`` and its GPU/DirectML/OpenVINO builds share the ``onnxruntime`` import package the same
  way; the build follows the platform.
* The torch family (torch, torchvision, torchaudio, xformers, triton and the ``nvidia-*`` CUDA runtime
  wheels) is pinned to the installed or planned build as constraints, so no pack can replace CUDA torch
  with CPU torch or downgrade it (complaints 1, 2 and 6 in ``anchors-mission.md`` §c).

The losing distributions are removed even when a dependency pulls them in, with uv overrides of the form
``opencv-python ; sys_platform == "never"`` (measured in ``ecosystem.md`` §2.3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from rigfit.core.requirements import Declared, Refused, canonical_name, screen_declarations

OPENCV_FAMILY = ("opencv-python", "opencv-python-headless", "opencv-contrib-python",
                 "opencv-contrib-python-headless")
ONNXRUNTIME_FAMILY = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino")
TORCH_FAMILY = frozenset({"torch", "torchvision", "torchaudio", "xformers", "triton", "triton-windows",
                          "pytorch-triton-rocm", "pytorch-triton-xpu"})
# CUDA runtime wheels that torch's own metadata pins (see comfyui/pip-freeze.txt); nvidia-ml-py and
# friends are ordinary libraries and stay resolvable.
_NVIDIA_RUNTIME = re.compile(r"^nvidia-(cublas|cuda-|cudnn|cufft|cufile|curand|cusolver|cusparse|nccl|nvjitlink"
                             r"|nvshmem|nvtx)")
NEVER = 'sys_platform == "never"'


def in_torch_family(name: str) -> bool:
    """True for the packages that must come from the torch build, never from a node pack's wishes."""
    name = canonical_name(name)
    return name in TORCH_FAMILY or bool(_NVIDIA_RUNTIME.match(name))


class Target(NamedTuple):
    """What the requirements are resolved for: platform, accelerator and Python."""

    os: str  # linux | windows | macos
    arch: str = "x86_64"  # x86_64 | arm64
    accelerator: str = "cpu"  # nvidia | amd | intel | apple | cpu
    python_version: str = "3.11"

    def uv_platform(self) -> str:
        """The ``--python-platform`` value uv understands for this target."""
        machine = "aarch64" if self.arch in {"arm64", "aarch64"} else "x86_64"
        system = normalise_os(self.os)
        if system == "windows":
            return f"{machine}-pc-windows-msvc"
        if system == "macos":
            return f"{machine}-apple-darwin"
        return f"{machine}-manylinux_2_28"


def normalise_os(name: str) -> str:
    lowered = name.lower()
    if lowered in {"darwin", "mac", "macos", "osx"}:
        return "macos"
    if lowered in {"win32", "windows", "nt"}:
        return "windows"
    return lowered


def onnxruntime_for(target: Target) -> str:
    """The onnxruntime build for a platform: CUDA on NVIDIA x86_64, DirectML on other Windows GPUs."""
    system = normalise_os(target.os)
    if target.accelerator == "nvidia" and system in {"linux", "windows"} and target.arch == "x86_64":
        return "onnxruntime-gpu"
    if system == "windows" and target.accelerator in {"amd", "intel"}:
        return "onnxruntime-directml"
    return "onnxruntime"


def opencv_for(requested: Iterable[str]) -> str:
    """The one OpenCV distribution that covers every requested variant."""
    names = set(requested)
    contrib = any("contrib" in n for n in names)
    gui = any(not n.endswith("-headless") for n in names)
    return f"opencv{'-contrib' if contrib else ''}-python{'' if gui else '-headless'}"


class Normalized(NamedTuple):
    """Requirements after the known clashes are settled, plus what uv must be told about them."""

    declared: tuple[Declared, ...]
    overrides: tuple[str, ...]  # lines for ``uv --override``
    constraints: tuple[str, ...]  # lines for ``uv --constraint`` (the torch build)
    notes: tuple[str, ...]


def torch_pins(installed: Mapping[str, str]) -> tuple[str, ...]:
    """``name==version`` constraints for every torch-family package of an installed or planned build."""
    return tuple(sorted(f"{canonical_name(n)}=={v}" for n, v in installed.items() if in_torch_family(n)))


def _collapse(declared: tuple[Declared, ...], family: tuple[str, ...], chosen: str,
              label: str) -> tuple[tuple[Declared, ...], tuple[str, ...], tuple[str, ...]]:
    members = [d for d in declared if d.requirement.name in family]
    asked = sorted({d.requirement.name for d in members})
    result = tuple(d._replace(requirement=d.requirement._replace(name=chosen)) if d in members else d
                   for d in declared)
    notes: tuple[str, ...] = ()
    if asked and asked != [chosen]:
        who = ", ".join(f"{d.origin.pack} asks for {d.requirement.name}" for d in members
                        if d.requirement.name != chosen)
        notes = (f"{label}: using {chosen} for every pack ({who}); the variants share one import package "
                 "and overwrite each other",)
    overrides = tuple(f"{name} ; {NEVER}" for name in family if name != chosen) if asked else ()
    return result, overrides, notes


def normalize(declared: Iterable[Declared], target: Target, torch_build: Mapping[str, str]) -> Normalized:
    """Settle the OpenCV and onnxruntime families and pin the torch family to ``torch_build`` (name → version)."""
    items = tuple(declared)
    opencv = opencv_for(d.requirement.name for d in items if d.requirement.name in OPENCV_FAMILY)
    items, cv_overrides, cv_notes = _collapse(items, OPENCV_FAMILY, opencv, "OpenCV")
    onnx = onnxruntime_for(target)
    items, ort_overrides, ort_notes = _collapse(items, ONNXRUNTIME_FAMILY, onnx, "onnxruntime")
    pins = torch_pins(torch_build)
    touching = sorted({d.origin.pack for d in items if in_torch_family(d.requirement.name)
                       and d.requirement.specifier})
    torch_notes = (f"torch family pinned to {', '.join(pins)}; version bounds from "
                   f"{', '.join(touching)} are checked against it, never applied",) if pins and touching else ()
    return Normalized(items, cv_overrides + ort_overrides, pins, cv_notes + ort_notes + torch_notes)



class LockFix(NamedTuple):
    """What to add to a resolution whose lock holds clashing variants that dependencies brought in."""

    overrides: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def lock_fix(locked: Iterable[str], target: Target) -> LockFix:
    """Fix for family clashes seen in a finished lock (``locked``: its package names); empty when none.

    Packs may never name OpenCV themselves and still get two variants through their dependencies
    (ultralytics → opencv-python, rembg → opencv-python-headless).
    """
    names = {canonical_name(n) for n in locked}
    fix = LockFix()
    cv = sorted(names & set(OPENCV_FAMILY))
    if len(cv) > 1:
        chosen = opencv_for(cv)
        fix = LockFix(tuple(f"{n} ; {NEVER}" for n in OPENCV_FAMILY if n != chosen), (chosen,),
                      (f"OpenCV: dependencies pulled in {', '.join(cv)}; keeping {chosen} only",))
    ort = sorted(names & set(ONNXRUNTIME_FAMILY))
    chosen = onnxruntime_for(target)
    if ort and ort != [chosen]:
        fix = LockFix(fix.overrides + tuple(f"{n} ; {NEVER}" for n in ONNXRUNTIME_FAMILY if n != chosen),
                      (*fix.requirements, chosen),
                      (*fix.notes, f"onnxruntime: dependencies pulled in {', '.join(ort)}; using {chosen} "
                                   "for this platform"))
    return fix


class RequirementSet(NamedTuple):
    """The screened and normalised requirements of a set of node packs, ready for the resolver."""

    normalized: Normalized
    refused: tuple[Refused, ...]

    def lines(self) -> tuple[str, ...]:
        """Distinct requirement lines in pack order (what a flat resolver input would hold)."""
        return tuple(dict.fromkeys(str(d.requirement) for d in self.normalized.declared))


def requirement_set(declared: Mapping[str, Sequence[str]], target: Target, torch_build: Mapping[str, str],
                    *, allow_unsafe: bool = False) -> RequirementSet:
    """Pack id → declared requirement lines in; screened, OpenCV/onnxruntime-settled, torch-pinned set out."""
    screened = screen_declarations(declared, allow_unsafe=allow_unsafe)
    return RequirementSet(normalize(screened.declared, target, torch_build), screened.refused)
