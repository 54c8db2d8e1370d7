"""Starter workflows on disk: built and checked by the core, written into ``user/default/workflows/``.

The UI file (``rigfit-<preset>.json``) is what ComfyUI's workflow browser lists; the API file
(``rigfit-<preset>.api.json``) beside it is what ``POST /prompt`` takes. Both are checked against the node
schema before they are written; files rigfit wrote for presets no longer planned are removed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rigfit.core.plan import Plan
from rigfit.core.workflow_schema import Schema
from rigfit.core.workflow_ui import to_ui
from rigfit.core.workflows import StarterSet, check_schema, planned_files, starter_workflows, to_api
from rigfit.shell.comfyui import (
    SCHEMA_VERSION,
    bundled_pack_schemas,
    bundled_schema,
    installed_files,
    model_roots,
)
from rigfit.shell.install_steps import Context, dump, write_atomic

PREFIX = "rigfit-"


def workflows_dir(comfyui: Path) -> Path:
    return comfyui / "user" / "default" / "workflows"


def catalog_hints(
    pack_ids: Sequence[str], catalog_paths: Sequence[str] = ()
) -> tuple[dict[str, str], frozenset[str]]:
    """Model families and the node classes the given packs declare, from the catalog (empty when unavailable)."""
    try:
        from rigfit.shell.catalog_source import load_catalog

        catalog = load_catalog(catalog_paths)
    except Exception:  # the catalog only refines the choice of graph; a broken one must not stop an install
        return {}, frozenset()
    families = {m.id: m.family for m in catalog.models.values()}
    classes = frozenset(
        c for p in pack_ids if p in catalog.node_packs for c in catalog.node_packs[p].node_classes
    )
    return families, classes


def build(
    plan: Plan, comfyui: Path, models_root: Path | None, schema: Schema | None = None
) -> tuple[StarterSet, Schema]:
    """The starter set for ``plan`` and the schema it was checked with (planned plus installed files)."""
    families, classes = catalog_hints([p.id for p in plan.node_packs])
    files = planned_files(plan.presets)
    for key, names in installed_files(model_roots(comfyui, models_root)).items():
        files.setdefault(key, []).extend(names)
    base = schema or bundled_schema()
    packs = bundled_pack_schemas()
    result = starter_workflows(
        plan.presets, schema=base, families=families, pack_classes=classes, files=files, packs=packs
    )
    return result, check_schema(base, classes, files, plan.presets, packs)


def step_workflows(ctx: Context) -> dict[str, Any]:
    result, checked = build(ctx.plan, ctx.comfyui, ctx.models_root)
    folder = workflows_dir(ctx.comfyui)
    written: list[str] = []
    for wf in result.workflows:
        write_atomic(folder / f"{wf.name}.json", dump(to_ui(wf, checked)))
        write_atomic(folder / f"{wf.name}.api.json", dump(to_api(wf)))
        written.append(wf.name)
    previous = (ctx.facts.get("workflows") or {}).get("written") or []
    for stale in set(previous) - set(written):
        for suffix in (".json", ".api.json"):
            (folder / f"{stale}{suffix}").unlink(missing_ok=True)
    for preset_id, reason in result.skipped:
        ctx.say(f"no starter workflow for {preset_id}: {reason}")
    version = (ctx.facts.get("comfyui") or {}).get("version")
    if version and version != SCHEMA_VERSION:
        ctx.say(f"starter workflows were checked against ComfyUI {SCHEMA_VERSION}'s node schema; this is {version}: "
                "`rigfit doctor --live` checks them against the running server")  # fmt: skip
    return {
        "schema_version": SCHEMA_VERSION,
        "written": written,
        "skipped": [{"preset": p, "reason": r} for p, r in result.skipped],
        "kinds": {wf.name: wf.kind for wf in result.workflows},
    }


def read_api_workflows(comfyui: Path, names: Sequence[str]) -> Mapping[str, Any]:
    """name -> API prompt (or the error text when a file is missing or unreadable)."""
    out: dict[str, Any] = {}
    for name in names:
        path = workflows_dir(comfyui) / f"{name}.api.json"
        try:
            out[name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            out[name] = f"{path}: {exc}"
    return out
