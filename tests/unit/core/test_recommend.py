"""Presets × hardware × choices: the ranked, explained result."""

from __future__ import annotations

import pytest
from recommend_fixtures import apple, cpu_only, mini_catalog, nvidia

from rigfit.core.errors import BudgetError, UsageError
from rigfit.core.quant import QuantChoice, label
from rigfit.core.recommend import Choices, recommend, resolve_preset, training, unlocks
from rigfit.core.units import GIB

CAT = mini_catalog()


def _main(result):
    return next(c for c in result.components if c.companion_of is None)


def one(device, preset: str = "photorealism", **kw):
    return recommend(CAT, device, Choices(presets=(preset,), **kw))[0]


def test_every_default_preset_when_none_is_asked_and_experimental_ones_listed_as_excluded() -> None:
    results = recommend(CAT, nvidia(24), Choices())
    assert [r.preset.id for r in results] == ["photorealism", "lightweight", "anime", "voice", "video"]
    assert results[-1].status == "excluded"  # "video" here is experimental and not a default preset
    assert recommend(CAT, nvidia(80), Choices(experimental=True))[-1].status == "fits"


def test_unknown_preset_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown preset 'nope'.*photorealism"):
        recommend(CAT, nvidia(8), Choices(presets=("nope",)))


def test_24gb_runs_flux_16_bit_with_its_companions() -> None:
    r = one(nvidia(24))
    assert r.status == "fits"
    assert [(c.role, c.model.id) for c in r.components] == [
        ("diffusion_model", "flux1-dev"), ("text_encoder", "t5xxl"), ("text_encoder", "clip-l"), ("vae", "flux-ae")]
    assert label(_main(r).variant) == "BF16"


def test_12gb_ada_steps_down_to_fp8_and_says_what_a_step_up_costs() -> None:
    main = _main(one(nvidia(12)))
    assert label(main.variant) == "FP8"
    assert main.step_up is not None and "BF16" in main.step_up


def test_commercial_drops_flux_dev_and_offers_schnell_with_the_reason() -> None:
    r = one(nvidia(24), commercial=True)
    assert _main(r).model.id == "flux1-schnell"
    assert any(x.code == "licence" and "flux1-dev" in x.text for x in r.reasons)


def test_experimental_preset_is_excluded_unless_asked() -> None:
    assert one(nvidia(80), "video").status == "excluded"
    shown = one(nvidia(80), "video", experimental=True)
    assert shown.status == "fits" and any("experimental" in w for w in shown.warnings)


def test_lora_never_picks_nf4_even_when_asked_for_by_tier() -> None:
    with pytest.raises(BudgetError, match="LoRA"):
        recommend(CAT, nvidia(12), Choices(presets=("photorealism",), lora=True, quant=QuantChoice(tier="nf4")))


def test_quant_tier_applies_to_models_that_have_it() -> None:
    r = recommend(CAT, nvidia(24), Choices(presets=("photorealism",), quant=QuantChoice(tier="Q6_K")))[0]
    assert label(_main(r).variant) == "Q6_K"


def test_quant_per_model_that_does_not_fit_is_offload_with_numbers() -> None:
    r = recommend(CAT, nvidia(8, ram_gib=64), Choices(presets=("photorealism",),
                                                      quant=QuantChoice(per_model=(("flux1-dev", "bf16"),))))[0]
    assert label(_main(r).variant) == "BF16" and r.status == "offload"
    assert r.budget is not None and r.budget.required_bytes > 8 * GIB


def test_quant_per_model_unknown_variant_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no such variant"):
        recommend(CAT, nvidia(8), Choices(quant=QuantChoice(per_model=(("flux1-dev", "Q7_X"),))))


def test_apple_gets_the_mlx_runtime_reason_and_no_fp8() -> None:
    r = one(apple(64))
    assert any(x.code == "mlx-runtime" and "mflux" in x.text for x in r.reasons)
    assert all(c.variant.format != "fp8" for c in r.components)


def test_m1_base_chip_is_limited_to_sd_class() -> None:
    m1 = apple(8, "Apple M1", "m1")
    assert one(m1).status == "unsupported"
    assert any(x.code == "apple-base-chip" for x in one(m1).reasons)
    assert _main(one(m1, "anime")).model.id == "sd15"


def test_cpu_machine_runs_piper_and_needs_a_gpu_for_diffusion() -> None:
    results = recommend(CAT, cpu_only(), Choices())
    status = {r.preset.id: r.status for r in results}
    assert status["voice"] == "fits" and status["photorealism"] == "unsupported"
    tiers = dict(unlocks(CAT, cpu_only(), results, Choices()))
    assert "lightweight" in tiers[4] and "photorealism" in [p for ids in tiers.values() for p in ids]


def test_unsupported_platform_model_is_skipped() -> None:
    from dataclasses import replace

    from rigfit.core.catalog.schema import Preset, PresetComponent

    p = Preset("x", "x", "", "audio", "mature", (PresetComponent("tts", ("cuda-only", "piper")),))
    assert _main(resolve_preset(CAT, p, apple(16), Choices())).model.id == "piper"
    assert _main(resolve_preset(CAT, replace(p), nvidia(8), Choices())).model.id == "cuda-only"


