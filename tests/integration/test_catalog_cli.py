"""``rigfit catalog validate|list|show`` end to end: the shipped catalog, user catalogs, the broken corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rigfit.cli.main import main

BROKEN = Path(__file__).resolve().parents[1] / "data" / "catalog_broken"
CASES = sorted(BROKEN.glob("*.json"))


def _rigfit(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rigfit", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"RIGFIT_HOME": str(home), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


def test_the_corpus_has_at_least_25_broken_files_each_with_its_expected_message() -> None:
    assert len(CASES) >= 25
    for case in CASES:
        assert case.with_suffix(".expected").read_text(encoding="utf-8").strip(), case.name


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_validate_rejects_each_broken_catalog_with_its_message(
    case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every broken file exits 2 and names the problem (file:key: message) on stderr."""
    expected = case.with_suffix(".expected").read_text(encoding="utf-8").strip()
    status = main(["catalog", "validate", str(case)])
    captured = capsys.readouterr()
    assert status == 2
    assert expected in captured.err
    assert str(case) in captured.err, "the problem names the file it is in"
    assert captured.out == ""


def test_validate_passes_on_the_shipped_catalog(tmp_path: Path) -> None:
    result = _rigfit("catalog", "validate", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("catalog OK: the shipped catalog:")


def test_validate_accepts_a_valid_user_catalog_on_top_of_the_shipped_one(tmp_path: Path) -> None:
    user = tmp_path / "extra.json"
    user.write_text(
        json.dumps(
            {
                "schema": "rigfit.catalog/1",
                "models": [
                    {
                        "id": "my-lora",
                        "name": "My LoRA",
                        "family": "flux1",
                        "category": "aux",
                        "role": "lora",
                        "license": "apache-2.0",
                        "maturity": "experimental",
                        "requires": [{"role": "base_model", "models": ["flux1-schnell"]}],
                        "variants": [
                            {
                                "id": "my-lora-bf16",
                                "format": "bf16",
                                "quant": None,
                                "files": [
                                    {
                                        "filename": "my-lora.safetensors",
                                        "folder": "loras",
                                        "url": "https://example.org/my-lora.safetensors",
                                        "bytes": 1234,
                                        "bytes_exact": True,
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    result = _rigfit("catalog", "validate", str(user), home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"catalog OK: {user} on top of the shipped catalog")


def test_validate_json_reports_counts(tmp_path: Path) -> None:
    result = _rigfit("catalog", "validate", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["valid"] is True
    assert document["counts"]["models"] >= 60
    assert document["counts"]["exact_sizes"] <= document["counts"]["files"]


def test_broken_file_in_a_real_process_exits_2_with_every_problem_listed(tmp_path: Path) -> None:
    user = tmp_path / "mine.json"
    user.write_text(
        json.dumps(
            {
                "schema": "rigfit.catalog/1",
                "licenses": [{"id": "x-nc", "name": "X non-commercial", "commercial": True}],
                "presets": [
                    {
                        "id": "mine",
                        "name": "M",
                        "description": "",
                        "category": "image",
                        "maturity": "mature",
                        "components": [{"role": "base_model", "models": ["sdxl"]}],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    result = _rigfit("catalog", "validate", str(user), home=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith(f"{user}:licenses[x-nc].commercial:") for line in lines)
    assert any(
        line.startswith(f"{user}:presets[mine].components[0].models[0]: unknown model 'sdxl'")
        for line in lines
    )
    assert lines[-1] == "rigfit: error: the catalog has 2 problems"
    assert "Traceback" not in result.stderr


def test_list_json_has_exactly_the_contract_keys(tmp_path: Path) -> None:
    result = _rigfit("catalog", "list", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"schema", "models", "node_packs", "presets"}
    assert document["schema"] == "rigfit.catalog/1"
    for model in document["models"]:
        assert set(model) == {"id", "family", "category", "maturity", "license", "variants"}
        assert model["category"] in {"image", "video", "audio", "3d", "aux"}
        for variant in model["variants"]:
            assert set(variant) == {"id", "format", "quant", "bytes"}
    assert all(set(p) == {"id", "repo", "stability"} for p in document["node_packs"])
    assert all(set(p) == {"id", "maturity"} for p in document["presets"])
    flux = next(m for m in document["models"] if m["id"] == "flux1-dev")
    q8 = next(v for v in flux["variants"] if v["id"] == "flux1-dev-gguf-q8_0")
    assert q8 == {"id": "flux1-dev-gguf-q8_0", "format": "gguf", "quant": "Q8_0", "bytes": 12708281504}


def test_list_renders_a_table_per_category(tmp_path: Path) -> None:
    result = _rigfit("catalog", "list", home=tmp_path)
    assert result.returncode == 0, result.stderr
    for title in (
        "image models",
        "video models",
        "audio models",
        "3d models",
        "aux models",
        "node packs",
        "presets",
    ):
        assert title in result.stdout


def test_a_user_catalog_replaces_a_shipped_entry_and_adds_new_ones(tmp_path: Path) -> None:
    user = tmp_path / "catalogs"
    user.mkdir()
    (user / "override.json").write_text(
        json.dumps(
            {
                "schema": "rigfit.catalog/1",
                "presets": [
                    {
                        "id": "anime",
                        "name": "My anime",
                        "description": "SD1.5 only",
                        "category": "image",
                        "maturity": "mature",
                        "components": [{"role": "base_model", "models": ["dreamshaper-8"]}],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    result = _rigfit("catalog", "show", "anime", "--json", "--catalog", str(user), home=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["preset"]["name"] == "My anime"
    assert document["preset"]["components"] == [
        {"role": "base_model", "models": ["dreamshaper-8"], "optional": False, "note": "", "applies_to": []}
    ]


def test_show_a_variant_and_an_unknown_id(tmp_path: Path) -> None:
    shown = _rigfit("catalog", "show", "flux1-dev-gguf-q4_k_s", home=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "diffusion_models/flux1-dev-Q4_K_S.gguf" in shown.stdout
    assert "(exact)" in shown.stdout
    missing = _rigfit("catalog", "show", "flux-dev", home=tmp_path)
    assert missing.returncode == 2
    assert "did you mean" in missing.stderr and "flux1-dev" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_a_file_that_is_not_json_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "schema": "rigfit.catalog/1",\n  "models": [,]\n}\n', encoding="utf-8")
    result = _rigfit("catalog", "list", "--catalog", str(bad), home=tmp_path)
    assert result.returncode == 2
    assert f"{bad}:line 3: not valid JSON" in result.stderr
