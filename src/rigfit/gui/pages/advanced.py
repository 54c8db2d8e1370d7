"""Advanced: the quantization of each component, with the VRAM budget and the storage it costs.

Every choice the hardware cannot run is listed but disabled, with the reason beside it. Changing a choice
asks the services for a new recommendation; the budget bars and the storage calculator redraw from it.
"""

from __future__ import annotations

from rigfit.gui.pages.widgets import (
    Badge,
    Section,
    StackedBar,
    clear_layout,
    focused_name,
    gb,
    gib,
    legend,
    refocus,
    wrapped,
)
from rigfit.gui.qt import (
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)
from rigfit.gui.views import ComponentView, PresetView, StorageView
from rigfit.gui.wizard import Session


def option_text(label: str, size: int | None, allowed: bool, reason: str) -> str:
    text = f"{label} · {gb(size)}"
    return text if allowed else f"{text} — {reason}"


def unavailable_text(view: ComponentView) -> str:
    """The choices this machine cannot run, grouped by reason: "Not on this GPU: FP8 — Apple MPS has no …"."""
    groups: dict[str, list[str]] = {}
    for option in view.options:
        if not option.allowed:
            reason = " ".join(option.reason.replace(f"({option.label})", "").split())
            groups.setdefault(reason, []).append(option.label)
    if not groups:
        return ""
    return "Not on this machine: " + "; ".join(f"{', '.join(dict.fromkeys(labels))} — {reason}"
                                               for reason, labels in groups.items())


class ComponentRow:
    """Role, model and a combo box of its variants; disabled entries carry the reason in their text."""

    def __init__(self, grid: QGridLayout, row: int, view: ComponentView, session: Session, host: QWidget) -> None:
        self.view = view
        role, name = QLabel(view.role.replace("_", " "), host), QLabel(view.model_name, host)
        grid.addWidget(role, row, 0)
        grid.addWidget(name, row, 1)
        self.combo = QComboBox(host)
        self.combo.setObjectName(f"quant-{view.model}")
        # Sized for the current choice; the open list is as wide as its longest entry (a disabled one's reason).
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(max(14, len(option_text(view.label, view.bytes, True, ""))))
        model = self.combo.model()
        for i, option in enumerate(view.options):
            self.combo.addItem(option_text(option.label, option.bytes, option.allowed, option.reason), option.variant)
            self.combo.setItemData(i, option.reason, Qt.ItemDataRole.ToolTipRole)
            if not option.allowed:
                item = model.item(i)  # type: ignore[attr-defined]
                item.setEnabled(False)
            if option.variant == view.variant:
                self.combo.setCurrentIndex(i)
        self.combo.setEnabled(len(view.options) > 1)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        grid.addWidget(self.combo, row, 2)
        self.note = wrapped(view.reason, host)
        grid.addWidget(self.note, row, 3)
        self.cells: tuple[QWidget, ...] = (role, name, self.combo)  # the columns kept equal across presets
        self.rows = 1
        blocked = unavailable_text(view)
        if blocked:
            self.blocked = wrapped(blocked, host)
            self.blocked.setObjectName(f"blocked-{view.model}")
            self.blocked.setEnabled(False)  # drawn in the palette's disabled (grey) text colour
            grid.addWidget(self.blocked, row + 1, 1, 1, 3)
            self.rows = 2
        self.combo.activated.connect(
            lambda index: session.choose_variant(view.model, str(self.combo.itemData(index)))
        )


