"""The whole-catalog loader: decode every file, layer user catalogs on top, check every cross-reference.

``build_catalog`` is pure: it takes already-parsed JSON documents with the name to report them under and
returns a ``Catalog`` or raises one ``CatalogError`` listing every problem as ``file:key: message``.

Layering: the shipped files form the base (an id defined twice there is an error); each user document is a
layer on top where an entry whose id already exists replaces it (an id defined twice in one layer is an
error). Cross-references are checked after layering, so a user catalog may name shipped models and a
replaced model is checked against its new content.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import Any

from rigfit.core.catalog import schema
from rigfit.core.catalog.wire import FIGURES, SECTIONS, FigureEntry, Problems, decode_document, suggest
from rigfit.core.errors import CatalogError
from rigfit.core.folders import COMFYUI_FOLDERS, LEGACY_ALIASES

Document = tuple[str, object]

# Words that mark a licence as non-commercial; such a licence must say ``commercial: false``.
_NON_COMMERCIAL_MARKS = (
    "non-commercial",
    "noncommercial",
    "research only",
    "research-only",
    "-nc-",
    "cc-by-nc",
)


class _Entries:
    """Every section's entries by id, with the file each came from."""

    def __init__(self) -> None:
        self.by_section: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
        self.origin: dict[tuple[str, str], str] = {}
        self.figures: list[FigureEntry] = []

    def where(self, section: str, ident: str) -> str:
        return f"{self.origin[(section, ident)]}:{section}[{ident}]"


def build_catalog(base: Sequence[Document], layers: Sequence[Document] = ()) -> schema.Catalog:
    """The validated catalog of ``base`` with each of ``layers`` on top; raises ``CatalogError``."""
    problems = Problems()
    entries = _Entries()
    for source, document in base:
        _add(entries, source, decode_document(source, document, problems), problems, replace=False)
    for source, document in layers:
        _add(entries, source, decode_document(source, document, problems), problems, replace=True)
    variants = _check(entries, problems)
    if problems.lines:
        raise CatalogError(problems.lines)
    return schema.Catalog(
        licenses=MappingProxyType(dict(entries.by_section["licenses"])),
        models=MappingProxyType(dict(entries.by_section["models"])),
        node_packs=MappingProxyType(dict(entries.by_section["node_packs"])),
        presets=MappingProxyType(dict(entries.by_section["presets"])),
        variants=MappingProxyType(variants),
    )


def _add(
    entries: _Entries, source: str, sections: dict[str, list[Any]], problems: Problems, *, replace: bool
) -> None:
    seen_here: set[tuple[str, str]] = set()
    entries.figures.extend(sections.pop(FIGURES, []))
    for section, items in sections.items():
        table = entries.by_section[section]
        for item in items:
            key = (section, item.id)
            if key in seen_here:
                problems.add(f"{source}:{section}[{item.id}].id", f"duplicate id {item.id!r} in this file")
                continue
            if key in entries.origin and not replace:
                first = entries.origin[key]
                problems.add(
                    f"{source}:{section}[{item.id}].id",
                    f"duplicate id {item.id!r} (first defined in {first})",
                )
                continue
            seen_here.add(key)
            table[item.id] = item
            entries.origin[key] = source


