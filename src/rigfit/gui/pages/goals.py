"""Goals: a card per preset (status, maturity, licence) and the toggles that change what is offered."""

from __future__ import annotations

from rigfit.gui.pages.widgets import Badge, Chip, focused_name, gb, gib, refocus, wrapped
from rigfit.gui.qt import (
    QCheckBox,
    QFont,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    Qt,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)
from rigfit.gui.views import PresetView
from rigfit.gui.wizard import PAGE_ADVANCED, PAGE_REVIEW, Session

OPTIONS = (
    ("experimental", "Show &experimental", "include experimental models and presets (marked as such)"),
    ("lora", "I need &LoRA support", "rules out NF4 weights, which cannot take LoRAs"),
    ("commercial", "&Commercial use", "only models whose licence allows commercial use"),
)


class PresetCard(QFrame):
    """One preset: pick it with the check box; the badge says whether it runs here."""

    def __init__(self, view: PresetView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"card-{view.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.view = view
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.check = QCheckBox(view.name, self)
        self.check.setObjectName(f"pick-{view.id}")
        font = QFont(self.check.font())
        font.setBold(True)
        self.check.setFont(font)
        self.check.setChecked(view.selected)
        runnable = view.status in {"fits", "offload"}
        self.check.setEnabled(runnable or view.selected)
        head.addWidget(self.check, 1)
        self.badge = Badge(view.status, self)
        head.addWidget(self.badge)
        layout.addLayout(head)
        chips = QHBoxLayout()
        chips.addWidget(Chip(view.maturity, self))
        licence = Chip(view.licence_note, self)
        licence.setToolTip(view.licence_detail)
        chips.addWidget(licence)
        chips.addStretch(1)
        layout.addLayout(chips)
        layout.addWidget(wrapped(view.description, self))
        budget = view.budget
        if budget.required_bytes:
            need = (
                f"VRAM {gib(budget.required_bytes)} of {gib(budget.card_bytes)}"
                + (f" (runs from {gib(budget.min_bytes)})" if view.status == "offload" else "")
                + f" · download {gb(view.disk_bytes)}"
            )
            facts = wrapped(need, self)
            facts.setObjectName("facts")
            layout.addWidget(facts)
        if view.headline and view.status != "fits":
            why = wrapped(view.headline, self)
            why.setObjectName("why")
            layout.addWidget(why)
        layout.addStretch(1)
        self.setToolTip("\n".join([*view.reasons[:4], *view.warnings[:3]]))


class GoalsPage(QWizardPage):
    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.cards: dict[str, PresetCard] = {}
        self.setTitle("What do you want to make?")
        self.setSubTitle("Pick one or more outcomes. Each card says whether it runs on this machine.")
        layout = QVBoxLayout(self)
        toggles = QHBoxLayout()
        self.toggles: dict[str, QCheckBox] = {}
        for name, text, tip in OPTIONS:
            box = QCheckBox(text, self)
            box.setObjectName(f"opt-{name}")
            box.setToolTip(tip)
            box.toggled.connect(lambda on, n=name: session.set_option(n, on))
            toggles.addWidget(box)
            self.toggles[name] = box
        toggles.addStretch(1)
        layout.addLayout(toggles)

        self.scroller = QScrollArea(self)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.grid_host = QWidget(self.scroller)
        self.grid = QGridLayout(self.grid_host)
        self.grid.setColumnStretch(0, 1)
        self.grid.setColumnStretch(1, 1)
        self.scroller.setWidget(self.grid_host)
        layout.addWidget(self.scroller, 1)

        bottom = QHBoxLayout()
        self.advanced = QCheckBox("Choose &quantizations myself (advanced)", self)
        self.advanced.setObjectName("advanced")
        self.advanced.toggled.connect(session.set_advanced)
        self.summary = QLabel("", self)
        bottom.addWidget(self.advanced)
        bottom.addStretch(1)
        bottom.addWidget(self.summary)
        layout.addLayout(bottom)
        session.changed.connect(self._render)

    def initializePage(self) -> None:
        self._render()

    def nextId(self) -> int:
        return PAGE_ADVANCED if self.session.advanced else PAGE_REVIEW

    def isComplete(self) -> bool:
        return bool(self.session.choices.presets)

    def _render(self) -> None:
        rec = self.session.recommendation
        if rec is None:
            return
        focus = focused_name(self)
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards.clear()
        for i, view in enumerate(rec.presets):
            card = PresetCard(view, self.grid_host)
            card.check.toggled.connect(lambda on, p=view.id: self.session.set_preset(p, on))
            self.grid.addWidget(card, i // 2, i % 2)
            self.cards[view.id] = card
        chosen = rec.selected
        if chosen:
            self.summary.setText(
                f"{len(chosen)} selected · download {gb(rec.storage.total_bytes)}"
                + ("" if rec.storage.fits else " · does not fit on the disk")
            )
        else:
            self.summary.setText("Pick at least one outcome")
        refocus(self, focus)
        self.completeChanged.emit()
