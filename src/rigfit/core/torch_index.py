"""Which PyTorch wheel index a machine needs: the CUDA ladder as data, and one pure function over it.

A CUDA wheel works when the driver supports its CUDA version *and* the wheel carries kernels for the GPU's
architecture. Tools that look only at the driver (comfy-cli, uv ``--torch-backend=auto``) hand a GTX 1080 or
a V100 cu128/cu130 wheels without sm_61/sm_70 kernels ("no kernel image is available";
``shared/reference/ecosystem.md`` §1.7). Sources for the rows: PyTorch's CUDA support-matrix RFCs
pytorch/pytorch#178665 (2.12: cu128 removed, cu126 kept as legacy), #190355 (2.14: cu126, cu130, cu132),
#190385 (2.15: cu126 and with it Maxwell/Pascal/Volta removed), the 2.11 notice dropping Volta from cu128,
and the build-script arch lists quoted in jhj0517/Whisper-WebUI#653 (2.8 cu126 ``5.0;6.0;7.0;7.5;8.0;8.6;9.0``,
cu128 ``7.0;…;12.0``). CUDA 13 does not build for anything older than Turing (sm_75).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple, Protocol

BASE_URL = "https://download.pytorch.org/whl/"
DEFAULT_INDEX = "https://pypi.org/simple"
# The ROCm build ComfyUI's README points AMD Linux users at (Comfy-Org/ComfyUI#12427, 2026-02).
ROCM_TAG = "rocm7.1"

Version = tuple[int, int]

_TURING_UP = ((7, 5), (8, 0), (8, 6), (9, 0), (10, 0), (12, 0))
_VOLTA_UP = ((7, 0), *_TURING_UP)
_LEGACY = ((5, 0), (6, 0), (7, 0), (7, 5), (8, 0), (8, 6), (9, 0))


class CudaWheels(NamedTuple):
    """One CUDA build of PyTorch: the CUDA version the driver must support, its kernels, the torch releases."""

    tag: str
    cuda: Version
    archs: tuple[Version, ...]
    first_torch: Version
    torch_until: Version | None  # first release that no longer ships it (exclusive); None while current


# Newest first. A tag appears twice when its architecture list changed between releases. cu129 is left out
# on purpose: it carried torch 2.8 only, and cu128 serves the same GPUs with newer releases.
CUDA_LADDER: tuple[CudaWheels, ...] = (
    CudaWheels("cu132", (13, 2), _TURING_UP, (2, 14), None),
    CudaWheels("cu130", (13, 0), _TURING_UP, (2, 9), None),
    CudaWheels("cu128", (12, 8), _TURING_UP, (2, 11), (2, 12)),
    CudaWheels("cu128", (12, 8), _VOLTA_UP, (2, 7), (2, 11)),
    CudaWheels("cu126", (12, 6), _LEGACY, (2, 6), (2, 15)),
    CudaWheels("cu124", (12, 4), _LEGACY, (2, 4), (2, 7)),
    CudaWheels("cu121", (12, 1), _LEGACY, (2, 1), (2, 6)),
    CudaWheels("cu118", (11, 8), ((3, 7), *_LEGACY), (2, 0), (2, 8)),
)

# Minimum driver for each CUDA version (CUDA toolkit release notes, "CUDA Toolkit and Corresponding Driver
# Versions"), (linux, windows), used when a profile gives the driver version but not its CUDA version.
# Stops at 13.0: a newer driver is read as CUDA 13.0, which only ever under-reports (cu132 needs the
# profile's own ``cuda_driver_version``).
DRIVER_CUDA: tuple[tuple[Version, tuple[str, str]], ...] = (
    ((13, 0), ("580.65.06", "580.88")),
    ((12, 9), ("575.51.03", "576.02")),
    ((12, 8), ("570.26", "572.16")),
    ((12, 6), ("560.28.03", "560.76")),
    ((12, 4), ("550.54.14", "551.61")),
    ((12, 2), ("535.54.03", "536.25")),
    ((12, 1), ("530.30.02", "531.14")),
    ((12, 0), ("525.60.13", "527.41")),
    ((11, 8), ("520.61.05", "520.06")),
)

# Used when a profile names the architecture but not the compute capability (the lowest member counts).
ARCH_CC: dict[str, Version] = {
    "kepler": (3, 5), "maxwell": (5, 0), "pascal": (6, 0), "volta": (7, 0), "turing": (7, 5),
    "ampere": (8, 0), "ada": (8, 9), "hopper": (9, 0), "blackwell": (10, 0),
}


class TorchIndex(NamedTuple):
    """The chosen index, the torch versions it limits to (``torch_spec``, e.g. ``<2.15``) and why."""

    tag: str  # cu130 | rocm7.1 | xpu | cpu | default
    url: str
    reason: str
    torch_spec: str = ""


def _version(text: str | None) -> Version | None:
    match = re.match(r"\s*(\d+)(?:\.(\d+))?", text or "")
    return (int(match.group(1)), int(match.group(2) or 0)) if match else None


def _fmt(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def cuda_from_driver(driver_version: str | None, os: str) -> Version | None:
    """The CUDA version an NVIDIA driver supports, from its version number; None when unknown or too old."""
    number = _numbers(driver_version)
    if not number:
        return None
    column = 1 if os.lower() in {"windows", "win32", "nt"} else 0
    return next((cuda for cuda, floors in DRIVER_CUDA if number >= _numbers(floors[column])), None)


def _numbers(text: str | None) -> tuple[int, ...]:
    match = re.match(r"\s*\d+(?:\.\d+)*", text or "")
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def ships_kernels(wheels: CudaWheels, cc: Version) -> bool:
    """True when ``wheels`` carry a cubin the GPU can run: same major, equal or lower minor."""
    return any(major == cc[0] and minor <= cc[1] for major, minor in wheels.archs)


def cuda_index(driver_cuda: Version | None, min_cc: Version | None) -> TorchIndex:
    """The highest CUDA index the driver supports that still ships kernels for the oldest GPU."""
    candidates = [w for w in CUDA_LADDER
                  if (driver_cuda is None or w.cuda <= driver_cuda) and (min_cc is None or ships_kernels(w, min_cc))]
    if not candidates:
        if min_cc is not None and not any(ships_kernels(w, min_cc) for w in CUDA_LADDER):
            return TorchIndex("cpu", BASE_URL + "cpu",
                              f"no PyTorch CUDA wheel ships kernels for compute capability {_fmt(min_cc)}; CPU build")
        need = min(w.cuda for w in CUDA_LADDER if min_cc is None or ships_kernels(w, min_cc))
        floor = dict(DRIVER_CUDA).get(need, ("",))[0].split(".")[0] or "a newer"
        have = _fmt(driver_cuda) if driver_cuda else "unknown"
        return TorchIndex("cpu", BASE_URL + "cpu",
                          f"the driver supports CUDA {have}; PyTorch needs CUDA {_fmt(need)} or newer "
                          f"(driver {floor} or newer) — update the NVIDIA driver; CPU build until then")
    best = max(candidates, key=lambda w: (w.cuda, w.torch_until or (99, 0)))
    spec = f"<{_fmt(best.torch_until)}" if best.torch_until else ""
    why = f"driver supports CUDA {_fmt(driver_cuda)}" if driver_cuda else "driver CUDA version unknown"
    if min_cc is not None:
        why += f"; compute capability {_fmt(min_cc)} has kernels in {best.tag}"
    if spec:
        why += f"; {best.tag} wheels stop at torch {spec}"
    newer = [w for w in CUDA_LADDER if w.cuda > best.cuda and (min_cc is None or ships_kernels(w, min_cc))]
    if newer and driver_cuda is not None:
        top = max(newer, key=lambda w: w.cuda)
        why += f" (a driver for CUDA {_fmt(top.cuda)} would allow {top.tag})"
    return TorchIndex(best.tag, BASE_URL + best.tag, why, spec)


def choose_torch_index(vendor: str | None, os: str, *, compute_capabilities: Iterable[str | None] = (),
                       cuda_driver_version: str | None = None, driver_version: str | None = None,
                       architectures: Iterable[str | None] = ()) -> TorchIndex:
    """The torch wheel index for a machine, from plain facts (vendor of the main GPU, OS, NVIDIA details)."""
    system = os.lower()
    if system in {"macos", "darwin"} or vendor == "apple":
        return TorchIndex("default", DEFAULT_INDEX, "macOS: the default index carries the MPS build")
    if vendor == "nvidia":
        ccs = [v for v in (_version(c) for c in compute_capabilities) if v is not None]
        ccs += [ARCH_CC[a] for a in architectures if a in ARCH_CC] if not ccs else []
        driver = _version(cuda_driver_version) if cuda_driver_version else cuda_from_driver(driver_version, system)
        return cuda_index(driver, min(ccs) if ccs else None)
    if vendor == "amd" and system == "linux":
        return TorchIndex(ROCM_TAG, BASE_URL + ROCM_TAG, "AMD GPU on Linux: ROCm build")
    if vendor == "intel":
        return TorchIndex("xpu", BASE_URL + "xpu", "Intel GPU: XPU build")
    if vendor == "amd":
        return TorchIndex("cpu", BASE_URL + "cpu", "AMD GPU on Windows: download.pytorch.org has no ROCm build "
                          "for Windows; CPU build (AMD publishes its own ROCm wheels)")
    return TorchIndex("cpu", BASE_URL + "cpu", "no supported GPU: CPU build")


class _Gpu(Protocol):
    @property
    def vendor(self) -> str: ...
    @property
    def compute_capability(self) -> str | None: ...
    @property
    def architecture(self) -> str | None: ...
    @property
    def driver_version(self) -> str | None: ...
    @property
    def cuda_driver_version(self) -> str | None: ...


class _Hardware(Protocol):
    @property
    def os(self) -> str: ...
    @property
    def gpus(self) -> tuple[_Gpu, ...]: ...


def torch_index_for(hardware: _Hardware) -> TorchIndex:
    """The torch index for a hardware profile (``rigfit.core.hardware.Hardware``); every NVIDIA GPU must work."""
    nvidia = [g for g in hardware.gpus if g.vendor == "nvidia"]
    if nvidia:
        return choose_torch_index(
            "nvidia", hardware.os,
            compute_capabilities=[g.compute_capability for g in nvidia],
            architectures=[g.architecture for g in nvidia],
            cuda_driver_version=next((g.cuda_driver_version for g in nvidia if g.cuda_driver_version), None),
            driver_version=next((g.driver_version for g in nvidia if g.driver_version), None),
        )
    vendor = hardware.gpus[0].vendor if hardware.gpus else None
    return choose_torch_index(vendor, hardware.os)
