"""The wizard window and the session it edits.

``Session`` holds what the user has chosen so far (machine, presets, options, folders) and the results the
services computed from it; every change goes through one of its methods, which asks the services again and
emits ``changed``. Pages read the session and call its methods; they decide nothing themselves.
"""

from __future__ import annotations

import traceback
from dataclasses import replace

from rigfit.core.errors import RigfitError
from rigfit.core.hardware import Hardware
from rigfit.gui.qt import QObject, QSize, QWidget, QWizard, Signal
from rigfit.gui.services import Services
from rigfit.gui.views import Choices, MachineView, PlanView, RecommendationView

PAGE_HARDWARE, PAGE_GOALS, PAGE_ADVANCED, PAGE_REVIEW, PAGE_INSTALL, PAGE_FINISH = range(6)


class Session(QObject):
    """Signals: ``hardware_changed`` (a new machine or "what if"), ``changed`` (new recommendation)."""

    hardware_changed = Signal()
    changed = Signal()
    failed = Signal(str, str)  # one-line message, details

    def __init__(self, services: Services, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.detected: Hardware | None = None  # the machine (or profile) before any "what if"
        self.hardware: Hardware | None = None
        self.profile_id = ""
        self.choices = Choices()
        self.advanced = False
        self.recommendation: RecommendationView | None = None
        self.plan: PlanView | None = None
        self.comfyui_dir, self.models_dir = services.default_folders()
        self.steps: tuple[str, ...] = ()  # install steps to run; () = all of them

    # -- machine
    def set_hardware(self, hw: Hardware, profile_id: str = "") -> None:
        self.detected, self.hardware, self.profile_id = hw, hw, profile_id
        self.hardware_changed.emit()
        self.recompute()

    def set_what_if(self, vram_bytes: int | None, ram_bytes: int | None) -> None:
        if self.detected is None:
            return
        self.hardware = self.services.what_if(self.detected, vram_bytes=vram_bytes, ram_bytes=ram_bytes)
        self.hardware_changed.emit()
        self.recompute()

    def machine(self) -> MachineView | None:
        if self.hardware is None:
            return None
        return self.services.machine_view(self.hardware, edited=self.hardware != self.detected)

    # -- goals and advanced choices
    def set_preset(self, preset_id: str, on: bool) -> None:
        ids = [p for p in self.choices.presets if p != preset_id] + ([preset_id] if on else [])
        self._set_choices(replace(self.choices, presets=tuple(ids)))

    def set_option(self, name: str, on: bool) -> None:
        if name == "lora":
            self._set_choices(replace(self.choices, lora=on))
        elif name == "commercial":
            self._set_choices(replace(self.choices, commercial=on))
        elif name == "experimental":
            self._set_choices(replace(self.choices, experimental=on))
        else:
            raise ValueError(f"unknown option {name!r}")

    def choose_variant(self, model: str, variant: str | None) -> None:
        rest = tuple((m, v) for m, v in self.choices.variants if m != model)
        self._set_choices(replace(self.choices, variants=rest + (((model, variant),) if variant else ())))

    def set_advanced(self, on: bool) -> None:
        self.advanced = on
        if not on and self.choices.variants:
            self._set_choices(replace(self.choices, variants=()))

    def _set_choices(self, choices: Choices) -> None:
        if choices != self.choices:
            self.choices = choices
            self.recompute()

    def recompute(self) -> None:
        if self.hardware is None:
            return
        try:
            self.recommendation = self.services.recommend(self.hardware, self.choices)
        except RigfitError as exc:
            self.failed.emit(str(exc), traceback.format_exc())
            return
        # A preset that no longer runs (or is now hidden) drops out of the selection.
        keep = tuple(p.id for p in self.recommendation.presets if p.selected)
        if keep != self.choices.presets:
            self.choices = replace(self.choices, presets=keep)
        self.plan = None
        self.changed.emit()


class RigfitWizard(QWizard):
    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from rigfit.gui.pages.advanced import AdvancedPage
        from rigfit.gui.pages.finish import FinishPage
        from rigfit.gui.pages.goals import GoalsPage
        from rigfit.gui.pages.hardware import HardwarePage
        from rigfit.gui.pages.install import InstallPage
        from rigfit.gui.pages.review import ReviewPage

        self.session = Session(services, self)
        self.session.failed.connect(self._show_error)
        self.setWindowTitle("rigfit — ComfyUI setup")
        self.setObjectName("rigfitWizard")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setPage(PAGE_HARDWARE, HardwarePage(self.session))
        self.setPage(PAGE_GOALS, GoalsPage(self.session))
        self.setPage(PAGE_ADVANCED, AdvancedPage(self.session))
        self.setPage(PAGE_REVIEW, ReviewPage(self.session))
        self.setPage(PAGE_INSTALL, InstallPage(self.session))
        self.setPage(PAGE_FINISH, FinishPage(self.session))
        self.setStartId(PAGE_HARDWARE)

    def done(self, result: int) -> None:
        # Closing stops the work in progress; partial downloads stay for the next run to resume.
        from rigfit.gui.worker import Job

        Job.stop_all()
        super().done(result)

    def _show_error(self, message: str, details: str) -> None:
        from rigfit.gui.pages.widgets import show_error

        show_error(self, message, details)

    def sizeHint(self) -> QSize:
        h = self.fontMetrics().height()
        return QSize(62 * h, 44 * h)
