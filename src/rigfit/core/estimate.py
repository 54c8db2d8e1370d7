"""``rigfit estimate``: the budget model for one model at the user's own settings."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rigfit.core import selection
from rigfit.core.budget import (
    DIFFUSERS_VAE_SCALE,
    VAE_NEED_SCALE,
    Budget,
    Workload,
    estimate,
    resident_peak,
    vae_peak,
)
from rigfit.core.bundle import Chosen, pieces_for, requirements_of, size_notes
from rigfit.core.catalog.schema import Catalog, PublishedFigure
from rigfit.core.errors import UsageError
from rigfit.core.quant import Device, QuantChoice, check_explicit, label, matches, rank_variants
from rigfit.core.selection import Choices, workload_for


@dataclass(frozen=True, slots=True)
class Estimate:
    model: str
    variant: str
    variant_label: str
    workload: Workload
    components: tuple[Chosen, ...]
    budget: Budget


def estimate_model(catalog: Catalog, device: Device, model_id: str, wanted: str | None = None, *,
                   resolution: tuple[int, int] | None = None, frames: int | None = None, batch: int = 1,
                   companions: tuple[str, ...] = ()) -> Estimate:
    """One model (``wanted``: a variant id, a GGUF tier or a format) with its companions on ``device``.

    ``companions``: variant ids to use for the model's requirements instead of rigfit's choice.
    """
    model = catalog.models.get(model_id)
    if model is None:
        near = [m for m in catalog.models if model_id.lower() in m.lower()][:5]
        hint = f"; did you mean {', '.join(near)}?" if near else "; see rigfit catalog list"
        raise UsageError(f"unknown model {model_id!r}{hint}")
    if batch < 1 or (frames is not None and frames < 1):
        raise UsageError("--batch and --frames must be at least 1")
    if resolution is not None and (resolution[0] < 8 or resolution[1] < 8):
        raise UsageError(f"--resolution {resolution[0]}x{resolution[1]} is too small (at least 8x8)")
    if wanted:
        picked = [v for v in model.variants if matches(v, wanted)]
        if not picked:
            have = ", ".join(f"{v.id} ({label(v)})" for v in model.variants)
            raise UsageError(f"{model_id} has no variant {wanted!r}; it has: {have}")
        variant = picked[0]
        check_explicit(variant, device, lora=False)
    else:
        ranked = rank_variants(model.variants, device)
        if not ranked:
            raise UsageError(f"no variant of {model_id} runs on {device.name}")
        variant = ranked[0][0]
    base = workload_for(None, model)
    work = replace(base, width=resolution[0] if resolution else base.width,
                   height=resolution[1] if resolution else base.height,
                   frames=frames or base.frames, batch=batch)
    main = Chosen(model.role, model, variant, label(variant))
    chosen: list[Chosen] = [main]
    forced = [catalog.variants[v] for v in companions if v in catalog.variants]
    for v in forced:
        owner = catalog.models[v.model]
        role = next((r.role for r in requirements_of(model, variant) if owner.id in r.models), owner.role)
        chosen.append(Chosen(role, owner, v, label(v), companion_of=model.id))
    missing = tuple(r for r in requirements_of(model, variant)
                    if not any(c.model.id in r.models for c in chosen[1:]))
    comps, _ = selection.companions(missing, catalog, device, Choices(quant=QuantChoice()), model.id, {})
    chosen.extend(comps)
    pieces = [p for c in chosen for p in pieces_for(c.model, c.variant, c.role, device)]
    budget = estimate(pieces, work, device)
    unknown = size_notes(chosen, approximate=False)
    budget = replace(budget, notes=(*budget.notes, *unknown)) if unknown else budget
    return Estimate(model.id, variant.id, label(variant), work, tuple(chosen), budget)


def reference_device() -> Device:
    """A GPU with room to spare (H100-class), so a prediction is the model's need, not an offload policy."""
    from rigfit.core.units import GIB

    return Device("cuda", "NVIDIA H100 80GB HBM3", "hopper", (9, 0), 80 * GIB, 512 * GIB, "linux", True, True)


def predicted_peak(catalog: Catalog, model_id: str, figure: PublishedFigure, device: Device | None = None) -> int:
    """rigfit's peak for the run a published figure describes: the largest stage when the runtime offloads
    text encoders (ComfyUI), or every model resident when they stay on the GPU (diffusers full-GPU)."""
    device = device or reference_device()
    est = estimate_model(catalog, device, model_id, figure.variant, resolution=figure.resolution,
                         frames=figure.frames, batch=figure.batch, companions=figure.components)
    resident = figure.text_encoders_resident
    if resident is None:
        resident = figure.runtime != "comfyui"
    pieces = [p for c in est.components for p in pieces_for(c.model, c.variant, c.role, device)]
    if resident:
        return resident_peak(pieces, est.workload, device)
    # ComfyUI's ample-memory VAE behaviour (VAE_PEAK_SCALE) was measured with 100+ GiB free; on the cards
    # these figures come from, its decode takes what ComfyUI frees for it (VAE_NEED_SCALE), and diffusers'
    # offloading pipelines decode leaner still.
    scale = VAE_NEED_SCALE if figure.runtime == "comfyui" else DIFFUSERS_VAE_SCALE
    stages = [s.peak_bytes for s in est.budget.stages if s.name != "vae_decode"]
    return max([*stages, vae_peak(pieces, est.workload, device, scale)])
