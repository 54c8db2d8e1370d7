"""A recommendation becomes a plan (``rigfit.plan/1``): files to fetch, node packs at pinned commits,
Python requirements, launch flags, and the presets for the starter workflows.

Only presets that run (``fits`` or ``offload``) go into the plan. A file whose size is only approximate is
written without ``bytes`` (the installer then checks the hash, or the server's size) so an estimate never
fails a correct download.
"""

from __future__ import annotations

from collections.abc import Sequence

from rigfit.core.catalog.schema import Catalog
from rigfit.core.launch_args import merge
from rigfit.core.plan import Plan, PlanFile, PlanNodePack, PlanPython
from rigfit.core.report import Report, preset_json
from rigfit.core.storage import unique_files

RUNNABLE = ("fits", "offload")


def build_plan(report: Report, catalog: Catalog, *, torch_index: str | None = None,
               requirements: Sequence[str] = ()) -> tuple[Plan, tuple[str, ...]]:
    """The plan and the notes about what was left out of it."""
    notes: list[str] = []
    keep = [i for i, r in enumerate(report.presets) if r.status in RUNNABLE]
    for r in report.presets:
        if r.status not in RUNNABLE:
            notes.append(f"{r.preset.id} left out of the plan: {r.status}")
    components = [c for i in keep for c in report.presets[i].components]
    files = tuple(
        PlanFile(url=f.url, filename=f.filename, folder=f.folder, bytes=f.bytes if f.bytes_exact else None,
                 sha256=f.sha256, license=next((c.model.license for c in components
                                                if f in c.variant.files), None))
        for f in unique_files(components)
    )
    packs: list[PlanNodePack] = []
    for i in keep:
        for n in report.presets[i].nodes:
            pack = catalog.node_packs.get(n)
            if pack is None:
                notes.append(f"node pack {n} is not in the catalog; left out")
            elif all(p.id != n for p in packs):
                packs.append(PlanNodePack(pack.id, pack.repo, pack.commit))
    if torch_index is None:
        notes.append("python.torch_index not resolved (no resolver available)")
    python = PlanPython(torch_index, tuple(requirements))
    launch = merge(report.launch[i].args for i in keep)
    presets = tuple(
        {"id": d["id"], "components": d["components"], "status": d["status"], "nodes": d["nodes"],
         "resolution": d["resolution"], "frames": d["frames"]}
        for d in (preset_json(report.presets[i], report.launch[i], report.device, catalog) for i in keep)
    )
    return Plan(files, tuple(packs), python, launch, presets), tuple(notes)
