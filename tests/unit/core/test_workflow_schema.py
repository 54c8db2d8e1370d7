"""The local /prompt validation agrees with what ComfyUI 0.3.64 answered (comfyui-prompt-validation.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rigfit.core.workflow_schema import (
    Schema,
    file_inputs_of,
    parse_object_info,
    validate_prompt,
    with_files,
)

DUMP = Path(__file__).resolve().parents[3] / "src" / "rigfit" / "data" / "comfyui" / "object_info-0.3.64.json"


@pytest.fixture(scope="module")
def schema() -> Schema:
    return parse_object_info(json.loads(DUMP.read_text(encoding="utf-8")))


# The SD1.5 graph of case 1 (comfyui-facts.md §7.1), verbatim.
SD15: dict[str, Any] = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly-fp16.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry, low quality", "clip": ["4", 1]}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 42, "steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
            "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0],
        },
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}  # fmt: skip

FLUX: dict[str, Any] = {
    "10": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev-fp8.safetensors", "weight_dtype": "default"}},
    "11": {
        "class_type": "DualCLIPLoader",
        "inputs": {"clip_name1": "t5xxl_fp8_e4m3fn.safetensors", "clip_name2": "clip_l.safetensors", "type": "flux", "device": "default"},
    },
    "12": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["11", 0]}},
    "26": {"class_type": "FluxGuidance", "inputs": {"guidance": 3.5, "conditioning": ["6", 0]}},
    "33": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}},
    "27": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 42, "steps": 20, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0,
            "model": ["10", 0], "positive": ["26", 0], "negative": ["33", 0], "latent_image": ["27", 0],
        },
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["12", 0]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "flux", "images": ["8", 0]}},
}  # fmt: skip

FLUX_FILES = {
    "diffusion_models": ["flux1-dev-fp8.safetensors"],
    "text_encoders": ["t5xxl_fp8_e4m3fn.safetensors", "clip_l.safetensors"],
    "vae": ["ae.safetensors"],
}


def _edit(base: dict[str, Any], *changes: tuple[str, str, object]) -> dict[str, Any]:
    """A copy of ``base`` with (node, input, value) set; value ``...`` removes the input."""
    out = copy.deepcopy(base)
    for node, name, value in changes:
        if value is ...:
            del out[node]["inputs"][name]
        else:
            out[node]["inputs"][name] = value
    return out


def _kinds(problems: tuple[Any, ...]) -> list[tuple[str | None, str, str | None]]:
    return sorted(((p.node_id, p.type, p.input_name) for p in problems), key=str)


def test_dump_parses_all_496_classes_and_34_output_nodes(schema: Schema) -> None:
    """VERSION.txt records 496 node classes and 34 output nodes in this dump."""
    assert len(schema.nodes) == 496
    assert sum(n.output_node for n in schema.nodes.values()) == 34


def test_both_combo_encodings_are_read(schema: Schema) -> None:
    """V1 combos (a bare list) and V3 combos ("COMBO" + options) both become option tuples."""
    v1 = schema.nodes["KSampler"].input("scheduler")
    v3 = schema.nodes["SaveWEBM"].input("codec")
    assert v1 is not None and v1.type == "COMBO" and v1.options is not None and "karras" in v1.options
    assert v3 is not None and v3.type == "COMBO" and v3.options == ("vp9", "av1")
    seed = schema.nodes["KSampler"].input("seed")
    assert seed is not None and seed.control_after_generate and seed.maximum == 18446744073709551615


# (id, prompt, files present, expected (node, type, input) findings) — the recorded server answers.
CASES = [
    pytest.param(SD15, {}, [("4", "value_not_in_list", "ckpt_name")], id="1-missing-checkpoint"),
    pytest.param(
        _edit(SD15, ("4", "ckpt_name", "dummy.safetensors")),
        {"checkpoints": ["dummy.safetensors"]},
        [],
        id="2-empty-dummy-file-passes",
    ),
    pytest.param(FLUX, FLUX_FILES, [], id="3-flux-split-files"),
    pytest.param(
        _edit(SD15, ("4", "ckpt_name", "SDXL/sdxl_dummy.safetensors")),
        {"checkpoints": ["SDXL/sdxl_dummy.safetensors"]},
        [],
        id="subfolder-name-passes",
    ),
    pytest.param({"1": {"class_type": "NoSuchNode", "inputs": {}}}, {}, [("1", "invalid_prompt", None)], id="5-unknown-class"),
    pytest.param(
        {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x.safetensors"}}},
        {},
        [(None, "prompt_no_outputs", None)],
        id="6-no-output-node",
    ),
    pytest.param({"1": {"inputs": {}}}, {}, [("1", "invalid_prompt", None)], id="7-no-class-type"),
    pytest.param(
        _edit(SD15, ("3", "sampler_name", "euler_a"), ("3", "steps", "twenty"), ("3", "denoise", ...), ("9", "filename_prefix", ...)),
        {},
        [
            ("3", "invalid_input_type", "steps"),
            ("3", "required_input_missing", "denoise"),
            ("3", "value_not_in_list", "sampler_name"),
            ("4", "value_not_in_list", "ckpt_name"),
            ("9", "required_input_missing", "filename_prefix"),
        ],
        id="8-combo-missing-type",
    ),
    pytest.param(
        _edit(SD15, ("3", "steps", 0), ("3", "cfg", 200), ("3", "scheduler", "karras_x"), ("5", "width", 513)),
        {},
        [
            ("3", "value_bigger_than_max", "cfg"),
            ("3", "value_not_in_list", "scheduler"),
            ("3", "value_smaller_than_min", "steps"),
            ("4", "value_not_in_list", "ckpt_name"),
        ],
        id="9-ranges-step-not-checked",
    ),
    pytest.param(
        _edit(SD15, ("3", "model", ["4", 1])),
        {},
        [("3", "return_type_mismatch", "model"), ("4", "value_not_in_list", "ckpt_name")],
        id="10-link-type-mismatch",
    ),
    pytest.param(
        _edit(SD15, ("4", "ckpt_name", "dummy.safetensors"), ("8", "vae", ["99", 0])),
        {"checkpoints": ["dummy.safetensors"]},
        [("8", "exception_during_inner_validation", "vae")],
        id="11-dangling-link",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("prompt", "files", "expected"), CASES)
def test_recorded_cases(
    schema: Schema, prompt: dict[str, Any], files: dict[str, list[str]], expected: list[Any]
) -> None:
    """Each recorded /prompt answer is reproduced: the same error types on the same nodes and inputs."""
    assert _kinds(validate_prompt(prompt, with_files(schema, files))) == sorted(expected, key=str)


def test_partial_acceptance_is_still_a_problem_and_unconnected_nodes_are_ignored(schema: Schema) -> None:
    """Case 4: a second output branch with a missing checkpoint is reported; a node no output uses is not."""
    prompt = _edit(SD15, ("4", "ckpt_name", "dummy.safetensors"))
    prompt["14"] = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "missing.safetensors"}}
    prompt["18"] = {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["14", 2]}}
    prompt["19"] = {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["18", 0]}}
    prompt["50"] = {
        "class_type": "CheckpointLoaderSimple",
        "inputs": {"ckpt_name": "also_missing.safetensors"},
    }
    problems = validate_prompt(prompt, with_files(schema, {"checkpoints": ["dummy.safetensors"]}))
    assert _kinds(problems) == [("14", "value_not_in_list", "ckpt_name")]


@pytest.mark.parametrize(
    ("name", "listed"),
    [
        pytest.param("model.gguf", False, id="gguf-not-in-core-list"),
        pytest.param("notes.txt", False, id="txt-not-listed"),
        pytest.param("model.sft", True, id="sft-listed"),
        pytest.param("model.ckpt", True, id="ckpt-listed"),
    ],
)
def test_extension_filter_matches_comfyui(schema: Schema, name: str, listed: bool) -> None:
    """Only ComfyUI's supported extensions appear in a core loader's list (a .gguf needs ComfyUI-GGUF)."""
    prompt = _edit(SD15, ("4", "ckpt_name", name))
    problems = validate_prompt(prompt, with_files(schema, {"checkpoints": [name]}))
    assert (problems == ()) is listed


def test_file_in_wrong_folder_is_refused(schema: Schema) -> None:
    """A VAE present only under checkpoints/ does not satisfy VAELoader."""
    files = {**FLUX_FILES, "vae": [], "checkpoints": ["ae.safetensors"]}
    assert _kinds(validate_prompt(FLUX, with_files(schema, files))) == [
        ("12", "value_not_in_list", "vae_name")
    ]


def test_file_inputs_of_names_every_model_file(schema: Schema) -> None:
    assert sorted(file_inputs_of(FLUX)) == [
        ("10", "diffusion_models", "flux1-dev-fp8.safetensors"),
        ("11", "text_encoders", "clip_l.safetensors"),
        ("11", "text_encoders", "t5xxl_fp8_e4m3fn.safetensors"),
        ("12", "vae", "ae.safetensors"),
    ]
