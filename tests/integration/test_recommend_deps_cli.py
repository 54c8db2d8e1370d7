"""``rigfit recommend --catalog USER`` with node packs whose declared requirements conflict: the preset
carries a warning naming both packs and their specifiers, ``--json`` lists the conflict, and the command
still succeeds (the warning informs; ``rigfit deps check`` decides)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigfit.cli.main import main

FOO = {"id": "comfyui-foo", "name": "Foo", "repo": "https://github.com/example/comfyui-foo",
       "commit": "0123456789abcdef0123456789abcdef01234567", "stability": 3,
       "requirements": ["numpy<2", "opencv-python>=4.8", "onnxruntime"]}
BAR = {"id": "comfyui-bar", "name": "Bar", "repo": "https://github.com/example/comfyui-bar",
       "commit": "89abcdef0123456789abcdef0123456789abcdef", "stability": 3,
       "requirements": ["numpy>=2", "opencv-contrib-python-headless", "onnxruntime-gpu"]}


def _preset(pid: str, packs: list[str]) -> dict[str, object]:
    return {"id": pid, "name": pid.title(), "description": "test preset", "category": "image",
            "maturity": "mature", "components": [{"role": "base_model", "models": ["dreamshaper-8"]}],
            "node_packs": packs}


@pytest.fixture
def user_catalog(tmp_path: Path) -> str:
    folder = tmp_path / "catalogs"
    folder.mkdir()
    (folder / "user.json").write_text(json.dumps({
        "schema": "rigfit.catalog/1", "node_packs": [FOO, BAR],
        "presets": [_preset("clash", ["comfyui-foo", "comfyui-bar"]), _preset("calm", ["comfyui-foo"])],
    }), encoding="utf-8")
    return str(folder)


def test_recommend_json_warns_about_packs_whose_numpy_requirements_conflict(
        capsys: pytest.CaptureFixture[str], user_catalog: str) -> None:
    code = main(["recommend", "--catalog", user_catalog, "--hardware", "rtx4060-8gb", "--preset", "clash",
                 "--preset", "calm", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    clash, calm = json.loads(out)["presets"]
    (warning,) = [w for w in clash["warnings"] if "conflict" in w]
    assert "comfyui-foo needs numpy<2; comfyui-bar needs numpy>=2" in warning
    assert "declared requirements" in warning and "rigfit deps check" in warning
    assert [(c["packages"], c["packs"]) for c in clash["dependency_conflicts"]] == [
        (["numpy"], ["comfyui-foo", "comfyui-bar"])]
    # OpenCV variants and onnxruntime builds are settled, not reported; a preset with one of the packs is clean
    assert not any("opencv" in w or "onnxruntime" in w for w in clash["warnings"])
    assert calm["dependency_conflicts"] == [] and not any("conflict" in w for w in calm["warnings"])


def test_recommend_table_shows_the_conflict_under_the_preset(capsys: pytest.CaptureFixture[str],
                                                             user_catalog: str) -> None:
    code = main(["recommend", "--catalog", user_catalog, "--hardware", "rtx4060-8gb", "--preset", "clash"])
    out, _ = capsys.readouterr()
    assert code == 0
    flat = " ".join(out.split())
    assert "! node packs conflict (numpy): comfyui-foo needs numpy<2; comfyui-bar needs numpy>=2" in flat