def _check(entries: _Entries, problems: Problems) -> dict[str, schema.Variant]:
    """Cross-reference checks; returns the variants by id with their parent model set."""
    licenses = entries.by_section["licenses"]
    models: dict[str, schema.Model] = entries.by_section["models"]
    packs: dict[str, schema.NodePack] = entries.by_section["node_packs"]
    presets: dict[str, schema.Preset] = entries.by_section["presets"]
    pack_folders = {folder for pack in packs.values() for folder in pack.folders}
    pack_folders |= {
        folder
        for model in models.values()
        for runtime in (model.runtime, *model.alt_runtimes)
        for folder in runtime.folders
    }

    for ident, lic in licenses.items():
        text = f"{lic.id} {lic.name} {lic.notes}".lower()
        if lic.commercial and any(mark in text for mark in _NON_COMMERCIAL_MARKS):
            problems.add(
                f"{entries.where('licenses', ident)}.commercial",
                'the licence reads as non-commercial; mark it "commercial": false',
            )

    variants: dict[str, schema.Variant] = {}
    figures: list[tuple[str, schema.PublishedFigure]] = []
    variant_where: dict[str, str] = {}
    destinations: dict[tuple[str, str], tuple[str, schema.CatalogFile]] = {}
    for ident, model in list(models.items()):
        where = entries.where("models", ident)
        _ref(problems, f"{where}.license", model.license, licenses, "licence")
        _runtime_refs(problems, f"{where}.runtime", model.runtime, packs)
        for i, alt in enumerate(model.alt_runtimes):
            _runtime_refs(problems, f"{where}.alt_runtimes[{i}]", alt, packs)
        _requirement_refs(problems, f"{where}.requires", model.requires, models, ident)
        if not model.variants:
            problems.add(f"{where}.variants", "a model needs at least one variant")
        own_variants = {v.id for v in model.variants}
        for j, fig in enumerate(model.memory.published):
            if fig.variant is not None and fig.variant not in own_variants:
                problems.add(
                    f"{where}.memory.published[{j}].variant",
                    f"unknown variant {fig.variant!r} of model {ident!r}{suggest(fig.variant, own_variants)}",
                )
        figures.extend(
            (f"{where}.memory.published[{j}]", fig) for j, fig in enumerate(model.memory.published)
        )
        placed: list[schema.Variant] = []
        for variant in model.variants:
            vwhere = f"{where}.variants[{variant.id}]"
            if variant.id in variants:
                problems.add(
                    f"{vwhere}.id",
                    f"duplicate variant id {variant.id!r} (also in {variant_where[variant.id]})",
                )
                continue
            for j, pack in enumerate(variant.node_packs):
                _ref(problems, f"{vwhere}.node_packs[{j}]", pack, packs, "node pack")
            if variant.requires is not None:
                _requirement_refs(problems, f"{vwhere}.requires", variant.requires, models, ident)
            for k, item in enumerate(variant.files):
                fwhere = f"{vwhere}.files[{k}]"
                _folder_known(problems, f"{fwhere}.folder", item.folder, pack_folders)
                _destination_unique(problems, fwhere, item, destinations)
            variant = dataclasses.replace(variant, model=ident)
            variants[variant.id] = variant
            variant_where[variant.id] = vwhere
            placed.append(variant)
        models[ident] = dataclasses.replace(model, variants=tuple(placed))

    _distinct_namespaces(entries, variant_where, problems)
    figures.extend(_attach_figures(entries, models, problems))
    for fig_where, fig in figures:
        for k, companion in enumerate(fig.components):
            _ref(problems, f"{fig_where}.components[{k}]", companion, variants, "variant")
    for ident, node_pack in packs.items():
        where = entries.where("node_packs", ident)
        if node_pack.license is not None:
            _ref(problems, f"{where}.license", node_pack.license, licenses, "licence")
        for j, model_id in enumerate(node_pack.models):
            _ref(problems, f"{where}.models[{j}]", model_id, models, "model")
    for ident, preset in presets.items():
        where = entries.where("presets", ident)
        for j, component in enumerate(preset.components):
            for k, model_id in enumerate(component.models):
                _ref(problems, f"{where}.components[{j}].models[{k}]", model_id, models, "model")
            for k, model_id in enumerate(component.applies_to):
                _ref(problems, f"{where}.components[{j}].applies_to[{k}]", model_id, models, "model")
        for j, pack_id in enumerate(preset.node_packs):
            _ref(problems, f"{where}.node_packs[{j}]", pack_id, packs, "node pack")
    return variants