class BudgetBox(QWidget):
    """The VRAM budget of one preset: models + nodes + working memory against the card."""

    def __init__(self, view: PresetView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        budget = view.budget
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("VRAM budget", self))
        self.badge = Badge(budget.status, self)
        head.addWidget(self.badge)
        self.bar = StackedBar(self)
        self.bar.setObjectName(f"budget-{view.id}")
        self.bar.set_values(tuple((s.kind, s.bytes) for s in budget.segments), budget.card_bytes, budget.min_bytes)
        head.addWidget(self.bar, 1)
        layout.addLayout(head)
        parts = " + ".join(f"{s.label} {gib(s.bytes)}" for s in budget.segments)
        room = budget.headroom_bytes
        text = (f"{parts} = {gib(budget.required_bytes)} of {gib(budget.card_bytes)} · "
                + (f"headroom {gib(room)}" if room >= 0 else f"{gib(-room)} over: weights stream from RAM"
                   if budget.status == "offload" else f"{gib(-room)} over"))
        if budget.status == "offload":
            text += f" (runs from {gib(budget.min_bytes)}, dashed line)"
        self.text = wrapped(text, self)
        self.text.setObjectName("budgetText")
        self.bar.setAccessibleName(f"VRAM budget of {view.name}")
        self.bar.setAccessibleDescription(text)
        layout.addWidget(self.text)


class StorageBox(QGroupBox):
    """The storage calculator: the bundle (each file once) against the free space on the target disk."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Storage", parent)
        layout = QVBoxLayout(self)
        self.bar = StackedBar(self)
        self.bar.setObjectName("storageBar")
        self.text = wrapped("", self)
        self.text.setObjectName("storageText")
        layout.addWidget(self.bar)
        layout.addWidget(self.text)

    def show_storage(self, view: StorageView) -> None:
        self.bar.set_values((("bundle", view.total_bytes),), view.free_bytes or 0)
        self.bar.setAccessibleName("download size against free disk space")
        free = "unknown free space" if view.free_bytes is None else f"{gb(view.free_bytes)} free"
        lines = [f"Download {gb(view.total_bytes)} (each file once) · {free} on {view.target}"]
        if not view.fits:
            lines.append("Does not fit: pick smaller quantizations, fewer presets or another drive.")
        if view.ssd_recommended:
            lines.append(
                "SSD recommended: ComfyUI reads each model whole when it loads it"
                + (" — this disk is rotational." if view.rotational else ".")
            )
        self.text.setText("\n".join(lines))
        self.bar.setAccessibleDescription(lines[0])


class AdvancedPage(QWizardPage):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.rows: dict[str, ComponentRow] = {}
        self.budgets: dict[str, BudgetBox] = {}
        self.setTitle("Advanced — quantization per component")
        self.setSubTitle(
            "Choices this GPU cannot run are greyed out with the reason. The VRAM budget and the storage "
            "update as you change them."
        )
        layout = QVBoxLayout(self)
        layout.addWidget(legend((("models", "models"), ("nodes", "node packs"), ("working", "working memory")), self))
        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.host = QWidget(self.scroller)
        self.sections = QVBoxLayout(self.host)
        self.scroller.setWidget(self.host)
        layout.addWidget(self.scroller, 1)
        self.storage = StorageBox(self)
        layout.addWidget(self.storage)
        session.changed.connect(self._render)

    def initializePage(self) -> None:
        self._render()

    def _render(self) -> None:
        rec = self.session.recommendation
        if rec is None or not self.session.advanced:
            return
        focus = focused_name(self)
        clear_layout(self.sections)
        self.rows.clear()
        self.budgets.clear()
        grids: list[QGridLayout] = []
        for view in rec.selected:
            section = Section(f"{view.name}", self.host)
            section.setObjectName(f"section-{view.id}")
            grid_host = QWidget(section.body)
            grid = QGridLayout(grid_host)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setColumnStretch(3, 1)
            grids.append(grid)
            row = 0
            for component in view.components:
                entry = ComponentRow(grid, row, component, self.session, grid_host)
                self.rows[f"{view.id}/{component.model}"] = entry
                row += entry.rows
            section.content.addWidget(grid_host)
            budget = BudgetBox(view, section.body)
            section.content.addWidget(budget)
            self.budgets[view.id] = budget
            self.sections.addWidget(section)
        self.sections.addStretch(1)
        # One grid per preset; equal first columns keep the combo boxes of all presets in one line.
        for column in (0, 1, 2):
            width = max((r.cells[column].sizeHint().width() for r in self.rows.values()), default=0)
            for g in grids:
                g.setColumnMinimumWidth(column, width)
        self.storage.show_storage(rec.storage)
        refocus(self, focus)
