"""Starter workflows validate against ComfyUI 0.3.64's schema and load exactly the planned files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rigfit.core.workflow_schema import (
    Schema,
    parse_object_info,
    parse_pack_schemas,
    validate_prompt,
    with_files,
)
from rigfit.core.workflow_ui import to_ui, ui_to_api
from rigfit.core.workflows import check_schema, planned_files, starter_workflows, to_api

DUMP = Path(__file__).resolve().parents[3] / "src" / "rigfit" / "data" / "comfyui" / "object_info-0.3.64.json"
PACK_DATA = (
    Path(__file__).resolve().parents[3] / "src" / "rigfit" / "data" / "comfyui" / "node_packs-schema.json"
)
GGUF_CLASSES = frozenset({"UnetLoaderGGUF", "CLIPLoaderGGUF", "DualCLIPLoaderGGUF", "UnetLoaderGGUFAdvanced"})
LATENTSYNC_CLASSES = frozenset({"LatentSyncNode", "VideoLengthAdjuster"})
VHS_CLASSES = frozenset({"VHS_LoadVideo", "VHS_VideoCombine", "VHS_LoadAudio"})
TRIPOSR_CLASSES = frozenset({"TripoSRModelLoader", "TripoSRSampler", "TripoSRViewer"})
F5_CLASSES = frozenset({"F5TTSAudio", "F5TTSAudioInputs", "F5TTSAudioAdvanced"})
PACK_CLASSES = GGUF_CLASSES | LATENTSYNC_CLASSES | VHS_CLASSES | TRIPOSR_CLASSES | F5_CLASSES


@pytest.fixture(scope="module")
def schema() -> Schema:
    return parse_object_info(json.loads(DUMP.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def packs() -> Schema:
    return parse_pack_schemas(json.loads(PACK_DATA.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def pack_schemas(packs: Schema) -> Schema:
    return packs


def comp(role: str, model: str, *files: tuple[str, str]) -> dict[str, Any]:
    return {
        "role": role,
        "model": model,
        "format": "fp16",
        "quant": None,
        "files": [
            {"filename": n, "folder": f, "bytes": 1, "url": "https://example.org/" + n} for f, n in files
        ],
    }


def preset(pid: str, *components: dict[str, Any]) -> dict[str, Any]:
    return {"id": pid, "components": list(components)}


T5 = ("text_encoders", "t5xxl_fp8_e4m3fn.safetensors")
CLIP_L = ("text_encoders", "clip_l.safetensors")

# One preset per pipeline, with the files the reference facts name for each family.
PIPELINES = [
    pytest.param(preset("lightweight", comp("checkpoint", "sd15", ("checkpoints", "v1-5-pruned-emaonly-fp16.safetensors"))), "sd15", id="sd15-checkpoint"),
    pytest.param(
        preset(
            "anime",
            comp("checkpoint", "sdxl-hassaku", ("checkpoints", "hassakuXL.safetensors")),
            comp("vae", "sdxl-vae", ("vae", "sdxl_vae.safetensors")),
            comp("upscale", "4x-animesharp", ("upscale_models", "4x-AnimeSharp.pth")),
        ),
        "sdxl",
        id="sdxl-checkpoint-vae-upscale",
    ),
    pytest.param(
        preset(
            "photorealism",
            comp("diffusion_model", "flux1-dev", ("diffusion_models", "flux1-dev-fp8.safetensors")),
            comp("text_encoder", "t5xxl", T5),
            comp("text_encoder", "clip-l", CLIP_L),
            comp("vae", "flux-ae", ("vae", "ae.safetensors")),
            comp("lora", "realism-lora", ("loras", "flux_realism_lora.safetensors")),
            comp("upscale", "realesrgan", ("upscale_models", "RealESRGAN_x4plus.pth")),
        ),
        "flux",
        id="flux-dev-split-lora-upscale",
    ),
    pytest.param(
        preset(
            "photorealism",
            comp("diffusion_model", "flux1-schnell", ("unet", "flux1-schnell-Q4_K_S.gguf")),
            comp("text_encoder", "t5xxl", ("clip", "t5-v1_1-xxl-encoder-Q5_K_M.gguf")),
            comp("text_encoder", "clip-l", CLIP_L),
            comp("vae", "flux-ae", ("vae", "ae.safetensors")),
        ),
        "flux",
        id="flux-schnell-gguf-pack",
    ),
    pytest.param(
        preset(
            "character",
            comp("diffusion_model", "sd3.5-large", ("diffusion_models", "sd3.5_large_fp8_scaled.safetensors")),
            comp("text_encoder", "clip-l", CLIP_L),
            comp("text_encoder", "clip-g", ("text_encoders", "clip_g.safetensors")),
            comp("text_encoder", "t5xxl", T5),
            comp("vae", "sd3-vae", ("vae", "sd3_vae.safetensors")),
        ),
        "sd3",
        id="sd35-split-triple-clip",
    ),
    pytest.param(
        preset(
            "video",
            comp("diffusion_model", "wan2.2-ti2v-5b", ("diffusion_models", "wan2.2_ti2v_5B_fp16.safetensors")),
            comp("text_encoder", "umt5-xxl", ("text_encoders", "umt5_xxl_fp8_e4m3fn_scaled.safetensors")),
            comp("vae", "wan2.2-vae", ("vae", "wan2.2_vae.safetensors")),
        ),
        "wan22-5b",
        id="wan22-5b",
    ),
    pytest.param(
        preset(
            "video",
            comp(
                "diffusion_model",
                "wan2.2-t2v-a14b",
                ("diffusion_models", "wan2.2_t2v_high_noise_14B_Q5_K_M.gguf"),
                ("diffusion_models", "wan2.2_t2v_low_noise_14B_Q5_K_M.gguf"),
            ),
            comp("text_encoder", "umt5-xxl", ("text_encoders", "umt5_xxl_fp8_e4m3fn_scaled.safetensors")),
            comp("vae", "wan2.1-vae", ("vae", "wan_2.1_vae.safetensors")),
        ),
        "wan22-14b",
        id="wan22-14b-gguf-two-pass",
    ),
    pytest.param(
        preset(
            "video",
            comp("checkpoint", "ltx-video-2b", ("checkpoints", "ltx-video-2b-v0.9.5.safetensors")),
            comp("text_encoder", "t5xxl", ("text_encoders", "t5xxl_fp16.safetensors")),
        ),
        "ltxv",
        id="ltxv-2b",
    ),
    pytest.param(
        preset(
            "music",
            comp("checkpoint", "stable-audio-open-1.0", ("checkpoints", "stable_audio_open_1.0.safetensors")),
            comp("text_encoder", "t5-base", ("text_encoders", "t5_base.safetensors")),
        ),
        "stable-audio",
        id="stable-audio-open",
    ),
    pytest.param(
        preset(
            "character",
            comp("checkpoint", "sd35-large", ("checkpoints", "sd3.5_large.safetensors")),
            comp("text_encoder", "clip-l", CLIP_L),
            comp("text_encoder", "clip-g", ("text_encoders", "clip_g.safetensors")),
            comp("text_encoder", "t5xxl", T5),
        ),
        "sd3",
        id="sd35-checkpoint-with-separate-text-encoders",
    ),
    pytest.param(preset("music", comp("checkpoint", "ace-step-v1-3.5b", ("checkpoints", "ace_step_v1_3.5b.safetensors"))), "ace-step", id="ace-step-v1"),
    pytest.param(
        preset(
            "lipsync",
            comp(
                "lipsync",
                "latentsync-16",
                ("custom_nodes/ComfyUI-LatentSyncWrapper/checkpoints", "latentsync_unet.pt"),
                ("custom_nodes/ComfyUI-LatentSyncWrapper/checkpoints/whisper", "tiny.pt"),
            ),
        ),
        "latentsync",
        id="latentsync-16-pack",
    ),
    pytest.param(preset("3d", comp("image_to_3d", "triposr", ("checkpoints", "TripoSR.ckpt"))), "triposr", id="triposr-pack"),
    pytest.param(preset("voice", comp("tts", "f5-tts", ("checkpoints/F5-TTS", "model_1250000.safetensors"))), "f5-tts", id="f5-tts-pack"),
]  # fmt: skip


@pytest.mark.parametrize(("the_preset", "kind"), PIPELINES)
def test_each_pipeline_validates_and_loads_every_main_file(
    schema: Schema, packs: Schema, the_preset: dict[str, Any], kind: str
) -> None:
    """The workflow is built (not skipped), passes /prompt validation, and names every planned main file."""
    result = starter_workflows([the_preset], schema=schema, pack_classes=PACK_CLASSES, packs=packs)
    assert result.skipped == ()
    (wf,) = result.workflows
    assert wf.kind == kind
    checked = check_schema(schema, PACK_CLASSES, None, [the_preset], packs)
    assert validate_prompt(to_api(wf), checked) == ()
    planned = {(f, n) for f, names in planned_files([the_preset]).items() for n in names}
    # Every planned checkpoint / diffusion model / text encoder / VAE is loaded by the graph.
    main = {(f, n) for f, n in planned if f in {"checkpoints", "diffusion_models", "text_encoders", "vae"}}
    assert main <= set(wf.files)
    # Files a pack node fetches and loads itself are named in the notes instead.
    fetched = {(f, n) for f, n in planned if f.startswith(("checkpoints/", "custom_nodes/"))}
    assert all(any(f"{f}/{n} is loaded by" in note for note in wf.notes) for f, n in fetched)


@pytest.mark.parametrize(("the_preset", "kind"), PIPELINES)
def test_ui_format_carries_the_same_graph(
    schema: Schema, packs: Schema, the_preset: dict[str, Any], kind: str
) -> None:
    """Reading the LiteGraph file back as the frontend does gives the API prompt (links and widget values)."""
    (wf,) = starter_workflows([the_preset], schema=schema, pack_classes=PACK_CLASSES, packs=packs).workflows
    full = check_schema(schema, PACK_CLASSES, None, [the_preset], packs)
    ui = to_ui(wf, full)
    assert ui["version"] == 0.4 and ui["last_node_id"] == max(n["id"] for n in ui["nodes"])
    assert ui["last_link_id"] == len(ui["links"])
    for link in ui["links"]:
        link_id, src, src_slot, dst, dst_slot, kind_ = link
        dst_node = next(n for n in ui["nodes"] if n["id"] == dst)
        src_node = next(n for n in ui["nodes"] if n["id"] == src)
        assert dst_node["inputs"][dst_slot]["link"] == link_id
        assert (
            link_id in src_node["outputs"][src_slot]["links"]
            and src_node["outputs"][src_slot]["type"] == kind_
        )
    api = {k: {"class_type": v["class_type"], "inputs": v["inputs"]} for k, v in to_api(wf).items()}
    assert ui_to_api(ui, full) == api
    # VideoHelperSuite's frontend keeps its widget values by name (a list goes through a legacy layout).
    for node in ui["nodes"]:
        assert isinstance(node["widgets_values"], dict) == node["type"].startswith("VHS_")
    # Every loader names its file's download URL for the frontend's missing-model dialog.
    offered = {
        (m["directory"], m["name"]): m["url"] for n in ui["nodes"] for m in n["properties"].get("models", [])
    }
    assert set(offered) == set(wf.files) and all(
        u == "https://example.org/" + n for (_, n), u in offered.items()
    )


def test_gguf_without_the_pack_is_skipped_with_the_reason(schema: Schema) -> None:
    """A GGUF diffusion model with no ComfyUI-GGUF in the plan gets no workflow, and the reason names the loader."""
    gguf = PIPELINES[3].values[0]
    result = starter_workflows([gguf], schema=schema)
    assert result.workflows == ()
    assert "UnetLoaderGGUF" in result.skipped[0][1]


@pytest.mark.parametrize(
    ("the_preset", "why"),
    [
        pytest.param(preset("voice", comp("tts_model", "piper", ("piper", "en_US-lessac-medium.onnx"))), "no checkpoint", id="tts-no-graph"),
        pytest.param(preset("3d", comp("checkpoint", "instantmesh", ("checkpoints", "instant_mesh_large.ckpt"))), "no starter workflow", id="unknown-family"),
        pytest.param(preset("3d", comp("checkpoint", "triposr", ("checkpoints", "TripoSR.ckpt"))), "ComfyUI-Flowty-TripoSR", id="pack-not-planned"),
        pytest.param(
            preset("video", comp("diffusion_model", "wan22-i2v-a14b", ("diffusion_models", "wan2.2_i2v_high_noise_14B.safetensors"))),
            "start image",
            id="image-to-video",
        ),
        pytest.param(
            preset("photorealism", comp("diffusion_model", "flux1-dev", ("diffusion_models", "flux1-dev.safetensors"))),
            "two text encoders",
            id="flux-missing-companions",
        ),
    ],
)  # fmt: skip
def test_presets_without_a_graph_are_listed_with_a_reason(
    schema: Schema, the_preset: dict[str, Any], why: str
) -> None:
    result = starter_workflows([the_preset], schema=schema)
    assert result.workflows == ()
    assert why in result.skipped[0][1]


def test_a_workflow_that_would_not_validate_is_never_written(schema: Schema) -> None:
    """When the folder holding a planned file is not what the loader lists (here: the VAE sits in checkpoints/),
    the preset is skipped with ComfyUI's reason instead of writing a workflow that /prompt would refuse."""
    flux = PIPELINES[2].values[0]
    files = planned_files([flux])
    files["checkpoints"] = files.pop("vae")
    result = starter_workflows([flux], schema=schema, files=files)
    assert result.workflows == ()
    assert "value_not_in_list" in result.skipped[0][1] and "vae_name" in result.skipped[0][1]