def _attach_figures(
    entries: _Entries, models: dict[str, schema.Model], problems: Problems
) -> list[tuple[str, schema.PublishedFigure]]:
    """Append each ``figures`` entry to its model's published figures; returns them for the component check."""
    attached: list[tuple[str, schema.PublishedFigure]] = []
    for entry in entries.figures:
        model = models.get(entry.model)
        if model is None:
            _ref(problems, f"{entry.where}.model", entry.model, models, "model")
            continue
        own_variants = {v.id for v in model.variants}
        variant = entry.figure.variant
        if variant is not None and variant not in own_variants:
            problems.add(
                f"{entry.where}.variant",
                f"unknown variant {variant!r} of model {model.id!r}{suggest(variant, own_variants)}",
            )
            continue
        memory = dataclasses.replace(model.memory, published=(*model.memory.published, entry.figure))
        models[entry.model] = dataclasses.replace(model, memory=memory)
        attached.append((entry.where, entry.figure))
    return attached


def _ref(problems: Problems, where: str, ident: str, table: dict[str, Any], what: str) -> None:
    if ident not in table and ident not in problems.broken:
        problems.add(where, f"unknown {what} {ident!r}{suggest(ident, table)}")


def _runtime_refs(problems: Problems, where: str, runtime: schema.Runtime, packs: dict[str, Any]) -> None:
    if runtime.kind == "node-pack":
        if runtime.node_pack is None:
            problems.add(f"{where}.node_pack", "a node-pack runtime must name its node pack")
        else:
            _ref(problems, f"{where}.node_pack", runtime.node_pack, packs, "node pack")
    elif runtime.node_pack is not None:
        _ref(problems, f"{where}.node_pack", runtime.node_pack, packs, "node pack")
    if runtime.kind in ("python", "mlx") and not runtime.package:
        problems.add(f"{where}.package", f"a {runtime.kind} runtime must name its package")


def _requirement_refs(
    problems: Problems, where: str, requires: Iterable[schema.Requirement], models: dict[str, Any], owner: str
) -> None:
    for i, req in enumerate(requires):
        for j, model_id in enumerate(req.models):
            if model_id == owner:
                problems.add(f"{where}[{i}].models[{j}]", f"model {owner!r} cannot require itself")
            else:
                _ref(problems, f"{where}[{i}].models[{j}]", model_id, models, "model")


def _folder_known(problems: Problems, where: str, folder: str, pack_folders: set[str]) -> None:
    head = folder.split("/", 1)[0]
    if head in COMFYUI_FOLDERS:
        return
    if any(folder == known or folder.startswith(known + "/") for known in pack_folders):
        return
    if head in LEGACY_ALIASES:
        problems.add(where, f"{head!r} is ComfyUI's legacy alias; write {LEGACY_ALIASES[head]!r}")
        return
    known = sorted({*COMFYUI_FOLDERS, *pack_folders})
    problems.add(
        where,
        f"unknown folder {folder!r}: neither ComfyUI nor any node pack's folders know it{suggest(folder, known)}",
    )


def _destination_unique(
    problems: Problems,
    where: str,
    item: schema.CatalogFile,
    destinations: dict[tuple[str, str], tuple[str, schema.CatalogFile]],
) -> None:
    """Two different files may not land on the same path (one would overwrite the other)."""
    key = (item.folder, item.filename)
    seen = destinations.get(key)
    if seen is None:
        destinations[key] = (where, item)
        return
    first_where, first = seen
    if (first.url, first.bytes, first.sha256) != (item.url, item.bytes, item.sha256):
        problems.add(
            f"{where}.filename",
            f"{item.folder}/{item.filename} is also the destination of a different file at {first_where}; "
            "rename one on save",
        )


def _distinct_namespaces(entries: _Entries, variant_where: dict[str, str], problems: Problems) -> None:
    """Model, variant, node-pack and preset ids share one namespace, so ``catalog show ID`` is unambiguous."""
    owner: dict[str, str] = {}
    for section in ("models", "node_packs", "presets"):
        for ident in entries.by_section[section]:
            where = entries.where(section, ident)
            if ident in owner:
                problems.add(f"{where}.id", f"id {ident!r} is already used by {owner[ident]}")
            else:
                owner[ident] = where
    for ident, where in variant_where.items():
        if ident in owner:
            problems.add(f"{where}.id", f"id {ident!r} is already used by {owner[ident]}")
