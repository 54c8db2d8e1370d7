"""The whole-catalog loader: decoding, layering, cross-references, and every problem reported at once."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigfit.core.catalog.loader import build_catalog
from rigfit.core.errors import CatalogError

SHA = "a" * 64


def _file(**over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "filename": "model.safetensors",
        "folder": "checkpoints",
        "url": "https://example.org/model.safetensors",
        "bytes": 1000,
        "bytes_exact": True,
        "sha256": SHA,
    }
    item.update(over)
    return item


def _base() -> dict[str, Any]:
    return {
        "schema": "rigfit.catalog/1",
        "licenses": [
            {"id": "mit", "name": "MIT", "commercial": True},
            {"id": "cc-by-nc-4.0", "name": "CC BY-NC 4.0", "commercial": False},
        ],
        "models": [
            {
                "id": "enc",
                "name": "Encoder",
                "family": "t5",
                "category": "aux",
                "role": "text_encoder",
                "license": "mit",
                "maturity": "mature",
                "variants": [
                    {
                        "id": "enc-fp16",
                        "format": "fp16",
                        "quant": None,
                        "files": [_file(filename="enc.sft", folder="text_encoders")],
                    }
                ],
            },
            {
                "id": "base",
                "name": "Base",
                "family": "demo",
                "category": "image",
                "role": "diffusion_model",
                "license": "mit",
                "maturity": "mature",
                "requires": [{"role": "text_encoder", "models": ["enc"]}],
                "variants": [
                    {"id": "base-fp16", "format": "fp16", "quant": None, "files": [_file()]},
                    {
                        "id": "base-gguf-q4_k_m",
                        "format": "gguf",
                        "quant": "Q4_K_M",
                        "files": [_file(filename="base-Q4_K_M.gguf", folder="diffusion_models")],
                        "node_packs": ["gguf"],
                    },
                ],
            },
        ],
        "node_packs": [
            {
                "id": "gguf",
                "name": "GGUF",
                "repo": "https://github.com/city96/ComfyUI-GGUF",
                "commit": "b" * 40,
                "stability": 4,
                "folders": ["pack_models"],
            },
        ],
        "presets": [
            {
                "id": "demo",
                "name": "Demo",
                "description": "d",
                "category": "image",
                "maturity": "mature",
                "components": [{"role": "base_model", "models": ["base"]}],
            },
        ],
    }


def _problems(*docs: Any, layers: tuple[Any, ...] = ()) -> list[str]:
    with pytest.raises(CatalogError) as info:
        build_catalog(
            [(f"f{i}.json", d) for i, d in enumerate(docs)],
            [(f"user{i}.json", d) for i, d in enumerate(layers)],
        )
    return list(info.value.problems)


def test_a_valid_catalog_builds_with_variants_indexed_and_their_parent_set() -> None:
    catalog = build_catalog([("base.json", _base())])
    assert set(catalog.models) == {"enc", "base"}
    assert catalog.variants["base-gguf-q4_k_m"].model == "base"
    assert catalog.variant_model("enc-fp16").id == "enc"
    assert catalog.models["base"].variants[1].files[0].folder == "diffusion_models"
    assert isinstance(catalog.models["base"].variants, tuple)


def test_an_unknown_key_is_named_with_its_path_and_a_near_miss_suggestion() -> None:
    doc = _base()
    doc["models"][1]["variants"][0]["files"][0]["sha265"] = SHA
    (problem,) = _problems(doc)
    assert problem.startswith("f0.json:models[base].variants[base-fp16].files[0].sha265: ")
    assert "did you mean 'sha256'" in problem


def test_every_problem_of_every_file_is_reported_in_one_error() -> None:
    first, second = _base(), _base()
    first["models"][0]["maturity"] = "stable"
    second["licenses"] = []
    second["models"] = []
    second["node_packs"] = []
    second["presets"][0]["id"] = "other"
    second["presets"][0]["components"][0]["models"] = ["bsae"]
    problems = _problems(first, second)
    assert any(p.startswith("f0.json:models[enc].maturity: 'stable' is not one of") for p in problems)
    assert any(
        p.startswith("f1.json:presets[other].components[0].models[0]: unknown model 'bsae'") for p in problems
    )
    assert any("did you mean 'base'" in p for p in problems)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        pytest.param(("bytes",), "1000", "must be an integer, not a string", id="size-as-string"),
        pytest.param(("bytes",), -5, "must be greater than 0", id="negative-size"),
        pytest.param(("bytes_exact",), 1, "must be true or false, not a number", id="int-for-bool"),
        pytest.param(("sha256",), "ABC", "64 lower-case hex digits", id="short-hash"),
        pytest.param(("url",), "http://example.org/x", "must start with https://", id="plain-http"),
        pytest.param(("url",), "https:// bad host/x", "malformed", id="url-with-space"),
        pytest.param(("filename",), "../escape.sft", "path separator", id="dot-dot"),
        pytest.param(("filename",), "/etc/passwd", "path separator", id="absolute"),
        pytest.param(("filename",), "con.safetensors", "reserved device name", id="windows-device"),
        pytest.param(("folder",), "../outside", "'..' segment", id="folder-escape"),
        pytest.param(("folder",), "unet", "legacy alias; write 'diffusion_models'", id="legacy-unet"),
        pytest.param(("folder",), "checkpoint", "did you mean 'checkpoints'", id="folder-near-miss"),
    ],
)
def test_file_fields_are_checked(path: tuple[str, ...], value: Any, expected: str) -> None:
    doc = _base()
    doc["models"][1]["variants"][0]["files"][0][path[0]] = value
    problems = _problems(doc)
    assert any(expected in p and "files[0]" in p for p in problems), problems


def test_an_exact_flag_without_a_size_is_rejected() -> None:
    doc = _base()
    doc["models"][1]["variants"][0]["files"][0].update(bytes=None, bytes_exact=True)
    (problem,) = _problems(doc)
    assert "bytes_exact is true but bytes is missing" in problem


def test_a_folder_declared_by_a_node_pack_or_its_subfolder_is_accepted() -> None:
    doc = _base()
    doc["models"][1]["variants"][0]["files"][0]["folder"] = "pack_models/sub"
    assert build_catalog([("a.json", doc)]).variants["base-fp16"].files[0].folder == "pack_models/sub"


def test_dangling_references_are_reported_everywhere_they_occur() -> None:
    doc = _base()
    doc["models"][1]["license"] = "mti"
    doc["models"][1]["requires"][0]["models"] = ["encoder"]
    doc["models"][1]["variants"][1]["node_packs"] = ["ggfu"]
    doc["node_packs"][0]["models"] = ["nope"]
    doc["presets"][0]["node_packs"] = ["missing-pack"]
    problems = "\n".join(_problems(doc))
    assert "models[base].license: unknown licence 'mti' (did you mean 'mit'?)" in problems
    assert "models[base].requires[0].models[0]: unknown model 'encoder'" in problems
    assert (
        "variants[base-gguf-q4_k_m].node_packs[0]: unknown node pack 'ggfu' (did you mean 'gguf'?)"
        in problems
    )
    assert "node_packs[gguf].models[0]: unknown model 'nope'" in problems
    assert "presets[demo].node_packs[0]: unknown node pack 'missing-pack'" in problems


def test_duplicate_ids_in_the_shipped_files_are_errors_but_a_user_layer_replaces() -> None:
    dup = _base()
    problems = _problems(_base(), dup)
    assert any(
        "f1.json:licenses[mit].id: duplicate id 'mit' (first defined in f0.json)" in p for p in problems
    )

    layer = {"schema": "rigfit.catalog/1", "models": [copy.deepcopy(_base()["models"][0])]}
    layer["models"][0]["name"] = "Replaced encoder"
    catalog = build_catalog([("base.json", _base())], [("user.json", layer)])
    assert catalog.models["enc"].name == "Replaced encoder"
    assert catalog.variants["enc-fp16"].model == "enc"


def test_an_id_twice_in_one_user_layer_is_an_error() -> None:
    layer = {"schema": "rigfit.catalog/1", "licenses": [{"id": "x", "name": "X", "commercial": True}] * 2}
    problems = _problems(_base(), layers=(layer,))
    assert problems == ["user0.json:licenses[x].id: duplicate id 'x' in this file"]


def test_a_user_layer_is_checked_against_the_merged_catalog() -> None:
    layer = {
        "schema": "rigfit.catalog/1",
        "presets": [
            {
                "id": "mine",
                "name": "Mine",
                "description": "",
                "category": "image",
                "maturity": "mature",
                "components": [{"role": "base_model", "models": ["base", "ghost"]}],
            }
        ],
    }
    problems = _problems(_base(), layers=(layer,))
    assert problems == ["user0.json:presets[mine].components[0].models[1]: unknown model 'ghost'"]


def test_a_licence_that_reads_non_commercial_must_say_so() -> None:
    doc = _base()
    doc["licenses"][1]["commercial"] = True
    (problem,) = _problems(doc)
    assert problem.startswith(
        "f0.json:licenses[cc-by-nc-4.0].commercial: the licence reads as non-commercial"
    )


def test_ids_share_one_namespace_across_models_variants_packs_and_presets() -> None:
    doc = _base()
    doc["presets"][0]["id"] = "base-fp16"
    problems = _problems(doc)
    assert any(
        "variants[base-fp16].id: id 'base-fp16' is already used by f0.json:presets[base-fp16]" in p
        for p in problems
    )


def test_two_different_files_cannot_land_on_the_same_path() -> None:
    doc = _base()
    doc["models"][0]["variants"][0]["files"][0].update(
        filename="model.safetensors", folder="checkpoints", bytes=7
    )
    problems = _problems(doc)
    assert any(
        "checkpoints/model.safetensors is also the destination of a different file" in p for p in problems
    )


def test_the_same_file_shared_by_two_variants_is_fine() -> None:
    doc = _base()
    doc["models"][0]["variants"][0]["files"][0] = _file()
    assert (
        build_catalog([("a.json", doc)]).variants["enc-fp16"].files[0]
        == build_catalog([("a.json", doc)]).variants["base-fp16"].files[0]
    )


@pytest.mark.parametrize(
    ("fmt", "quant", "expected"),
    [
        pytest.param("gguf", None, "needs a GGUF type", id="gguf-without-tier"),
        pytest.param("gguf", "Q4_K_X", "needs a GGUF type", id="gguf-bad-tier"),
        pytest.param("fp8", "e4m3", "an fp8 variant's quant must be one of", id="fp8-bad-kind"),
        pytest.param("fp16", "Q8_0", "has no quant", id="fp16-with-quant"),
        pytest.param("int3", None, "is not one of", id="unknown-format"),
    ],
)
def test_format_and_quant_must_agree(fmt: str, quant: str | None, expected: str) -> None:
    doc = _base()
    doc["models"][1]["variants"][0].update(format=fmt, quant=quant)
    problems = _problems(doc)
    assert any(expected in p for p in problems), problems


def test_published_figures_name_real_variants_and_components() -> None:
    doc = _base()
    doc["models"][1]["memory"] = {
        "published": [
            {
                "vram_bytes": 10,
                "runtime": "comfyui",
                "settings": "s",
                "source": "x",
                "measured": True,
                "variant": "base-fp8",
                "components": ["enc-fp16", "enc-fp32"],
            }
        ]
    }
    problems = _problems(doc)
    assert any("published[0].variant: unknown variant 'base-fp8' of model 'base'" in p for p in problems)
    assert any(
        "published[0].components[1]: unknown variant 'enc-fp32' (did you mean 'enc-fp16'?)" in p
        for p in problems
    )


def test_a_node_pack_runtime_must_name_an_existing_pack_and_python_a_package() -> None:
    doc = _base()
    doc["models"][0]["runtime"] = {"kind": "node-pack"}
    doc["models"][1]["runtime"] = {"kind": "python"}
    problems = "\n".join(_problems(doc))
    assert "models[enc].runtime.node_pack: a node-pack runtime must name its node pack" in problems
    assert "models[base].runtime.package: a python runtime must name its package" in problems


def test_a_runtime_folder_makes_a_file_folder_known() -> None:
    doc = _base()
    doc["models"][0]["runtime"] = {"kind": "python", "package": "piper-tts", "folders": ["piper"]}
    doc["models"][0]["variants"][0]["files"][0]["folder"] = "piper"
    assert build_catalog([("a.json", doc)]).models["enc"].runtime.folders == ("piper",)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param([], "a catalog file must be a JSON object, not a list", id="not-an-object"),
        pytest.param({"schema": "rigfit.catalog/2"}, "schema: must be 'rigfit.catalog/1'", id="wrong-schema"),
        pytest.param(
            {"schema": "rigfit.catalog/1", "model": []},
            "unknown section 'model' (did you mean 'models'?)",
            id="section-typo",
        ),
        pytest.param(
            {"schema": "rigfit.catalog/1", "models": {}},
            "models: must be a list, not an object",
            id="section-type",
        ),
    ],
)
def test_document_level_problems(document: Any, expected: str) -> None:
    problems = _problems(_base(), layers=(document,))
    assert any(expected in p for p in problems), problems


def test_missing_required_keys_are_named() -> None:
    doc = _base()
    del doc["models"][1]["variants"][0]["files"][0]["url"]
    del doc["node_packs"][0]["commit"]
    problems = "\n".join(_problems(doc))
    assert "files[0].url: missing required key 'url'" in problems
    assert "node_packs[gguf].commit: missing required key 'commit'" in problems


def test_the_loader_fills_variant_model_itself_and_refuses_it_in_a_file() -> None:
    doc = _base()
    doc["models"][1]["variants"][0]["model"] = "enc"
    (problem,) = _problems(doc)
    assert "variants[base-fp16].model: unknown key 'model'" in problem


def test_a_preset_slot_limited_to_base_models_must_name_real_ones() -> None:
    doc = _base()
    doc["presets"][0]["components"].append({"role": "vae", "models": ["enc"], "applies_to": ["sd15"]})
    (problem,) = _problems(doc)
    assert problem == "f0.json:presets[demo].components[1].applies_to[0]: unknown model 'sd15'"


def test_effective_requirements_follow_all_in_one_then_variant_then_model() -> None:
    from rigfit.core.catalog.query import effective_requirements, resident_bytes

    doc = _base()
    doc["models"][1]["variants"].append(
        {
            "id": "base-aio",
            "format": "fp16",
            "quant": None,
            "all_in_one": True,
            "files": [_file(filename="aio.sft")],
        }
    )
    doc["models"][1]["variants"].append(
        {
            "id": "base-lora",
            "format": "bf16",
            "quant": None,
            "files": [_file(filename="l.sft", folder="loras", bytes=9)],
            "requires": [{"role": "base_model", "models": ["enc"]}],
            "weight_bytes": 5,
        }
    )
    catalog = build_catalog([("a.json", doc)])
    assert [r.models for r in effective_requirements(catalog, catalog.variants["base-fp16"])] == [("enc",)]
    assert effective_requirements(catalog, catalog.variants["base-aio"]) == ()
    assert [r.role for r in effective_requirements(catalog, catalog.variants["base-lora"])] == ["base_model"]
    assert resident_bytes(catalog.variants["base-lora"]) == 5
    assert resident_bytes(catalog.variants["base-fp16"]) == 1000


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**12) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _slots(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document a value could be replaced."""
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found.extend(_slots(child, (*path, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.extend(_slots(child, (*path, index)))
    return found


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_corrupted_value_gives_a_catalog_error_never_a_crash(data: st.DataObject) -> None:
    """Whatever value lands wherever in a catalog file, the loader answers with problems, not an exception."""
    doc = _base()
    slots = [s for s in _slots(doc) if s]
    path = data.draw(st.sampled_from(slots))
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = data.draw(_JSON)
    try:
        build_catalog([("f0.json", doc)])
    except CatalogError as exc:
        assert exc.problems
        assert all(p.startswith("f0.json:") and ": " in p for p in exc.problems)


def _figure(**over: Any) -> dict[str, Any]:
    figure: dict[str, Any] = {
        "vram_bytes": 9_000_000_000,
        "runtime": "comfyui",
        "settings": "1024x1024, 20 steps",
        "source": "bench/gpu/results/x.json",
        "measured": True,
    }
    figure.update(over)
    return figure


def test_a_figures_section_appends_to_a_model_defined_in_another_file() -> None:
    """Measured figures join a model's published ones without replacing the model (shipped or user layer)."""
    doc = _base()
    doc["models"][1]["memory"] = {"published": [_figure(vram_bytes=1)]}
    measured = {
        "schema": "rigfit.catalog/1",
        "figures": [
            {
                "model": "base",
                **_figure(variant="base-fp16", components=["enc-fp16"], text_encoders_resident=False),
            }
        ],
    }
    catalog = build_catalog([("base.json", doc), ("measured.json", measured)])
    published = catalog.models["base"].memory.published
    assert [f.vram_bytes for f in published] == [1, 9_000_000_000]
    assert published[1].components == ("enc-fp16",) and published[1].text_encoders_resident is False
    assert catalog.variants["base-fp16"].model == "base"
    again = build_catalog([("base.json", doc)], [("user.json", measured)])
    assert len(again.models["base"].memory.published) == 2


def test_figures_entries_are_checked_where_they_are() -> None:
    measured = {
        "schema": "rigfit.catalog/1",
        "figures": [
            {"model": "bsae", **_figure()},
            {"model": "base", **_figure(variant="base-fp8")},
            {"model": "base", **_figure(components=["enc-fp32"])},
            {**_figure()},
            {"model": "base", **_figure(vram_bytes="9 GB")},
        ],
    }
    problems = _problems(_base(), layers=(measured,))
    assert problems == [
        "user0.json:figures[3].model: name the model the figure belongs to (a model id)",
        "user0.json:figures[4].vram_bytes: must be an integer, not a string",
        "user0.json:figures[0].model: unknown model 'bsae' (did you mean 'base'?)",
        "user0.json:figures[1].variant: unknown variant 'base-fp8' of model 'base' (did you mean 'base-fp16'?)",
        "user0.json:figures[2].components[0]: unknown variant 'enc-fp32' (did you mean 'enc-fp16'?)",
    ]
