"""``run_doctor``: gather the facts of an install and let ``rigfit.core.doctor_checks`` judge them.

It reads the plan and journal ``rigfit install`` left in ``.rigfit/``, looks at the files (hashes through the
store's stat cache, so a second run costs one ``stat`` per file), the node packs' checkouts, ``uv pip check``,
torch inside the target venv, and the starter workflows against the node schema — the bundled one, or with
``live`` the ``/object_info`` of ComfyUI started on 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rigfit.core.doctor_checks import (
    FAIL,
    OK,
    SKIP,
    WARN,
    Finding,
    GpuExpectation,
    judge_torch,
    judge_torch_change,
)
from rigfit.core.errors import UsageError
from rigfit.core.plan import Plan, parse_plan
from rigfit.core.workflow_schema import Schema, parse_object_info, validate_prompt
from rigfit.shell import git, venv
from rigfit.shell.install import journal_path, plan_path, read_journal
from rigfit.shell.install_steps import pack_folder

MODELS_FIX = "run `rigfit install --only models`"


def _load_plan(comfyui: Path) -> Plan:
    path = plan_path(comfyui)
    try:
        return parse_plan(json.loads(path.read_text(encoding="utf-8")), source=str(path))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"{comfyui} has no readable rigfit plan ({path}: {exc}); install with `rigfit install`"
        ) from exc


def check_files(plan: Plan, comfyui: Path, facts: dict[str, Any]) -> list[Finding]:
    from rigfit.shell.store import Store

    models = facts.get("models") or {}
    store = Store(Path(models["store"])) if models.get("store") else None
    placed = models.get("files") or {}
    bad: list[str] = []
    for f in plan.files:
        path = comfyui / "models" / f.folder / f.filename
        if (placed.get(f.relpath) or {}).get("how") == "extra_model_paths" and store is not None:
            path = store.view_dir() / f.folder / f.filename
        if not path.is_file():
            bad.append(f"{f.relpath} is missing")
            continue
        size = path.stat().st_size
        if f.bytes is not None and size != f.bytes:
            bad.append(f"{f.relpath} has {size} bytes, the plan says {f.bytes}")
            continue
        if f.sha256 is not None:
            from rigfit.shell.store import sha256_file

            sha = store.sha_of(path) if store is not None else sha256_file(path)
            if sha != f.sha256:
                bad.append(f"{f.relpath} has sha256 {sha[:12]}…, the plan says {f.sha256[:12]}…")
    if store is not None:
        store.save()
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        return [Finding("model files", FAIL, bad[0] + more, MODELS_FIX)]
    hashed = sum(f.sha256 is not None for f in plan.files)
    return [
        Finding(
            "model files",
            OK,
            f"{len(plan.files)} file(s) present, {hashed} checked by sha256, the rest by size",
        )
    ]


def check_packs(plan: Plan, comfyui: Path) -> list[Finding]:
    wrong: list[str] = []
    for pack in plan.node_packs:
        folder = pack_folder(comfyui, pack.repo)
        head = git.head(folder) if folder.is_dir() else None
        if head is None:
            wrong.append(f"{pack.id} is missing from custom_nodes/")
        elif pack.commit and not head.startswith(pack.commit):
            wrong.append(f"{pack.id} is at {head[:12]}, the plan pins {pack.commit[:12]}")
    if wrong:
        return [Finding("node packs", FAIL, "; ".join(wrong), "run `rigfit install --only nodes`")]
    return [
        Finding(
            "node packs",
            OK if plan.node_packs else SKIP,
            f"{len(plan.node_packs)} pack(s) at their pinned commits",
        )
    ]


def check_python(comfyui: Path, facts: dict[str, Any], expected: GpuExpectation) -> list[Finding]:
    python = venv.venv_python(comfyui / ".venv")
    if not python.is_file():
        return [
            Finding("python environment", FAIL, f"{python} is missing", "run `rigfit install --only python`")
        ]
    ok, text = venv.pip_check(python)
    out = [Finding("uv pip check", OK if ok else FAIL, text.splitlines()[-1] if text else "no problems",
                   None if ok else "run `rigfit install --only python nodes`")]  # fmt: skip
    recorded = (facts.get("python") or {}).get("torch") or []
    out.append(judge_torch_change(recorded, venv.torch_pins(venv.freeze(python))))
    out += judge_torch(venv.probe_torch(python), expected)
    return out


def _schema_for(plan: Plan, comfyui: Path, facts: dict[str, Any], live_schema: Schema | None) -> Schema:
    from rigfit.core.workflows import check_schema
    from rigfit.shell.comfyui import bundled_pack_schemas, bundled_schema, installed_files, model_roots
    from rigfit.shell.install_workflows import catalog_hints

    if live_schema is not None:
        # The server lists the files it really sees; the starter graphs' placeholder media (a face video, a
        # voice clip) are the user's to upload, so their names count as present, as in the offline check.
        from rigfit.core.workflow_pipelines import STARTER_MEDIA
        from rigfit.core.workflow_schema import with_files

        return with_files(live_schema, STARTER_MEDIA)
    _, classes = catalog_hints([p.id for p in plan.node_packs])
    store = (facts.get("models") or {}).get("store")
    view = Path(store) / "view" if store else None  # files the store serves through extra_model_paths.yaml
    files = installed_files(model_roots(comfyui, view))
    return check_schema(bundled_schema(), classes, files, plan.presets, bundled_pack_schemas())


def check_workflows(
    plan: Plan, comfyui: Path, facts: dict[str, Any], live_schema: Schema | None = None
) -> list[Finding]:
    from rigfit.shell.install_workflows import read_api_workflows

    names = (facts.get("workflows") or {}).get("written") or []
    if not names:
        return [Finding("starter workflows", SKIP, "no starter workflows were written for this plan")]
    schema = _schema_for(plan, comfyui, facts, live_schema)
    installed = (facts.get("comfyui") or {}).get("version")
    where = "the live server's schema" if live_schema is not None else "ComfyUI 0.3.64's schema"
    if live_schema is None and installed and installed != "0.3.64":
        where += f" (this install is {installed}: `--live` checks against its own)"
    out: list[Finding] = []
    for name, prompt in read_api_workflows(comfyui, names).items():
        if isinstance(prompt, str):
            out.append(Finding(f"workflow {name}", FAIL, prompt, "run `rigfit install --only comfyui`"))
            continue
        problems = validate_prompt(prompt, schema)
        if problems:
            fix = (
                MODELS_FIX if any(p.type == "value_not_in_list" for p in problems) else "run `rigfit install`"
            )
            out.append(
                Finding(
                    f"workflow {name}",
                    FAIL,
                    f"{problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                    fix,
                )
            )
        else:
            out.append(Finding(f"workflow {name}", OK, f"validates against {where}"))
    return out


def run_doctor(comfyui: Path, expected: GpuExpectation, *, live: bool = False) -> list[Finding]:
    """Every check, in order; the caller prints them and exits 1 when one failed."""
    comfyui = comfyui.expanduser().absolute()
    if not journal_path(comfyui).is_file():
        raise UsageError(
            f"{comfyui} was not installed by rigfit (no {journal_path(comfyui).name}); run `rigfit install`"
        )
    journal = read_journal(comfyui)
    plan = _load_plan(comfyui)
    facts = dict(journal.facts)
    findings = [Finding("install steps", OK, ", ".join(f"{k}: {v.status}" for k, v in journal.steps.items()))]
    unfinished = [k for k, v in journal.steps.items() if v.status != "done"]
    if unfinished:
        findings[0] = Finding(
            "install steps",
            FAIL,
            f"unfinished: {', '.join(unfinished)}",
            "run `rigfit install` again to resume",
        )
    findings += check_files(plan, comfyui, facts)
    findings += check_packs(plan, comfyui)
    findings += check_python(comfyui, facts, expected)
    findings += check_workflows(plan, comfyui, facts)
    if live:
        findings += _live(plan, comfyui, facts)
    return findings


def _live(plan: Plan, comfyui: Path, facts: dict[str, Any]) -> list[Finding]:
    from rigfit.core.errors import VerifyError
    from rigfit.shell.comfyui import fetch_object_info, live_server

    args = list((facts.get("config") or {}).get("launch_args") or plan.launch_args)
    try:
        with live_server(venv.venv_python(comfyui / ".venv"), comfyui, args) as base:
            schema = parse_object_info(fetch_object_info(base))
    except VerifyError as exc:
        return [
            Finding(
                "ComfyUI starts", FAIL, str(exc), "read the log, then `rigfit install --only python nodes`"
            )
        ]
    found = [Finding("ComfyUI starts", OK, f"answered with {len(schema.nodes)} node classes")]
    live = check_workflows(plan, comfyui, facts, schema)
    return found + [Finding(f.name + " (live)", f.status, f.message, f.fix) for f in live]


__all__ = ["FAIL", "OK", "SKIP", "WARN", "Finding", "run_doctor"]
