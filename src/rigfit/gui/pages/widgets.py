"""Small widgets the pages share: status badges, the stacked budget bar, collapsible sections, error dialog.

Sizes are in layout units (points and font metrics), never fixed pixels, so they follow the screen's scale;
colours come from the palette except the status colours, which are chosen to read on light and dark alike.
"""

from __future__ import annotations

from rigfit.core.units import format_bytes
from rigfit.gui.qt import (
    QColor,
    QFont,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QRect,
    QSize,
    QSizePolicy,
    Qt,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

# Status → (background, text). Saturated mid-tones with white text read on both the light and dark theme.
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "fits": ("#2e7d32", "#ffffff"),
    "offload": ("#b26a00", "#ffffff"),
    "unsupported": ("#c62828", "#ffffff"),
    "excluded": ("#616161", "#ffffff"),
}
STATUS_TEXT = {"fits": "fits", "offload": "offload (slower)", "unsupported": "does not run", "excluded": "excluded"}
SEGMENT_COLOURS = {"models": "#1e88e5", "nodes": "#8e24aa", "working": "#00897b", "bundle": "#1e88e5"}


def gb(n: int | None) -> str:
    """Disk and download sizes in decimal units, as drives and servers count them."""
    return format_bytes(n)


def gib(n: int | None) -> str:
    """Memory in binary units, as GPU makers sell it ("a 12 GB card" has 12 GiB)."""
    return format_bytes(n, binary=True)


class Badge(QLabel):
    """A rounded label coloured by status."""

    def __init__(self, status: str = "fits", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.set_status(status)

    def set_status(self, status: str, text: str | None = None) -> None:
        bg, fg = STATUS_COLOURS.get(status, STATUS_COLOURS["excluded"])
        self.status = status
        self.setText(text or STATUS_TEXT.get(status, status))
        self.setStyleSheet(
            f"QLabel {{ background: {bg}; color: {fg}; border-radius: 4px; padding: 1px 6px; font-weight: bold; }}"
        )


class Chip(QLabel):
    """A quiet outlined label for maturity and licence notes."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setStyleSheet("QLabel { border: 1px solid palette(mid); border-radius: 4px; padding: 0px 5px; }")


class StackedBar(QWidget):
    """Coloured segments against a capacity line: models + nodes + working memory vs the card, or the
    bundle vs the free space. The part past the capacity is hatched."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._segments: tuple[tuple[str, int], ...] = ()
        self._capacity = 0
        self._extra: int = 0  # a second marker (the least that runs), 0 for none
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        h = self.fontMetrics().height()
        return QSize(20 * h, int(h * 1.5))

    def minimumSizeHint(self) -> QSize:
        return QSize(8 * self.fontMetrics().height(), int(self.fontMetrics().height() * 1.5))

    def set_values(self, segments: tuple[tuple[str, int], ...], capacity: int, marker: int = 0) -> None:
        self._segments, self._capacity, self._extra = segments, capacity, marker
        self.update()

    @property
    def total(self) -> int:
        return sum(n for _, n in self._segments)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.rect().adjusted(1, 1, -1, -1)
        scale_max = max(self._capacity, self.total, 1) * 1.04
        pal = self.palette()
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(pal.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect, 3, 3)
        x = float(rect.left())
        for kind, n in self._segments:
            w = rect.width() * n / scale_max
            if w <= 0:
                continue
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(SEGMENT_COLOURS.get(kind, "#757575")))
            painter.drawRect(QRect(int(x), rect.top() + 1, max(1, round(w)), rect.height() - 1))
            x += w
        if self._capacity and self.total > self._capacity:
            left = rect.left() + int(rect.width() * self._capacity / scale_max)
            over = QRect(left, rect.top() + 1, int(x) - left, rect.height() - 1)
            painter.setBrush(QColor(198, 40, 40, 150))
            painter.drawRect(over)
            painter.setBrush(Qt.BrushStyle.BDiagPattern)
            painter.drawRect(over)
        if self._capacity:
            cx = rect.left() + int(rect.width() * self._capacity / scale_max)
            painter.setPen(QPen(pal.color(QPalette.ColorRole.WindowText), 2))
            painter.drawLine(cx, rect.top() - 1, cx, rect.bottom() + 1)
        if self._extra:
            mx = rect.left() + int(rect.width() * self._extra / scale_max)
            painter.setPen(QPen(pal.color(QPalette.ColorRole.WindowText), 1, Qt.PenStyle.DashLine))
            painter.drawLine(mx, rect.top(), mx, rect.bottom())
        painter.end()


def legend(items: tuple[tuple[str, str], ...], parent: QWidget | None = None) -> QWidget:
    """A row of colour swatches with their names, for a StackedBar."""
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    for kind, text in items:
        swatch = QLabel("■", box)
        swatch.setStyleSheet(f"QLabel {{ color: {SEGMENT_COLOURS.get(kind, '#757575')}; }}")
        row.addWidget(swatch)
        row.addWidget(QLabel(text, box))
        row.addSpacing(box.fontMetrics().height() // 2)
    row.addStretch(1)
    return box


class Section(QWidget):
    """A titled part of a page that folds away behind an arrow button (keyboard: Space toggles it)."""

    def __init__(self, title: str, parent: QWidget | None = None, *, expanded: bool = True) -> None:
        super().__init__(parent)
        self.toggle = QToolButton(self)
        self.toggle.setText(title)
        self.toggle.setCheckable(True)
        self.toggle.setChecked(expanded)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        bold = QFont(self.toggle.font())
        bold.setBold(True)
        self.toggle.setFont(bold)
        self.body = QFrame(self)
        self.body.setFrameShape(QFrame.Shape.StyledPanel)
        self.content = QVBoxLayout(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle)
        layout.addWidget(self.body)
        self.toggle.toggled.connect(self._set_expanded)
        self._set_expanded(expanded)

    def _set_expanded(self, on: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.body.setVisible(on)


def wrapped(text: str = "", parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def clear_layout(layout: QVBoxLayout | QHBoxLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.setParent(None)
            widget.deleteLater()


def focused_name(container: QWidget) -> str:
    """The object name of the focused widget inside ``container`` ("" if none): pages rebuild their
    widgets from each new recommendation and give the focus back to the widget of the same name, so
    keyboard users stay where they were."""
    from rigfit.gui.qt import QApplication

    widget = QApplication.focusWidget()
    if widget is not None and container.isAncestorOf(widget):
        return widget.objectName()
    return ""


def refocus(container: QWidget, name: str) -> None:
    if name:
        widget = container.findChild(QWidget, name)
        if widget is not None:
            widget.setFocus()


def show_error(parent: QWidget, message: str, details: str = "") -> QMessageBox:
    """The one error dialog: the one-line message, and the traceback or full text under "Show Details…".
    Opened window-modal without blocking, so a worker's error never stalls the event loop."""
    box = QMessageBox(QMessageBox.Icon.Critical, "rigfit", message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    if details:
        box.setDetailedText(details)
    box.open()
    return box
