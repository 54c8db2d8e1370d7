"""What a GPU's name, compute capability or gfx target says about its architecture.

Sources: NVIDIA's CUDA GPU list (developer.nvidia.com/cuda-gpus) for compute capabilities; LLVM's AMDGPU
processor table (llvm.org/docs/AMDGPUUsage.html) for gfx targets; vendor spec pages for which chip a
product uses. The architecture names are the ones the hardware document uses (``ampere``, ``rdna3``, ``m2``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rigfit.core.units import GIB


class GpuModel(NamedTuple):
    """What the name table knows about a product."""

    vendor: str  # nvidia | amd | intel | apple
    architecture: str
    compute_capability: str | None = None  # NVIDIA only
    gfx_target: str | None = None  # AMD only: the LLVM target of the chip (gfx1100, ...)


def architecture_from_compute_capability(cc: str | None) -> str | None:
    """``"8.9"`` → ``"ada"``; unknown or malformed → ``None``."""
    if not cc:
        return None
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", cc)
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    if major == 6:
        return "pascal"
    if major == 7:
        return "turing" if minor >= 5 else "volta"  # 7.2 is Xavier, a Volta part
    if major == 8:
        return "ada" if minor == 9 else "ampere"
    if major == 9:
        return "hopper"
    if major in (10, 11, 12):
        return "blackwell"
    if major == 5:
        return "maxwell"
    return None


_GFX_ARCH: tuple[tuple[str, str], ...] = (
    # (regex on the gfx target, architecture); first match wins.
    (r"gfx101[0-3]", "rdna1"),
    (r"gfx103\d", "rdna2"),
    (r"gfx110\d", "rdna3"),
    (r"gfx115\d", "rdna3.5"),
    (r"gfx120\d", "rdna4"),
    (r"gfx908", "cdna"),
    (r"gfx90a", "cdna2"),
    (r"gfx94\d", "cdna3"),
    (r"gfx95\d", "cdna4"),
    (r"gfx90[0-6c]", "gcn5"),
    (r"gfx80\d", "gcn4"),
)


def architecture_from_gfx(target: str | None) -> str | None:
    """``"gfx1100"`` → ``"rdna3"``; also accepts ``"gfx1100:sramecc-:xnack-"`` feature suffixes."""
    if not target:
        return None
    base = target.strip().lower().split(":", 1)[0]
    for pattern, arch in _GFX_ARCH:
        if re.fullmatch(pattern, base):
            return arch
    return None


# AMD integrated GPUs (APUs) share system memory: their "VRAM" is a firmware carve-out, small (512 MiB on a
# Radeon 780M laptop) or large (up to 96 GiB on Strix Halo). LLVM AMDGPU processor table: APU targets.
AMD_APU_TARGETS = frozenset({"gfx90c", "gfx1013", "gfx1033", "gfx1035", "gfx1036", "gfx1037", "gfx1103", "gfx1150",
                             "gfx1151", "gfx1152", "gfx1153"})


def is_amd_apu(gfx_target: str | None) -> bool:
    return (gfx_target or "").lower().split(":", 1)[0] in AMD_APU_TARGETS


def _nv(arch: str, cc: str) -> GpuModel:
    return GpuModel("nvidia", arch, cc)


def _amd(arch: str, gfx: str) -> GpuModel:
    return GpuModel("amd", arch, None, gfx)


# (regex searched in the normalised name, model); order matters: specific before general.
_TABLE: tuple[tuple[str, GpuModel], ...] = (
    # NVIDIA data centre and workstation parts.
    (r"\bgb10\b", _nv("blackwell", "12.1")),
    (r"\b(gb|b)300\b", _nv("blackwell", "10.3")),
    (r"\b(gb|b)(100|200)\b", _nv("blackwell", "10.0")),
    (r"\brtx pro \d{4}\b", _nv("blackwell", "12.0")),
    (r"\b(gh200|h100|h200|h800|h20)\b", _nv("hopper", "9.0")),
    (r"\b(l4|l20|l40s?)\b", _nv("ada", "8.9")),
    (r"\brtx \d{4} ada\b|\brtx \d{4}\b.*\bada generation\b", _nv("ada", "8.9")),
    (r"\b(a100|a800|a30)\b", _nv("ampere", "8.0")),
    (r"\bagx orin\b|\borin\b", _nv("ampere", "8.7")),
    (r"\brtx a\d{3,4}\b|\b(a2|a10|a10g|a16|a40)\b", _nv("ampere", "8.6")),
    (r"\bquadro rtx \d{4}\b|\b(tesla )?t4\b|\bt(400|500|600|1000|1200|2000)\b", _nv("turing", "7.5")),
    (r"\btitan rtx\b", _nv("turing", "7.5")),
    (r"\btitan v\b|\bv100\b|\bquadro gv100\b", _nv("volta", "7.0")),
    (r"\b(tesla )?p100\b|\bquadro gp100\b", _nv("pascal", "6.0")),
    (r"\btitan xp?\b.*pascal|\btitan xp\b|\b(tesla )?p(4|6|40)\b|\bquadro p\d{3,4}\b", _nv("pascal", "6.1")),
    # GeForce, including laptop variants ("... Laptop GPU", "... Max-Q").
    (r"\brtx 50\d0\b", _nv("blackwell", "12.0")),
    (r"\brtx 40\d0\b", _nv("ada", "8.9")),
    (r"\brtx 30\d0\b", _nv("ampere", "8.6")),
    (r"\brtx 20\d0\b", _nv("turing", "7.5")),
    (r"\bgtx 16\d0\b", _nv("turing", "7.5")),
    (r"\bmx\s?(450|550)\b", _nv("turing", "7.5")),
    (r"\bmx\s?570\b", _nv("ampere", "8.6")),
    (r"\bgtx 10\d0\b|\bgt 1030\b|\bmx\s?(1[15]0|2[35]0|330|350)\b", _nv("pascal", "6.1")),
    # AMD Radeon and Instinct.
    (r"\brx 9070\b", _amd("rdna4", "gfx1201")),
    (r"\brx 9060\b", _amd("rdna4", "gfx1200")),
    (r"\bai pro r9700\b", _amd("rdna4", "gfx1201")),
    (r"\b(rx 7900|pro w7900|pro w7800)\b", _amd("rdna3", "gfx1100")),
    (r"\b(rx 7800|rx 7700|pro w7700)\b", _amd("rdna3", "gfx1101")),
    (r"\b(rx 7600|rx 7700s|rx 7600s|pro w7600|pro w7500)\b", _amd("rdna3", "gfx1102")),
    (r"\bradeon (780m|760m|740m)\b", _amd("rdna3", "gfx1103")),
    (r"\bradeon 80[46]0s\b", _amd("rdna3.5", "gfx1151")),
    (r"\bradeon 8[89]0m\b", _amd("rdna3.5", "gfx1150")),
    (r"\b(rx 6950|rx 6900|rx 6800|pro w6800)\b", _amd("rdna2", "gfx1030")),
    (r"\b(rx 6750|rx 6700|rx 6850m)\b", _amd("rdna2", "gfx1031")),
    (r"\b(rx 6650|rx 6600|pro w6600)\b", _amd("rdna2", "gfx1032")),
    (r"\b(rx 6500|rx 6400|rx 6300)\b", _amd("rdna2", "gfx1034")),
    (r"\bradeon (680m|660m)\b", _amd("rdna2", "gfx1035")),
    (r"\brx 5[67]00\b", _amd("rdna1", "gfx1010")),
    (r"\brx 5500\b|\brx 5300\b", _amd("rdna1", "gfx1012")),
    (r"\bmi35[05]x?\b", _amd("cdna4", "gfx950")),
    (r"\bmi3[02]5x?\b|\bmi300[ax]?\b", _amd("cdna3", "gfx942")),
    (r"\bmi2[15]0x?\b", _amd("cdna2", "gfx90a")),
    (r"\bmi100\b", _amd("cdna", "gfx908")),
    (r"\bradeon vii\b|\bmi50\b|\bmi60\b", _amd("gcn5", "gfx906")),
    (r"\bvega (56|64)\b", _amd("gcn5", "gfx900")),
    # Intel.
    (r"\barc (pro )?b\d{2,3}\b|\barc 1[34]0v\b", GpuModel("intel", "battlemage")),
    (r"\barc (pro )?a\d{2,3}m?\b", GpuModel("intel", "alchemist")),
    (r"\bdata center gpu max\b", GpuModel("intel", "ponte-vecchio")),
    # Apple silicon: the family is the architecture; Pro/Max/Ultra share it.
    (r"\bapple m([1-9])\b", GpuModel("apple", "m{0}")),
)

_STRIP = re.compile(r"\(tm\)|\(r\)|®|™|\bcorporation\b|\bgraphics\b|\bseries\b", re.IGNORECASE)


def normalise_name(name: str) -> str:
    """Lower-case, no trademark signs, single spaces: ``"NVIDIA GeForce RTX(TM) 4060"`` → ``"nvidia geforce rtx 4060"``."""
    text = _STRIP.sub(" ", name.lower())
    text = re.sub(r"[\[\]/,_]", " ", text)
    text = re.sub(r"\b(rtx|gtx|gt|rx|mx)(\d)", r"\1 \2", text)  # "RTX4090", "RX7900" → "rtx 4090", "rx 7900"
    text = re.sub(r"\b(\d{4})(ti|xt|xtx|super|gre)\b", r"\1 \2", text)  # "4060Ti" → "4060 ti"
    return re.sub(r"\s+", " ", text).strip()


def lookup_gpu(name: str | None) -> GpuModel | None:
    """The name table's entry for a product name (NVIDIA, AMD, Intel or Apple), or ``None``."""
    if not name:
        return None
    text = normalise_name(name)
    for pattern, model in _TABLE:
        match = re.search(pattern, text)
        if match:
            if model.vendor == "apple":
                return GpuModel("apple", model.architecture.format(match.group(1)))
            return model
    return None


