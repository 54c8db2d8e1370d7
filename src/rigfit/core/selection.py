"""Which models and variants may fill a preset slot on a device, and the bundle's pieces and node packs.

The pure helpers of ``recommend``: the allowed-model filter (maturity, licence, platform, Apple base chips),
the variant ranking per model (memoized), companions sized per stage, and the preset's node packs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rigfit.core.budget import Piece, Workload
from rigfit.core.bundle import Chosen, pieces_for, resident_bytes, stage_of
from rigfit.core.catalog.schema import Catalog, Model, Preset, Requirement, Variant
from rigfit.core.errors import UsageError
from rigfit.core.quant import Device, QuantChoice, check_explicit, label, matches, rank_variants
from rigfit.core.units import GIB

MAIN_ROLES = {"base_model", "diffusion_model", "checkpoint"}
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


def only_variant(ranked: Sequence[tuple[Variant, str]], variant: Variant) -> str:
    return "the only variant" if len(ranked) == 1 else label(variant)


def allowed(model: Model, role: str, catalog: Catalog, device: Device, choices: Choices) -> Reason | None:
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
    if device.apple_base_chip and (role in MAIN_ROLES or model.role in MAIN_ROLES) and \
            model.category in {"image", "video"} and \
            not model.family.startswith(_BASE_CHIP_FAMILIES):
        return Reason("apple-base-chip", f"{model.id}: M1/M2 base chips are limited to SD1.5/SDXL-class models "
                      "(an M3 Max with 32 GB+ is recommended for Flux)")
    return None


def licensed_alternatives(model: Model, catalog: Catalog, device: Device, choices: Choices,
                           listed: Sequence[str]) -> list[Model]:
    """Models of the same family and role whose licence allows commercial use (FLUX.1 [schnell] for [dev])."""
    out = []
    for other in catalog.models.values():
        if other.id == model.id or other.id in listed or other.family != model.family or other.role != model.role:
            continue
        lic = catalog.licenses.get(other.license)
        if lic is not None and lic.commercial and allowed(other, other.role, catalog, device, choices) is None:
            out.append(other)
    return out


def base_ok(model: Model, chosen: Sequence[Chosen]) -> bool:
    """An add-on (ControlNet, LoRA, adapter) whose base model requirement the chosen base meets."""
    for req in model.requires:
        if req.role == "base_model" and not req.optional and chosen and \
                not any(c.model.id in req.models for c in chosen):
            return False
    return True


def variants_for(model: Model, device: Device, choices: Choices) -> list[tuple[Variant, str]]:
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


def companions(reqs: Sequence[Requirement], catalog: Catalog, device: Device, choices: Choices,
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
            if model is None or allowed(model, req.role, catalog, device, choices) is not None:
                continue
            ranked = variants_for(model, device, choices)
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
        chosen.append(Chosen(req.role, model, v, why or only_variant(ranked, v), companion_of=owner))
    return chosen, warnings


def pieces_of(chosen: Sequence[Chosen], device: Device) -> list[Piece]:
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


def pack_used(pack_id: str, catalog: Catalog, chosen: Sequence[Chosen]) -> bool:
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


def overhead(nodes: Sequence[str], catalog: Catalog) -> int:
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


def nodes_for(preset: Preset, chosen: Sequence[Chosen], catalog: Catalog, device: Device) -> tuple[str, ...]:
    names: list[str] = list(preset.node_packs)
    for c in chosen:
        names.extend(c.variant.node_packs)
        if c.model.runtime.kind == "node-pack" and c.model.runtime.node_pack:
            names.append(c.model.runtime.node_pack)
    out: list[str] = []
    for n in names:
        pack = catalog.node_packs.get(n)
        if n not in out and (pack is None or device.backend in pack.platforms) and pack_used(n, catalog, chosen):
            out.append(n)
    return tuple(out)
