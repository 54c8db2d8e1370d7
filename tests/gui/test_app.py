"""Starting the application: ``rigfit gui``'s entry point shows the wizard, themes apply, closing returns."""

from __future__ import annotations

from typing import Any

import pytest

from rigfit.gui.app import apply_theme, make_application, run
from rigfit.gui.qt import QApplication, QPalette
from rigfit.gui.wizard import RigfitWizard


def test_run_shows_the_wizard_and_returns_the_event_loop_status(
    qtbot: Any, model_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run`` builds the application and shows the wizard, then hands over to the event loop. The loop is
    replaced here: a real ``exec``/``quit`` leaves the test process's QApplication closing for later tests."""
    shown: list[RigfitWizard] = []

    def fake_exec(app: QApplication) -> int:
        shown.extend(w for w in QApplication.topLevelWidgets() if isinstance(w, RigfitWizard) and w.isVisible())
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert run(hardware=["rtx4060-8gb"], catalog=[str(model_server.catalog)], theme="light") == 0
    assert len(shown) == 1 and shown[0].windowTitle().startswith("rigfit")
    qtbot.waitUntil(lambda: shown[0].session.recommendation is not None, timeout=10_000)
    shown[0].close()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_themes_set_a_readable_palette(qapp: Any, theme: str) -> None:
    """Text stays far from its background in both themes (WCAG contrast of at least 7:1)."""
    make_application()
    apply_theme(theme)
    palette = QApplication.palette()

    def luminance(role: QPalette.ColorRole) -> float:
        colour = palette.color(role)
        channels = []
        for c in (colour.redF(), colour.greenF(), colour.blueF()):
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    for text, back in ((QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
                       (QPalette.ColorRole.Text, QPalette.ColorRole.Base)):
        hi, lo = sorted((luminance(text), luminance(back)), reverse=True)
        assert (hi + 0.05) / (lo + 0.05) >= 7, (theme, text)
    apply_theme("light")
