"""The recommendation and estimate as the contract's JSON documents (``rigfit.recommendation/1``,
``rigfit.estimate/1``; ``shared/design/CLI-CONTRACT.md``). Keys beyond the contract's are additions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rigfit.core.budget import Budget
from rigfit.core.bundle import Chosen
from rigfit.core.catalog.schema import Catalog
from rigfit.core.declared_conflicts import check_packs, planned_torch_lines
from rigfit.core.estimate import Estimate
from rigfit.core.hardware import Hardware, hardware_to_json
from rigfit.core.launch_args import LaunchArgs, launch_args
from rigfit.core.normalize import Target
from rigfit.core.quant import Device
from rigfit.core.recommend import PresetResult
from rigfit.core.storage import Storage, preset_bytes
from rigfit.core.torch_index import torch_index_for

RECOMMENDATION_SCHEMA = "rigfit.recommendation/1"
ESTIMATE_SCHEMA = "rigfit.estimate/1"


@dataclass(frozen=True, slots=True)
class Report:
    """Everything ``rigfit recommend`` shows, computed once and rendered as tables or JSON."""

    hardware: Hardware
    device: Device
    presets: tuple[PresetResult, ...]
    launch: tuple[LaunchArgs, ...]  # per preset, same order
    storage: Storage
    training: tuple[str, ...]
    unlocks: tuple[tuple[int, tuple[str, ...]], ...]  # GPU size → presets that would fit at full speed
    runs_from: tuple[tuple[int, tuple[str, ...]], ...] = ()  # GPU size → unsupported presets that would run


def build_report(hardware: Hardware, device: Device, presets: Sequence[PresetResult], storage: Storage,
                 training: tuple[str, ...], unlocks: tuple[tuple[int, tuple[str, ...]], ...],
                 runs_from: tuple[tuple[int, tuple[str, ...]], ...] = (), *,
                 catalog: Catalog | None = None) -> Report:
    """With ``catalog``, each preset also carries the conflicts in its node packs' declared requirements."""
    if catalog is not None:
        presets = with_dependency_checks(presets, hardware, catalog)
    launches = tuple(launch_args(device, r.budget, r.components) for r in presets)
    return Report(hardware, device, tuple(presets), launches, storage, training, unlocks, runs_from)


def with_dependency_checks(presets: Sequence[PresetResult], hardware: Hardware,
                           catalog: Catalog) -> tuple[PresetResult, ...]:
    """Presets with a warning per conflict among their node packs' declared requirements, and per pack with
    refused lines (``rigfit.core.declared_conflicts``; offline, no resolver)."""
    gpu = hardware.primary_gpu
    target = Target(hardware.os, hardware.arch, gpu.vendor if gpu else "cpu")
    torch_lines = planned_torch_lines(torch_index_for(hardware))
    out = []
    for r in presets:
        packs = tuple(catalog.node_packs[n] for n in r.nodes if n in catalog.node_packs)
        found = check_packs(packs, target, torch_lines) if packs else None
        if found is None or not (found.conflicts or found.refused):
            out.append(r)
            continue
        out.append(replace(r, warnings=tuple(dict.fromkeys((*r.warnings, *found.warnings()))),
                           dependency_conflicts=found.conflicts))
    return tuple(out)


def component_json(c: Chosen, catalog: Catalog) -> dict[str, Any]:
    lic = c.model.license
    doc: dict[str, Any] = {
        "role": c.role,
        "model": c.model.id,
        "variant": c.variant.id,
        "format": c.variant.format,
        "quant": c.variant.quant if c.variant.format == "gguf" else None,
        "files": [
            {"filename": f.filename, "folder": f.folder, "bytes": f.bytes, "bytes_exact": f.bytes_exact,
             "sha256": f.sha256, "url": f.url, "license": lic}
            for f in c.variant.files
        ],
        "reason": c.reason,
        "maturity": c.model.maturity,
        "commercial": bool(catalog.licenses[lic].commercial) if lic in catalog.licenses else None,
    }
    if c.companion_of:
        doc["companion_of"] = c.companion_of
    if c.step_up:
        doc["step_up"] = c.step_up
    if c.step_down:
        doc["step_down"] = c.step_down
    if c.runtime_note:
        doc["preferred_runtime"] = c.runtime_note
    return doc


