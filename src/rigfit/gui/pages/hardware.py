"""Welcome / Hardware: the machine rigfit plans for, a profile picker and the "what if" editors."""

from __future__ import annotations

from rigfit.core.units import GIB
from rigfit.gui.pages.widgets import show_error, wrapped
from rigfit.gui.qt import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)
from rigfit.gui.wizard import Session
from rigfit.gui.worker import Job


class HardwarePage(QWizardPage):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.job: Job | None = None
        self.setTitle("Welcome — your machine")
        self.setSubTitle("Check what rigfit found, or pick another machine to ask “what if I had…?”.")
        layout = QVBoxLayout(self)

        pick = QHBoxLayout()
        self.profile = QComboBox(self)
        self.profile.setObjectName("profile")
        given = session.services.hardware_specs
        self.profile.addItem(f"As given: {given[0]}" if given else "This computer (detected)", "")
        for choice in session.services.profiles():
            self.profile.addItem(choice.label, choice.id)
        label = QLabel("&Hardware:", self)
        label.setBuddy(self.profile)
        pick.addWidget(label)
        pick.addWidget(self.profile, 1)
        layout.addLayout(pick)

        self.status = QLabel("Detecting this computer…", self)
        layout.addWidget(self.status)

        self.facts_box = QGroupBox("Detected", self)
        self.facts = QFormLayout(self.facts_box)
        layout.addWidget(self.facts_box)

        what_if = QGroupBox("What if?", self)
        form = QHBoxLayout(what_if)
        self.vram = QSpinBox(what_if)
        self.vram.setObjectName("vram")
        self.vram.setRange(0, 512)
        self.vram.setSuffix(" GiB")
        self.ram = QSpinBox(what_if)
        self.ram.setObjectName("ram")
        self.ram.setRange(1, 4096)
        self.ram.setSuffix(" GiB")
        vram_label = QLabel("GPU &memory:", what_if)
        vram_label.setBuddy(self.vram)
        ram_label = QLabel("System &RAM:", what_if)
        ram_label.setBuddy(self.ram)
        self.apply = QPushButton("&Apply", what_if)
        self.reset = QPushButton("Re&set", what_if)
        for widget in (vram_label, self.vram, ram_label, self.ram, self.apply, self.reset):
            form.addWidget(widget)
        form.addStretch(1)
        layout.addWidget(what_if)
        self.warnings = wrapped("", self)
        layout.addWidget(self.warnings)
        layout.addStretch(1)

        self.profile.currentIndexChanged.connect(self._load)
        self.apply.clicked.connect(self._apply_what_if)
        self.reset.clicked.connect(lambda: self._load(self.profile.currentIndex()))
        session.hardware_changed.connect(self._render)

    def initializePage(self) -> None:
        if self.session.hardware is None and self.job is None:
            self._load(self.profile.currentIndex())

    def isComplete(self) -> bool:
        return self.session.hardware is not None and self.job is None

    def _load(self, index: int) -> None:
        profile_id = str(self.profile.itemData(index) or "")
        self.status.setText("Reading the profile…" if profile_id else "Detecting this computer…")
        self.status.show()
        job = Job(lambda emit, cancel: self.session.services.load_hardware(profile_id))
        job.succeeded.connect(lambda hw: self._loaded(hw, profile_id))
        job.failed.connect(self._failed)
        self.job = job
        self.completeChanged.emit()
        job.start()

    def _loaded(self, hw: object, profile_id: str) -> None:
        from rigfit.core.hardware import Hardware

        self.job = None
        assert isinstance(hw, Hardware)
        self.status.hide()
        self.session.set_hardware(hw, profile_id)
        self.completeChanged.emit()

    def _failed(self, message: str, details: str) -> None:
        self.job = None
        self.status.setText("Could not read the hardware: " + message)
        show_error(self, message, details)
        self.completeChanged.emit()

    def _apply_what_if(self) -> None:
        self.session.set_what_if(self.vram.value() * GIB, self.ram.value() * GIB)

    def _render(self) -> None:
        view = self.session.machine()
        if view is None:
            return
        while self.facts.rowCount():
            self.facts.removeRow(0)
        self.facts_box.setTitle(view.title + ("  (what if)" if view.edited else ""))
        for name, value in view.rows:
            self.facts.addRow(name + ":", wrapped(value, self.facts_box))
        self.vram.setValue(round(view.vram_bytes / GIB))
        self.ram.setValue(max(1, round(view.ram_bytes / GIB)))
        self.warnings.setText("\n".join(view.warnings))
        self.warnings.setVisible(bool(view.warnings))

