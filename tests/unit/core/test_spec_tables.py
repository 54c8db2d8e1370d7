"""The specification's tables as cases on the embedded profiles and the shipped catalog: the VRAM tier
matrix (4/6/8/12/16/24 GB × image/video/audio/3D), the image and video model tables, the quantization
decision tree and the Apple Silicon rules. Each case asserts the status and the chosen format/quant.

"Runs" means ``fits`` or ``offload`` (ComfyUI streams weights from RAM); the specification's ⚠️ cells are
``offload``. Where the reference facts contradict the specification, the case says so in its id and follows
the facts (COMMON.md: "where the spec is wrong for ComfyUI, the reference facts win").
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rigfit.core.estimate import estimate_model
from rigfit.core.quant import Device, device_of, is_k_quant, label
from rigfit.core.recommend import Choices, PresetResult, QuantChoice, near_fit, recommend, training
from rigfit.core.units import GIB
from rigfit.shell.catalog_source import load_catalog
from rigfit.shell.hardware_source import embedded_profiles

CATALOG = load_catalog(())
PROFILES = embedded_profiles()
RUNS = {"fits", "offload"}
TIER_PROFILE = {4: "gtx1650-4gb", 6: "rtx2060-6gb", 8: "rtx4060-8gb", 12: "rtx4070-12gb", 16: "rtx4080-16gb",
                24: "rtx4090-24gb"}


def device(pid: str) -> Device:
    return device_of(PROFILES[pid])


def preset(pid: str, profile: str, **kw: object) -> PresetResult:
    return recommend(CATALOG, device(profile), Choices(presets=(pid,), experimental=True, **kw))[0]  # type: ignore[arg-type]


def main(r: PresetResult) -> tuple[str, str]:
    c = next(c for c in r.components if c.companion_of is None)
    return c.model.id, label(c.variant)


@dataclass(frozen=True)
class Cell:
    preset: str
    statuses: frozenset[str]
    model_prefix: str = ""  # the chosen base model's id starts with this
    quants: tuple[str, ...] = ()  # the chosen label is one of these (empty: any)


def cell(p: str, statuses: set[str], prefix: str = "", quants: tuple[str, ...] = ()) -> Cell:
    return Cell(p, frozenset(statuses), prefix, quants)


# The "VRAM Tier" table of the specification, one row per tier, one cell per column.
TIER_MATRIX = [
    (4, "image-sd15-limited", cell("lightweight", {"fits"}, "dreamshaper-8")),
    (4, "image-no-flux-at-full-speed", cell("photorealism", {"offload", "unsupported"})),
    (4, "video-none", cell("video", {"unsupported"})),
    (4, "audio-piper-only-but-f5-tts-measured-1.6gib-runs", cell("voice", {"fits"})),
    (4, "3d-none", cell("3d", {"unsupported"})),
    (6, "image-sd15", cell("lightweight", {"fits"}, "dreamshaper-8", ("FP16",))),
    (6, "image-sdxl-slow", cell("anime", {"offload"}, "animagine-xl-4")),
    (6, "video-wan-gguf", cell("video", {"offload"}, "wan22", ("Q3_K_S", "Q3_K_M", "Q4_0", "Q4_K_S", "Q4_K_M",
                                                                  "Q5_K_S", "Q5_0"))),
    (6, "audio-xtts-class", cell("voice", {"fits"})),
    (6, "3d-triposr", cell("3d", {"fits", "offload"}, "triposr")),
    (8, "image-sdxl", cell("anime", {"fits"}, "animagine-xl-4", ("FP16",))),
    (8, "image-flux-q4-q5", cell("photorealism", RUNS, "flux1-dev", ("Q4_K_S", "Q4_0", "Q4_1", "Q5_K_S", "Q5_0"))),
    (8, "video-wan22-5b", cell("video", RUNS, "wan22-ti2v-5b")),
    (8, "audio-tts", cell("voice", {"fits"})),
    (8, "audio-lip-sync", cell("lipsync", {"fits"})),
    (8, "3d-triposr", cell("3d", {"fits"}, "triposr")),
    (12, "image-flux-fp8", cell("photorealism", RUNS, "flux1-dev", ("FP8",))),
    (12, "video-runs", cell("video", RUNS)),
    (12, "audio-full", cell("music", {"fits"})),
    (12, "3d-full", cell("3d", {"fits"})),
    (16, "image-flux-fp8-full-speed", cell("photorealism", {"fits"}, "flux1-dev", ("FP8",))),
    (16, "video-runs", cell("video", RUNS)),
    (16, "audio-full", cell("voice", {"fits"}, "f5-tts")),
    (24, "image-flux-16-bit", cell("photorealism", {"fits"}, "flux1-dev", ("BF16",))),
    (24, "video-14b", cell("video", RUNS, "wan22-t2v-a14b")),
    (24, "audio-full-lipsync-latentsync", cell("lipsync", {"fits"}, "latentsync-16")),
]


@pytest.mark.parametrize(("tier", "name", "want"), TIER_MATRIX, ids=[f"{t}gb-{n}" for t, n, _ in TIER_MATRIX])
def test_vram_tier_matrix(tier: int, name: str, want: Cell) -> None:
    r = preset(want.preset, TIER_PROFILE[tier])
    assert r.status in want.statuses, [x.text for x in r.reasons]
    if want.model_prefix or want.quants:
        model, quant = main(r)
        assert model.startswith(want.model_prefix)
        assert not want.quants or quant in want.quants, quant


@pytest.mark.parametrize(("tier", "expected"), [
    (4, ()), (6, ()), (8, ("SD1.5 LoRA",)), (12, ("SDXL LoRA", "SD1.5 LoRA")),
    (16, ("most LoRA training, Flux LoRA included", "SDXL LoRA", "SD1.5 LoRA")),
    (24, ("full fine-tuning of SD-class models", "most LoRA training, Flux LoRA included", "SDXL LoRA",
          "SD1.5 LoRA")),
], ids=["4gb-none", "6gb-none", "8gb-sd15-lora", "12gb-sdxl-lora", "16gb-most", "24gb-full"])
def test_training_column(tier: int, expected: tuple[str, ...]) -> None:
    assert training(device(TIER_PROFILE[tier])) == expected


# The image model table: (model, variant, profile, statuses). Minimum VRAM → runs there; recommended → fits.
IMAGE_TABLE = [
    ("sd15", "sd15-fp16", "gtx1650-4gb", {"fits"}),
    ("sdxl-base", "sdxl-base-fp16", "rtx4060-8gb", {"fits"}),
    ("sd35-medium", "sd35-medium-fp16", "rtx4070-12gb", {"fits"}),
    ("flux1-dev", "fp8", "rtx4070-12gb", RUNS),
    ("flux1-dev", "fp8", "rtx4080-16gb", {"fits"}),
    ("flux1-dev", "Q4_K_S", "rtx4060-8gb", RUNS),
    ("flux1-dev", "bf16", "rtx4090-24gb", {"fits"}),
    ("flux1-dev", "bf16", "rtx4080-16gb", {"offload"}),
]


@pytest.mark.parametrize(("model", "variant", "profile", "statuses"), IMAGE_TABLE,
                         ids=[f"{m}-{v}-on-{p}" for m, v, p, _ in IMAGE_TABLE])
def test_image_model_table(model: str, variant: str, profile: str, statuses: set[str]) -> None:
    est = estimate_model(CATALOG, device(profile), model, variant)
    assert est.budget.status in statuses
    if est.budget.status == "offload" and statuses == RUNS:
        assert near_fit(est.budget) or est.budget.slowdown is not None


# The video model table at 8 / 12 / 24 GB (832×480, the preset's working size).
VIDEO_TABLE = [
    ("wan22-ti2v-5b", None, "rtx4060-8gb", RUNS),
    ("wan22-t2v-a14b", "Q4_K_M", "rtx4060-8gb", RUNS),
    ("ltxv-2b", "fp8", "rtx4060-8gb", RUNS),
    ("hunyuan-video", "Q4_K_M", "rtx4060-8gb", {"offload"}),
    ("animatediff-sd15", None, "rtx4060-8gb", {"fits"}),
    ("wan22-ti2v-5b", None, "rtx4090-24gb", {"fits"}),
    ("cogvideox-5b", "bf16", "rtx4090-24gb", {"fits"}),
]


@pytest.mark.parametrize(("model", "variant", "profile", "statuses"), VIDEO_TABLE,
                         ids=[f"{m}-{v or 'best'}-on-{p}" for m, v, p, _ in VIDEO_TABLE])
def test_video_model_table(model: str, variant: str | None, profile: str, statuses: set[str]) -> None:
    m = CATALOG.models[model]
    frames = 16 if model.startswith("animatediff") else 81
    res = (512, 512) if model.startswith("animatediff") else (832, 480)
    est = estimate_model(CATALOG, device(profile), model, variant, resolution=res,
                         frames=frames if m.memory.temporal_compression or model.startswith("wan") else None)
    assert est.budget.status in statuses, est.budget.notes


# The quantization decision tree, on real profiles.
QUANT_TREE = [
    ("ada-fp8", "rtx4070-12gb", ("FP8",)),
    ("ampere-gguf-q6-q8", "rtx3060-12gb", ("Q8_0", "Q6_K")),
    ("pascal-gguf-k-quant-q3-q4-class", "gtx1060-6gb", ("Q2_K", "Q3_K_S", "Q4_K_S")),
    ("amd-gguf", "rx7600-8gb", ("Q4_K_S", "Q5_K_S", "Q4_0", "Q5_0")),
    ("24gb-16-bit", "rtx4090-24gb", ("BF16",)),
    ("blackwell-32gb-16-bit-no-nvfp4-flux-file", "rtx5090-32gb", ("BF16",)),
]


@pytest.mark.parametrize(("name", "profile", "quants"), QUANT_TREE, ids=[n for n, _, _ in QUANT_TREE])
def test_quantization_decision_tree(name: str, profile: str, quants: tuple[str, ...]) -> None:
    r = preset("photorealism", profile)
    model, quant = main(r)
    assert model == "flux1-dev" and quant in quants
    assert r.status in RUNS


def test_lora_never_gets_nf4_anywhere() -> None:
    for pid in TIER_PROFILE.values():
        for r in recommend(CATALOG, device(pid), Choices(lora=True)):
            assert all(c.variant.format != "nf4" for c in r.components)


def test_no_fp8_flag_removes_fp8_on_ada() -> None:
    r = preset("photorealism", "rtx4070-12gb", quant=QuantChoice(fp8=False))
    assert main(r)[1] != "FP8"


APPLE = [pid for pid, hw in PROFILES.items() if hw.primary_gpu is not None and hw.primary_gpu.vendor == "apple"]


@pytest.mark.parametrize("pid", APPLE, ids=APPLE)
def test_apple_never_fp8_nor_k_quants(pid: str) -> None:
    for r in recommend(CATALOG, device(pid), Choices(experimental=True)):
        for c in r.components:
            assert c.variant.format != "fp8", (r.preset.id, c.variant.id)
            assert not (c.variant.format == "gguf" and is_k_quant(c.variant.quant)), (r.preset.id, c.variant.id)


@pytest.mark.parametrize("pid", APPLE, ids=APPLE)
def test_apple_budget_is_the_gpu_share_of_unified_memory(pid: str) -> None:
    hw = PROFILES[pid]
    ram = hw.ram_bytes or 0
    share = ram * 2 // 3 if ram <= 32 * GIB else ram * 3 // 4
    assert device(pid).vram_bytes == share < ram


def test_m1_base_chip_is_limited_to_sd_class() -> None:
    r = preset("photorealism", "m1-8gb")
    assert not main(r)[0].startswith("flux") if r.components else True
    assert any(x.code == "apple-base-chip" for x in r.reasons)
    assert preset("video", "m1-8gb").status == "unsupported"
    assert preset("anime", "m1-8gb").status == "fits"


def test_m3_max_prefers_mlx_for_flux_with_the_reason() -> None:
    r = preset("photorealism", "m3-max-64gb")
    assert main(r)[0] == "flux1-dev" and r.status == "fits"
    assert any(x.code == "mlx-runtime" and "mflux" in x.text for x in r.reasons)


def test_m4_24gb_uses_non_k_gguf_for_flux() -> None:
    model, quant = main(preset("photorealism", "m4-24gb"))
    assert model == "flux1-dev" and quant in {"Q8_0", "Q5_0", "Q4_0", "Q5_1", "Q4_1", "BF16"}
