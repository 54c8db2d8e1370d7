"""``rigfit plan [recommend options] -o plan.json``: the recommendation as a lock file (rigfit.plan/1)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rigfit.core.hardware import Hardware
    from rigfit.core.plan import Plan


def configure(parser: argparse.ArgumentParser) -> None:
    from rigfit.cli.cmd_recommend import add_choice_options

    add_choice_options(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write the plan here (default: standard output)")
    parser.add_argument("--index-url", metavar="URL", help="package index for resolving Python requirements")
    parser.add_argument("--find-links", metavar="PATH", action="append",
                        help="an offline wheelhouse for resolving requirements (repeatable)")
    parser.add_argument("--offline", action="store_true", help="resolve from uv's cache only (no network)")


def _torch_index(hardware: Hardware) -> tuple[str | None, str]:
    """The torch wheel index (URL, version limit) from the dependency resolver's core module."""
    from rigfit.core.torch_index import torch_index_for

    index = torch_index_for(hardware)
    return index.url, index.torch_spec


def _requirements(args: argparse.Namespace, hardware: Hardware, packs: dict[str, tuple[str, ...]],
                  torch_url: str | None, torch_spec: str) -> tuple[str, ...]:
    """The node packs' Python requirements, locked by the resolver (uv) for this machine; when that cannot
    run (no network, no mirror), their screened, normalised lines unlocked, with a warning."""
    from rigfit.cli.render import warn
    from rigfit.core.errors import ResolveError
    from rigfit.core.normalize import Target, requirement_set
    from rigfit.shell.resolver import Sources, planned_torch, resolve_lock

    declared = {pid: lines for pid, lines in packs.items() if lines}
    if not declared:
        return ()
    gpu = hardware.primary_gpu
    target = Target(hardware.os, hardware.arch, gpu.vendor if gpu else "cpu")
    sources = Sources(args.index_url, tuple(args.find_links or ()), offline=bool(args.offline))
    try:
        torch_build = planned_torch(target, torch_url, torch_spec, sources, timeout=120)
        return tuple(resolve_lock(declared, target, torch_build, sources=sources, timeout=300))
    except ResolveError as exc:
        warn(f"python requirements are not locked ({exc}); the plan lists the node packs' own lines, "
             "and rigfit install resolves them")
        return requirement_set(declared, target, {}).lines()


def plan_for(args: argparse.Namespace, comfyui: str | None) -> Plan:
    """The plan for these recommendation options (``rigfit plan`` writes it, ``rigfit install`` without a plan
    file carries it out): recommend, draft the plan, lock its node packs' requirements, then the final plan."""
    from rigfit.cli.cmd_recommend import build_report, choices_from, load
    from rigfit.cli.render import warn
    from rigfit.core.plan_builder import build_plan

    catalog, hardware = load(args)
    report = build_report(catalog, hardware, choices_from(args), comfyui)
    torch_url, torch_spec = _torch_index(hardware)
    draft, _ = build_plan(report, catalog, torch_index=torch_url)
    packs = {p.id: catalog.node_packs[p.id].requirements for p in draft.node_packs if p.id in catalog.node_packs}
    requirements = _requirements(args, hardware, packs, torch_url, torch_spec)
    plan, notes = build_plan(report, catalog, torch_index=torch_url, requirements=requirements)
    for note in notes:
        warn(note)
    return plan


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from rigfit.core.errors import UsageError
    from rigfit.core.plan import plan_to_json

    plan = plan_for(args, args.comfyui)
    text = json.dumps(plan_to_json(plan), indent=2, ensure_ascii=False) + "\n"
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.output).expanduser()
    if not out.parent.is_dir():
        raise UsageError(f"-o {args.output}: folder {out.parent} does not exist")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    if not args.json:
        from rigfit.cli.render import console

        console().print(f"wrote {out}: {len(plan.files)} files ({plan.total_bytes / 1e9:.1f} GB), "
                        f"{len(plan.node_packs)} node packs, launch args: {' '.join(plan.launch_args) or 'none'}")
    return 0
