"""``run_install``: carry a plan out into a ComfyUI folder, step by step, resumable, one install at a time.

The journal (``<ComfyUI>/.rigfit/install.json``, ``rigfit.core.install_state``) is rewritten through a temporary
file and ``os.replace`` after every step, so an interruption at any point leaves the last finished step on
record and a re-run resumes after it. An OS file lock (``.rigfit/install.lock``) makes a second install into
the same folder refuse at once; the lock dies with its process, so a killed install never blocks the next.
``RIGFIT_FAIL_AT_STEP=<step>`` makes that step fail after its work and before it is recorded (tests use it to
prove that every step can be interrupted and re-run).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from rigfit.core.errors import DownloadError, InstallError, RigfitError
from rigfit.core.install_state import (
    STEPS,
    InstallInputs,
    Journal,
    StepRecord,
    journal_to_json,
    parse_journal,
    plan_steps,
    step_digests,
)
from rigfit.core.plan import Plan, plan_to_json
from rigfit.shell import install_steps as steps
from rigfit.shell.install_steps import DEFAULT_REF, DEFAULT_SOURCE, Context, write_atomic

FAULT_ENV = "RIGFIT_FAIL_AT_STEP"


@dataclass(frozen=True, slots=True)
class InstallOptions:
    only: tuple[str, ...] = STEPS
    models_dir: Path | None = None  # None: ComfyUI/models
    comfyui_source: str = DEFAULT_SOURCE
    comfyui_ref: str = DEFAULT_REF
    allow_install_scripts: bool = False
    index_url: str | None = None
    find_links: tuple[str, ...] = ()
    offline: bool = False
    jobs: int | None = None  # files downloaded at once (the downloads side's default when None)
    segments: int | None = None  # connections per large file


@dataclass(frozen=True, slots=True)
class InstallEvent:
    """``kind``: step-start, step-skip, step-done, step-failed, message, download."""

    kind: str
    step: str | None
    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class InstallReport:
    comfyui: Path
    steps: list[dict[str, Any]] = field(default_factory=list)  # in order: step, action, reason, seconds
    facts: dict[str, Any] = field(default_factory=dict)
    outcomes: list[Any] = field(
        default_factory=list
    )  # rigfit.shell.model_install.FileOutcome, when models ran
    models_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """``rigfit.install/1``: ``steps`` maps each step to what happened (the models step's file list is
        added by the CLI, which owns its format)."""
        workflows = self.facts.get("workflows") or {}
        nodes = self.facts.get("nodes") or {}
        return {
            "schema": "rigfit.install/1",
            "comfyui": str(self.comfyui),
            "steps": {s["step"]: {k: v for k, v in s.items() if k != "step"} for s in self.steps},
            "comfyui_version": (self.facts.get("comfyui") or {}).get("version"),
            "workflows": workflows.get("written", []),
            "workflows_skipped": workflows.get("skipped", []),
            "install_scripts_not_run": nodes.get("install_scripts_not_run", []),
            "launch_args": (self.facts.get("config") or {}).get("launch_args", []),
        }


def state_dir(comfyui: Path) -> Path:
    return comfyui / ".rigfit"


def journal_path(comfyui: Path) -> Path:
    return state_dir(comfyui) / "install.json"


def plan_path(comfyui: Path) -> Path:
    return state_dir(comfyui) / "plan.json"


def read_journal(comfyui: Path) -> Journal:
    path = journal_path(comfyui)
    if not path.is_file():
        return Journal()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InstallError(f"{path}: unreadable install journal ({exc}); move it away to start over") from exc
    return parse_journal(doc, source=str(path))


def _write_journal(comfyui: Path, journal: Journal) -> None:
    write_atomic(journal_path(comfyui), json.dumps(journal_to_json(journal), indent=2, sort_keys=True) + "\n")


def _try_lock(handle: IO[str]) -> bool:
    handle.seek(0)  # msvcrt locks bytes from the current position; lock the same first byte everywhere
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def install_lock(comfyui: Path) -> Iterator[None]:
    """Hold ``.rigfit/install.lock`` for the whole run; refuse when another process holds it."""
    path = state_dir(comfyui) / "install.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise InstallError(
                f"another rigfit install is running in {comfyui} ({holder}); wait for it to finish, then run again"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {_now()}\n")
        handle.flush()
        yield


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _source_args(options: InstallOptions) -> tuple[str, ...]:
    args: list[str] = []
    if options.index_url:
        args += ["--index-url", options.index_url]
    elif options.find_links and not (os.environ.get("UV_INDEX_URL") or os.environ.get("UV_DEFAULT_INDEX")):
        args.append("--no-index")  # a wheel folder alone is an offline wheelhouse (CLI contract)
    for link in options.find_links:
        args += ["--find-links", link]
    return tuple(args)


def _torch_args(plan: Plan, options: InstallOptions, source: tuple[str, ...]) -> tuple[str, ...]:
    if options.index_url or options.find_links or not plan.python or not plan.python.torch_index:
        return source  # a mirror or wheelhouse must carry the right torch build itself
    return ("--index-url", plan.python.torch_index)


def run_install(
    plan: Plan,
    comfyui: Path,
    *,
    options: InstallOptions = InstallOptions(),
    on_event: Callable[[InstallEvent], None] | None = None,
    cancel: threading.Event | None = None,
    confirm_install_script: Callable[[str], bool] | None = None,
    confirm_download: Callable[[int, int], bool] | None = None,
) -> InstallReport:
    """Carry ``plan`` out into ``comfyui``; every step that already finished for the same inputs is skipped.

    A failing step raises its ``RigfitError`` with ``report`` attached (``exc.report``: the steps so far and,
    when the models step ran, every file's outcome), so a caller can still print what happened.
    """
    comfyui = comfyui.expanduser().absolute()
    emit = on_event or (lambda _e: None)
    models_root = comfyui / "models"  # the store's files appear here as links (rigfit.shell.model_install)
    inputs = InstallInputs(
        options.comfyui_source,
        options.comfyui_ref,
        None if options.models_dir is None else str(options.models_dir.expanduser().absolute()),
        options.allow_install_scripts,
    )
    digests = step_digests(plan, inputs)
    report = InstallReport(comfyui)
    with install_lock(comfyui):
        journal = read_journal(comfyui)
        # The plan is kept beside the journal: ``rigfit doctor`` and ``rigfit launch`` read it back.
        write_atomic(plan_path(comfyui), json.dumps(plan_to_json(plan), indent=2) + "\n")
        source = _source_args(options)
        files_changed = False
        for decision in plan_steps(journal, digests, options.only, _stale(plan, comfyui)):
            step = decision.step
            if step == "workflows" and not decision.run and files_changed and step in options.only:
                decision = replace(decision, run=True, reason="files changed")
            if not decision.run:
                report.steps.append({"step": step, "action": "skipped", "reason": decision.reason})
                if decision.reason != "not selected":
                    emit(InstallEvent("step-skip", step, f"{step}: {decision.reason}"))
                continue
            if cancel is not None and cancel.is_set():
                raise InstallError("install cancelled; run `rigfit install` again to resume")
            emit(InstallEvent("step-start", step, f"{step}: {decision.reason}"))
            start = time.monotonic()
            ctx = Context(
                plan=plan, comfyui=comfyui, models_root=models_root, source_args=source,
                torch_args=_torch_args(plan, options, source), index_url=options.index_url,
                find_links=options.find_links, offline=options.offline,
                allow_install_scripts=options.allow_install_scripts, confirm_install_script=confirm_install_script,
                say=lambda msg, step=step: emit(InstallEvent("message", step, msg)),  # type: ignore[misc]
                facts={**journal.facts, "torch_request": (journal.facts.get("python") or {}).get("torch_request")},
            )  # fmt: skip
            try:
                details = _run_step(step, ctx, options, report, emit, cancel, confirm_download)
                if os.environ.get(FAULT_ENV) == step:
                    raise InstallError(f"{step}: failure injected by {FAULT_ENV} (after the step's work)")
            except BaseException as exc:
                report.facts = dict(journal.facts)
                report.steps.append({"step": step, "action": "failed", "reason": decision.reason})
                if isinstance(exc, RigfitError):
                    exc.report = report  # type: ignore[attr-defined]
                message = str(exc) if str(exc) else type(exc).__name__
                journal = journal.with_step(
                    step, StepRecord("failed", digests[step], _now(), {"error": message})
                )
                _write_journal(comfyui, journal)
                emit(InstallEvent("step-failed", step, f"{step}: {message}"))
                raise
            if step == "models":
                files_changed = any(o.status not in {"present", "adopted"} for o in report.outcomes)
            seconds = round(time.monotonic() - start, 3)
            journal = journal.with_step(step, StepRecord("done", digests[step], _now(), {"seconds": seconds}))
            journal = journal.with_facts(**{step: details})
            _write_journal(comfyui, journal)
            report.steps.append(
                {"step": step, "action": "ran", "reason": decision.reason, "seconds": seconds}
            )
            emit(InstallEvent("step-done", step, f"{step}: done in {seconds:.1f} s"))
        report.facts = dict(journal.facts)
    return report


def _stale(plan: Plan, comfyui: Path) -> frozenset[str]:
    """Done steps whose result is gone from disk: one ``stat`` per planned file and pack, nothing hashed."""
    from rigfit.shell.install_steps import pack_folder
    from rigfit.shell.venv import venv_python

    stale: set[str] = set()
    if not (comfyui / "main.py").is_file():
        stale.add("comfyui")
    if not venv_python(comfyui / ".venv").is_file():
        stale.add("python")
    if any(not (pack_folder(comfyui, p.repo) / ".git").exists() for p in plan.node_packs):
        stale.add("nodes")
    for f in plan.files:
        path = comfyui / "models" / f.folder / f.filename
        try:
            if f.bytes is not None and path.stat().st_size != f.bytes:
                stale.add("models")
        except OSError:
            # Not in models/: fine when the store serves it through extra_model_paths.yaml (its view folder).
            if "rigfit_store" not in _read_text(comfyui / "extra_model_paths.yaml"):
                stale.add("models")
    return frozenset(stale)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _run_step(
    step: str,
    ctx: Context,
    options: InstallOptions,
    report: InstallReport,
    emit: Callable[[InstallEvent], None],
    cancel: threading.Event | None,
    confirm_download: Callable[[int, int], bool] | None,
) -> dict[str, Any]:
    if step == "comfyui":
        return steps.step_comfyui(ctx, options.comfyui_source, options.comfyui_ref)
    if step == "workflows" and not (ctx.comfyui / "main.py").is_file():
        emit(
            InstallEvent("message", step, "no ComfyUI here yet: starter workflows come with the comfyui step")
        )
        return {"written": [], "skipped": [], "note": "no ComfyUI yet"}
    if step in {"python", "nodes", "config"} and not (ctx.comfyui / "main.py").is_file():
        raise InstallError(f"{ctx.comfyui} has no ComfyUI yet; run `rigfit install --only comfyui` first")
    if step == "python":
        return steps.step_python(ctx)
    if step == "nodes":
        return steps.step_nodes(ctx)
    if step == "models":
        from rigfit.shell.install_models import fetch_models

        started = time.monotonic()
        details, outcomes = fetch_models(
            ctx.plan, ctx.comfyui, options.models_dir, cancel=cancel, confirm=confirm_download,
            jobs=options.jobs, segments=options.segments,
            # The GUI reads the download event's numbers from ``data["event"]``; the CLI the message.
            on_event=lambda e: emit(InstallEvent("download", "models", f"{e.kind} {e.label} {e.message}".strip(),
                                                 {"event": e})),
        )  # fmt: skip
        report.outcomes = outcomes
        report.models_seconds = time.monotonic() - started
        failed = [o for o in outcomes if o.status == "failed"]
        if failed:
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            raise DownloadError(
                f"{failed[0].file.relpath}: {failed[0].error}{more}; run `rigfit install` again to resume"
            )
        return details
    if step == "config":
        return steps.step_config(ctx)
    from rigfit.shell.install_workflows import step_workflows

    return step_workflows(ctx)
