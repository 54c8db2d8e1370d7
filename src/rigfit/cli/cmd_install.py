"""``rigfit install (PLAN.json | recommend options) --comfyui DIR [--only STEP ...]``: carry a plan out.

Steps (``rigfit.shell.install.run_install``): comfyui (clone or use an existing install), python (a uv venv with
the planned torch, ComfyUI's requirements), nodes (packs at their commits, their resolved requirements,
install scripts only with ``--allow-install-scripts``), models (download, verify and place the files through
the shared store), config (launch scripts), workflows (starter workflows, checked against ComfyUI's schema).
Each step is journaled in ``DIR/.rigfit``; a re-run resumes after the last finished one.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rigfit.core.plan import Plan
    from rigfit.shell.download import DownloadEvent
    from rigfit.shell.install import InstallEvent
    from rigfit.shell.model_install import FileOutcome

STEPS = ("comfyui", "python", "nodes", "models", "config", "workflows")  # rigfit.core.install_state.STEPS


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan", nargs="?", metavar="PLAN.json", help="a plan written by 'rigfit plan -o'")
    parser.add_argument("--comfyui", metavar="DIR", required=True, help="the ComfyUI folder to install into")
    parser.add_argument("--models-dir", metavar="DIR",
                        help="where the shared model store lives (default: rigfit's data folder); "
                             "files appear in ComfyUI/models as links")
    parser.add_argument("--only", action="extend", nargs="+", choices=STEPS, metavar="STEP",
                        help="run only these steps: comfyui, python, nodes, models, config, workflows "
                             "(starter workflows come along with comfyui and models)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="files downloaded at once (default 2)")
    parser.add_argument("--segments", type=int, default=None, metavar="N",
                        help="connections per large file (default 4)")
    parser.add_argument("--yes", action="store_true", help="do not ask before downloading")
    parser.add_argument("--comfyui-source", metavar="GIT_URL",
                        help="where to clone ComfyUI from when DIR has none (default: the official repository)")
    parser.add_argument("--comfyui-ref", metavar="REF",
                        help="the ComfyUI tag, branch or commit to check out (default: the release rigfit's "
                             "node schema was taken from)")
    parser.add_argument("--index-url", metavar="URL", help="package index (a mirror) for the Python packages")
    parser.add_argument("--find-links", metavar="PATH", help="an offline wheelhouse (implies --no-index)")
    parser.add_argument("--allow-install-scripts", action="store_true",
                        help="run node packs' install.py (they run with full rights; default: listed, not run)")
    # The recommendation options: install straight from a recommendation (the plan is built as `rigfit plan`).
    for flag in ("--preset", "--quant"):
        parser.add_argument(flag, action="append", help=argparse.SUPPRESS)
    for flag in ("--lora", "--commercial", "--experimental", "--fp8", "--no-fp8"):
        parser.add_argument(flag, action="store_true", help=argparse.SUPPRESS)


def _refusals(args: argparse.Namespace) -> str | None:
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


def _plan_from_options(args: argparse.Namespace) -> Plan:
    """The plan ``rigfit plan`` writes for these recommendation options (the same steps, in the same order)."""
    from rigfit.cli.cmd_plan import plan_for

    fp8 = True if args.fp8 else (False if args.no_fp8 else None)
    options = argparse.Namespace(**{**vars(args), "preset": args.preset or [], "quant": args.quant or [],
                                    "fp8": fp8, "find_links": [args.find_links] if args.find_links else [],
                                    "offline": False})
    existing = args.comfyui if Path(args.comfyui).expanduser().is_dir() else None  # not counted twice
    return plan_for(options, existing)


def run(args: argparse.Namespace) -> int:
    from rigfit.cli import render
    from rigfit.core.download_plan import DEFAULT_JOBS, DEFAULT_SEGMENTS, endpoint_problem
    from rigfit.core.errors import RigfitError, UsageError
    from rigfit.core.install_state import parse_only
    from rigfit.shell.install import InstallOptions, run_install
    from rigfit.shell.install_models import store_root
    from rigfit.shell.install_steps import DEFAULT_REF, DEFAULT_SOURCE

    problem = _refusals(args)
    if problem is not None:
        raise UsageError(problem)
    plan = _load_plan(args.plan) if args.plan else _plan_from_options(args)
    endpoint = os.environ.get("HF_ENDPOINT", "").strip() or None
    if endpoint and (msg := endpoint_problem(endpoint)):
        raise UsageError(msg)
    comfyui = Path(args.comfyui).expanduser().resolve()
    if comfyui.exists() and not comfyui.is_dir():
        raise UsageError(f"--comfyui {args.comfyui} is not a folder")
    models_dir = Path(args.models_dir).expanduser().resolve() if args.models_dir else None
    options = InstallOptions(
        only=parse_only(args.only or []),
        models_dir=models_dir,
        comfyui_source=args.comfyui_source or DEFAULT_SOURCE,
        comfyui_ref=args.comfyui_ref or DEFAULT_REF,
        allow_install_scripts=bool(args.allow_install_scripts),
        index_url=args.index_url,
        find_links=(args.find_links,) if args.find_links else (),
        jobs=args.jobs or DEFAULT_JOBS,
        segments=args.segments or DEFAULT_SEGMENTS,
    )
    confirm = None if (args.yes or args.json or not sys.stdin.isatty()) else _confirm
    error: RigfitError | None = None
    try:
        if args.json:
            report = run_install(plan, comfyui, options=options, confirm_download=confirm)
        else:
            with _ProgressView() as view:
                report = run_install(plan, comfyui, options=options, confirm_download=confirm,
                                     on_event=view.on_install_event)
    except RigfitError as exc:
        if getattr(exc, "report", None) is None:
            raise
        report, error = exc.report, exc  # type: ignore[attr-defined]
    doc = report.to_json()
    if report.outcomes:
        doc["steps"]["models"].update(
            _report(report.outcomes, comfyui, store_root(models_dir), report.models_seconds)["steps"]["models"])
    if args.json:
        render.emit_json(doc)
    else:
        if report.outcomes:
            _print_summary(report.outcomes, report.models_seconds)
        _print_steps(doc, comfyui)
    if error is not None:
        if args.json:
            render.warn(str(error))
            return error.exit_code
        raise error
    return 0


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


def _print_steps(doc: dict[str, Any], comfyui: Path) -> None:
    from rigfit.cli import render

    console = render.console()
    for step, info in doc["steps"].items():
        if info.get("action") == "skipped" and info.get("reason") == "not selected":
            continue
        seconds = f", {info['seconds']:.1f} s" if isinstance(info.get("seconds"), float) else ""
        console.print(f"{step:<10} {info.get('action')} ({info.get('reason')}{seconds})",
                      style="red" if info.get("action") == "failed" else None)
    for skipped in doc.get("workflows_skipped") or []:
        console.print(f"no starter workflow for {skipped['preset']}: {skipped['reason']}", style="yellow")
    if doc.get("workflows"):
        console.print("starter workflows (ComfyUI's workflow browser): " + ", ".join(doc["workflows"]))
    if doc.get("install_scripts_not_run"):
        console.print("install scripts listed, not run (use --allow-install-scripts): "
                      + ", ".join(doc["install_scripts_not_run"]), style="yellow")
    if "workflows" in doc["steps"] and (comfyui / "main.py").is_file():
        console.print(f"next: rigfit doctor --comfyui {comfyui}   then: rigfit launch --comfyui {comfyui}")


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

    def on_install_event(self, event: InstallEvent) -> None:
        download = (event.data or {}).get("event")
        if download is not None:
            self.on_event(download)
        elif event.kind in {"message", "step-start", "step-failed"}:
            text = event.message.removeprefix(f"{event.step}: ")
            text = f"running ({text})" if event.kind == "step-start" else text
            self.progress.console.print(f"{event.step}: {text}", style="red" if event.kind == "step-failed" else None)

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
