"""``rigfit deps check``: resolve node packs' requirements together and name the packs that conflict."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rigfit.core.normalize import Target
    from rigfit.shell.resolver import DepsReport

SCHEMA = "rigfit.deps/1"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="deps_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="resolve node-pack folders together and report conflicts",
                           description="Read the requirements of the node-pack folders given, resolve them "
                                       "together against the target Python and torch, and report each "
                                       "conflict with the packs that cause it. Exit 0 when none, 1 when "
                                       "conflicts or refused lines, 2 on bad input.",
                           parents=[_common_options()])
    check.add_argument("dirs", nargs="*", metavar="DIR",
                       help="node-pack folders (default with --comfyui: every folder in its custom_nodes)")
    check.add_argument("--comfyui", metavar="DIR", help="target this installation's Python and torch")
    check.add_argument("--index-url", metavar="URL", help="package index to resolve against (a mirror)")
    check.add_argument("--find-links", metavar="PATH", action="append", default=[],
                       help="folder of wheels; alone it means an offline wheelhouse (repeatable)")
    check.add_argument("--allow-unsafe-lines", action="store_true",
                       help="accept index options, includes, direct URLs and git+ lines from packs")
    check.add_argument("--python", default="3.11", metavar="X.Y[.Z]|PATH",
                       help="target Python without --comfyui: a version (default 3.11) or an interpreter, "
                            "whose exact version and platform tags are then used")
    check.add_argument("--torch", metavar="NAME==VERSION", action="append", default=[],
                       help="pin the torch build (e.g. --torch torch==2.13.0 --torch torchvision==0.28.0) "
                            "instead of planning one for the hardware")
    check.add_argument("--offline", action="store_true", help="do not touch the network (uv's cache only)")


def _common_options() -> argparse.ArgumentParser:
    # the common options (--json, --hardware, ...) must follow `check` on the command line too
    from rigfit.cli.main import _common_options as common

    return common()


def _target(hardware: Any, python_version: str) -> Target:
    from rigfit.core.normalize import Target

    gpu = hardware.primary_gpu
    return Target(hardware.os, hardware.arch, gpu.vendor if gpu else "cpu", python_version)


def _pack_dirs(args: argparse.Namespace) -> list[Path]:
    from rigfit.core.errors import UsageError

    dirs = [Path(d) for d in args.dirs]
    if not dirs and args.comfyui:
        nodes = Path(args.comfyui) / "custom_nodes"
        dirs = sorted(p for p in nodes.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))) \
            if nodes.is_dir() else []
    if not dirs:
        raise UsageError("no node-pack folders given (name them, or give --comfyui DIR)")
    for folder in dirs:
        if not folder.is_dir():
            raise UsageError(f"{folder}: not a folder")
    return dirs


def run(args: argparse.Namespace) -> int:
    from rigfit.shell.interpreter import version_soon

    interpreter = None if args.comfyui or not (os.sep in args.python or Path(args.python).is_file()) \
        else args.python
    # Asking the interpreter its version takes a process start: it runs while the resolver loads.
    return _run(args, version_soon(interpreter) if interpreter else None)


def _run(args: argparse.Namespace, interpreter_version: Callable[[], str] | None) -> int:
    from rigfit.core.errors import UsageError
    from rigfit.core.requirements import Screened
    from rigfit.core.torch_index import torch_index_for
    from rigfit.shell import resolver
    from rigfit.shell.hardware_source import load_hardware

    if args.index_url and not args.index_url.startswith(("https://", "http://", "file://")):
        raise UsageError(f"--index-url {args.index_url!r} is not a URL")
    for link in args.find_links:
        if "://" not in link and not Path(link).exists():
            raise UsageError(f"--find-links {link}: no such folder")
    dirs = _pack_dirs(args)
    screened = Screened()
    notes: list[str] = []
    for folder in dirs:
        found, pack_notes = resolver.collect_pack(folder, allow_unsafe=args.allow_unsafe_lines)
        screened = screened.merged(found)
        notes += pack_notes
    sources = resolver.Sources(args.index_url, tuple(args.find_links), offline=args.offline)
    torch_url: str | None = None
    hardware = load_hardware(args.hardware)
    if args.comfyui:
        env = resolver.read_installation(Path(args.comfyui))
        target = _target(hardware, env.python_version)
    else:
        interpreter = args.python if interpreter_version else None
        version = interpreter_version() if interpreter_version else args.python
        target = _target(hardware, version)
        index = torch_index_for(hardware)
        torch_url = index.url
        notes.append(f"torch index: {index.url} ({index.reason})")
        if args.torch:
            build = _pins(args.torch)
        else:
            build = resolver.planned_torch(target, index.url, index.torch_spec, sources, python=interpreter)
        env = resolver.Environment(version, build, python=interpreter)
    report = resolver.check(screened, target, env, sources)
    _render(args, report, dirs, notes, torch_url, env.python_version)
    return 1 if report.conflicts or report.refused.refused else 0


def _pins(specs: list[str]) -> dict[str, str]:
    from rigfit.core.errors import UsageError
    from rigfit.core.normalize import in_torch_family

    pins = {}
    for spec in specs:
        name, sep, version = spec.partition("==")
        if not sep or not version.strip() or not in_torch_family(name.strip()):
            raise UsageError(f"--torch {spec!r}: expected NAME==VERSION for torch, torchvision, torchaudio, "
                             "xformers, triton or an nvidia-* runtime wheel")
        pins[name.strip().lower()] = version.strip()
    return pins


def _render(args: argparse.Namespace, report: DepsReport, dirs: list[Path], notes: list[str],
            torch_url: str | None, python_version: str) -> None:
    from rigfit.cli.render import console, emit_json

    refused = [r.as_dict() for r in report.refused.refused]
    all_notes = [*notes, *report.notes]
    if args.json:
        emit_json({
            "schema": SCHEMA,
            "conflicts": [c.as_dict() for c in report.conflicts],
            "refused_lines": refused,
            "lock": list(report.lock),
            "packs": [d.name for d in dirs],
            "set_aside": list(report.set_aside),
            "relaxed": [{"pack": pack, "lines": list(lines)} for pack, lines in report.relaxed],
            "python": python_version,
            "torch": {"pins": list(report.torch_pins), "index_url": torch_url},
            "notes": all_notes,
            "resolver_runs": report.runs,
            "seconds": round(report.seconds, 3),
        })
        return
    out = console()
    out.print(f"[bold]{len(dirs)} node pack(s)[/bold], Python {python_version}, "
              f"torch pinned: {', '.join(report.torch_pins) or 'none'} — {report.runs} resolver run(s), "
              f"{report.seconds:.2f} s", markup=True)
    if refused:
        out.print(f"\n[bold]Refused lines ({len(refused)})[/bold]", markup=True)
        for r in report.refused.refused:
            out.print(f"  {r.origin}: {r.text}  — {r.reason}", markup=False)
    if report.conflicts:
        out.print(f"\n[bold red]Conflicts ({len(report.conflicts)})[/bold red]", markup=True)
        for i, c in enumerate(report.conflicts, start=1):
            out.print(f"  {i}. [{', '.join(c.packages)}] {c.detail}", markup=False)
    else:
        out.print(f"\n[bold green]No conflicts[/bold green]: {len(report.lock)} pinned packages", markup=True)
        for line in report.lock:
            out.print(f"  {line}", markup=False)
    if all_notes:
        out.print("\n[bold]Notes[/bold]", markup=True)
        for note in all_notes:
            out.print(f"  - {note}", markup=False)
