"""The plan wire format: what it accepts, what it refuses (all problems at once), and exact round-trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rigfit.core.errors import PlanError
from rigfit.core.plan import PlanProblems, is_loopback_host, parse_plan, plan_to_json, split_url, url_problem

SHA = "a" * 64


def _doc(**files: Any) -> dict[str, Any]:
    entry = {"url": "https://huggingface.co/x/y/resolve/main/ae.safetensors", "filename": "ae.safetensors",
             "folder": "vae", "bytes": 335304388, "sha256": SHA}
    entry.update(files)
    return {"schema": "rigfit.plan/1", "files": [entry]}


def test_the_contract_example_parses() -> None:
    doc = {
        "schema": "rigfit.plan/1",
        "files": [{"url": "https://huggingface.co/black-forest-labs/FLUX.1-schnell/resolve/main/ae.safetensors",
                   "filename": "ae.safetensors", "folder": "vae", "bytes": 335304388, "sha256": SHA}],
        "node_packs": [{"id": "comfyui-gguf", "repo": "https://github.com/city96/ComfyUI-GGUF", "commit": "abc"}],
        "python": {"torch_index": "https://download.pytorch.org/whl/cu128", "requirements": ["gguf==0.17.1"]},
        "launch_args": ["--reserve-vram", "0.6"],
        "presets": [{"id": "photorealism", "components": [{"role": "vae", "files": []}]}],
    }
    plan = parse_plan(doc, source="plan.json")
    assert plan.files[0].relpath == "vae/ae.safetensors"
    assert plan.node_packs[0].commit == "abc"
    assert plan.python is not None and plan.python.requirements == ("gguf==0.17.1",)
    assert plan.launch_args == ("--reserve-vram", "0.6")
    assert plan.total_bytes == 335304388
    assert plan_to_json(plan) == doc


def test_a_hand_written_plan_without_sha_and_size_is_accepted() -> None:
    plan = parse_plan(_doc(sha256=None, bytes=None), source="p")
    assert plan.files[0].sha256 is None and plan.files[0].bytes is None


def test_upper_case_sha_is_normalised_and_legacy_folder_is_mapped() -> None:
    plan = parse_plan(_doc(sha256="AB" * 32, folder="unet"), source="p")
    assert plan.files[0].sha256 == "ab" * 32
    assert plan.files[0].folder == "diffusion_models"


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("url", "file:///etc/passwd", "only https"),
        ("url", "ftp://example.com/a", "only https"),
        ("url", "http://example.com/a", "plain http"),
        ("url", "http://10.0.0.1/a", "plain http"),
        ("url", "https://user:pw@example.com/a", "credentials"),
        ("url", "https://exa mple.com/a", "not an absolute"),
        ("url", "//example.com/a", "not an absolute"),
        ("filename", "../../.bashrc", "path separator"),
        ("filename", ".hidden", "hidden"),
        ("filename", "con.safetensors", "reserved"),
        ("folder", "../outside", "'..'"),
        ("folder", "/abs", "absolute"),
        ("folder", "C:/x", "absolute"),
        ("bytes", -1, "non-negative"),
        ("bytes", 1.5, "non-negative"),
        ("bytes", True, "non-negative"),
        ("sha256", "abc", "64 hexadecimal"),
        ("sha256", "g" * 64, "64 hexadecimal"),
    ],
    ids=lambda v: str(v)[:20],
)
def test_unsafe_or_malformed_file_entries_are_refused(field: str, value: object, needle: str) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(_doc(**{field: value}), source="plan.json")
    assert needle in str(info.value)
    assert str(info.value).startswith(f"plan.json: files[0].{field}")
    assert info.value.exit_code == 2


def test_every_problem_is_reported_at_once() -> None:
    doc = _doc(url="file:///x", filename="a/b", sha256="zz")
    doc["schema"] = "rigfit.plan/9"
    doc["launch_args"] = [1]
    with pytest.raises(PlanProblems) as info:
        parse_plan(doc, source="p.json")
    problems = info.value.problems
    assert len(problems) == 5, problems
    assert "(and 4 more" in str(info.value)
    assert "\n" not in str(info.value)


def test_the_same_file_twice_is_deduplicated_but_a_conflict_is_refused() -> None:
    doc = _doc()
    doc["files"].append(dict(doc["files"][0]))
    assert len(parse_plan(doc, source="p").files) == 1
    doc["files"][1]["sha256"] = "b" * 64
    doc["files"][1]["filename"] = "AE.safetensors"  # same file on a case-insensitive disk
    with pytest.raises(PlanError, match="listed twice"):
        parse_plan(doc, source="p")


@pytest.mark.parametrize("doc", [[], "x", None, 3], ids=["list", "str", "null", "int"])
def test_a_plan_that_is_not_an_object_is_refused(doc: object) -> None:
    with pytest.raises(PlanError, match="must be a JSON object"):
        parse_plan(doc, source="p")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://127.0.0.1:8080/a", True),
        ("http://127.8.9.10/a", True),
        ("http://localhost/a", True),
        ("http://LOCALHOST:1/a", True),
        ("http://[::1]:99/a", True),
        ("http://128.0.0.1/a", False),
        ("http://[::2]/a", False),
        ("http://localhost.evil.com/a", False),
        ("https://example.com", True),
        ("https://[zz::1]/a", False),
    ],
    ids=lambda v: str(v),
)
def test_plain_http_only_for_loopback(url: str, ok: bool) -> None:
    assert (url_problem(url) is None) is ok


def test_split_url_keeps_query_and_drops_fragment() -> None:
    parts = split_url("https://Host.example:8443/a/b?x=1#frag")
    assert parts is not None
    assert (parts.scheme, parts.host, parts.port, parts.target) == ("https", "host.example", 8443, "/a/b?x=1")
    assert split_url("https://h") is not None and split_url("https://h").target == "/"  # type: ignore[union-attr]
    assert is_loopback_host("::1") and not is_loopback_host("example.com")


_names = st.from_regex(r"[a-z][a-z0-9_\-]{0,20}\.(safetensors|gguf|pth)", fullmatch=True)


@given(
    files=st.lists(
        st.fixed_dictionaries({
            "url": st.sampled_from(["https://huggingface.co/a/b/resolve/main/x", "http://127.0.0.1:9/x"]),
            "filename": _names,
            "folder": st.sampled_from(["vae", "loras", "ultralytics/bbox", "diffusion_models"]),
            "bytes": st.one_of(st.none(), st.integers(0, 2**45)),
            "sha256": st.one_of(st.none(), st.from_regex(r"[0-9a-f]{64}", fullmatch=True)),
        }),
        max_size=5,
        unique_by=lambda f: (f["folder"], f["filename"]),
    ),
    presets=st.lists(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
                     max_size=2),
)
def test_plan_to_json_round_trips_through_json_text(files: list[dict[str, Any]], presets: list[Any]) -> None:
    doc = {"schema": "rigfit.plan/1", "files": files, "node_packs": [], "python": None, "launch_args": [],
           "presets": presets}
    plan = parse_plan(json.loads(json.dumps(doc)), source="p")
    again = plan_to_json(plan)
    assert again == doc
    assert parse_plan(json.loads(json.dumps(again)), source="p") == plan