def test_workflow_fails_once_a_file_is_gone(schema: Schema) -> None:
    """The same workflow checked against an install lacking its VAE is refused (what doctor relies on)."""
    (wf,) = starter_workflows([PIPELINES[2].values[0]], schema=schema).workflows
    files = planned_files([PIPELINES[2].values[0]])
    files["vae"] = []
    problems = validate_prompt(to_api(wf), with_files(schema, files))
    assert [(p.type, p.input_name) for p in problems] == [("value_not_in_list", "vae_name")]


def _catalog_presets() -> list[Any]:
    from rigfit.shell.catalog_source import load_catalog

    try:
        catalog = load_catalog()
    except Exception:  # the catalog is optional here: another part of the project fills it
        return []
    return [pytest.param(catalog, p, id=p) for p in sorted(catalog.presets)]


@pytest.mark.parametrize(
    ("catalog", "preset_id"), _catalog_presets() or [pytest.param(None, "", id="no-shipped-presets")]
)
def test_shipped_presets_get_a_valid_workflow_or_a_reason(
    schema: Schema, pack_schemas: Schema, catalog: Any, preset_id: str
) -> None:
    """Every shipped preset, with its first candidate model and first variant: a workflow that validates, or a
    reason; the node-pack presets with a ComfyUI graph (lipsync: LatentSync 1.6, 3d: TripoSR, voice: F5-TTS) must
    get one."""
    if catalog is None:
        pytest.skip("the shipped catalog has no presets yet")
    spec = catalog.presets[preset_id]
    components = []
    packs: set[str] = set(spec.node_packs)
    for slot in spec.components:
        model = catalog.models[slot.models[0]]
        variant = model.variants[0]
        packs |= set(variant.node_packs)
        components.append(comp(slot.role, model.id, *((f.folder, f.filename) for f in variant.files)))
        for req in variant.requires if variant.requires is not None else model.requires:
            if not req.optional:
                dep = catalog.models[req.models[0]]
                companion = comp(req.role, dep.id, *((f.folder, f.filename) for f in dep.variants[0].files))
                components.append({**companion, "companion_of": model.id})
    classes = frozenset(
        c for p in packs if p in catalog.node_packs for c in catalog.node_packs[p].node_classes
    )
    families = {m.id: m.family for m in catalog.models.values()}
    the_preset = preset(preset_id, *components)
    result = starter_workflows(
        [the_preset], schema=schema, families=families, pack_classes=classes, packs=pack_schemas
    )
    assert len(result.workflows) + len(result.skipped) >= 1
    for wf in result.workflows:
        assert (
            validate_prompt(to_api(wf), check_schema(schema, classes, None, [the_preset], pack_schemas)) == ()
        )
    required = {"lipsync": "latentsync", "3d": "triposr", "voice": "f5-tts"}
    if preset_id in required:
        assert required[preset_id] in [wf.kind for wf in result.workflows], result.skipped
    for _, reason in result.skipped:
        assert reason


