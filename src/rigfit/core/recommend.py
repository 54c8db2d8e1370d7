"""Presets × hardware × choices → ranked results with reasons.

Per preset slot the first candidate model that is allowed (maturity, licence, platform, Apple base chips) and
whose budget fits wins; within a model the most preferred runnable variant (``quant.rank_variants``) that
fits. When nothing fits at full speed, the best variant that runs with weights streamed from RAM at a modest
slowdown is taken (status ``offload``); when even that fails the preset is ``unsupported`` and says which
GPU size would run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rigfit.core.budget import Budget, Piece, Workload, estimate
from rigfit.core.bundle import Chosen, file_bytes, pieces_for, requirements_of, resident_bytes, stage_of
from rigfit.core.catalog.schema import Catalog, Model, Preset, Requirement, Variant
from rigfit.core.errors import UsageError
from rigfit.core.quant import (
    LOW_QUALITY,
    Device,
    QuantChoice,
    check_explicit,
    check_fp8_flag,
    check_tier,
    label,
    matches,
    quality,
    rank_variants,
)
from rigfit.core.units import GIB

# An offloaded variant counts as fitting when it streams at most this share of its weights at this slowdown
# (ComfyUI's partial loading of a few hundred MB costs little); otherwise a smaller variant that streams
# less wins, and quality is traded for speed.
NEAR_FIT_SHARE = 0.2
NEAR_FIT_SLOWDOWN = 1.25
_MAIN_ROLES = {"base_model", "diffusion_model", "checkpoint"}
_BASE_CHIP_FAMILIES = ("sd1", "sd15", "sdxl")


@dataclass(frozen=True, slots=True)
class Choices:
    presets: tuple[str, ...] = ()
    lora: bool = False
    commercial: bool = False
    experimental: bool = False
    quant: QuantChoice = field(default_factory=QuantChoice)


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # machine-readable: fits, offload, licence, experimental, platform, apple-base-chip, ...
    text: str


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


def _allowed(model: Model, role: str, catalog: Catalog, device: Device, choices: Choices) -> Reason | None:
    """Why ``model`` may not fill a slot here, or None."""
    if (model.excluded or model.maturity == "experimental") and not choices.experimental:
        why = model.excluded or "experimental"
        return Reason("experimental", f"{model.id}: {why} (shown with --experimental)")
    lic = catalog.licenses.get(model.license)
    if choices.commercial and lic is not None and not lic.commercial:
        return Reason("licence", f"{model.id}: {lic.name} does not allow commercial use")
    platforms = {*model.runtime.platforms, *(p for r in model.alt_runtimes for p in r.platforms)}
    if device.backend not in platforms:
        return Reason("platform", f"{model.id} does not run on {device.backend.upper()} "
                      f"(runs on {', '.join(sorted(platforms))})")
    if device.apple_base_chip and (role in _MAIN_ROLES or model.role in _MAIN_ROLES) and \
            model.category in {"image", "video"} and \
            not model.family.startswith(_BASE_CHIP_FAMILIES):
        return Reason("apple-base-chip", f"{model.id}: M1/M2 base chips are limited to SD1.5/SDXL-class models "
                      "(an M3 Max with 32 GB+ is recommended for Flux)")
    return None


def _licensed_alternatives(model: Model, catalog: Catalog, device: Device, choices: Choices,
                           listed: Sequence[str]) -> list[Model]:
    """Models of the same family and role whose licence allows commercial use (FLUX.1 [schnell] for [dev])."""
    out = []
    for other in catalog.models.values():
        if other.id == model.id or other.id in listed or other.family != model.family or other.role != model.role:
            continue
        lic = catalog.licenses.get(other.license)
        if lic is not None and lic.commercial and _allowed(other, other.role, catalog, device, choices) is None:
            out.append(other)
    return out


def _base_ok(model: Model, chosen: Sequence[Chosen]) -> bool:
    """An add-on (ControlNet, LoRA, adapter) whose base model requirement the chosen base meets."""
    for req in model.requires:
        if req.role == "base_model" and not req.optional and chosen and \
                not any(c.model.id in req.models for c in chosen):
            return False
    return True


def _variants(model: Model, device: Device, choices: Choices) -> list[tuple[Variant, str]]:
    wanted = choices.quant.wanted_for(model.id)
    if wanted is not None:
        picked = [v for v in model.variants if matches(v, wanted)]
        explicit = any(m == model.id for m, _ in choices.quant.per_model)
        if picked:
            for v in picked:
                check_explicit(v, device, lora=choices.lora)
            return [(v, f"{label(v)} as asked (--quant)") for v in picked]
        if explicit:
            have = ", ".join(label(v) for v in model.variants)
            raise UsageError(f"--quant {model.id}={wanted}: {model.id} has no such variant (it has: {have})")
    key = (id(model), device, choices.lora, choices.quant.fp8)
    hit = _RANKED.get(key)
    if hit is None or hit[0] is not model:  # the model object is kept, so its id cannot be reused meanwhile
        ranked = [(v, verdict.reason) for v, verdict in rank_variants(
            model.variants, device, lora=choices.lora, fp8=choices.quant.fp8)]
        if len(_RANKED) > 4096:
            _RANKED.clear()
        hit = _RANKED[key] = (model, ranked)
    return list(hit[1])


# Memos of pure functions of immutable values (speed: a recommendation tries every variant of every candidate).
_RANKED: dict[tuple[int, Device, bool, bool | None], tuple[Model, list[tuple[Variant, str]]]] = {}
_PIECES: dict[tuple[int, str, Device], tuple[Model, tuple[Piece, ...]]] = {}


def _companions(reqs: Sequence[Requirement], catalog: Catalog, device: Device, choices: Choices,
                owner: str, taken: dict[str, Chosen]) -> tuple[list[Chosen], list[str]]:
    """Pick each requirement's model and variant: the best whose stage (with the other companions of that
    stage at their smallest) fits, else the smallest."""
    warnings: list[str] = []
    options: list[tuple[Requirement, Model, list[tuple[Variant, str]]] | None] = []
    for req in reqs:
        if any(c.model.id in req.models and c.role == req.role for c in taken.values()):
            options.append(None)
            continue
        found = None
        for model_id in req.models:
            model = catalog.models.get(model_id)
            if model is None or _allowed(model, req.role, catalog, device, choices) is not None:
                continue
            ranked = _variants(model, device, choices)
            if ranked:
                found = (req, model, ranked)
                break
        if found is None and not req.optional:
            warnings.append(f"{owner}: no allowed model for its {req.role} ({', '.join(req.models)})")
        options.append(found)

    def size(model: Model, v: Variant) -> int:
        return resident_bytes(v, device, diffusion=False, comfyui=model.runtime.kind == "comfyui",
                              params_b=model.params_b)

    floors = [0 if o is None else min(size(o[1], v) for v, _ in o[2]) for o in options]
    stages = ["" if o is None else stage_of(o[1], o[1].role) for o in options]
    chosen: list[Chosen] = []
    used: dict[str, int] = {}
    for i, opt in enumerate(options):
        if opt is None:
            continue
        req, model, ranked = opt
        later = sum(floors[j] for j in range(i + 1, len(options)) if stages[j] == stages[i])
        room = device.vram_bytes - 2 * GIB - used.get(stages[i], 0) - later
        fitting = [(v, r) for v, r in ranked if device.backend == "cpu" or size(model, v) <= room]
        v, why = fitting[0] if fitting else min(ranked, key=lambda item: size(model, item[0]))
        used[stages[i]] = used.get(stages[i], 0) + size(model, v)
        chosen.append(Chosen(req.role, model, v, why or _only(ranked, v), companion_of=owner))
    return chosen, warnings


def _pieces(chosen: Sequence[Chosen], device: Device) -> list[Piece]:
    seen: set[str] = set()
    out: list[Piece] = []
    for c in chosen:
        if c.variant.id in seen:
            continue
        seen.add(c.variant.id)
        key = (id(c.model), c.variant.id, device)
        hit = _PIECES.get(key)
        if hit is None or hit[0] is not c.model:
            if len(_PIECES) > 8192:
                _PIECES.clear()
            hit = _PIECES[key] = (c.model, pieces_for(c.model, c.variant, c.role, device))
        out.extend(hit[1])
    return out


def _pack_used(pack_id: str, catalog: Catalog, chosen: Sequence[Chosen]) -> bool:
    """A node pack serves this bundle: one of its models is chosen (or it names none); ControlNet
    preprocessors only with a ControlNet."""
    pack = catalog.node_packs.get(pack_id)
    if pack is None:
        return True
    ids = {c.model.id for c in chosen}
    if pack.models:
        return bool(ids & set(pack.models))
    if "controlnet" in pack.id:
        return any(c.model.role == "controlnet" for c in chosen)
    return True


def _overhead(nodes: Sequence[str], catalog: Catalog) -> int:
    return sum(catalog.node_packs[n].vram_overhead_bytes for n in nodes if n in catalog.node_packs)


def workload_for(preset: Preset | None, model: Model | None) -> Workload:
    """The preset's resolution and frames, but never above the chosen model's native size (an SD1.5 base in
    a preset written for SDXL works at 512²)."""
    res = (preset.resolution if preset else None) or (model.native_resolution if model else None) or (1024, 1024)
    native = model.native_resolution if model else None
    if native and native[0] * native[1] < res[0] * res[1]:
        res = native
    frames = (preset.frames if preset else None) or (model.default_frames if model else None) or 1
    return Workload(res[0], res[1], frames, 1)


def _nodes_for(preset: Preset, chosen: Sequence[Chosen], catalog: Catalog, device: Device) -> tuple[str, ...]:
    names: list[str] = list(preset.node_packs)
    for c in chosen:
        names.extend(c.variant.node_packs)
        if c.model.runtime.kind == "node-pack" and c.model.runtime.node_pack:
            names.append(c.model.runtime.node_pack)
    out: list[str] = []
    for n in names:
        pack = catalog.node_packs.get(n)
        if n not in out and (pack is None or device.backend in pack.platforms) and _pack_used(n, catalog, chosen):
            out.append(n)
    return tuple(out)


def _try(preset: Preset, base: Sequence[Chosen], slot: Chosen, catalog: Catalog, device: Device,
         choices: Choices, work: Workload) -> tuple[list[Chosen], Budget, list[str]]:
    taken = {c.variant.id: c for c in base}
    comps, warnings = _companions(requirements_of(slot.model, slot.variant), catalog, device, choices,
                                  slot.model.id, taken)
    bundle = [*base, slot, *comps]
    nodes = _nodes_for(preset, bundle, catalog, device)
    return bundle, estimate(_pieces(bundle, device), work, device, overhead_bytes=_overhead(nodes, catalog)), warnings


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
            if model is None or not _base_ok(model, chosen):
                continue
            why = _allowed(model, slot.role, catalog, device, choices)
            if why is None:
                candidates.append(model)
            elif why.code in {"licence", "apple-base-chip", "experimental", "platform"}:
                reasons.append(why)
            if why is not None and why.code == "licence":
                for alt in _licensed_alternatives(model, catalog, device, choices, slot.models):
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
        main_slot = not chosen or slot.role in _MAIN_ROLES
        best: tuple[list[Chosen], Budget, list[str]] | None = None
        offload: tuple[list[Chosen], Budget, list[str]] | None = None
        fallback: tuple[list[Chosen], Budget, list[str]] | None = None
        for model in candidates:
            if main_slot:
                work = workload_for(preset, model)
            ranked = _variants(model, device, choices)
            model_offload: tuple[list[Chosen], Budget, list[str]] | None = None
            for i, (variant, note) in enumerate(ranked):
                if i + 1 < len(ranked) and _hopeless(model, variant, device, i):
                    continue  # cannot fit or nearly fit; the smallest variant is always tried
                step_up = _neighbour([v for v, _ in ranked[:i][::-1]], variant, bigger=True)
                step_down = _neighbour([v for v, _ in ranked[i + 1:]], variant, bigger=False)
                pick = Chosen(slot.role, model, variant, note or _only(ranked, variant), None, step_up, step_down,
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
            warnings.append(f"left out optional {slot.role} ({candidates[0].id}): it does not fit")
            continue
        chosen = pickd[0]
        warnings.extend(pickd[2])
        if main_slot:
            work = workload_for(preset, next(c.model for c in chosen if c.role == slot.role))
    chosen = _refit(preset, chosen, catalog, device, choices, work)
    nodes = _nodes_for(preset, chosen, catalog, device)
    budget = _budget(preset, chosen, catalog, device, work)
    reasons.extend(_explain(chosen, budget, device))
    warnings.extend(_warn(chosen, budget, catalog))
    return PresetResult(preset, budget.status, tuple(chosen), nodes, budget, work, tuple(dict.fromkeys(warnings)),
                        tuple(reasons))


def _only(ranked: Sequence[tuple[Variant, str]], variant: Variant) -> str:
    return "the only variant" if len(ranked) == 1 else label(variant)


def _hopeless(model: Model, variant: Variant, device: Device, index: int) -> bool:
    """A variant whose weights alone exceed what a near fit allows (speed: skip its budget)."""
    if device.backend == "cpu":
        return index > 0  # nothing diffusion-sized runs on a CPU; the first and last variant say enough
    size = resident_bytes(variant, device, comfyui=model.runtime.kind == "comfyui", params_b=model.params_b)
    return size * (1 - NEAR_FIT_SHARE) > device.vram_bytes


def _budget(preset: Preset, chosen: Sequence[Chosen], catalog: Catalog, device: Device, work: Workload) -> Budget:
    nodes = _nodes_for(preset, chosen, catalog, device)
    return estimate(_pieces(chosen, device), work, device, overhead_bytes=_overhead(nodes, catalog))


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
        ranked = _variants(c.model, device, choices)
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


# The specification's VRAM bands (guidance only: the budget decides per component).
_BANDS = ((24, "24 GB+: FP16/BF16, no quantization needed"), (12, "12–16 GB: FP8 or GGUF Q8"),
          (8, "8–12 GB: GGUF Q4–Q6"), (6, "6–8 GB: GGUF Q3–Q4"), (0, "under 6 GB: GGUF Q2–Q3, lower quality"))


def band(device: Device) -> str:
    gib = device.vram_bytes / GIB + 0.25
    return next(text for need, text in _BANDS if gib >= need)


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
    approx = [c.model.id for c in chosen if any(not f.bytes_exact for f in c.variant.files)]
    if approx:
        out.append(f"download sizes are approximate for {', '.join(dict.fromkeys(approx))}")
    return out


def recommend(catalog: Catalog, device: Device, choices: Choices) -> tuple[PresetResult, ...]:
    """Every asked preset (or every default one) on ``device``."""
    check_fp8_flag(device, choices.quant.fp8)
    if choices.quant.tier:
        check_tier(choices.quant.tier, device)
    for model_id, _ in choices.quant.per_model:
        if model_id not in catalog.models:
            raise UsageError(f"--quant {model_id}=…: unknown model {model_id!r}")
    # Experimental presets are listed too: as "excluded" unless --experimental (CLI contract).
    ids = choices.presets or tuple(p.id for p in catalog.presets.values()
                                   if p.default or p.maturity == "experimental")
    for pid in ids:
        if pid not in catalog.presets:
            raise UsageError(f"unknown preset {pid!r}; known: {', '.join(sorted(catalog.presets))}")
    return tuple(resolve_preset(catalog, catalog.presets[pid], device, choices) for pid in ids)


TIERS_GIB = (4, 6, 8, 12, 16, 24, 32)


def reference_device(vram_gib: int, base: Device) -> Device:
    """An NVIDIA Ada card of ``vram_gib`` in this machine: what a GPU of that size would unlock."""
    ram = max(base.ram_bytes, 32 * GIB)
    return Device("cuda", f"NVIDIA GPU with {vram_gib} GB (Ada)", "ada", (8, 9), vram_gib * GIB, ram,
                  base.os if base.os in {"linux", "windows"} else "linux", True, True)


def _first_tier(catalog: Catalog, preset: Preset, device: Device, choices: Choices, tiers: Sequence[int],
                statuses: frozenset[str]) -> int | None:
    """The smallest of ``tiers`` where ``preset`` reaches one of ``statuses`` (bisection: more VRAM only helps)."""
    lo, hi = 0, len(tiers)  # answer in tiers[lo:hi], hi meaning "none"
    while lo < hi:
        mid = (lo + hi) // 2
        if resolve_preset(catalog, preset, reference_device(tiers[mid], device), choices).status in statuses:
            hi = mid
        else:
            lo = mid + 1
    return tiers[lo] if lo < len(tiers) else None


def unlocks(catalog: Catalog, device: Device, results: Sequence[PresetResult], choices: Choices, *,
            runs: bool = False) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """For each GPU size above this machine's: which presets would newly fit at full speed (``runs``: which
    unsupported presets would newly run at all, offloading included)."""
    plain = replace(choices, quant=QuantChoice())
    tiers = [t for t in TIERS_GIB if t * GIB > device.vram_bytes]
    wanted = frozenset({"fits", "offload"} if runs else {"fits"})
    todo = {"unsupported"} if runs else {"offload", "unsupported"}
    first: dict[str, int] = {}
    for r in results:
        if r.status in todo and tiers:
            tier = _first_tier(catalog, r.preset, device, plain, tiers, wanted)
            if tier is not None:
                first[r.preset.id] = tier
    return tuple((t, tuple(p for p, pt in first.items() if pt == t)) for t in tiers if t in first.values())


# The specification's Training column, keyed by the VRAM it starts at.
_TRAINING = ((24, "full fine-tuning of SD-class models"), (16, "most LoRA training, Flux LoRA included"),
             (12, "SDXL LoRA"), (8, "SD1.5 LoRA"))


def training(device: Device) -> tuple[str, ...]:
    """What this machine could train, per the specification's tier table (not part of any preset)."""
    if device.backend == "cpu":
        return ()
    gib = device.vram_bytes / GIB + 0.25  # an "8 GB" card reports a little under 8 GiB
    return tuple(what for need, what in _TRAINING if gib >= need)
