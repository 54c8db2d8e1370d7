"""Finish: what the doctor found, and buttons to open the ComfyUI folder or start ComfyUI."""

from __future__ import annotations

from rigfit.core.errors import RigfitError
from rigfit.gui.pages.widgets import STATUS_COLOURS, show_error, wrapped
from rigfit.gui.qt import (
    QColor,
    QDesktopServices,
    QHBoxLayout,
    QHeaderView,
    QProcess,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QUrl,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)
from rigfit.gui.views import DoctorCheck
from rigfit.gui.wizard import Session
from rigfit.gui.worker import Job

MARKS = {"ok": ("✓", "fits"), "warn": ("!", "offload"), "fail": ("✗", "unsupported"), "skip": ("–", "excluded")}


class FinishPage(QWizardPage):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.job: Job | None = None
        self.checks: tuple[DoctorCheck, ...] = ()
        self.setTitle("Done — checking the installation")
        self.setSubTitle("rigfit's doctor checks files, hashes, node packs and that torch sees the GPU.")
        layout = QVBoxLayout(self)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("doctorTree")
        self.tree.setHeaderLabels(["", "Check", "Result"])
        self.tree.setRootIsDecorated(False)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.tree, 1)
        self.summary = wrapped("Running the checks…", self)
        self.summary.setObjectName("doctorSummary")
        layout.addWidget(self.summary)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("&Open ComfyUI folder", self)
        self.open_button.setObjectName("openFolder")
        self.launch_button = QPushButton("&Launch ComfyUI", self)
        self.launch_button.setObjectName("launchComfyUI")
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.launch_button)
        layout.addLayout(buttons)
        self.open_button.clicked.connect(self.open_folder)
        self.launch_button.clicked.connect(self.launch)

    def initializePage(self) -> None:
        self.tree.clear()
        self.summary.setText("Running the checks…")
        services, comfyui = self.session.services, self.session.comfyui_dir
        hardware = self.session.detected
        job = Job(lambda emit, cancel: services.doctor(comfyui, hardware))
        job.succeeded.connect(self._checked)
        job.failed.connect(self._failed)
        self.job = job
        job.start()

    def isComplete(self) -> bool:
        return self.job is None

    def _checked(self, checks: object) -> None:
        assert isinstance(checks, tuple)
        self.job = None
        self.checks = checks
        for check in checks:
            assert isinstance(check, DoctorCheck)
            mark, colour_key = MARKS.get(check.status, ("?", "excluded"))
            item = QTreeWidgetItem(self.tree, [mark, check.name, check.message])
            item.setForeground(0, QColor(STATUS_COLOURS[colour_key][0]))
        try:
            self.session.services.launch_command(self.session.comfyui_dir)
        except RigfitError as exc:
            self.launch_button.setEnabled(False)
            self.launch_button.setToolTip(str(exc))
        else:
            self.launch_button.setEnabled(True)
            self.launch_button.setToolTip("start ComfyUI with the recorded launch flags")
        failed = sum(c.status == "fail" for c in checks)
        warned = sum(c.status == "warn" for c in checks)
        self.summary.setText(
            "All checks passed." if not failed and not warned
            else f"{failed} failed, {warned} with warnings — see the list above."
        )
        self.completeChanged.emit()

    def _failed(self, message: str, details: str) -> None:
        self.job = None
        self.summary.setText("The checks could not run: " + message)
        show_error(self, message, details)
        self.completeChanged.emit()

    def open_folder(self) -> bool:
        return QDesktopServices.openUrl(QUrl.fromLocalFile(self.session.comfyui_dir))

    def launch(self) -> bool:
        """Start ComfyUI detached (it outlives the wizard), as ``rigfit launch`` would."""
        try:
            argv, folder = self.session.services.launch_command(self.session.comfyui_dir)
        except RigfitError as exc:
            show_error(self, str(exc))
            return False
        started, _pid = QProcess.startDetached(argv[0], argv[1:], folder)
        if not started:
            show_error(self, f"could not start {argv[0]}")
            return False
        self.summary.setText("ComfyUI is starting: open http://127.0.0.1:8188 in a browser in a moment.")
        return True
