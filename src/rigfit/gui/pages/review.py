"""Review: the plan (files, node packs, settled dependency clashes, launch flags, warnings), where it goes,
and saving it as ``plan.json``."""

from __future__ import annotations

from rigfit.gui.pages.widgets import gb, show_error, wrapped
from rigfit.gui.qt import (
    QCheckBox,
    QFileDialog,
    QFont,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)
from rigfit.gui.views import PlanView
from rigfit.gui.wizard import Session
from rigfit.gui.worker import Job

# What the user can leave out of the install, as ``rigfit install --only`` steps.
STEP_GROUPS = (
    (("comfyui", "python"), "ComfyUI and its Python"),
    (("nodes",), "node packs"),
    (("models",), "model files"),
    (("config", "workflows"), "settings and starter workflows"),
)


class FolderField(QWidget):
    """A path with a "Browse…" button."""

    def __init__(self, name: str, value: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(value, self)
        self.edit.setObjectName(name)
        self.browse = QPushButton("Browse…", self)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)
        self.browse.clicked.connect(self._browse)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", self.edit.text())
        if chosen:
            self.edit.setText(chosen)


class ReviewPage(QWizardPage):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.job: Job | None = None
        self.setTitle("Review the plan")
        self.setSubTitle("Everything rigfit will download and install. Nothing has been changed yet.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Install")
        layout = QVBoxLayout(self)

        self.tree = QTreeWidget(self)
        self.tree.setObjectName("planTree")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Item", "Where", "Size"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        layout.addWidget(self.tree, 1)

        self.flags = QLabel(self)
        self.flags.setObjectName("launchFlags")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.flags.setFont(mono)
        self.flags.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = wrapped("Building the plan…", self)
        layout.addWidget(self.status)

        where = QGroupBox("Where", self)
        form = QFormLayout(where)
        self.comfyui = FolderField("comfyuiDir", session.comfyui_dir, where)
        self.models = FolderField("modelsDir", session.models_dir, where)
        form.addRow("&ComfyUI folder:", self.comfyui)
        form.addRow("&Model store:", self.models)
        self.space = QLabel(where)
        self.space.setObjectName("storeSpace")
        form.addRow("", self.space)
        form.addRow("Launch flags:", self.flags)
        steps_row = QHBoxLayout()
        self.step_boxes: dict[tuple[str, ...], QCheckBox] = {}
        for steps, text in STEP_GROUPS:
            box = QCheckBox(text, where)
            box.setObjectName("steps-" + "-".join(steps))
            box.setChecked(True)
            box.toggled.connect(self._steps_changed)
            steps_row.addWidget(box)
            self.step_boxes[steps] = box
        steps_row.addStretch(1)
        form.addRow("Install:", steps_row)
        layout.addWidget(where)

        buttons = QHBoxLayout()
        self.save = QPushButton("&Save plan.json…", self)
        self.save.setObjectName("savePlan")
        self.save.setEnabled(False)
        buttons.addStretch(1)
        buttons.addWidget(self.save)
        layout.addLayout(buttons)
        self.save.clicked.connect(self._save_dialog)
        self.comfyui.edit.textChanged.connect(self._folders_changed)
        self.models.edit.textChanged.connect(self._folders_changed)

    def initializePage(self) -> None:
        if self.session.plan is not None:
            self._render(self.session.plan)
            return
        self.tree.clear()
        self.status.setText("Building the plan…")
        self.save.setEnabled(False)
        hw, choices, services = self.session.hardware, self.session.choices, self.session.services
        assert hw is not None
        job = Job(lambda emit, cancel: services.build_plan(hw, choices))
        job.succeeded.connect(lambda plan: self._built(plan) if self.session.choices == choices else None)
        job.failed.connect(self._failed)
        self.job = job
        job.start()

    def isComplete(self) -> bool:
        return (self.session.plan is not None and bool(self.comfyui.edit.text().strip())
                and any(box.isChecked() for box in self.step_boxes.values()))

    def _steps_changed(self) -> None:
        every = all(box.isChecked() for box in self.step_boxes.values())
        chosen = tuple(s for steps, box in self.step_boxes.items() if box.isChecked() for s in steps)
        self.session.steps = () if every else chosen
        self.completeChanged.emit()

    def _built(self, plan: object) -> None:
        assert isinstance(plan, PlanView)
        self.job = None
        self.session.plan = plan
        self._render(plan)
        self.completeChanged.emit()

    def _failed(self, message: str, details: str) -> None:
        self.job = None
        self.status.setText("The plan could not be built: " + message)
        show_error(self, message, details)

    def _folders_changed(self) -> None:
        self.session.comfyui_dir = self.comfyui.edit.text().strip()
        self.session.models_dir = self.models.edit.text().strip()
        self._show_space()
        self.completeChanged.emit()

    def _show_space(self) -> None:
        plan = self.session.plan
        free = self.session.services.free_space(self.session.models_dir or self.session.comfyui_dir)
        if plan is None or free is None:
            self.space.setText("")
            return
        need = plan.total_bytes + plan.approx_bytes
        verdict = "fits" if need <= free else f"does not fit: {gb(need - free)} short"
        self.space.setText(f"{gb(free)} free on that drive for {gb(need)} of models — {verdict}")

    def _render(self, plan: PlanView) -> None:
        self.tree.clear()
        approx = f" + ≈ {gb(plan.approx_bytes)}" if plan.approx_bytes else ""
        files = QTreeWidgetItem(self.tree, [f"Model files ({len(plan.files)})", "models/",
                                            gb(plan.total_bytes) + approx])
        for f in plan.files:
            size = gb(f.bytes) if f.bytes is not None else (f"≈ {gb(f.approx_bytes)}" if f.approx_bytes else "?")
            item = QTreeWidgetItem(files, [f.filename, f.folder, size])
            if f.bytes is None:
                item.setToolTip(2, "an estimate: the server's size and hash are checked while downloading")
        packs = QTreeWidgetItem(self.tree, [f"Node packs ({len(plan.node_packs)})", "custom_nodes/", ""])
        for pack in plan.node_packs:
            note = " · runs an install script (asks first)" if pack.install_script else ""
            item = QTreeWidgetItem(packs, [pack.id + note, (pack.commit or "")[:12], ""])
            item.setToolTip(0, pack.repo)
        sections = (
            (f"Python packages ({len(plan.requirements)})", plan.requirements, False),
            (f"Dependency conflicts settled ({len(plan.conflicts)})", plan.conflicts, True),
            (f"Warnings ({len(plan.warnings)})", plan.warnings, True),
        )
        for title, lines, expanded in sections:
            head = QTreeWidgetItem(self.tree, [title, "", ""])
            for line in lines:
                item = QTreeWidgetItem(head, [line, "", ""])
                item.setToolTip(0, line)
                item.setFirstColumnSpanned(True)
            head.setExpanded(expanded)
        files.setExpanded(True)
        packs.setExpanded(True)
        self.flags.setText(" ".join(plan.launch_args) or "(none needed)")
        self.status.setText(
            f"{len(plan.files)} files, {gb(plan.total_bytes)}{approx} · {len(plan.node_packs)} node packs · "
            + (f"{len(plan.conflicts)} dependency clash{'es' if len(plan.conflicts) != 1 else ''} settled")
        )
        self.save.setEnabled(True)
        self._show_space()

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the plan", "plan.json", "Plan (*.json)")
        if path:
            self.save_plan(path)

    def save_plan(self, path: str) -> None:
        assert self.session.plan is not None
        try:
            self.session.services.save_plan(self.session.plan, path)
        except OSError as exc:
            show_error(self, f"could not write {path}: {exc.strerror or exc}")
        else:
            self.status.setText(f"Saved the plan to {path}")
