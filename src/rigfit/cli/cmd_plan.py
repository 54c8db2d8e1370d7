"""``rigfit plan [recommend options] -o plan.json``: the recommendation as a lock file (rigfit.plan/1)."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    from rigfit.cli.cmd_recommend import add_choice_options

    add_choice_options(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write the plan here (default: standard output)")
    parser.add_argument("--index-url", metavar="URL", help="package index for resolving Python requirements")
    parser.add_argument("--find-links", metavar="PATH", help="an offline wheelhouse for resolving requirements")


def _torch_index(hardware: object) -> str | None:
    """The torch wheel index from the dependency resolver's module, when it is there."""
    try:
        from rigfit.core.torch_index import torch_index_for
    except ImportError:
        return None
    try:
        index = torch_index_for(hardware)  # type: ignore[arg-type]
    except Exception:  # a resolver bug must not stop the plan; the note says it is missing
        return None
    url = getattr(index, "url", index)
    return url if isinstance(url, str) else None


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from rigfit.cli.cmd_recommend import build_report, choices_from, load
    from rigfit.cli.render import warn
    from rigfit.core.errors import UsageError
    from rigfit.core.plan import plan_to_json
    from rigfit.core.plan_builder import build_plan

    catalog, hardware = load(args)
    report = build_report(catalog, hardware, choices_from(args), args.comfyui)
    plan, notes = build_plan(report, catalog, torch_index=_torch_index(hardware))
    for note in notes:
        warn(note)
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