@pytest.mark.parametrize(("vram", "expected"), [
    (0, ()), (6, ()), (8, ("SD1.5 LoRA",)), (12, ("SDXL LoRA", "SD1.5 LoRA")),
    (16, ("most LoRA training, Flux LoRA included", "SDXL LoRA", "SD1.5 LoRA")),
], ids=["cpu", "6gb", "8gb", "12gb", "16gb"])
def test_training_column_of_the_specification(vram: int, expected: tuple[str, ...]) -> None:
    device = cpu_only() if vram == 0 else nvidia(vram - 0.01)
    assert training(device) == expected


def test_24gb_can_do_full_training() -> None:
    assert training(nvidia(24))[0].startswith("full fine-tuning")


def test_commercial_offers_a_same_family_alternative_the_preset_does_not_list() -> None:
    from rigfit.core.catalog.schema import Preset, PresetComponent

    only_dev = Preset("p", "p", "", "image", "mature", (PresetComponent("base_model", ("flux1-dev",)),))
    r = resolve_preset(CAT, only_dev, nvidia(24), Choices(commercial=True))
    assert _main(r).model.id == "flux1-schnell"
    assert any(x.code == "licence-alternative" and "flux1-schnell" in x.text for x in r.reasons)


def test_commercial_with_no_allowed_model_is_excluded_not_unsupported() -> None:
    from rigfit.core.catalog.schema import Preset, PresetComponent

    p = Preset("p", "p", "", "image", "mature", (PresetComponent("tts", ("cuda-only",)),
                                                 PresetComponent("base_model", ("flux1-dev",))))
    from dataclasses import replace

    cat = replace(CAT, licenses={**CAT.licenses, "apache-2.0": replace(CAT.licenses["apache-2.0"], commercial=False)})
    assert resolve_preset(cat, p, nvidia(24), Choices(commercial=True)).status == "excluded"


def test_an_optional_part_left_out_on_a_cpu_says_the_main_models_do_not_run_either() -> None:
    """On a CPU-only machine the optional TTS is not dropped "because it does not fit": the base model is
    what cannot run there."""
    from rigfit.core.quant import device_of
    from rigfit.shell.catalog_source import load_catalog
    from rigfit.shell.hardware_source import load_profile

    catalog = load_catalog(())
    device = device_of(load_profile("cpu-laptop-16gb"))
    result = resolve_preset(catalog, catalog.presets["lightweight"], device, Choices())
    left_out = [w for w in result.warnings if w.startswith("left out optional")]
    assert left_out and all("do not run here at full speed either" in w for w in left_out), left_out


def test_a_variant_asked_by_name_that_the_hardware_cannot_run_is_refused_even_if_no_preset_uses_the_model() -> None:
    """FP8 Flux on an M2 base chip: Flux is not considered there at all, yet the request is still refused."""
    from rigfit.core.quant import parse_quant_args

    device = apple(16, name="Apple M2", arch="m2")
    assert not any(c.model.id.startswith("flux") for c in one(device).components)  # Flux is not considered
    with pytest.raises(BudgetError, match="float8"):
        recommend(CAT, device, Choices(presets=("photorealism",), quant=parse_quant_args(["flux1-dev=fp8"])))


def test_unknown_file_sizes_are_said_apart_from_approximate_ones() -> None:
    """A file of unknown size counts as 0 in every figure: the user is told so, not shown a rounded size."""
    from recommend_fixtures import f

    from rigfit.core.bundle import Chosen, size_notes
    from rigfit.core.catalog.schema import CatalogFile, Model, Variant

    def chosen(mid: str, *files: CatalogFile) -> Chosen:
        variant = Variant(f"{mid}-v", "fp16", None, files, model=mid)
        return Chosen("lipsync", Model(mid, mid, mid, "audio", "lipsync", "mit", "mature", (variant,)), variant, "")

    unknown = CatalogFile("w.bin", "x", "https://example.org/w.bin", None, False)
    picks = [chosen("exact", f("a", "x", 10)), chosen("rounded", f("b", "x", 10, exact=False)),
             chosen("blank", f("c", "x", 10), unknown)]
    assert size_notes(picks) == (
        "file sizes unknown for blank: those files count as 0 in the download and VRAM figures",
        "download sizes are approximate for rounded")
    assert size_notes(picks, approximate=False) == size_notes(picks)[:1]
    assert size_notes(picks[:1]) == ()


def test_an_estimate_of_a_model_with_unknown_sizes_says_so() -> None:
    from rigfit.core.estimate import estimate_model
    from rigfit.shell.catalog_source import load_catalog

    catalog = load_catalog(())
    device = nvidia(12)
    notes = estimate_model(catalog, device, "musetalk").budget.notes
    assert any(n.startswith("file sizes unknown for musetalk") for n in notes)
    assert not any("unknown" in n for n in estimate_model(catalog, device, "sd15").budget.notes)
