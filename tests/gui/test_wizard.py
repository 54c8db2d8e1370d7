"""The wizard end to end, offscreen: an embedded hardware profile, the real recommendation engine and plan
builder, and the real downloader against a local model server (``conftest.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rigfit.core.plan import parse_plan
from rigfit.core.units import GIB
from rigfit.gui.pages.advanced import AdvancedPage
from rigfit.gui.pages.finish import FinishPage
from rigfit.gui.pages.goals import GoalsPage
from rigfit.gui.pages.hardware import HardwarePage
from rigfit.gui.pages.install import STEPS, InstallPage
from rigfit.gui.pages.review import ReviewPage
from rigfit.gui.pages.widgets import StackedBar
from rigfit.gui.qt import QComboBox, QLabel, QMessageBox, Qt, QWizard
from rigfit.gui.wizard import (
    PAGE_ADVANCED,
    PAGE_FINISH,
    PAGE_GOALS,
    PAGE_HARDWARE,
    PAGE_INSTALL,
    PAGE_REVIEW,
    RigfitWizard,
)

WAIT_MS = 10_000


def _start(make_wizard: Any, qtbot: Any, profile: str = "rtx4060-8gb") -> RigfitWizard:
    wizard = make_wizard(profile)
    assert isinstance(wizard, RigfitWizard)
    wizard.show()
    qtbot.waitUntil(lambda: wizard.session.recommendation is not None, timeout=WAIT_MS)
    return wizard


def _next(wizard: RigfitWizard, qtbot: Any) -> None:
    button = wizard.button(QWizard.WizardButton.CommitButton if wizard.currentPage().isCommitPage()
                           else QWizard.WizardButton.NextButton)
    assert button.isEnabled(), f"Next is disabled on page {wizard.currentId()}"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _pick_test_bundle(wizard: RigfitWizard, qtbot: Any, *, advanced: bool) -> None:
    goals = wizard.currentPage()
    assert isinstance(goals, GoalsPage)
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled(), "Next before any outcome is picked"
    card = goals.cards["guitest"]
    assert card.badge.status in {"fits", "offload"}
    card.check.setFocus()
    qtbot.keyClick(card.check, Qt.Key.Key_Space)  # keyboard: Space ticks the focused card
    assert wizard.session.choices.presets == ("guitest",)
    assert goals.cards["guitest"].check.isChecked()
    if advanced:
        qtbot.mouseClick(goals.advanced, Qt.MouseButton.LeftButton)
        assert wizard.session.advanced


def _budget_total(wizard: RigfitWizard) -> int:
    bar = wizard.currentPage().findChild(StackedBar, "budget-guitest")
    assert bar is not None
    return bar.total


def test_wizard_end_to_end_with_budget_change_install_cancel_and_resume(
    make_wizard: Any, qtbot: Any, model_server: Any, tmp_path: Path
) -> None:
    """Every page in order: the machine with a "what if", a preset picked with the keyboard, a quantization
    change that moves the VRAM budget bar and the storage total, the plan saved as plan.json, an install from
    the local server cancelled part-way and resumed to 100 %, and the doctor's checks."""
    wizard = _start(make_wizard, qtbot)

    # Welcome / Hardware: the embedded profile, then "what if I had 24 GiB?" and back.
    hw_page = wizard.currentPage()
    assert isinstance(hw_page, HardwarePage) and wizard.currentId() == PAGE_HARDWARE
    texts = [w.text() for w in hw_page.facts_box.findChildren(QLabel)]
    assert any("RTX 4060" in t for t in texts)
    hw_page.vram.setValue(24)
    qtbot.mouseClick(hw_page.apply, Qt.MouseButton.LeftButton)
    view = wizard.session.machine()
    assert view is not None and view.vram_bytes == 24 * GIB and view.edited
    qtbot.mouseClick(hw_page.reset, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not wizard.session.machine().edited, timeout=WAIT_MS)  # type: ignore[union-attr]
    _next(wizard, qtbot)

    # Goals, then Advanced: a quantization change moves the budget bar and the storage at once.
    assert wizard.currentId() == PAGE_GOALS
    _pick_test_bundle(wizard, qtbot, advanced=True)
    _next(wizard, qtbot)
    assert wizard.currentId() == PAGE_ADVANCED
    advanced = wizard.currentPage()
    assert isinstance(advanced, AdvancedPage)
    combo = advanced.findChild(QComboBox, "quant-guitest-diffusion")
    assert combo is not None and combo.count() == 4
    before_variant = combo.currentData()
    before_budget = _budget_total(wizard)
    before_storage = advanced.storage.text.text()
    combo.setFocus()
    key = Qt.Key.Key_Up if combo.currentIndex() > 0 else Qt.Key.Key_Down
    qtbot.keyClick(combo, key)
    chosen = dict(wizard.session.choices.variants)["guitest-diffusion"]
    assert chosen != before_variant
    assert _budget_total(wizard) != before_budget
    assert advanced.storage.text.text() != before_storage
    preset = wizard.session.recommendation.preset("guitest")  # type: ignore[union-attr]
    assert next(c.variant for c in preset.components if c.model == "guitest-diffusion") == chosen
    focused = advanced.findChild(QComboBox, "quant-guitest-diffusion")
    assert focused is not None and focused.hasFocus(), "the rebuilt combo box keeps the keyboard focus"
    _next(wizard, qtbot)

    # Review: the plan of exactly the chosen variant and its companions; saved as plan.json.
    assert wizard.currentId() == PAGE_REVIEW
    review = wizard.currentPage()
    assert isinstance(review, ReviewPage)
    qtbot.waitUntil(lambda: wizard.session.plan is not None, timeout=WAIT_MS)
    plan_view = wizard.session.plan
    assert plan_view is not None
    names = {f.filename for f in plan_view.files}
    assert names == {next(f for f in model_server.files if chosen.split("-")[-1].lower() in f.lower()),
                     "guitest-te.safetensors", "guitest-vae.safetensors"}
    review.save_plan(str(tmp_path / "plan.json"))
    saved = parse_plan(json.loads((tmp_path / "plan.json").read_text()), source="plan.json")
    assert {f.filename for f in saved.files} == names
    comfyui, store = tmp_path / "ComfyUI", tmp_path / "store"
    review.comfyui.edit.setText(str(comfyui))
    review.models.edit.setText(str(store))
    assert "free on that drive" in review.space.text() and "fits" in review.space.text()
    for steps, box in review.step_boxes.items():  # the model files only: no ComfyUI clone, no venv
        if steps != ("models",):
            qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert wizard.session.steps == ("models",)

    # Install: slow the server so there is time to cancel part-way, then resume at full speed.
    model_server.server.speed = 1024 * 1024
    _next(wizard, qtbot)
    assert wizard.currentId() == PAGE_INSTALL
    install = wizard.currentPage()
    assert isinstance(install, InstallPage)
    # 40 % of the bundle: whatever order the files come in, the largest one then has bytes on disk to resume.
    qtbot.waitUntil(lambda: install.total_bar.value() >= STEPS * 4 // 10, timeout=WAIT_MS)
    qtbot.mouseClick(install.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: install.result is not None, timeout=WAIT_MS)
    assert install.result is not None and install.result.cancelled
    assert install.resume_button.isEnabled() and not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    partial_at = install.total_bar.value()
    assert 0 < partial_at < STEPS

    model_server.server.speed = None
    qtbot.mouseClick(install.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: install.result is not None and not install.result.cancelled, timeout=WAIT_MS)
    assert install.total_bar.value() == STEPS
    resumed = [r for r in model_server.server.requests() if "if-range" in r.headers
               and not r.headers.get("range", "bytes=0-").startswith("bytes=0-")]
    assert resumed, "the resumed run asked only for the bytes it did not have (Range from the partial end)"
    for f in plan_view.files:
        placed = comfyui / "models" / f.folder / f.filename
        assert placed.read_bytes() == model_server.files[f.filename]

    # Finish: rigfit doctor on what was installed (only the model files here: no ComfyUI, so other checks fail).
    _next(wizard, qtbot)
    assert wizard.currentId() == PAGE_FINISH
    finish = wizard.currentPage()
    assert isinstance(finish, FinishPage)
    qtbot.waitUntil(lambda: finish.isComplete(), timeout=WAIT_MS)
    status = {c.name: c.status for c in finish.checks}
    assert status["install steps"] == "ok" and status["model files"] == "ok", finish.checks
    assert finish.tree.topLevelItemCount() == len(finish.checks)
    assert not finish.launch_button.isEnabled(), "no ComfyUI was installed, so there is nothing to launch"
    assert "main.py" in finish.launch_button.toolTip()


def test_choices_this_gpu_cannot_run_are_disabled_with_the_reason(make_wizard: Any, qtbot: Any) -> None:
    """On Apple Silicon FP8 and GGUF K-quants are listed but disabled, each saying why."""
    wizard = _start(make_wizard, qtbot, "m3-max-64gb")
    _next(wizard, qtbot)
    _pick_test_bundle(wizard, qtbot, advanced=True)
    _next(wizard, qtbot)
    combo = wizard.currentPage().findChild(QComboBox, "quant-guitest-diffusion")
    assert combo is not None
    model = combo.model()
    states = {combo.itemData(i): (model.item(i).isEnabled(), combo.itemText(i)) for i in range(combo.count())}
    enabled_fp8, text_fp8 = states["guitest-diffusion-fp8"]
    enabled_q4, text_q4 = states["guitest-diffusion-q4"]
    assert not enabled_fp8 and "float8" in text_fp8
    assert not enabled_q4 and "K-quant" in text_q4
    assert states["guitest-diffusion-q8"][0] and states["guitest-diffusion-fp16"][0]
    assert combo.currentData() in {"guitest-diffusion-q8", "guitest-diffusion-fp16"}
    blocked = wizard.currentPage().findChild(QLabel, "blocked-guitest-diffusion")
    assert blocked is not None and blocked.isVisible(), "the reasons are on the page, not only in the list"
    assert "FP8" in blocked.text() and "float8" in blocked.text() and "Q4_K_S" in blocked.text()


@pytest.mark.parametrize("option", ["lora", "commercial", "experimental"])
def test_goal_toggles_reach_the_recommendation(make_wizard: Any, qtbot: Any, option: str) -> None:
    """Each toggle on the Goals page changes the choices the engine is asked with."""
    wizard = _start(make_wizard, qtbot)
    _next(wizard, qtbot)
    goals = wizard.currentPage()
    assert isinstance(goals, GoalsPage)
    qtbot.mouseClick(goals.toggles[option], Qt.MouseButton.LeftButton)
    assert getattr(wizard.session.choices, option) is True
    assert "guitest" in goals.cards


def _install_models_only(wizard: RigfitWizard, qtbot: Any, tmp_path: Path) -> InstallPage:
    """From the Hardware page to a running install of the test bundle's model files."""
    _next(wizard, qtbot)
    _pick_test_bundle(wizard, qtbot, advanced=False)
    _next(wizard, qtbot)
    assert wizard.currentId() == PAGE_REVIEW, "without the advanced box the Advanced page is skipped"
    review = wizard.currentPage()
    assert isinstance(review, ReviewPage)
    qtbot.waitUntil(lambda: wizard.session.plan is not None, timeout=WAIT_MS)
    review.comfyui.edit.setText(str(tmp_path / "ComfyUI"))
    review.models.edit.setText(str(tmp_path / "store"))
    for steps, box in review.step_boxes.items():
        box.setChecked(steps == ("models",))
    _next(wizard, qtbot)
    install = wizard.currentPage()
    assert isinstance(install, InstallPage)
    return install


def test_a_failed_download_opens_the_error_dialog_and_resume_retries(
    make_wizard: Any, qtbot: Any, model_server: Any, tmp_path: Path
) -> None:
    """A 404 stops the install with a dialog (the one-line message, the details behind "Show Details…");
    Resume, once the server has the file again, finishes the install."""
    from fixtures.fileserver import Fault
    from gui.bundle import REPO

    model_server.server.fault(REPO + "guitest-vae.safetensors", Fault("status", status=404))
    wizard = _start(make_wizard, qtbot)
    install = _install_models_only(wizard, qtbot, tmp_path)
    dialog = None

    def error_shown() -> bool:
        nonlocal dialog
        dialog = next((d for d in install.findChildren(QMessageBox, "errorDialog") if d.isVisible()), None)
        return dialog is not None

    qtbot.waitUntil(error_shown, timeout=WAIT_MS)
    assert dialog is not None
    assert "guitest-vae.safetensors" in dialog.text() and "404" in dialog.text()
    assert "\n" not in dialog.text().strip(), "the message is one line"
    assert dialog.detailedText(), "the details area holds the traceback"
    assert install.resume_button.isEnabled() and not install.isComplete()
    qtbot.mouseClick(dialog.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)

    qtbot.mouseClick(install.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(install.isComplete, timeout=WAIT_MS)
    assert install.total_bar.value() == STEPS
    vae = tmp_path / "ComfyUI" / "models" / "vae" / "guitest-vae.safetensors"
    assert vae.read_bytes() == model_server.files["guitest-vae.safetensors"]


def test_the_install_script_question_waits_for_the_answer(make_wizard: Any, qtbot: Any) -> None:
    """A question from the worker opens a Yes/No dialog (No by default) and the worker gets the answer."""
    import threading

    from rigfit.gui.views import Question
    from rigfit.gui.worker import Job

    wizard = _start(make_wizard, qtbot)
    page = wizard.page(PAGE_INSTALL)
    assert isinstance(page, InstallPage)
    answers: list[bool] = []

    def task(emit: Any, cancel: threading.Event) -> bool:
        question = Question("Run an install script?", "comfyui-impact-pack has an install.py. Run it?")
        emit(question)
        return question.wait(cancel)

    job = Job(task)
    job.question.connect(page._ask)
    job.succeeded.connect(answers.append)
    job.start()
    qtbot.waitUntil(lambda: bool(page.findChildren(QMessageBox, "installScriptQuestion")), timeout=WAIT_MS)
    box = page.findChildren(QMessageBox, "installScriptQuestion")[0]
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: answers == [True], timeout=WAIT_MS)


def test_launch_starts_comfyui_detached_from_its_folder(make_wizard: Any, qtbot: Any, tmp_path: Path) -> None:
    """"Launch ComfyUI" runs ComfyUI's venv Python on main.py in the ComfyUI folder and returns at once."""
    import sys

    from rigfit.shell.venv import venv_python

    comfyui = tmp_path / "ComfyUI"
    marker = tmp_path / "launched.json"
    comfyui.mkdir()
    (comfyui / "main.py").write_text(
        "import json, os, sys\n"
        f"open({str(marker)!r}, 'w').write(json.dumps({{'cwd': os.getcwd(), 'argv': sys.argv}}))\n"
    )
    python = venv_python(comfyui / ".venv")
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    wizard = _start(make_wizard, qtbot)
    wizard.session.comfyui_dir = str(comfyui)
    finish = wizard.page(PAGE_FINISH)
    assert isinstance(finish, FinishPage)
    assert finish.launch()
    qtbot.waitUntil(marker.exists, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: marker.read_text().endswith("}"), timeout=WAIT_MS)
    seen = json.loads(marker.read_text())
    assert Path(seen["cwd"]) == comfyui and Path(seen["argv"][0]).name == "main.py"


def test_picking_an_embedded_profile_replaces_the_machine(make_wizard: Any, qtbot: Any) -> None:
    """The profile picker loads another machine (on the worker) and every preset is judged again for it."""
    wizard = _start(make_wizard, qtbot)
    page = wizard.currentPage()
    assert isinstance(page, HardwarePage)
    before = {p.id: p.budget.card_bytes for p in wizard.session.recommendation.presets}  # type: ignore[union-attr]
    index = page.profile.findData("rtx4090-24gb")
    assert index > 0
    page.profile.setCurrentIndex(index)
    qtbot.waitUntil(lambda: wizard.session.profile_id == "rtx4090-24gb", timeout=WAIT_MS)
    view = wizard.session.machine()
    assert view is not None and "RTX 4090" in view.title and not view.edited
    after = {p.id: p.budget.card_bytes for p in wizard.session.recommendation.presets}  # type: ignore[union-attr]
    assert after.keys() == before.keys()
    assert all(after[p] > before[p] for p in after if after[p] and before[p])
