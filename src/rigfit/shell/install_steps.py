"""The installer's steps. Each is idempotent: it checks what is already in place and does only the rest.

A step that changes the Python environment records ``uv pip freeze`` first and restores it when the step fails
or when torch, torchvision or torchaudio changed (they are pinned as constraints, so uv should refuse first).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rigfit.core.comfyui_config import (
    launch_args,
    run_script_bat,
    run_script_sh,
)
from rigfit.core.errors import InstallError, ResolveError
from rigfit.core.folders import COMFYUI_FOLDERS
from rigfit.core.plan import Plan
from rigfit.shell import git, venv
from rigfit.shell.comfyui import detect_version

DEFAULT_SOURCE = "https://github.com/comfyanonymous/ComfyUI"
DEFAULT_REF = "v0.3.64"  # the release whose node schema rigfit ships (a125cd84)
_TORCH_LINE = re.compile(r"^\s*(torch|torchvision|torchaudio)\s*([=<>!~].*)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Context:
    plan: Plan
    comfyui: Path
    models_root: Path  # ComfyUI/models, where the store's files appear
    source_args: tuple[str, ...]  # uv's index options for everything but torch
    torch_args: tuple[str, ...]  # uv's index options for the torch family
    index_url: str | None
    find_links: tuple[str, ...]
    offline: bool
    allow_install_scripts: bool
    confirm_install_script: Callable[[str], bool] | None
    say: Callable[[str], None]
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def venv(self) -> Path:
        return self.comfyui / ".venv"

    @property
    def python(self) -> Path:
        return venv.venv_python(self.venv)


def write_atomic(path: Path, text: str, *, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    if executable:
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    tmp.replace(path)


# ---- ComfyUI ------------------------------------------------------------------------------------------------
def step_comfyui(ctx: Context, source: str, ref: str) -> dict[str, Any]:
    version = detect_version(ctx.comfyui)
    previous = ctx.facts.get("comfyui") or {}
    if version is None:
        ctx.say(f"cloning ComfyUI {ref} from {source}")
        commit = git.clone_at(source, ctx.comfyui, ref)
        version = detect_version(ctx.comfyui) or "unknown"
        details = {"version": version, "commit": commit, "source": source, "ref": ref, "cloned": True}
    elif previous.get("cloned") and previous.get("ref") != ref and git.head(ctx.comfyui):
        if git.is_dirty(ctx.comfyui):
            raise InstallError(
                f"{ctx.comfyui} has local changes; commit or discard them before moving to {ref}"
            )
        commit = git.checkout(ctx.comfyui, ref)
        details = {"version": detect_version(ctx.comfyui), "commit": commit, "source": source, "ref": ref,
                   "cloned": True}  # fmt: skip
    else:
        ctx.say(f"using the existing ComfyUI {version} in {ctx.comfyui}")
        details = {"version": version, "commit": git.head(ctx.comfyui), "source": previous.get("source"),
                   "ref": previous.get("ref"), "cloned": bool(previous.get("cloned"))}  # fmt: skip
    for key in COMFYUI_FOLDERS:
        (ctx.comfyui / "models" / COMFYUI_FOLDERS[key]).mkdir(parents=True, exist_ok=True)
    (ctx.comfyui / "custom_nodes").mkdir(exist_ok=True)
    (ctx.comfyui / "user" / "default" / "workflows").mkdir(parents=True, exist_ok=True)
    return details


# ---- Python -------------------------------------------------------------------------------------------------
def _guarded(ctx: Context, what: str, action: Callable[[], None], *, torch_may_change: bool = False) -> None:
    """Run ``action``; on failure, or when the torch family moved, put the environment back and fail."""
    before = venv.freeze(ctx.python, offline=ctx.offline)
    pins = venv.torch_pins(before)
    try:
        action()
        after = venv.torch_pins(venv.freeze(ctx.python, offline=ctx.offline))
        if pins and after != pins and not torch_may_change:
            raise InstallError(f"{what} changed the torch build ({', '.join(pins)} -> {', '.join(after)})")
    except BaseException:
        restored = venv.restore(
            ctx.python, before, source_args=ctx.source_args + ctx.torch_args, offline=ctx.offline
        )
        if not restored:
            ctx.say(f"could not restore the environment after {what}; run `rigfit install --only python`")
        raise


def step_python(ctx: Context) -> dict[str, Any]:
    version = venv.create(ctx.venv, offline=ctx.offline)
    planned = ctx.plan.python.requirements if ctx.plan.python else ()
    torch_lines = [r for r in planned if _TORCH_LINE.match(r)]
    names = {m.group(1).lower() for r in torch_lines if (m := _TORCH_LINE.match(r))}
    torch_lines += [n for n in venv.TORCH_FAMILY if n not in names]
    installed = venv.versions(venv.freeze(ctx.python, offline=ctx.offline))
    if not all(n in installed for n in venv.TORCH_FAMILY) or ctx.facts.get("torch_request") != torch_lines:
        ctx.say("installing " + ", ".join(torch_lines))
        _guarded(ctx, "the torch install", lambda: venv.install(
            ctx.python, torch_lines, source_args=ctx.torch_args, offline=ctx.offline, what="torch"),
            torch_may_change=True)  # fmt: skip
    pins = venv.torch_pins(venv.freeze(ctx.python, offline=ctx.offline))
    req = ctx.comfyui / "requirements.txt"
    lines = (
        [line.split("#")[0].strip() for line in req.read_text(encoding="utf-8").splitlines()]
        if req.is_file()
        else []
    )
    # ``requests`` is imported by ComfyUI's frontend manager but missing from requirements.txt at 0.3.64 (facts §8).
    wanted = (
        [line for line in lines if line] + ["requests"] + [r for r in planned if not _TORCH_LINE.match(r)]
    )
    ctx.say(f"installing ComfyUI's requirements ({len(wanted)} lines) with {', '.join(pins)} fixed")
    _guarded(ctx, "ComfyUI's requirements", lambda: venv.install(
        ctx.python, wanted, source_args=ctx.source_args, constraints=pins, offline=ctx.offline,
        what="ComfyUI's requirements", error=ResolveError))  # fmt: skip
    # Node packs installed earlier keep working in a rebuilt environment: their resolved lock goes back in.
    pack_lock = list((ctx.facts.get("nodes") or {}).get("lock") or ())
    if pack_lock:
        _guarded(ctx, "the node-pack requirements", lambda: venv.install(
            ctx.python, pack_lock, source_args=ctx.source_args, constraints=pins, offline=ctx.offline,
            what="the node-pack requirements", error=ResolveError))  # fmt: skip
    return {"python_version": version, "venv": str(ctx.venv), "torch": pins, "torch_request": torch_lines}


# ---- node packs ---------------------------------------------------------------------------------------------
def pack_folder(comfyui: Path, repo: str) -> Path:
    name = repo.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "pack"
    return comfyui / "custom_nodes" / name


def _pack_lock(ctx: Context, folders: list[Path], pins: list[str]) -> list[str]:
    """The node packs' requirements resolved together against this venv (the resolver names conflicting packs)."""
    from rigfit.core.normalize import Target
    from rigfit.core.requirements import Screened
    from rigfit.shell.resolver import Sources, check, collect_pack, read_installation

    screened = Screened()
    for folder in folders:
        screened = screened.merged(collect_pack(folder)[0])
    if screened.refused:
        first = screened.refused[0]
        ctx.say(f"{len(screened.refused)} requirement line(s) refused, e.g. {first.origin}: {first.reason}")
    if not screened.declared:
        return []
    env = read_installation(ctx.comfyui)
    target = Target(os={"nt": "windows", "posix": "linux"}.get(os.name, "linux"),
                    python_version=".".join(env.python_version.split(".")[:2]))  # fmt: skip
    report = check(screened, target, env, Sources(ctx.index_url, ctx.find_links, (), ctx.offline))
    if report.conflicts:
        raise ResolveError(
            "node-pack requirements conflict: " + "; ".join(c.detail for c in report.conflicts)
        )
    return list(report.lock)


