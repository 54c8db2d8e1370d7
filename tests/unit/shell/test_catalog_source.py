"""Finding and reading catalog files: shipped package data, user files and folders, broken JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigfit.core.errors import CatalogError
from rigfit.shell.catalog_source import load_catalog, read_documents, shipped_documents


def test_the_shipped_files_are_package_data_and_parse() -> None:
    names = [name for name, _ in shipped_documents()]
    assert {
        "licenses.json",
        "image.json",
        "video.json",
        "audio.json",
        "3d.json",
        "aux.json",
        "node_packs.json",
        "presets.json",
    } <= set(names)
    assert names == sorted(names)
    assert all(
        isinstance(doc, dict) and doc["schema"] == "rigfit.catalog/1" for _, doc in shipped_documents()
    )


def test_the_shipped_catalog_is_cached_in_the_process() -> None:
    assert load_catalog() is load_catalog()


def test_a_folder_stands_for_its_json_files_in_name_order(tmp_path: Path) -> None:
    for name in ("b.json", "a.json", "notes.txt"):
        (tmp_path / name).write_text(json.dumps({"schema": "rigfit.catalog/1"}), encoding="utf-8")
    assert [Path(n).name for n, _ in read_documents([str(tmp_path)])] == ["a.json", "b.json"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param("missing", "no such catalog file or folder", id="missing-path"),
        pytest.param("empty-folder", "no *.json catalog files in this folder", id="empty-folder"),
        pytest.param("bad-json", ":line 2: not valid JSON", id="bad-json"),
        pytest.param("not-utf8", "cannot be read", id="not-utf8"),
    ],
)
def test_unreadable_user_catalogs_are_catalog_errors_naming_the_path(
    tmp_path: Path, setup: str, expected: str
) -> None:
    target = tmp_path / "cat"
    if setup == "empty-folder":
        target.mkdir()
    elif setup == "bad-json":
        target = tmp_path / "bad.json"
        target.write_text('{"schema": "rigfit.catalog/1",\n "models": [}\n', encoding="utf-8")
    elif setup == "not-utf8":
        target = tmp_path / "latin.json"
        target.write_bytes(b'{"notes": "caf\xe9"}')
    with pytest.raises(CatalogError) as info:
        load_catalog([str(target)])
    assert str(target) in info.value.problems[0]
    assert expected in info.value.problems[0]
