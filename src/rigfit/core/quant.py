"""Which variant of a model this machine can run, and in what order of preference.

The specification's quantization decision tree, made exact with ComfyUI's behaviour
(``shared/reference/comfyui-facts.md`` §4.5 and §6):

* NF4 is never chosen by default (LoRA-incompatible), and never when LoRA support is asked for.
* FP8 compute is native on NVIDIA compute capability ≥ 8.9 (Ada, Hopper, Blackwell) and on AMD gfx1200/1201/
  942/950; elsewhere FP8 files still load but are upcast per layer (they save memory, not time), so GGUF
  Q8_0/Q6_K is preferred there, as the specification asks for Ampere.
* Apple MPS has no float8 dtype, and GGUF K-quants crash there: only 16-bit or non-K GGUF (Q4_0, Q5_0, Q8_0).
* NVFP4 needs Blackwell and a ComfyUI with the comfy-kitchen loaders (newer than 0.3.64).

The final choice per component is made by the budget (``recommend.py``): the first variant of
``rank_variants`` whose budget fits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rigfit.core.catalog.schema import Variant
from rigfit.core.errors import BudgetError
from rigfit.core.hardware import Hardware
from rigfit.core.units import GIB

# Quality of a weight format relative to the 16-bit original (rough, for ordering only): city96's and the
# llama.cpp perplexity tables order the GGUF tiers; FP8 and Q8_0 are within ~1 % of 16-bit.
_GGUF_QUALITY: dict[str, int] = {
    "F32": 100, "F16": 100, "BF16": 100, "Q8_0": 97, "Q6_K": 93, "Q5_K_M": 90, "Q5_K_S": 89, "Q5_1": 89,
    "Q5_0": 88, "Q4_K_M": 85, "Q4_K_S": 84, "Q4_1": 82, "Q4_0": 81, "IQ4_XS": 82, "IQ4_NL": 81,
    "Q3_K_L": 74, "Q3_K_M": 72, "Q3_K_S": 70, "IQ3_S": 70, "Q2_K": 60, "IQ2_XS": 50,
}
_FORMAT_QUALITY: dict[str, int] = {
    "fp32": 100, "fp16": 100, "bf16": 100, "fp8": 96, "nvfp4": 91, "nf4": 80, "onnx": 100, "pth": 100, "other": 100,
}
LOW_QUALITY = 75  # below this (Q3 and under) the specification warns of quality degradation
# AMD targets with fp8 compute in ComfyUI (model_management.py:352, torch ≥ 2.7, ROCm ≥ 6.4).
_AMD_FP8 = ("gfx1200", "gfx1201", "gfx942", "gfx950")
_K_QUANT = re.compile(r"^(I?Q\d_K|IQ)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Device:
    """The accelerator as the decisions see it."""

    backend: str  # cuda | rocm | xpu | mps | cpu
    name: str
    architecture: str | None
    compute_capability: tuple[int, int] | None
    vram_bytes: int  # 0 on CPU; Apple: the GPU's share of unified memory
    ram_bytes: int
    os: str
    fp8_compute: bool
    bf16: bool
    apple_base_chip: bool = False  # M1/M2 without Pro/Max/Ultra: the specification keeps these to SD1.5/SDXL


def _cc(text: str | None) -> tuple[int, int] | None:
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def device_of(hw: Hardware) -> Device:
    """The GPU rigfit plans for (the one with the most memory), or the CPU when there is none."""
    ram = hw.ram_bytes or 0
    gpu = hw.primary_gpu
    if gpu is None or not gpu.vram_bytes:
        return Device("cpu", "CPU", None, None, 0, ram, hw.os, False, False)
    cc = _cc(gpu.compute_capability)
    arch = gpu.architecture
    if gpu.vendor == "nvidia":
        fp8 = cc is not None and cc >= (8, 9)
        return Device("cuda", gpu.name, arch, cc, gpu.vram_bytes, ram, hw.os, fp8, cc is not None and cc >= (8, 0))
    if gpu.vendor == "amd":
        gfx = (gpu.gfx_target or "").split(":", 1)[0]
        old = arch in {"rdna1", "rdna2", "gcn4", "gcn5"}
        return Device("rocm", gpu.name, arch, None, gpu.vram_bytes, ram, hw.os, gfx in _AMD_FP8, not old)
    if gpu.vendor == "apple":
        base = bool(re.search(r"\bM[12]\b(?!\s*(Pro|Max|Ultra))", gpu.name, re.IGNORECASE)) or (
            arch in {"m1", "m2"} and not re.search(r"Pro|Max|Ultra", gpu.name, re.IGNORECASE)
        )
        return Device("mps", gpu.name, arch, None, gpu.vram_bytes, ram, hw.os, False, True, base)
    return Device("xpu", gpu.name, arch, None, gpu.vram_bytes, ram, hw.os, False, True)


def is_k_quant(quant: str | None) -> bool:
    return bool(quant) and bool(_K_QUANT.match(quant or ""))


def quality(variant: Variant) -> int:
    """Relative output quality of a variant's weights (100 = the 16-bit original)."""
    if variant.format == "gguf":
        return _GGUF_QUALITY.get((variant.quant or "").upper(), 80)
    return _FORMAT_QUALITY.get(variant.format, 100)


