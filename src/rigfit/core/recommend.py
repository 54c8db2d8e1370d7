"""Presets × hardware × choices → ranked results with reasons.

Per preset slot the first candidate model that is allowed (maturity, licence, platform, Apple base chips) and
whose budget fits wins; within a model the most preferred runnable variant (``quant.rank_variants``) that
fits. When nothing fits at full speed, the best variant that runs with weights streamed from RAM at a modest
slowdown is taken (status ``offload``); when even that fails the preset is ``unsupported`` and says which
GPU size would run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rigfit.core.budget import Budget, Workload, estimate
from rigfit.core.bundle import Chosen, file_bytes, requirements_of, resident_bytes, size_notes
from rigfit.core.catalog.schema import Catalog, Model, Preset, Variant
from rigfit.core.declared_conflicts import DeclaredConflict
from rigfit.core.errors import UsageError
from rigfit.core.quant import (
    LOW_QUALITY,
    Device,
    QuantChoice,
    band,
    check_fp8_flag,
    check_tier,
    label,
    quality,
)
from rigfit.core.selection import (
    MAIN_ROLES,
    Choices,
    Reason,
    allowed,
    base_ok,
    companions,
    licensed_alternatives,
    nodes_for,
    only_variant,
    overhead,
    pieces_of,
    variants_for,
    workload_for,
)
from rigfit.core.tiers import TIERS_GIB, reference_device, training, unlocks
from rigfit.core.units import GIB

# Re-exported: the commands and tests import these from here.
__all__ = ["TIERS_GIB", "Choices", "PresetResult", "QuantChoice", "Reason", "near_fit", "recommend",
           "reference_device", "resolve_preset", "training", "unlocks", "workload_for"]

# An offloaded variant counts as fitting when it streams at most this share of its weights at this slowdown
# (ComfyUI's partial loading of a few hundred MB costs little); otherwise a smaller variant that streams
# less wins, and quality is traded for speed.
NEAR_FIT_SHARE = 0.2
NEAR_FIT_SLOWDOWN = 1.25


@dataclass(frozen=True, slots=True)
class PresetResult:
    preset: Preset
    status: str  # fits | offload | unsupported | excluded
    components: tuple[Chosen, ...]
    nodes: tuple[str, ...]
    budget: Budget | None
    workload: Workload
    warnings: tuple[str, ...]
    reasons: tuple[Reason, ...]
    # Filled by ``rigfit.core.report.build_report`` from the node packs' declared requirements.
    dependency_conflicts: tuple[DeclaredConflict, ...] = ()


def _try(preset: Preset, base: Sequence[Chosen], slot: Chosen, catalog: Catalog, device: Device,
         choices: Choices, work: Workload) -> tuple[list[Chosen], Budget, list[str]]:
    taken = {c.variant.id: c for c in base}
    comps, warnings = companions(requirements_of(slot.model, slot.variant), catalog, device, choices,
                                  slot.model.id, taken)
    bundle = [*base, slot, *comps]
    nodes = nodes_for(preset, bundle, catalog, device)
    return bundle, estimate(pieces_of(bundle, device), work, device, overhead_bytes=overhead(nodes, catalog)), warnings


def near_fit(b: Budget) -> bool:
    """Offloading so little that it is as good as fitting: a sliver of the weights streamed, barely slower."""
    if b.status != "offload":
        return False
    diff = b.stage("diffusion")
    if diff is None or diff.need_bytes <= b.available_bytes:
        # Only the text encoders (one pass per prompt) or the VAE decode (tiled instead) are short of room.
        return all(s.name in {"text_encode", "vae_decode"} or s.need_bytes <= b.available_bytes for s in b.stages)
    return b.slowdown is not None and b.streamed_bytes <= NEAR_FIT_SHARE * diff.weights_bytes and \
        b.slowdown <= NEAR_FIT_SLOWDOWN


def resolve_preset(catalog: Catalog, preset: Preset, device: Device, choices: Choices) -> PresetResult:
    """One preset on one device (see the module docstring)."""
    reasons: list[Reason] = []
    warnings: list[str] = []
    work = workload_for(preset, None)
    if preset.maturity == "experimental" and not choices.experimental:
        return PresetResult(preset, "excluded", (), (), None, work, (),
                            (Reason("experimental", f"{preset.id} is experimental (shown with --experimental)"),))
    chosen: list[Chosen] = []
    for slot in preset.components:
        base_id = next((c.model.id for c in chosen if c.role == "base_model"), None)
        if slot.applies_to and base_id not in slot.applies_to:
            continue  # a slot for another base model (SD1.5 ControlNets when the base is SDXL, ...)
        if any(c.model.id in slot.models for c in chosen):
            continue  # already brought in as another model's companion (insightface for PuLID, ...)
        candidates: list[Model] = []
        for model_id in slot.models:
            model = catalog.models.get(model_id)
            if model is None or not base_ok(model, chosen):
                continue
            why = allowed(model, slot.role, catalog, device, choices)
            if why is None:
                candidates.append(model)
            elif why.code in {"licence", "apple-base-chip", "experimental", "platform"}:
                reasons.append(why)
            if why is not None and why.code == "licence":
                for alt in licensed_alternatives(model, catalog, device, choices, slot.models):
                    candidates.append(alt)
                    reasons.append(Reason("licence-alternative", f"{alt.id} ({catalog.licenses[alt.license].name}) "
                                          f"offered instead of {model.id}"))
        if not candidates:
            if not slot.optional:
                policy = bool(reasons) and all(r.code in {"licence", "licence-alternative", "experimental"} for r in reasons)
                return PresetResult(preset, "excluded" if policy else "unsupported", tuple(chosen), (), None,
                                    workload_for(preset, None), tuple(warnings), (*reasons, Reason(
                                        "no-candidate", f"no allowed model for {slot.role}")))
            continue
        pinned = [m for m in candidates if any(m.id == mid for mid, _ in choices.quant.per_model)]
        if pinned:  # the user asked for a variant of this model: do not fall back to another model
            candidates = pinned[:1]
        main_slot = not chosen or slot.role in MAIN_ROLES
        best: tuple[list[Chosen], Budget, list[str]] | None = None
        offload: tuple[list[Chosen], Budget, list[str]] | None = None
        fallback: tuple[list[Chosen], Budget, list[str]] | None = None
        for model in candidates:
            if main_slot:
                work = workload_for(preset, model)
            ranked = variants_for(model, device, choices)
            model_offload: tuple[list[Chosen], Budget, list[str]] | None = None
            for i, (variant, note) in enumerate(ranked):
                if i + 1 < len(ranked) and _hopeless(model, variant, device, i):
                    continue  # cannot fit or nearly fit; the smallest variant is always tried
                step_up = _neighbour([v for v, _ in ranked[:i][::-1]], variant, bigger=True)
                step_down = _neighbour([v for v, _ in ranked[i + 1:]], variant, bigger=False)
                pick = Chosen(slot.role, model, variant, note or only_variant(ranked, variant), None, step_up, step_down,
                              _mlx_note(model, device))
                attempt = _try(preset, chosen, pick, catalog, device, choices, work)
                budget = attempt[1]
                if budget.status == "fits" or near_fit(budget):
                    best = attempt
                    break
                if budget.status == "offload" and (
                        model_offload is None or budget.streamed_bytes < model_offload[1].streamed_bytes):
                    model_offload = attempt
                if fallback is None or budget.min_bytes < fallback[1].min_bytes:
                    fallback = attempt
            if best is not None:
                break
            if offload is None:
                offload = model_offload
        pickd = best or offload or fallback
        if pickd is None:
            continue
        if slot.optional and best is None and chosen:
            base = _budget(preset, chosen, catalog, device, work)
            because = ("it does not fit beside them" if base.status == "fits" or near_fit(base)
                       else "the preset's main models do not run here at full speed either")
            warnings.append(f"left out optional {slot.role} ({candidates[0].id}): {because}")
            continue
        chosen = pickd[0]
        warnings.extend(pickd[2])
        if main_slot:
            work = workload_for(preset, next(c.model for c in chosen if c.role == slot.role))
    chosen = _refit(preset, chosen, catalog, device, choices, work)
    nodes = nodes_for(preset, chosen, catalog, device)
    budget = _budget(preset, chosen, catalog, device, work)
    reasons.extend(_explain(chosen, budget, device))
    warnings.extend(_warn(chosen, budget, catalog))
    return PresetResult(preset, budget.status, tuple(chosen), nodes, budget, work, tuple(dict.fromkeys(warnings)),
                        tuple(reasons))


def _hopeless(model: Model, variant: Variant, device: Device, index: int) -> bool:
    """A variant whose weights alone exceed what a near fit allows (speed: skip its budget)."""
    if device.backend == "cpu":
        return index > 0  # nothing diffusion-sized runs on a CPU; the first and last variant say enough
    size = resident_bytes(variant, device, comfyui=model.runtime.kind == "comfyui", params_b=model.params_b)
    return size * (1 - NEAR_FIT_SHARE) > device.vram_bytes


def _budget(preset: Preset, chosen: Sequence[Chosen], catalog: Catalog, device: Device, work: Workload) -> Budget:
    nodes = nodes_for(preset, chosen, catalog, device)
    return estimate(pieces_of(chosen, device), work, device, overhead_bytes=overhead(nodes, catalog))


def _refit(preset: Preset, chosen: list[Chosen], catalog: Catalog, device: Device, choices: Choices,
           work: Workload) -> list[Chosen]:
    """Slots are filled one by one, so a base model chosen alone may no longer fit once a required add-on
    joins it (PuLID beside Flux): step the slot choices down again against the whole bundle."""
    current = _budget(preset, chosen, catalog, device, work)
    if current.status == "fits" or near_fit(current) or device.backend == "cpu":
        return chosen
    for i, c in enumerate(chosen):
        if c.companion_of is not None or any(m == c.model.id for m, _ in choices.quant.per_model):
            continue
        ranked = variants_for(c.model, device, choices)
        ids = [v.id for v, _ in ranked]
        if c.variant.id not in ids:
            continue
        for k in range(ids.index(c.variant.id) + 1, len(ranked)):  # only smaller steps than the current one
            variant, note = ranked[k]
            trial = list(chosen)
            trial[i] = replace(c, variant=variant, reason=note or label(variant),
                               step_up=_neighbour([v for v, _ in ranked[:k][::-1]], variant, bigger=True),
                               step_down=_neighbour([v for v, _ in ranked[k + 1:]], variant, bigger=False))
            b = _budget(preset, trial, catalog, device, work)
            if b.status == "fits" or near_fit(b):
                return trial
    return chosen


def _neighbour(others: Sequence[Variant], current: Variant, *, bigger: bool) -> str | None:
    """The nearest variant in preference order that is clearly bigger (or smaller) than ``current``."""
    size = file_bytes(current)
    for other in others:
        d = file_bytes(other) - size
        if (d > 0.03 * size) if bigger else (d < -0.03 * size):
            return _step(other, current)
    return None


def _step(other: Variant, current: Variant) -> str:
    d = file_bytes(other) - file_bytes(current)
    sign = "+" if d >= 0 else "−"
    return f"{label(other)}: {sign}{abs(d) / 1e9:.1f} GB, quality {quality(other)} vs {quality(current)}"


def _mlx_note(model: Model, device: Device) -> str | None:
    if device.backend != "mps":
        return None
    for rt in model.alt_runtimes:
        if rt.kind == "mlx":
            return (f"on Apple Silicon, {rt.package or 'an MLX runtime'} runs {model.name} faster than ComfyUI's "
                    f"MPS backend (MLX is built for unified memory){': ' + rt.note if rt.note else ''}")
    return None


def _explain(chosen: Sequence[Chosen], budget: Budget, device: Device) -> list[Reason]:
    out: list[Reason] = []
    main = next((c for c in chosen if c.companion_of is None and c.model.memory.usage_factor is not None), None)
    if main is not None and device.backend in {"cuda", "rocm", "xpu"} and len(main.model.variants) > 1:
        out.append(Reason("band", f"the specification's band for {device.vram_bytes / GIB:.0f} GiB is "
                          f"{band(device)}; rigfit picks each component's variant by its budget"))
    for c in chosen:
        if c.companion_of is None:
            out.append(Reason("variant", f"{c.model.id} {label(c.variant)}: {c.reason}"))
        if c.runtime_note:
            out.append(Reason("mlx-runtime", c.runtime_note))
    gib = budget.required_bytes / GIB
    if device.backend == "cpu" and budget.status in {"fits", "offload"}:
        out.append(Reason(budget.status, f"runs on the CPU: needs about {budget.ram_required_bytes / GIB:.1f} GiB "
                          f"of RAM, this machine has {device.ram_bytes / GIB:.1f} GiB"))
    elif budget.status == "fits":
        out.append(Reason("fits", f"needs {gib:.1f} GiB of VRAM at full speed; {device.name} has "
                          f"{device.vram_bytes / GIB:.1f} GiB"))
    elif budget.status == "offload":
        out.append(Reason("offload", f"needs {gib:.1f} GiB for full speed; runs with offloading from "
                          f"{budget.min_bytes / GIB:.1f} GiB"))
    elif budget.status == "unsupported":
        out.append(Reason("unsupported", f"needs at least {budget.min_bytes / GIB:.1f} GiB of VRAM "
                          f"({budget.required_bytes / GIB:.1f} GiB for full speed)"))
    out.extend(Reason("budget", n) for n in budget.notes)
    return out


def _warn(chosen: Sequence[Chosen], budget: Budget, catalog: Catalog) -> list[str]:
    out: list[str] = []
    for c in chosen:
        if quality(c.variant) < LOW_QUALITY:
            out.append(f"{c.model.id} {label(c.variant)}: low-bit quantization, visibly lower quality")
        if c.model.maturity == "maintenance-mode":
            out.append(f"{c.model.id} is in maintenance mode (no new fixes)")
        if c.model.maturity == "experimental":
            out.append(f"{c.model.id} is experimental")
    out.extend(size_notes(chosen))
    return out


def recommend(catalog: Catalog, device: Device, choices: Choices) -> tuple[PresetResult, ...]:
    """Every asked preset (or every default one) on ``device``."""
    check_fp8_flag(device, choices.quant.fp8)
    if choices.quant.tier:
        check_tier(choices.quant.tier, device)
    for model_id, _ in choices.quant.per_model:
        if model_id not in catalog.models:
            raise UsageError(f"--quant {model_id}=…: unknown model {model_id!r}")
        # Refuse a variant this hardware cannot run (or that does not exist) even where no preset ends up
        # considering the model (Flux on an M2 base chip): the user asked for it by name.
        variants_for(catalog.models[model_id], device, choices)
    # Experimental presets are listed too: as "excluded" unless --experimental (CLI contract).
    ids = choices.presets or tuple(p.id for p in catalog.presets.values()
                                   if p.default or p.maturity == "experimental")
    for pid in ids:
        if pid not in catalog.presets:
            raise UsageError(f"unknown preset {pid!r}; known: {', '.join(sorted(catalog.presets))}")
    return tuple(resolve_preset(catalog, catalog.presets[pid], device, choices) for pid in ids)
