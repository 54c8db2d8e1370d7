"""Starting the wizard: the application object, the theme, and the window."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

THEMES = ("system", "light", "dark")


def prepare_environment(scale: float | None) -> None:
    """What must be set before the QApplication exists: the scale factor (``--scale 2`` = 200 %)."""
    if scale is not None:
        os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"


def make_application(argv: Sequence[str] = ()) -> object:
    """The QApplication (created once), in the Fusion style so it looks the same on every platform."""
    from rigfit.gui.qt import QApplication, QStyleFactory

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "rigfit", *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName("rigfit")
    app.setApplicationDisplayName("rigfit")
    style = QStyleFactory.create("Fusion")
    if style is not None:
        app.setStyle(style)
    return app


def apply_theme(theme: str) -> None:
    """``light`` and ``dark`` set a full palette; ``system`` keeps the platform's."""
    from rigfit.gui.qt import QApplication, QColor, QPalette, Qt

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    if theme == "system":
        return
    if theme == "light":
        app.setPalette(app.style().standardPalette())
        return
    role = QPalette.ColorRole
    dark = QPalette()
    # Base lighter than Window: Fusion outlines check boxes with a darkened Window colour, which vanishes on a
    # base darker than the window.
    base, window, text = QColor(62, 62, 66), QColor(45, 45, 48), QColor(230, 230, 230)
    for r, colour in (
        (role.Window, window), (role.WindowText, text), (role.Base, base), (role.AlternateBase, QColor(54, 54, 58)),
        (role.ToolTipBase, window), (role.ToolTipText, text), (role.Text, text), (role.Button, window),
        (role.ButtonText, text), (role.BrightText, QColor(255, 80, 80)), (role.Link, QColor(100, 170, 255)),
        (role.Highlight, QColor(42, 130, 218)), (role.HighlightedText, QColor(255, 255, 255)),
        (role.PlaceholderText, QColor(150, 150, 150)), (role.Light, QColor(70, 70, 74)),
        (role.Midlight, QColor(60, 60, 64)), (role.Mid, QColor(90, 90, 96)), (role.Dark, QColor(20, 20, 20)),
        (role.Shadow, QColor(0, 0, 0)),
    ):
        dark.setColor(r, colour)
    for r in (role.WindowText, role.Text, role.ButtonText):
        dark.setColor(QPalette.ColorGroup.Disabled, r, QColor(128, 128, 128))
    dark.setColor(QPalette.ColorGroup.Disabled, role.Light, Qt.GlobalColor.transparent)
    app.setPalette(dark)


def make_wizard(*, hardware: Sequence[str] = (), catalog: Sequence[str] = ()) -> object:
    from rigfit.gui.services import Services
    from rigfit.gui.wizard import RigfitWizard

    wizard = RigfitWizard(Services(hardware=hardware, catalog=catalog))
    wizard.resize(wizard.sizeHint())
    return wizard


def run(*, hardware: Sequence[str] = (), catalog: Sequence[str] = (), theme: str = "system",
        scale: float | None = None) -> int:
    """Show the wizard and return when it closes (0: finished or closed)."""
    prepare_environment(scale)
    app = make_application()
    apply_theme(theme)
    from rigfit.gui.qt import QApplication
    from rigfit.gui.wizard import RigfitWizard

    wizard = make_wizard(hardware=hardware, catalog=catalog)
    assert isinstance(wizard, RigfitWizard) and isinstance(app, QApplication)
    wizard.show()
    return int(app.exec())
