"""``rigfit catalog validate [PATH ...] | list | show ID``: the catalog of models, node packs and presets."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rigfit.core.catalog.schema import Catalog, Model, NodePack, Preset, Variant


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(parser))
    validate = sub.add_parser(
        "validate",
        help="check the shipped catalog, or catalog files (on top of it); every problem is listed",
        description="Validate the shipped catalog, or the given catalog files or folders layered on top of it. "
        "Every problem is reported as file:key: message; exit 2 if there is any.",
    )
    validate.add_argument("paths", nargs="*", metavar="PATH", help="a catalog JSON file or a folder of them")
    sub.add_parser("list", help="every model with its variants, node pack and preset")
    show = sub.add_parser("show", help="one model, variant, node pack or preset")
    show.add_argument("ident", metavar="ID", help="a model, variant, node pack or preset id")
    # The common options also work after the action (``rigfit catalog list --json``).
    for child in sub.choices.values():
        child.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="print a JSON document"
        )
        child.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
        child.add_argument(
            "--catalog",
            metavar="PATH",
            action="append",
            default=argparse.SUPPRESS,
            help="add a user catalog file or folder on top of the shipped catalog (repeatable)",
        )


def run(args: argparse.Namespace) -> int:
    from rigfit.core.errors import CatalogError
    from rigfit.shell.catalog_source import load_catalog

    user_paths = [*args.catalog, *getattr(args, "paths", [])]
    if args.action == "validate":
        try:
            catalog = load_catalog(user_paths)
        except CatalogError as exc:
            return _report_problems(exc, as_json=args.json)
        return _validated(catalog, user_paths, as_json=args.json)
    catalog = load_catalog(user_paths)
    if args.action == "list":
        return _list(catalog, as_json=args.json)
    return _show(catalog, args.ident, as_json=args.json)


def _report_problems(exc: Exception, *, as_json: bool) -> int:
    from rigfit.cli import render

    problems = list(getattr(exc, "problems", ()) or [str(exc)])
    if as_json:
        render.emit_json({"schema": "rigfit.catalog-validation/1", "valid": False, "problems": problems})
    for line in problems:
        sys.stderr.write(f"{line}\n")
    sys.stderr.write(
        f"rigfit: error: the catalog has {len(problems)} problem{'s' if len(problems) != 1 else ''}\n"
    )
    return 2


def _validated(catalog: Catalog, user_paths: list[str], *, as_json: bool) -> int:
    from rigfit.cli import render
    from rigfit.core.catalog.query import counts

    numbers = counts(catalog)
    if as_json:
        render.emit_json(
            {"schema": "rigfit.catalog-validation/1", "valid": True, "problems": [], "counts": numbers}
        )
        return 0
    what = (
        "the shipped catalog" if not user_paths else f"{', '.join(user_paths)} on top of the shipped catalog"
    )
    render.console().print(
        f"catalog OK: {what}: {numbers['models']} models, {numbers['variants']} variants, {numbers['files']} files "
        f"({numbers['exact_sizes']} exact sizes, {numbers['hashes']} sha256), {numbers['node_packs']} node packs, "
        f"{numbers['presets']} presets, {numbers['licenses']} licences"
    )
    return 0


def _list(catalog: Catalog, *, as_json: bool) -> int:
    from rigfit.cli import render
    from rigfit.core.catalog.query import CATEGORY_ORDER, list_document, models_by_category, variant_bytes

    if as_json:
        render.emit_json(list_document(catalog))
        return 0
    from rich.table import Table

    from rigfit.core.units import format_bytes

    console = render.console()
    models = models_by_category(catalog)
    for category in CATEGORY_ORDER:
        rows = [m for m in models if m.category == category]
        if not rows:
            continue
        table = Table(title=f"{category} models ({len(rows)})", title_justify="left")
        table.add_column("id", no_wrap=True)
        table.add_column("role")
        table.add_column("maturity")
        table.add_column("commercial")
        table.add_column("variants", justify="right")
        table.add_column("download", justify="right", no_wrap=True)
        for m in rows:
            sizes = [b for b in (variant_bytes(v) for v in m.variants) if b is not None]
            span = "?"
            if sizes:
                low, high = format_bytes(min(sizes)), format_bytes(max(sizes))
                span = low if low == high else f"{low}-{high}"
            table.add_row(
                m.id,
                m.role,
                m.maturity + (" (excluded)" if m.excluded else ""),
                "yes" if catalog.licenses[m.license].commercial else "no",
                str(len(m.variants)),
                span,
            )
        console.print(table)
    packs = Table(title=f"node packs ({len(catalog.node_packs)})", title_justify="left")
    for column in ("id", "stability", "maturity", "repo", "commit"):
        packs.add_column(column)
    for pack in sorted(catalog.node_packs.values(), key=lambda p: p.id):
        packs.add_row(pack.id, "*" * pack.stability, pack.maturity, pack.repo, pack.commit[:12])
    console.print(packs)
    presets = Table(title=f"presets ({len(catalog.presets)})", title_justify="left")
    for column in ("id", "category", "maturity", "min VRAM", "recommended"):
        presets.add_column(column)
    for preset in catalog.presets.values():
        presets.add_row(
            preset.id,
            preset.category,
            preset.maturity,
            format_bytes(preset.min_vram_bytes, binary=True),
            format_bytes(preset.recommended_vram_bytes, binary=True),
        )
    console.print(presets)
    return 0


def _show(catalog: Catalog, ident: str, *, as_json: bool) -> int:
    from rigfit.cli import render
    from rigfit.core.catalog.query import find, show_document

    if as_json:
        render.emit_json(show_document(catalog, ident))
        return 0
    kind, entry = find(catalog, ident)
    lines = {
        "model": _model_lines,
        "variant": _variant_lines,
        "node_pack": _pack_lines,
        "preset": _preset_lines,
    }
    render.console().print("\n".join(lines[kind](catalog, entry)), markup=False)  # type: ignore[operator]
    return 0


def _variant_lines(catalog: Catalog, v: Variant) -> list[str]:
    from rigfit.core.units import format_bytes

    lines = [f"variant {v.id} of {v.model}: {v.format}" + (f" {v.quant}" if v.quant else "")]
    if v.loader:
        lines.append(f"  loader: {v.loader}")
    if v.node_packs:
        lines.append(f"  node packs: {', '.join(v.node_packs)}")
    if v.all_in_one:
        lines.append("  all-in-one checkpoint (text encoders and VAE inside)")
    for f in v.files:
        size = format_bytes(f.bytes) if f.bytes is not None else "size unknown"
        mark = "exact" if f.bytes_exact else "approximate" if f.bytes is not None else "no source printed it"
        lines.append(
            f"  {f.folder}/{f.filename}  {size} ({mark}){'  sha256 ' + f.sha256[:16] + '…' if f.sha256 else ''}"
        )
        lines.append(f"    {f.url}")
    if v.requires is not None:
        lines.extend(f"  requires {r.role}: {' | '.join(r.models)}" for r in v.requires)
    if v.notes:
        lines.append(f"  {v.notes}")
    return lines


def _model_lines(catalog: Catalog, m: Model) -> list[str]:
    lic = catalog.licenses[m.license]
    lines = [
        f"{m.name} ({m.id}): {m.category} {m.role}, family {m.family}, {m.maturity}",
        f"  licence: {lic.name} ({'commercial use allowed' if lic.commercial else 'NOT for commercial use'})",
        f"  runtime: {m.runtime.kind}"
        + (f" {m.runtime.node_pack or m.runtime.package}" if m.runtime.kind != "comfyui" else ""),
    ]
    if m.params_b:
        lines.append(f"  parameters: {m.params_b} B")
    if m.capabilities:
        lines.append(f"  capabilities: {', '.join(m.capabilities)}")
    if m.excluded:
        lines.append(f"  excluded from default presets: {m.excluded}")
    lines.extend(
        f"  requires {r.role}: {' | '.join(r.models)}{' (optional)' if r.optional else ''}"
        for r in m.requires
    )
    mem = m.memory
    if mem.usage_factor is not None:
        lines.append(f"  ComfyUI memory_usage_factor: {mem.usage_factor}")
    lines.append(f"  published VRAM figures: {len(mem.published)}")
    for v in m.variants:
        lines.extend(_variant_lines(catalog, v))
    if m.notes:
        lines.append(f"  {m.notes}")
    return lines


def _pack_lines(catalog: Catalog, p: NodePack) -> list[str]:
    lines = [
        f"{p.name} ({p.id}): {'*' * p.stability}, {p.maturity}",
        f"  {p.repo} @ {p.commit}",
        f"  install.py: {'yes' if p.install_script else 'no'}; platforms: {', '.join(p.platforms)}",
        f"  requirements: {', '.join(p.requirements) or 'none'}",
    ]
    if p.models:
        lines.append(f"  models: {', '.join(p.models)}")
    if p.folders:
        lines.append(f"  folders: {', '.join(p.folders)}")
    lines.append(f"  node classes: {len(p.node_classes)}")
    if p.notes:
        lines.append(f"  {p.notes}")
    return lines


def _preset_lines(catalog: Catalog, p: Preset) -> list[str]:
    from rigfit.core.units import format_bytes

    lines = [
        f"{p.name} ({p.id}): {p.category}, {p.maturity}",
        f"  {p.description}",
        f"  VRAM: min {format_bytes(p.min_vram_bytes, binary=True)}, recommended "
        f"{format_bytes(p.recommended_vram_bytes, binary=True)}",
    ]
    for c in p.components:
        extra = (" (optional)" if c.optional else "") + (
            f" [with {', '.join(c.applies_to)}]" if c.applies_to else ""
        )
        lines.append(f"  {c.role}: {' > '.join(c.models)}{extra}")
    lines.append(f"  node packs: {', '.join(p.node_packs)}")
    if p.prompt_tags:
        lines.append(f"  prompt tags: {', '.join(p.prompt_tags)}")
    return lines