def label(variant: Variant) -> str:
    return variant.quant if variant.format == "gguf" and variant.quant else variant.format.upper()


@dataclass(frozen=True, slots=True)
class Verdict:
    runnable: bool
    reason: str  # why it can't run, or a note on how it runs (e.g. FP8 weight-only)
    preference: int  # higher first; quality plus what the hardware is good at


def judge(variant: Variant, device: Device, *, lora: bool = False, explicit: bool = False) -> Verdict:
    """Can ``device`` run ``variant``, and how much would rigfit like it? ``explicit``: the user asked for it."""
    q = quality(variant) * 10
    fmt = variant.format
    if fmt == "nf4":
        if lora:
            return Verdict(False, "NF4 cannot take LoRAs (bitsandbytes 4-bit); use GGUF or FP8 with --lora", 0)
        if device.backend != "cuda":
            return Verdict(False, "NF4 needs bitsandbytes on an NVIDIA GPU", 0)
        if not explicit:
            return Verdict(False, "NF4 is left out of defaults (LoRA-incompatible); ask for it with --quant", 0)
        return Verdict(True, "NF4 (bitsandbytes): no LoRA support", q)
    if fmt == "fp8":
        if device.backend == "mps":
            return Verdict(False, "Apple MPS has no float8 type: FP8 files do not run on Apple Silicon", 0)
        if device.fp8_compute:
            return Verdict(True, f"{_arch(device)}: native FP8 compute (fast and half the memory of 16-bit)", q + 15)
        # Weight-only: the specification prefers GGUF Q6–Q8 here; rank FP8 just under Q6_K.
        return Verdict(True, f"{_arch(device)}: FP8 is weight-only here (saves memory, not time), "
                       "so GGUF Q8_0/Q6_K is preferred", _GGUF_QUALITY["Q6_K"] * 10 - 5)
    if fmt == "nvfp4":
        blackwell = device.backend == "cuda" and device.compute_capability is not None and \
            device.compute_capability >= (10, 0)
        if not blackwell:
            return Verdict(False, "NVFP4 needs an NVIDIA Blackwell GPU (RTX 50xx, B200)", 0)
        return Verdict(True, "Blackwell: NVFP4 (needs a ComfyUI with comfy-kitchen, newer than 0.3.64)", q + 3)
    if fmt == "gguf":
        if device.backend == "mps" and is_k_quant(variant.quant):
            return Verdict(False, f"GGUF K-quants ({variant.quant}) crash on Apple MPS; use Q4_0, Q5_0 or Q8_0", 0)
        name = f"GGUF {variant.quant}" if variant.quant else "GGUF"
        if device.backend == "mps":
            return Verdict(True, f"{name} (ComfyUI-GGUF): a non-K quant, the kind that runs on Apple MPS", q)
        if device.backend in {"cuda", "rocm"} and not device.fp8_compute:
            return Verdict(True, f"{name} (ComfyUI-GGUF): {_arch(device)} has no FP8 compute, so GGUF is "
                           "preferred over FP8 files (which only save memory here)", q)
        return Verdict(True, f"{name} (ComfyUI-GGUF)", q)
    if fmt in {"fp16", "bf16", "fp32"}:
        # Same quality; the smaller file wins the tie-break in rank_variants.
        return Verdict(True, "full-precision original weights" if fmt == "fp32" else "16-bit original weights",
                       q + 1)
    return Verdict(True, "", q)