def test_slot_roles_and_companions_group_into_one_workflow_per_main_model(schema: Schema) -> None:
    """Roles come from the files' folders (a ``music``/``sfx`` slot works); a companion joins its owner, so a
    preset with two main models gets two workflows, the second named after its model."""
    music = preset(
        "music",
        comp("music", "ace-step-v1-3.5b", ("checkpoints", "ace_step_v1_3.5b.safetensors")),
        comp("sfx", "stable-audio-open-1.0", ("checkpoints", "stable_audio_open_1.0.safetensors")),
        {
            **comp("text_encoder", "t5-base", ("text_encoders", "t5_base.safetensors")),
            "companion_of": "stable-audio-open-1.0",
        },
    )
    result = starter_workflows([music], schema=schema)
    assert [(w.name, w.kind) for w in result.workflows] == [
        ("rigfit-music", "ace-step"),
        ("rigfit-music-stable-audio-open-1.0", "stable-audio"),
    ]
    assert ("text_encoders", "t5_base.safetensors") in result.workflows[1].files


def test_pack_node_schemas_are_what_validation_checks(schema: Schema, packs: Schema) -> None:
    """The bundled pack schemas are really used: a required LatentSyncNode input left out is reported, and the
    pack classes are unknown to a plan that does not install the pack."""
    lipsync = next(p.values[0] for p in PIPELINES if p.id == "latentsync-16-pack")
    (wf,) = starter_workflows([lipsync], schema=schema, pack_classes=PACK_CLASSES, packs=packs).workflows
    prompt = to_api(wf)
    node_id = next(k for k, v in prompt.items() if v["class_type"] == "LatentSyncNode")
    del prompt[node_id]["inputs"]["lips_expression"]
    checked = check_schema(schema, PACK_CLASSES, None, [lipsync], packs)
    problems = validate_prompt(prompt, checked)
    assert [(p.type, p.class_type, p.input_name) for p in problems] == [
        ("required_input_missing", "LatentSyncNode", "lips_expression")
    ]
    prompt[node_id]["inputs"]["lips_expression"] = 3.5  # the pack's max is 3.0
    assert [p.type for p in validate_prompt(prompt, checked)] == ["value_bigger_than_max"]
    without = check_schema(schema, GGUF_CLASSES | VHS_CLASSES, None, [lipsync], packs)
    assert "LatentSyncNode" not in without and "VHS_VideoCombine" in without
    meta = json.loads(PACK_DATA.read_text(encoding="utf-8"))["packs"]
    assert all(len(p["commit"]) == 40 and p["repo"].startswith("https://github.com/") for p in meta.values())