def vendor_from_name(name: str | None) -> str | None:
    """Vendor of a product name, from the table or from the brand words in it."""
    model = lookup_gpu(name)
    if model is not None:
        return model.vendor
    text = normalise_name(name or "")
    for word, vendor in (("nvidia", "nvidia"), ("geforce", "nvidia"), ("quadro", "nvidia"), ("tesla", "nvidia"),
                         ("radeon", "amd"), ("amd", "amd"), ("instinct", "amd"), ("intel", "intel"),
                         ("arc", "intel"), ("apple", "apple")):
        if re.search(rf"\b{word}\b", text):
            return vendor
    return None


# Metal's recommendedMaxWorkingSetSize, as llama.cpp logs it at start-up on real machines:
# 8/16/32 GiB machines report 2/3 of RAM (5461.34 / 10922.67 / 21845.34 MiB: llama-cpp-python#687,
# ollama#434), 64 and 96 GiB machines report 3/4 (49152 / 73728 MiB: llama.cpp#1870, #3213).
# The switch is taken to lie just above 32 GiB; a 36 GiB M3 Pro gets 3/4 by this rule (unverified).
APPLE_TWO_THIRDS_UP_TO = 32 * GIB


def apple_gpu_share(ram_bytes: int) -> int:
    """Bytes of unified memory the GPU may use by default on Apple silicon with ``ram_bytes`` of RAM."""
    if ram_bytes <= APPLE_TWO_THIRDS_UP_TO:
        return ram_bytes * 2 // 3
    return ram_bytes * 3 // 4