def _arch(device: Device) -> str:
    return (device.architecture or device.backend).capitalize() + " GPU"


def rank_variants(
    variants: Sequence[Variant], device: Device, *, lora: bool = False, fp8: bool | None = None,
) -> tuple[tuple[Variant, Verdict], ...]:
    """Runnable variants, most preferred first (``fp8``: True/False forces FP8 in or out; None decides)."""
    ranked: list[tuple[Variant, Verdict]] = []
    for variant in variants:
        verdict = judge(variant, device, lora=lora)
        if not verdict.runnable:
            continue
        if fp8 is False and variant.format == "fp8":
            continue
        pref = verdict.preference + (100 if fp8 is True and variant.format == "fp8" else 0)
        ranked.append((variant, Verdict(True, verdict.reason, pref)))
    ranked.sort(key=lambda item: (-item[1].preference, _size(item[0]), item[0].id))
    return tuple(ranked)


def _size(variant: Variant) -> int:
    return sum(f.bytes or 0 for f in variant.files)


@dataclass(frozen=True, slots=True)
class QuantChoice:
    """The advanced selector: ``--quant Q6_K`` (every model that has it) or ``--quant MODEL=VARIANT``."""

    tier: str | None = None
    per_model: tuple[tuple[str, str], ...] = ()
    fp8: bool | None = None  # --fp8 / --no-fp8

    def wanted_for(self, model_id: str) -> str | None:
        for model, wanted in self.per_model:
            if model == model_id:
                return wanted
        return self.tier


def parse_quant_args(values: Sequence[str], *, fp8: bool | None = None) -> QuantChoice:
    tier: str | None = None
    per_model: list[tuple[str, str]] = []
    for value in values:
        if "=" in value:
            model, _, wanted = value.partition("=")
            if not model or not wanted:
                raise BudgetError(f"--quant {value!r}: expected MODEL=VARIANT, e.g. flux1-dev=Q8_0")
            per_model.append((model.strip(), wanted.strip()))
        elif tier is not None:
            raise BudgetError(f"--quant given twice ({tier}, {value}); give one tier or MODEL=VARIANT pairs")
        else:
            tier = value.strip()
    return QuantChoice(tier, tuple(per_model), fp8)


def matches(variant: Variant, wanted: str) -> bool:
    """``wanted`` is a variant id, a GGUF tier (``Q8_0``) or a format (``fp8``, ``bf16``)."""
    w = wanted.lower()
    return variant.id.lower() == w or (variant.quant or "").lower() == w or variant.format == w


def check_explicit(variant: Variant, device: Device, *, lora: bool) -> None:
    """Refuse (BudgetError, exit 2) a variant the user asked for that this hardware cannot run at all."""
    verdict = judge(variant, device, lora=lora, explicit=True)
    if not verdict.runnable:
        raise BudgetError(f"{variant.id} cannot run on {device.name}: {verdict.reason}")


def check_fp8_flag(device: Device, fp8: bool | None) -> None:
    if fp8 is True and device.backend == "mps":
        raise BudgetError("--fp8 cannot be used on Apple Silicon: MPS has no float8 type; use GGUF Q8_0 or FP16")
    if fp8 is True and device.backend == "cpu":
        raise BudgetError("--fp8 needs a GPU: there is none on this machine")


def check_tier(tier: str, device: Device) -> None:
    if device.backend == "mps" and is_k_quant(tier):
        raise BudgetError(f"--quant {tier}: GGUF K-quants crash on Apple MPS; use Q4_0, Q5_0 or Q8_0")
    if tier.lower() == "nf4" and device.backend != "cuda":
        raise BudgetError("--quant nf4 needs bitsandbytes on an NVIDIA GPU")


# The specification's VRAM bands (guidance only: the budget decides per component).
_BANDS = ((24, "24 GB+: FP16/BF16, no quantization needed"), (12, "12–16 GB: FP8 or GGUF Q8"),
          (8, "8–12 GB: GGUF Q4–Q6"), (6, "6–8 GB: GGUF Q3–Q4"), (0, "under 6 GB: GGUF Q2–Q3, lower quality"))


def band(device: Device) -> str:
    """The specification's quantization band for this much VRAM."""
    gib = device.vram_bytes / GIB + 0.25
    return next(text for need, text in _BANDS if gib >= need)
