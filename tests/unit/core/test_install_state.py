"""The install journal decides what a re-run does: skip what finished for the same inputs, redo the rest."""

from __future__ import annotations

import pytest

from rigfit.core.errors import InstallError, UsageError
from rigfit.core.install_state import (
    STEPS,
    InstallInputs,
    Journal,
    StepRecord,
    journal_to_json,
    parse_journal,
    parse_only,
    plan_steps,
    step_digests,
)
from rigfit.core.plan import Plan, PlanFile, PlanNodePack, PlanPython

INPUTS = InstallInputs("https://github.com/comfyanonymous/ComfyUI", "v0.3.64")
PLAN = Plan(
    files=(PlanFile("https://example.org/a", "a.safetensors", "checkpoints", 10, None),),
    node_packs=(PlanNodePack("pack", "https://example.org/pack", "abc"),),
    python=PlanPython("https://download.pytorch.org/whl/cu128", ("torch==2.8.0",)),
    launch_args=("--cpu",),
)


def _all_done(digests: dict[str, str]) -> Journal:
    journal = Journal()
    for step in STEPS:
        journal = journal.with_step(step, StepRecord("done", digests[step], "t"))
    return journal


def test_fresh_install_runs_every_step_in_order() -> None:
    plans = plan_steps(Journal(), step_digests(PLAN, INPUTS), STEPS)
    assert [(p.step, p.run) for p in plans] == [(s, True) for s in STEPS]


def test_finished_install_only_checks_the_model_files() -> None:
    """Nothing is redone; the models step runs as a check (one stat per file) and brings nothing along."""
    digests = step_digests(PLAN, INPUTS)
    runs = {p.step: p.reason for p in plan_steps(_all_done(digests), digests, STEPS) if p.run}
    assert runs == {"models": "checking"}


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        pytest.param(PLAN.__class__(PLAN.files, (), PLAN.python, PLAN.launch_args), {"nodes", "workflows"}, id="packs"),
        pytest.param(PLAN.__class__(PLAN.files, PLAN.node_packs, PLAN.python, ("--lowvram",)), {"config"}, id="launch-args"),
        pytest.param(PLAN.__class__((), PLAN.node_packs, PLAN.python, PLAN.launch_args), {"models", "config", "workflows"}, id="files"),
        pytest.param(
            PLAN.__class__(PLAN.files, PLAN.node_packs, PlanPython(None, ("torch==2.9.0",)), PLAN.launch_args),
            {"python", "nodes"},
            id="torch",
        ),
    ],
)  # fmt: skip
def test_a_changed_plan_reruns_exactly_the_steps_it_touches(changed: Plan, expected: set[str]) -> None:
    journal = _all_done(step_digests(PLAN, INPUTS))
    runs = {p.step for p in plan_steps(journal, step_digests(changed, INPUTS), STEPS) if p.run}
    assert runs - {"models"} == expected - {"models"}


def test_interrupted_install_resumes_after_the_last_finished_step() -> None:
    digests = step_digests(PLAN, INPUTS)
    journal = Journal().with_step("comfyui", StepRecord("done", digests["comfyui"], "t"))
    journal = journal.with_step("python", StepRecord("failed", digests["python"], "t", {"error": "boom"}))
    plans = {p.step: p for p in plan_steps(journal, digests, STEPS)}
    assert not plans["comfyui"].run
    assert plans["python"].run and plans["python"].reason == "failed before"
    assert all(plans[s].run for s in STEPS[2:])


def test_models_step_brings_the_workflows_along() -> None:
    """Starter workflows are rewritten whenever the models (or ComfyUI) step runs, even if they were done."""
    digests = step_digests(PLAN, INPUTS)
    journal = _all_done(digests).with_step("models", StepRecord("failed", digests["models"], "t"))
    runs = {p.step: p.reason for p in plan_steps(journal, digests, parse_only(["models"])) if p.run}
    assert runs == {"models": "failed before", "workflows": "files changed"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param([], STEPS, id="none-means-all"),
        pytest.param(["models"], ("models", "workflows"), id="models-brings-workflows"),
        pytest.param(["nodes", "comfyui"], ("comfyui", "nodes", "workflows"), id="step-order"),
        pytest.param(["python,nodes"], ("python", "nodes"), id="comma-separated"),
    ],
)
def test_parse_only(given: list[str], expected: tuple[str, ...]) -> None:
    assert parse_only(given) == expected


def test_parse_only_refuses_unknown_steps() -> None:
    with pytest.raises(UsageError, match="download"):
        parse_only(["download"])


def test_journal_round_trips_and_refuses_foreign_documents() -> None:
    journal = _all_done(step_digests(PLAN, INPUTS)).with_facts(python={"torch": ["torch==2.8.0"]})
    assert parse_journal(journal_to_json(journal), source="j") == journal
    with pytest.raises(InstallError, match=r"rigfit\.install/1"):
        parse_journal({"schema": "rigfit.install/9"}, source="j")


def test_a_done_step_whose_result_is_gone_runs_again() -> None:
    """A model file deleted after the install: the models step runs again (and brings the workflows)."""
    digests = step_digests(PLAN, INPUTS)
    runs = {
        p.step: p.reason
        for p in plan_steps(_all_done(digests), digests, STEPS, frozenset({"models"}))
        if p.run
    }
    assert runs == {"models": "changed on disk", "workflows": "files changed"}


def test_a_rebuilt_environment_reinstalls_the_node_packs_requirements() -> None:
    digests = step_digests(PLAN, INPUTS)
    runs = {
        p.step: p.reason
        for p in plan_steps(_all_done(digests), digests, STEPS, frozenset({"python"}))
        if p.run
    }
    assert runs == {"python": "changed on disk", "nodes": "python environment rebuilt", "models": "checking"}