def vram_json(budget: Budget | None, available: int) -> dict[str, Any]:
    if budget is None:
        return {"required_bytes": None, "available_bytes": available, "min_bytes": None}
    return {"required_bytes": budget.required_bytes, "available_bytes": available, "min_bytes": budget.min_bytes}


def stages_json(budget: Budget) -> list[dict[str, Any]]:
    # vram_bytes: what the stage needs at full speed (the contract's per-stage figure); peak_bytes: what a
    # device counter shows when the card has memory to spare (ComfyUI's VAE decode then takes far more).
    return [{"name": s.name, "vram_bytes": s.need_bytes, "peak_bytes": s.peak_bytes, "weights_bytes": s.weights_bytes,
             "activation_bytes": s.activation_bytes, "need_bytes": s.need_bytes, "min_bytes": s.min_bytes}
            for s in budget.stages]


def preset_json(r: PresetResult, launch: LaunchArgs, device: Device, catalog: Catalog) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": r.preset.id,
        "name": r.preset.name,
        "status": r.status,
        "maturity": r.preset.maturity,
        "components": [component_json(c, catalog) for c in r.components],
        "nodes": list(r.nodes),
        "vram": vram_json(r.budget, device.vram_bytes),
        "ram_required_bytes": r.budget.ram_required_bytes if r.budget else None,
        "disk_bytes": preset_bytes(r.components),
        "launch_args": list(launch.args),
        "warnings": list(r.warnings),
        "reasons": [x.text for x in r.reasons] + list(launch.reasons),
        "reason_codes": list(dict.fromkeys(x.code for x in r.reasons)),
        "resolution": [r.workload.width, r.workload.height],
        "frames": r.workload.frames,
        "dependency_conflicts": [c.as_dict() for c in r.dependency_conflicts],
    }
    if r.budget is not None:
        doc["stages"] = stages_json(r.budget)
        doc["slowdown"] = r.budget.slowdown
    return doc


def report_json(report: Report, catalog: Catalog) -> dict[str, Any]:
    st = report.storage
    return {
        "schema": RECOMMENDATION_SCHEMA,
        "hardware": hardware_to_json(report.hardware),
        "presets": [preset_json(r, la, report.device, catalog) for r, la in zip(report.presets, report.launch,
                                                                              strict=True)],
        "storage": {
            "total_bytes": st.total_bytes, "free_bytes": st.free_bytes, "ssd_recommended": st.ssd_recommended,
            "present_bytes": st.present_bytes, "download_bytes": st.download_bytes, "fits": st.fits,
            "approximate": st.approximate, "notes": list(st.notes),
            "alternatives": [{"model": a.model, "current": a.current, "smaller": a.smaller,
                              "saves_bytes": a.saves_bytes} for a in st.alternatives],
        },
        "training": list(report.training),
        "gpu_tiers": [{"vram_gib": tier, "unlocks": list(dict(report.unlocks).get(tier, ())),
                       "runs": list(dict(report.runs_from).get(tier, ()))}
                      for tier in sorted({t for t, _ in (*report.unlocks, *report.runs_from)})],
    }


def estimate_json(est: Estimate, device: Device, catalog: Catalog) -> dict[str, Any]:
    b = est.budget
    return {
        "schema": ESTIMATE_SCHEMA,
        "model": est.model,
        "variant": est.variant_label,
        "variant_id": est.variant,
        "resolution": [est.workload.width, est.workload.height],
        "frames": est.workload.frames,
        "batch": est.workload.batch,
        "status": b.status,
        "vram": vram_json(b, device.vram_bytes),
        "ram_required_bytes": b.ram_required_bytes,
        "stages": stages_json(b),
        "components": [component_json(c, catalog) for c in est.components],
        "slowdown": b.slowdown,
        "notes": list(b.notes),
    }
