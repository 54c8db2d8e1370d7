"""From catalog models and variants to the budget's pieces: stages, resident bytes, companions.

ComfyUI's loading rules that change the resident bytes (``comfyui-facts.md`` §4.5): an fp32 file is cast to
16 bit on the GPU; an fp8 file is upcast to 16 bit on load when the GPU lacks fp8 compute and a 16-bit copy
fits ``0.88 · VRAM − minimum inference memory``; GGUF stays quantized (dequantized per layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rigfit.core.budget import MIN_INFERENCE, Piece, reserve_bytes
from rigfit.core.catalog.schema import Model, Requirement, Variant
from rigfit.core.quant import Device

_TEXT_ROLES = {"text_encoder", "clip", "clip_vision", "face_analysis", "image_encoder"}
# Run after the VAE decode (or with it): upscalers, face restorers and detectors, frame interpolation.
_VAE_ROLES = {"vae", "upscaler", "face_restore", "detector", "frame_interpolation", "latent_upscaler"}
_DIFFUSION_ROLES = {"diffusion_model", "checkpoint", "controlnet", "lora", "ipadapter", "motion_module",
                    "style_model", "instantid", "pulid", "embedding", "model_patch"}
# Capabilities that mean "made to run on a CPU" (the specification's CPU-only column: Piper).
CPU_FRIENDLY = {"cpu-only", "edge"}
# An all-in-one checkpoint carries text encoders and VAE: share of its bytes per stage (text, unet, vae),
# from the component sizes of the SD1.5 (CLIP-L 246 MB, UNet 1.72 GB, VAE 167 MB) and SDXL
# (CLIP-L+G 1.6 GB, UNet 5.14 GB, VAE 167 MB) fp16 checkpoints.
_AIO_SPLIT: dict[str, tuple[float, float, float]] = {
    "sd15": (0.115, 0.807, 0.078), "sd1": (0.115, 0.807, 0.078), "sdxl": (0.231, 0.745, 0.024),
}
_AIO_DEFAULT = (0.2, 0.75, 0.05)


def file_bytes(variant: Variant) -> int:
    return sum(f.bytes or 0 for f in variant.files)


def size_notes(chosen: Sequence[Chosen], *, approximate: bool = True) -> tuple[str, ...]:
    """What the download and VRAM figures of ``chosen`` leave out (files of unknown size count as 0) and, with
    ``approximate``, what they round."""
    unknown = [c.model.id for c in chosen if any(f.bytes is None for f in c.variant.files)]
    approx = [c.model.id for c in chosen if c.model.id not in unknown and any(not f.bytes_exact for f in c.variant.files)]
    out = []
    if unknown:
        out.append(f"file sizes unknown for {', '.join(dict.fromkeys(unknown))}: those files count as 0 in the "
                   "download and VRAM figures")
    if approx and approximate:
        out.append(f"download sizes are approximate for {', '.join(dict.fromkeys(approx))}")
    return tuple(out)


def resident_bytes(variant: Variant, device: Device, *, diffusion: bool = True, comfyui: bool = True,
                   params_b: float | None = None) -> int:
    """Bytes the variant occupies in (V)RAM once loaded (``diffusion``: ComfyUI's unet_dtype rules apply;
    text encoders keep an fp8 file's dtype; ``comfyui``: ComfyUI casts fp32 files to 16 bit on a GPU)."""
    size = variant.weight_bytes if variant.weight_bytes is not None else file_bytes(variant)
    if size == 0 and params_b:  # size unpublished: parameters × bytes per parameter of the format
        size = int(params_b * 1e9 * {"fp32": 4, "fp8": 1, "nvfp4": 0.5}.get(variant.format, 2))
    if variant.format == "fp32" and comfyui and device.backend != "cpu":
        return size // 2
    if diffusion and variant.format == "fp8" and not device.fp8_compute and \
            device.backend in {"cuda", "rocm", "xpu"}:
        limit = int(device.vram_bytes * 0.88) - (MIN_INFERENCE + reserve_bytes(device))
        if 2 * size <= limit:
            return 2 * size
    return size


def stage_of(model: Model, role: str) -> str:
    standalone = model.memory.working_bytes is not None or model.category in {"audio", "3d"} or \
        model.runtime.kind in {"python", "mlx"}
    if standalone and role not in _TEXT_ROLES and role not in _VAE_ROLES:
        return "run"
    if role in _TEXT_ROLES:
        return "text_encode"
    if role in _VAE_ROLES:
        return "vae_decode"
    if role in _DIFFUSION_ROLES or model.memory.usage_factor is not None:
        return "diffusion"
    return "run"


def pieces_for(model: Model, variant: Variant, role: str, device: Device) -> tuple[Piece, ...]:
    """The budget pieces of one chosen variant (an all-in-one checkpoint becomes three). The stage follows
    the model's own role (a preset slot's role, such as ``base_model``, says nothing about memory)."""
    del role
    mem = model.memory
    stage = stage_of(model, model.role)
    size = resident_bytes(variant, device, diffusion=stage == "diffusion", comfyui=model.runtime.kind == "comfyui",
                          params_b=model.params_b)
    cpu_ok = bool(CPU_FRIENDLY & set(model.capabilities))
    base = Piece(model.role, model.id, variant.id, size, stage, mem.usage_factor, mem.spatial_compression or 8,
                 mem.temporal_compression, mem.working_bytes or 0, model.params_b, cpu_ok, variant.format == "fp8")
    if stage == "diffusion" and model.role == "checkpoint" and not variant.all_in_one and \
            not any(r.role == "vae" for r in requirements_of(model, variant)):
        # A checkpoint that needs its text encoders beside it still carries its VAE (SD3.5, LTX-Video).
        vae_bytes = int(size * _AIO_DEFAULT[2])
        return (replace(base, weight_bytes=size - vae_bytes),
                Piece("vae", model.id, variant.id, vae_bytes, "vae_decode", None, mem.spatial_compression or 8,
                      mem.temporal_compression))
    if not variant.all_in_one or stage != "diffusion":
        return (base,)
    text, unet, vae = _AIO_SPLIT.get(model.family, _AIO_DEFAULT)
    return (
        Piece("text_encoder", model.id, variant.id, int(size * text), "text_encode"),
        Piece(model.role, model.id, variant.id, int(size * unet), "diffusion", mem.usage_factor,
              mem.spatial_compression or 8, mem.temporal_compression, 0, model.params_b),
        Piece("vae", model.id, variant.id, int(size * vae), "vae_decode", None, mem.spatial_compression or 8,
              mem.temporal_compression),
    )


def requirements_of(model: Model, variant: Variant) -> tuple[Requirement, ...]:
    if variant.requires is not None:
        return variant.requires
    if variant.all_in_one:
        return ()
    return model.requires


@dataclass(frozen=True, slots=True)
class Chosen:
    """One component as chosen: the model, its variant, why, and what a step up or down would change."""

    role: str
    model: Model
    variant: Variant
    reason: str
    companion_of: str | None = None  # the model id this one is required by
    step_up: str | None = None
    step_down: str | None = None
    runtime_note: str | None = None  # e.g. an MLX runtime that runs it better on Apple Silicon
