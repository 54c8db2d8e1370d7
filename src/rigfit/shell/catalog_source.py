"""Reading catalog files: the shipped ones (package data ``rigfit.data.catalog``) and ``--catalog PATH``.

The core loader validates; this module only finds files, reads and parses them. A file that is not valid
JSON becomes a ``CatalogError`` naming the file and the line. The parsed shipped documents are cached in
the process: every command loads the catalog, and the shipped part never changes while rigfit runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

from rigfit.core.catalog.loader import Document, build_catalog
from rigfit.core.catalog.schema import Catalog
from rigfit.core.errors import CatalogError

SHIPPED_PACKAGE = "rigfit.data.catalog"


def _parse(name: str, text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            [f"{name}:line {exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})"]
        ) from exc


@lru_cache(maxsize=1)
def shipped_documents() -> tuple[Document, ...]:
    """The shipped catalog files, parsed, in name order."""
    folder = resources.files(SHIPPED_PACKAGE)
    names = sorted(item.name for item in folder.iterdir() if item.name.endswith(".json"))
    return tuple((name, _parse(name, folder.joinpath(name).read_text(encoding="utf-8"))) for name in names)


def read_documents(paths: Sequence[str]) -> list[Document]:
    """User catalog files; a folder stands for the ``*.json`` files in it (name order)."""
    documents: list[Document] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(path.glob("*.json"))
            if not files:
                raise CatalogError([f"{raw}:(folder): no *.json catalog files in this folder"])
        elif path.is_file():
            files = [path]
        else:
            raise CatalogError([f"{raw}:(file): no such catalog file or folder"])
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CatalogError([f"{file}:(file): cannot be read: {exc}"]) from exc
            documents.append((str(file), _parse(str(file), text)))
    return documents


@lru_cache(maxsize=1)
def _shipped_catalog() -> Catalog:
    return build_catalog(shipped_documents())


def load_catalog(extra_paths: Sequence[str] = ()) -> Catalog:
    """The shipped catalog with the user catalogs at ``extra_paths`` layered on top (validated together)."""
    if not extra_paths:
        return _shipped_catalog()
    return build_catalog(shipped_documents(), read_documents(extra_paths))
