"""``rigfit install PLAN.json --comfyui DIR --only models``: download, verify and place a plan's model files.

This version carries out the ``models`` step only; the other steps (ComfyUI itself, Python packages, node
packs) and installing straight from recommendation options are refused with exit status 2 until they exist.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rigfit.core.plan import Plan
    from rigfit.shell.download import DownloadEvent
    from rigfit.shell.model_install import FileOutcome

STEPS = ("comfyui", "python", "nodes", "models")
AVAILABLE = frozenset({"models"})


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", nargs="?", metavar="PLAN.json", help="a plan written by 'rigfit plan -o'")
    parser.add_argument("--comfyui", metavar="DIR", required=True, help="the ComfyUI folder to install into")
    parser.add_argument("--models-dir", metavar="DIR",
                        help="where the shared model store lives (default: rigfit's data folder); "
                             "files appear in ComfyUI/models as links")
    parser.add_argument("--only", action="append", choices=STEPS, metavar="STEP",
                        help="run only these steps: comfyui, python, nodes, models (repeatable)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="files downloaded at once (default 2)")
    parser.add_argument("--segments", type=int, default=None, metavar="N",
                        help="connections per large file (default 4)")
    parser.add_argument("--yes", action="store_true", help="do not ask before downloading")
    parser.add_argument("--comfyui-source", metavar="GIT_URL", help=argparse.SUPPRESS)
    parser.add_argument("--comfyui-ref", metavar="REF", help=argparse.SUPPRESS)
    parser.add_argument("--index-url", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--find-links", metavar="PATH", help=argparse.SUPPRESS)
    # The recommendation options (install without a plan) are accepted so that the refusal can say why.
    for flag in ("--preset", "--quant"):
        parser.add_argument(flag, action="append", help=argparse.SUPPRESS)
    for flag in ("--lora", "--commercial", "--experimental", "--fp8", "--no-fp8"):
        parser.add_argument(flag, action="store_true", help=argparse.SUPPRESS)


def _refusals(args: argparse.Namespace) -> str | None:
    if args.plan is None:
        return ("installing straight from recommendation options is not available yet: write a plan with "
                "'rigfit plan ... -o plan.json' and run 'rigfit install plan.json --comfyui DIR --only models'")
    steps = set(args.only or STEPS)
    missing = sorted(steps - AVAILABLE, key=STEPS.index)
    if missing:
        return (f"the install step(s) {', '.join(missing)} are not available yet in this version; "
                f"run with --only models")
    for name in ("comfyui_source", "comfyui_ref", "index_url", "find_links"):
        if getattr(args, name):
            return f"--{name.replace('_', '-')} belongs to a step that is not available yet"
    for name, value in (("--jobs", args.jobs), ("--segments", args.segments)):
        if value is not None and not 1 <= value <= 32:
            return f"{name} must be between 1 and 32, got {value}"
    return None


def _load_plan(path: str) -> Plan:
    import json

    from rigfit.core.errors import UsageError
    from rigfit.core.plan import parse_plan

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read plan {path}: {exc.strerror or exc}") from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from exc
    return parse_plan(doc, source=path)


def run(args: argparse.Namespace) -> int:
    from rigfit.cli import render
    from rigfit.core.download_plan import DEFAULT_JOBS, DEFAULT_SEGMENTS, endpoint_problem
    from rigfit.core.errors import UsageError
    from rigfit.shell import paths
    from rigfit.shell.fetch import Tuning
    from rigfit.shell.model_install import ModelsSettings, install_models
    from rigfit.shell.store import Store

    problem = _refusals(args)
    if problem is not None:
        raise UsageError(problem)
    plan = _load_plan(args.plan)
    endpoint = os.environ.get("HF_ENDPOINT", "").strip() or None
    if endpoint and (msg := endpoint_problem(endpoint)):
        raise UsageError(msg)
    token = (os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or "").strip() or None
    comfyui = Path(args.comfyui).expanduser().resolve()
    if comfyui.exists() and not comfyui.is_dir():
        raise UsageError(f"--comfyui {args.comfyui} is not a folder")
    store_root = Path(args.models_dir).expanduser().resolve() if args.models_dir else paths.data_dir() / "store"
    settings = ModelsSettings(
        comfyui=comfyui,
        store=Store(store_root),
        jobs=args.jobs or DEFAULT_JOBS,
        tuning=Tuning(segments=args.segments or DEFAULT_SEGMENTS),
        hf_token=token,
        hf_endpoint=endpoint.rstrip("/") if endpoint else None,
    )
    started = time.monotonic()
    confirm = None if (args.yes or args.json or not sys.stdin.isatty()) else _confirm
    if args.json:
        outcomes = install_models(plan, settings, confirm=confirm)
    else:
        with _ProgressView() as view:
            outcomes = install_models(plan, settings, on_event=view.on_event, confirm=confirm)
    seconds = time.monotonic() - started
    failed = [o for o in outcomes if o.status == "failed"]
    if args.json:
        render.emit_json(_report(outcomes, comfyui, store_root, seconds))
    else:
        _print_summary(outcomes, seconds)
    return 1 if failed else 0


def _confirm(count: int, total: int) -> bool:
    from rigfit.core.units import format_bytes

    answer = input(f"Download {count} file(s), {format_bytes(total)}? [Y/n] ").strip().lower()
    return answer in {"", "y", "yes"}


def _outcome_json(o: FileOutcome) -> dict[str, Any]:
    return {
        "folder": o.file.folder, "filename": o.file.filename, "url": o.file.url, "status": o.status,
        "how": o.how, "path": str(o.path), "bytes": o.file.bytes, "sha256": o.sha256,
        "verified_by": o.verified_by, "downloaded_bytes": o.downloaded_bytes, "resumed_bytes": o.resumed_bytes,
        "moved_aside": str(o.moved_aside) if o.moved_aside else None, "error": o.error,
    }


def _report(outcomes: list[FileOutcome], comfyui: Path, store: Path, seconds: float) -> dict[str, Any]:
    files = [_outcome_json(o) for o in outcomes]
    return {
        "schema": "rigfit.install/1",
        "comfyui": str(comfyui),
        "steps": {"models": {
            "ok": all(o.status != "failed" for o in outcomes),
            "store": str(store),
            "files": files,
            "downloaded_bytes": sum(o.downloaded_bytes for o in outcomes),
            "seconds": round(seconds, 3),
        }},
    }


def _print_summary(outcomes: list[FileOutcome], seconds: float) -> None:
    from rigfit.cli import render
    from rigfit.core.units import format_bytes

    console = render.console()
    for o in outcomes:
        line = f"{o.status:<10} {o.file.relpath}"
        if o.how:
            line += f"  ({o.how}, verified by {o.verified_by})"
        if o.moved_aside:
            line += f"  [a different file of that name was moved to {o.moved_aside.name}]"
        console.print(line, style="red" if o.status == "failed" else None)
        if o.error:
            console.print(f"           {o.error}", style="red")
    total = sum(o.downloaded_bytes for o in outcomes)
    console.print(f"{len(outcomes)} file(s), {format_bytes(total)} downloaded in {seconds:.1f} s")


class _ProgressView:
    """A Rich progress display fed by download events (which arrive on worker threads)."""

    def __enter__(self) -> _ProgressView:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        from rigfit.cli import render

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), TimeRemainingColumn(), console=render.console(),
                                 transient=True)
        self.progress.__enter__()
        self.total = self.progress.add_task("total", total=None, visible=False)
        self.tasks: dict[str, Any] = {}
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def on_event(self, event: DownloadEvent) -> None:
        p = self.progress
        p.update(self.total, completed=event.all_done, total=event.all_total or None, visible=True)
        task = self.tasks.get(event.label)
        if task is None and event.kind not in {"done", "failed"}:
            task = self.tasks[event.label] = p.add_task(event.label, total=event.total)
        if task is not None:
            p.update(task, completed=event.done, total=event.total)
        if event.kind in {"retry", "restart"}:
            p.console.print(f"{event.label}: {event.message}", style="yellow")
        if event.kind in {"done", "failed"} and task is not None:
            p.remove_task(task)
            self.tasks.pop(event.label, None)
