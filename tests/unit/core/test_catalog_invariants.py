"""Catalog-wide invariants of the SHIPPED catalog (the data in ``src/rigfit/data/catalog``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rigfit.core.catalog.schema import Catalog
from rigfit.core.folders import COMFYUI_FOLDERS
from rigfit.shell.catalog_source import load_catalog

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "catalog_reference_facts.json"

# Every family the issue lists, with the catalog model that stands for it.
FAMILIES = {
    "SD1.5": "sd15",
    "SDXL": "sdxl-base",
    "SD3.5 Medium": "sd35-medium",
    "SD3.5 Large": "sd35-large",
    "Flux.1 dev": "flux1-dev",
    "Flux.1 schnell": "flux1-schnell",
    "Flux.1 Fill": "flux1-fill-dev",
    "Flux.1 Depth": "flux1-depth-dev",
    "Flux.1 Canny": "flux1-canny-dev",
    "Flux.1 Redux": "flux1-redux-dev",
    "Flux.1 Kontext": "flux1-kontext-dev",
    "Wan 2.2 5B": "wan22-ti2v-5b",
    "Wan 2.2 14B": "wan22-t2v-a14b",
    "LTX-Video 2B": "ltxv-2b",
    "LTX-2": "ltx-2",
    "HunyuanVideo": "hunyuan-video",
    "HunyuanVideo 1.5": "hunyuan-video-15",
    "AnimateDiff": "animatediff-sd15",
    "CogVideoX-5B": "cogvideox-5b",
    "Mochi": "mochi-1-preview",
    "F5-TTS": "f5-tts",
    "XTTS-v2": "xtts-v2",
    "Piper": "piper",
    "MusicGen": "musicgen-medium",
    "ACE-Step": "ace-step-v1",
    "AudioLDM 2": "audioldm2",
    "Stable Audio Open": "stable-audio-open",
    "LatentSync 1.6": "latentsync-16",
    "SadTalker": "sadtalker",
    "LivePortrait": "liveportrait",
    "MuseTalk": "musetalk",
    "TripoSR": "triposr",
    "InstantMesh": "instantmesh",
    "Hunyuan3D": "hunyuan3d-2",
    "Shap-E": "shap-e",
    "Point-E": "point-e",
    "FLUX.2": "flux2-dev",
    "ControlNet": "controlnet-sd15-canny",
    "IP-Adapter": "ip-adapter-plus-sd15",
    "CLIP-vision": "clip-vision-vit-h",
    "InstantID": "instantid",
    "PuLID": "pulid-flux",
    "InsightFace antelopev2": "insightface-antelopev2",
    "CodeFormer": "codeformer",
    "Real-ESRGAN": "realesrgan-x4plus",
    "4x-AnimeSharp": "4x-animesharp",
    "RIFE": "rife",
    "kl-f8-anime2": "kl-f8-anime2",
    "easynegative": "easynegative",
    "bad-hands-5": "bad-hands-5",
    "CLIP-L": "clip-l",
    "CLIP-G": "clip-g",
    "T5-XXL": "t5xxl",
    "umT5-XXL": "umt5-xxl",
    "LLaVA-Llama-3": "llava-llama3",
    "Qwen2.5-VL": "qwen-2.5-vl-7b",
}
PRESETS = ("photorealism", "anime", "video", "lightweight", "character", "voice", "music", "lipsync", "3d")
SPEC_PACKS = (
    "comfyui-manager",
    "comfyui-ipadapter-plus",
    "comfyui-controlnet-aux",
    "comfyui-videohelpersuite",
    "comfyui-ic-light",
    "comfyui-instantid",
    "comfyui-pulid-flux",
    "comfyui-frame-interpolation",
    "efficiency-nodes",
    "comfyui-gguf",
    "comfyui-animatediff-evolved",
    "comfyui-impact-pack",
    "comfyui-tiled-diffusion",
)
NC_MARKS = re.compile(r"non-commercial|noncommercial|-nc-|research")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.mark.parametrize(("family", "model_id"), FAMILIES.items(), ids=list(FAMILIES))
def test_every_family_of_the_issue_has_a_variant_of_real_files(
    catalog: Catalog, family: str, model_id: str
) -> None:
    model = catalog.models[model_id]
    assert model.variants, family
    for variant in model.variants:
        assert variant.files, variant.id
        assert all(f.url.startswith("https://") and f.filename for f in variant.files)


def test_variant_ids_start_with_their_model_id(catalog: Catalog) -> None:
    bad = [v.id for v in catalog.variants.values() if not v.id.startswith(v.model)]
    assert not bad


def test_every_file_has_a_folder_comfyui_or_a_declared_pack_or_runtime_knows(catalog: Catalog) -> None:
    declared = {f for p in catalog.node_packs.values() for f in p.folders}
    declared |= {f for m in catalog.models.values() for r in (m.runtime, *m.alt_runtimes) for f in r.folders}
    for variant in catalog.variants.values():
        for item in variant.files:
            head = item.folder.split("/", 1)[0]
            assert head in COMFYUI_FOLDERS or any(
                item.folder == d or item.folder.startswith(d + "/") for d in declared
            ), f"{variant.id}: {item.folder}"
            assert head not in {"unet", "clip"}, "legacy folder keys are never written"


def test_every_non_commercial_licence_is_marked(catalog: Catalog) -> None:
    for lic in catalog.licenses.values():
        if NC_MARKS.search(f"{lic.id} {lic.name}".lower()):
            assert lic.commercial is False, lic.id
    for must_be_nc in (
        "flux-1-dev-non-commercial-license",
        "cc-by-nc-4.0",
        "insightface-non-commercial",
        "coqui-public-model-license",
        "s-lab-1.0",
    ):
        assert catalog.licenses[must_be_nc].commercial is False
    assert catalog.models["flux1-schnell"].license == "apache-2.0"
    assert catalog.licenses[catalog.models["flux1-dev"].license].commercial is False
    assert catalog.licenses[catalog.models["insightface-antelopev2"].license].commercial is False


def test_every_preset_exists_and_every_slot_has_a_candidate_that_is_not_excluded(catalog: Catalog) -> None:
    assert set(PRESETS) <= set(catalog.presets)
    for preset in catalog.presets.values():
        assert preset.min_vram_bytes <= preset.recommended_vram_bytes, preset.id
        for component in preset.components:
            assert all(m in catalog.models for m in component.models)
            assert any(catalog.models[m].excluded is None for m in component.models), (
                preset.id,
                component.role,
            )
        assert all(p in catalog.node_packs for p in preset.node_packs)
        if preset.category in ("image", "video"):
            assert preset.resolution is not None, preset.id


def test_presets_fall_back_to_smaller_models(catalog: Catalog) -> None:
    photo = catalog.presets["photorealism"].components[0].models
    assert photo[0] == "flux1-dev" and catalog.models[photo[1]].family == "sdxl"
    anime = catalog.presets["anime"].components[0].models
    assert catalog.models[anime[0]].family == "sdxl" and anime[-1] == "dreamshaper-8"
    assert catalog.presets["3d"].maturity == "experimental"
    assert catalog.presets["3d"].components[0].models[0] == "triposr"


def test_the_specifications_exclusions_are_data(catalog: Catalog) -> None:
    for model_id in ("flux2-dev", "mochi-1-preview", "instantmesh", "hunyuan3d-2", "shap-e", "point-e"):
        assert catalog.models[model_id].excluded, model_id
    assert catalog.models["triposr"].excluded is None
    assert catalog.models["instantid"].maturity == "maintenance-mode"


def test_companions_are_required_as_comfyui_needs_them(catalog: Catalog) -> None:
    def required(model_id: str) -> list[tuple[str, ...]]:
        return [r.models for r in catalog.models[model_id].requires if not r.optional]

    assert required("flux1-dev") == [("clip-l",), ("t5xxl",), ("flux-ae",)]
    assert ("umt5-xxl",) in required("wan22-t2v-a14b") and ("wan21-vae",) in required("wan22-t2v-a14b")
    assert ("wan22-vae",) in required("wan22-ti2v-5b")
    experts = catalog.variants["wan22-t2v-a14b-fp8-scaled"].files
    assert {("high_noise" in f.filename, "low_noise" in f.filename) for f in experts} == {
        (True, False),
        (False, True),
    }
    t5 = {(v.format, v.quant) for v in catalog.models["t5xxl"].variants}
    assert {("fp16", None), ("fp8", "e4m3fn"), ("fp8", "e4m3fn_scaled"), ("gguf", "Q8_0")} <= t5


def test_gguf_variants_name_the_pack_that_loads_them(catalog: Catalog) -> None:
    for variant in catalog.variants.values():
        if variant.format == "gguf":
            assert variant.node_packs, variant.id
            assert re.fullmatch(r"Q[2-8]_(K(_[SML])?|[01])|F16|BF16|F32", variant.quant or ""), variant.id


def test_the_quantization_ladder_exists_for_flux(catalog: Catalog) -> None:
    quants = {v.quant for v in catalog.models["flux1-dev"].variants if v.format == "gguf"}
    assert {"Q2_K", "Q3_K_S", "Q4_0", "Q4_K_S", "Q5_0", "Q5_K_S", "Q6_K", "Q8_0"} <= quants
    formats = {v.format for v in catalog.models["flux1-dev"].variants}
    assert {"bf16", "fp8", "gguf"} <= formats


def test_the_specifications_node_packs_are_pinned_to_full_commits(catalog: Catalog) -> None:
    for pack_id in SPEC_PACKS:
        pack = catalog.node_packs[pack_id]
        assert re.fullmatch(r"[0-9a-f]{40}", pack.commit)
        assert pack.repo.startswith("https://github.com/")


def test_hashes_and_sizes_are_well_formed(catalog: Catalog) -> None:
    for variant in catalog.variants.values():
        for item in variant.files:
            assert item.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", item.sha256)
            assert item.bytes is None or item.bytes > 0
            assert not item.bytes_exact or item.bytes is not None
            assert item.source, f"{variant.id}: {item.filename} says where its size comes from"


def test_exact_sizes_and_hashes_match_the_reference_facts() -> None:
    """Sizes and hashes were copied, never invented: where the reference has them, they agree."""
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))["files"]
    by_url = {row["url"]: row for row in reference}
    catalog = load_catalog()
    compared = 0
    for variant in catalog.variants.values():
        for item in variant.files:
            row = by_url.get(item.url)
            if row is None:
                continue
            compared += 1
            if row["bytes"] is not None:
                assert item.bytes_exact and item.bytes == row["bytes"], item.url
            elif item.bytes_exact:
                # Exact only where a later source was found; its source must say so.
                assert "exact bytes" in item.source, f"{item.url}: exact without naming where the size comes from"
            if row["sha256"]:
                assert item.sha256 == row["sha256"], item.url
    assert compared >= 90


def test_memory_facts_are_filled_for_the_diffusion_families(catalog: Catalog) -> None:
    for model_id, factor in (
        ("sd15", 1.0),
        ("sdxl-base", 0.8),
        ("sd35-medium", 1.2),
        ("flux1-dev", 3.1),
        ("hunyuan-video", 1.8),
    ):
        assert catalog.models[model_id].memory.usage_factor == factor
    assert catalog.models["wan22-ti2v-5b"].memory.spatial_compression == 16
    assert catalog.models["ltxv-2b"].memory.temporal_compression == 8
    figures = [f for m in catalog.models.values() for f in m.memory.published]
    assert len(figures) >= 40
    assert {f.runtime for f in figures} >= {"comfyui", "diffusers", "reference-code"}
    assert all(f.source and f.settings for f in figures)


# ComfyUI 0.3.64 (a125cd84) comfy/supported_models.py: memory_usage_factor of the model classes the catalog's
# native families load as (Wan: the transformer's dim / 2222). The budget's activation estimate is ComfyUI's
# formula with these, so a wrong factor is a wrong "fits".
COMFYUI_USAGE_FACTORS = {
    "sd15": 1.0, "dreamshaper-8": 1.0, "animatediff-sd15": 1.0,  # SD15
    "sdxl-base": 0.8, "realvisxl-v5": 0.8, "animagine-xl-4": 0.8,  # SDXL
    "sdxl-refiner": 1.0,  # SDXLRefiner
    "sd35-medium": 1.2, "sd35-large": 1.2, "sd35-large-turbo": 1.2,  # SD3
    "flux1-dev": 3.1, "flux1-schnell": 3.1, "flux1-fill-dev": 3.1, "flux1-depth-dev": 3.1,  # Flux
    "flux1-canny-dev": 3.1, "flux1-kontext-dev": 3.1,
    "ltxv-2b": 5.5,  # LTXV
    "hunyuan-video": 1.8,  # HunyuanVideo
    "mochi-1-preview": 2.0,  # GenmoMochi
    "wan22-ti2v-5b": 3072 / 2222, "wan22-t2v-a14b": 5120 / 2222, "wan22-i2v-a14b": 5120 / 2222,  # WAN21_T2V
    "wan21-t2v-14b": 5120 / 2222,
    "hunyuan3d-2": 3.5, "hunyuan3d-21": 3.5,  # Hunyuan3Dv2
    "ace-step-v1": 0.5,  # ACEStep
}


@pytest.mark.parametrize("model_id", sorted(COMFYUI_USAGE_FACTORS))
def test_usage_factors_are_comfyuis(catalog: Catalog, model_id: str) -> None:
    factor = catalog.models[model_id].memory.usage_factor
    assert factor is not None and factor == pytest.approx(COMFYUI_USAGE_FACTORS[model_id], abs=0.001)
