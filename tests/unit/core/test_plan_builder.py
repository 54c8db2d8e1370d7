"""A recommendation becomes a plan: runnable presets only, each file once, exact sizes only, merged flags."""

from __future__ import annotations

from dataclasses import replace

from recommend_fixtures import cpu_only, gpu_hw, mini_catalog, nvidia

from rigfit.core.plan import parse_plan, plan_to_json
from rigfit.core.plan_builder import build_plan
from rigfit.core.quant import Device
from rigfit.core.recommend import Choices, recommend
from rigfit.core.report import Report, build_report
from rigfit.core.storage import storage

CAT = mini_catalog()


def _report(device: Device, presets: tuple[str, ...]) -> Report:
    results = recommend(CAT, device, Choices(presets=presets))
    comps = [c for r in results for c in r.components]
    return build_report(gpu_hw("nvidia", device.name, device.vram_bytes / 2**30), device, results,
                        storage(comps, {}, None, False), (), ())


def test_plan_holds_runnable_presets_each_file_once_and_round_trips() -> None:
    report = _report(nvidia(24), ("photorealism", "lightweight"))
    plan, notes = build_plan(report, CAT, torch_index="https://download.pytorch.org/whl/cu128",
                             requirements=("gguf>=0.13.0",))
    paths = [f.relpath for f in plan.files]
    assert len(paths) == len(set(paths))
    assert {p["id"] for p in plan.presets} == {"photorealism", "lightweight"}
    assert plan.python is not None and plan.python.requirements == ("gguf>=0.13.0",)
    assert parse_plan(plan_to_json(plan), source="test") == plan
    assert not any("left out" in n for n in notes)


def test_unsupported_presets_are_left_out_with_a_note() -> None:
    report = _report(cpu_only(), ("photorealism", "voice"))
    plan, notes = build_plan(report, CAT)
    assert [p["id"] for p in plan.presets] == ["voice"]
    assert any("photorealism left out" in n for n in notes)
    assert plan.launch_args == ("--cpu",)
    assert any("torch_index" in n for n in notes)


def test_approximate_sizes_are_not_written_as_exact() -> None:
    flux = CAT.models["flux1-dev"]
    approx = tuple(replace(v, files=tuple(replace(f, bytes_exact=False) for f in v.files)) for v in flux.variants)
    cat = replace(CAT, models={**CAT.models, "flux1-dev": replace(flux, variants=approx)})
    results = recommend(cat, nvidia(24), Choices(presets=("photorealism",)))
    report = build_report(gpu_hw("nvidia", "x", 24), nvidia(24), results, storage([], {}, None, False), (), ())
    plan, _ = build_plan(report, cat)
    dit = next(f for f in plan.files if f.folder == "diffusion_models")
    assert dit.bytes is None
    assert all(f.bytes is not None for f in plan.files if f.folder != "diffusion_models")


def test_gguf_choice_brings_its_node_pack_at_the_pinned_commit() -> None:
    report = _report(nvidia(8), ("photorealism",))
    plan, _ = build_plan(report, CAT)
    assert [(p.id, p.commit) for p in plan.node_packs] == [("comfyui-gguf", "a" * 40)]
