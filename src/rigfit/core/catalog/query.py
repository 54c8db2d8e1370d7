"""Lookups and the documents ``rigfit catalog list|show`` print (pure: values in, JSON-ready dicts out)."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from typing import Any, Literal

from rigfit.core.catalog.schema import Catalog, CatalogFile, Model, NodePack, Preset, Requirement, Variant
from rigfit.core.errors import UsageError

SCHEMA_ID = "rigfit.catalog/1"
CATEGORY_ORDER = ("image", "video", "audio", "3d", "aux")
Kind = Literal["model", "variant", "node_pack", "preset"]


def variant_bytes(variant: Variant) -> int | None:
    """The download size of a variant: the sum of the sizes that are known; None when none is."""
    sizes = [f.bytes for f in variant.files if f.bytes is not None]
    return sum(sizes) if sizes else None


def resident_bytes(variant: Variant) -> int | None:
    """Bytes in memory when loaded: ``weight_bytes`` where set (one Wan expert of two), else the download size."""
    return variant.weight_bytes if variant.weight_bytes is not None else variant_bytes(variant)


def effective_requirements(catalog: Catalog, variant: Variant) -> tuple[Requirement, ...]:
    """The companions a variant needs: none for an all-in-one file, its own list where set, else its model's."""
    if variant.all_in_one:
        return ()
    if variant.requires is not None:
        return variant.requires
    return catalog.models[variant.model].requires


def variant_size_exact(variant: Variant) -> bool:
    return all(f.bytes_exact for f in variant.files)


def unique_files(catalog: Catalog) -> list[CatalogFile]:
    """Every distinct file (one destination = one file; variants may share a file)."""
    seen: dict[tuple[str, str], CatalogFile] = {}
    for variant in catalog.variants.values():
        for item in variant.files:
            seen.setdefault((item.folder, item.filename), item)
    return list(seen.values())


def counts(catalog: Catalog) -> dict[str, int]:
    files = unique_files(catalog)
    return {
        "models": len(catalog.models),
        "variants": len(catalog.variants),
        "files": len(files),
        "exact_sizes": sum(1 for f in files if f.bytes_exact),
        "hashes": sum(1 for f in files if f.sha256),
        "node_packs": len(catalog.node_packs),
        "presets": len(catalog.presets),
        "licenses": len(catalog.licenses),
    }


def models_by_category(catalog: Catalog) -> list[Model]:
    rank = {name: i for i, name in enumerate(CATEGORY_ORDER)}
    return sorted(catalog.models.values(), key=lambda m: (rank.get(m.category, len(rank)), m.family, m.id))


def list_document(catalog: Catalog) -> dict[str, Any]:
    """``rigfit catalog list --json``, exactly the contract's keys."""
    return {
        "schema": SCHEMA_ID,
        "models": [
            {
                "id": m.id,
                "family": m.family,
                "category": m.category,
                "maturity": m.maturity,
                "license": m.license,
                "variants": [
                    {"id": v.id, "format": v.format, "quant": v.quant, "bytes": variant_bytes(v)}
                    for v in m.variants
                ],
            }
            for m in models_by_category(catalog)
        ],
        "node_packs": [
            {"id": p.id, "repo": p.repo, "stability": p.stability}
            for p in sorted(catalog.node_packs.values(), key=_id)
        ],
        "presets": [{"id": p.id, "maturity": p.maturity} for p in catalog.presets.values()],
    }


def _id(item: NodePack) -> str:
    return item.id


def find(catalog: Catalog, ident: str) -> tuple[Kind, Model | Variant | NodePack | Preset]:
    """The entry called ``ident`` (ids are unique across kinds); ``UsageError`` with a suggestion if none."""
    if ident in catalog.models:
        return "model", catalog.models[ident]
    if ident in catalog.variants:
        return "variant", catalog.variants[ident]
    if ident in catalog.node_packs:
        return "node_pack", catalog.node_packs[ident]
    if ident in catalog.presets:
        return "preset", catalog.presets[ident]
    names: Iterable[str] = [*catalog.models, *catalog.variants, *catalog.node_packs, *catalog.presets]
    close = difflib.get_close_matches(ident, list(names), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    raise UsageError(
        f"no model, variant, node pack or preset called {ident!r} in the catalog{hint}; "
        "see `rigfit catalog list`"
    )


def show_document(catalog: Catalog, ident: str) -> dict[str, Any]:
    """``rigfit catalog show ID --json``: the entry with every field, plus its licence for models."""
    kind, entry = find(catalog, ident)
    document: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "kind": kind,
        "id": ident,
        kind: dataclasses.asdict(entry),
    }
    if isinstance(entry, Model):
        document["license"] = dataclasses.asdict(catalog.licenses[entry.license])
    elif isinstance(entry, Variant):
        document["model"] = entry.model
        document["bytes"] = variant_bytes(entry)
        document["bytes_exact"] = variant_size_exact(entry)
    return document
