"""The install journal's values: which steps exist, what each one was done for, and what a re-run must do.

The journal lives in the ComfyUI folder (``.rigfit/install.json``, schema ``rigfit.install/1``). A step counts
as done only when it finished *for the same inputs*: each step records a digest of the part of the plan it
carried out, so a changed plan re-runs exactly the steps it touches, and an interrupted run resumes after the
last step that finished.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from rigfit.core.errors import InstallError, UsageError
from rigfit.core.plan import Plan, plan_to_json

SCHEMA = "rigfit.install/1"
# Order matters: the venv needs ComfyUI's requirements.txt; pack requirements need the venv's torch; the
# starter workflows need the files in place.
STEPS: tuple[str, ...] = ("comfyui", "python", "nodes", "models", "config", "workflows")
# Steps that run on every install even when done: checking each model file costs one ``stat`` (the store's
# cache), and a re-run then repairs a file deleted or replaced since (``rigfit install --only models``).
ALWAYS_CHECKED = frozenset({"models"})
# ``--only`` choices of the CLI contract, plus the two steps rigfit adds.
ONLY_CHOICES: tuple[str, ...] = STEPS


@dataclass(frozen=True, slots=True)
class StepRecord:
    status: str  # done | failed
    digest: str
    at: str  # ISO time, given by the shell
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Journal:
    steps: Mapping[str, StepRecord] = field(default_factory=lambda: MappingProxyType({}))
    facts: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({})
    )  # comfyui version, torch, ...

    def done(self, step: str, digest: str) -> bool:
        record = self.steps.get(step)
        return record is not None and record.status == "done" and record.digest == digest

    def with_step(self, step: str, record: StepRecord) -> Journal:
        return replace(self, steps=MappingProxyType({**self.steps, step: record}))

    def with_facts(self, **facts: Any) -> Journal:
        return replace(self, facts=MappingProxyType({**self.facts, **facts}))


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class InstallInputs:
    """Everything besides the plan that changes what a step does."""

    comfyui_source: str
    comfyui_ref: str
    models_dir: str | None = None  # None: the store is ComfyUI's own models/
    allow_install_scripts: bool = False


def step_digests(plan: Plan, inputs: InstallInputs) -> dict[str, str]:
    """Per step, a digest of exactly the inputs that step acts on."""
    doc = plan_to_json(plan)
    return {
        "comfyui": _digest([inputs.comfyui_source, inputs.comfyui_ref]),
        "python": _digest([doc["python"], inputs.comfyui_ref]),
        "nodes": _digest([doc["node_packs"], inputs.allow_install_scripts, doc["python"]]),
        "models": _digest([doc["files"], inputs.models_dir]),
        "config": _digest([doc["launch_args"], inputs.models_dir, sorted({f.folder for f in plan.files})]),
        "workflows": _digest([doc["presets"], doc["files"], doc["node_packs"]]),
    }


def parse_only(values: Iterable[str]) -> tuple[str, ...]:
    """``--only`` values (space or comma separated) in step order; every step when none is given."""
    chosen: list[str] = []
    for value in values:
        for part in value.replace(",", " ").split():
            if part not in ONLY_CHOICES:
                raise UsageError(f"--only {part!r}: choose from {', '.join(ONLY_CHOICES)}")
            chosen.append(part)
    if not chosen:
        return STEPS
    selected = set(chosen)
    # Starter workflows follow the files: written whenever the ComfyUI or the models step runs.
    if selected & {"comfyui", "models"}:
        selected.add("workflows")
    return tuple(s for s in STEPS if s in selected)


@dataclass(frozen=True, slots=True)
class StepPlan:
    step: str
    run: bool
    reason: str  # "done before", "not done", "plan changed", "failed before", "not selected"


def plan_steps(
    journal: Journal, digests: Mapping[str, str], selected: Sequence[str], stale: frozenset[str] = frozenset()
) -> tuple[StepPlan, ...]:
    """What a run does for each step: skip what finished for the same inputs, redo the rest.

    ``stale`` names done steps whose result is no longer on disk (the shell's cheap look: a model file gone or
    resized, a pack folder removed, the venv's interpreter missing); they run again.
    """
    out: list[StepPlan] = []
    for step in STEPS:
        if step not in selected:
            out.append(StepPlan(step, False, "not selected"))
            continue
        record = journal.steps.get(step)
        if record is None:
            out.append(StepPlan(step, True, "not done"))
        elif record.status != "done":
            out.append(StepPlan(step, True, "failed before"))
        elif record.digest != digests[step]:
            out.append(StepPlan(step, True, "plan changed"))
        elif step in stale:
            out.append(StepPlan(step, True, "changed on disk"))
        elif step in ALWAYS_CHECKED:
            out.append(StepPlan(step, True, "checking"))
        else:
            out.append(StepPlan(step, False, "done before"))
    # A rebuilt environment needs the node packs' requirements again.
    if any(p.run for p in out if p.step == "python") and "nodes" in selected:
        out = [replace(p, run=True, reason=p.reason if p.run else "python environment rebuilt") if p.step == "nodes" else p
               for p in out]  # fmt: skip
    # Starter workflows are rewritten whenever ComfyUI or the models were (re)installed in this run (a models
    # step that only checks brings them along only when it finds something to change: the shell decides).
    runs = {p.step for p in out if p.run and p.reason != "checking"}
    if runs & {"comfyui", "models"} and "workflows" in selected:
        out = [replace(p, run=True, reason=p.reason if p.run else "files changed") if p.step == "workflows" else p
               for p in out]  # fmt: skip
    return tuple(out)


def journal_to_json(journal: Journal) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "steps": {
            name: {"status": r.status, "digest": r.digest, "at": r.at, "details": dict(r.details)}
            for name, r in journal.steps.items()
        },
        "facts": dict(journal.facts),
    }


def parse_journal(doc: object, *, source: str) -> Journal:
    """A journal from its JSON; a newer or broken journal is an error naming the file (never silently reset)."""
    if doc is None:
        return Journal()
    if not isinstance(doc, Mapping) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, Mapping) else type(doc).__name__
        raise InstallError(f"{source}: not a {SCHEMA} journal (found {found!r}); move it away to start over")
    steps: dict[str, StepRecord] = {}
    for name, raw in (doc.get("steps") or {}).items():
        if name in STEPS and isinstance(raw, Mapping):
            steps[name] = StepRecord(
                str(raw.get("status")),
                str(raw.get("digest")),
                str(raw.get("at")),
                dict(raw.get("details") or {}),
            )
    raw_facts = doc.get("facts")
    facts: dict[str, Any] = dict(raw_facts) if isinstance(raw_facts, Mapping) else {}
    return Journal(MappingProxyType(steps), MappingProxyType(facts))