def step_nodes(ctx: Context) -> dict[str, Any]:
    """Clone the packs at their commits, install their resolved requirements, run allowed install scripts.

    When the step fails, the packs it cloned in this run are removed again: ComfyUI imports every folder in
    ``custom_nodes/`` at start-up, and a pack whose requirements were refused must not be half-installed.
    """
    cloned: list[Path] = []
    try:
        return _step_nodes(ctx, cloned)
    except BaseException:
        for folder in cloned:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _step_nodes(ctx: Context, cloned: list[Path]) -> dict[str, Any]:
    packs: dict[str, Any] = {}
    folders: list[Path] = []
    for pack in ctx.plan.node_packs:
        dest = pack_folder(ctx.comfyui, pack.repo)
        current = git.head(dest) if dest.is_dir() else None
        if current is None and dest.exists():
            raise InstallError(
                f"{dest} exists but is not a git checkout; move it away so {pack.id} can be installed"
            )
        if current is None:
            ctx.say(f"cloning {pack.id} at {pack.commit or 'the default branch'}")
            current = git.clone_at(pack.repo, dest, pack.commit)
            cloned.append(dest)
        elif pack.commit and not current.startswith(pack.commit):
            if git.is_dirty(dest):
                raise InstallError(f"{dest} has local changes; cannot move {pack.id} to {pack.commit}")
            current = git.checkout(dest, pack.commit)
        packs[pack.id] = {"path": str(dest.relative_to(ctx.comfyui)), "commit": current}
        folders.append(dest)
    scripts = [
        (p.id, f) for p, f in zip(ctx.plan.node_packs, folders, strict=True) if (f / "install.py").is_file()
    ]
    if not ctx.python.is_file():
        raise InstallError(
            "the node packs' requirements need ComfyUI's Python environment: run `rigfit install --only python` "
            "first (or run every step)"
        )
    pins = venv.torch_pins(venv.freeze(ctx.python, offline=ctx.offline))
    lock = _pack_lock(ctx, folders, pins)
    if lock:
        ctx.say(f"installing {len(lock)} node-pack requirement(s) with {', '.join(pins)} fixed")
        _guarded(ctx, "the node-pack requirements", lambda: venv.install(
            ctx.python, lock, source_args=ctx.source_args, constraints=pins, offline=ctx.offline,
            what="the node-pack requirements", error=ResolveError))  # fmt: skip
    ran, not_run = [], []
    for pack_id, folder in scripts:
        allowed = ctx.allow_install_scripts or (
            ctx.confirm_install_script is not None and ctx.confirm_install_script(pack_id)
        )
        if not allowed:
            not_run.append(pack_id)
            continue
        ctx.say(f"running {pack_id}/install.py (allowed)")
        _guarded(ctx, f"{pack_id}/install.py", lambda folder=folder: _run_script(ctx, folder))  # type: ignore[misc]
        ran.append(pack_id)
    return {"packs": packs, "lock": lock, "install_scripts_run": ran, "install_scripts_not_run": not_run}


def _run_script(ctx: Context, folder: Path) -> None:
    from rigfit.shell.runner import run

    done = run([str(ctx.python), "install.py"], cwd=folder, timeout=1800, env={"PYTHONNOUSERSITE": "1"})
    if not done.ok:
        raise InstallError(f"{folder.name}/install.py failed: {done.describe_failure()}")


# ---- config -------------------------------------------------------------------------------------------------
def step_config(ctx: Context) -> dict[str, Any]:
    """Launch scripts with the plan's arguments. ``extra_model_paths.yaml`` is the store's: it writes its own
    marked section only when it cannot link files into ``models/`` (``rigfit.shell.store``)."""
    args = list(launch_args(ctx.plan.launch_args))
    write_atomic(ctx.comfyui / "run_comfyui.sh", run_script_sh(args), executable=True)
    write_atomic(ctx.comfyui / "run_comfyui.bat", run_script_bat(args))
    return {"launch_args": args}


def dump(doc: object) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
