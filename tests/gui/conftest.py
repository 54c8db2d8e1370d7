"""GUI tests run Qt offscreen, fail on any Qt warning, and get a local model server with a small catalog.

The catalog layered on the shipped one (``--catalog``) describes a tiny image bundle whose files the
``FileServer`` on 127.0.0.1 serves as a Hugging Face mirror (``HF_ENDPOINT``), so the wizard runs the real
recommendation engine, plan builder and downloader without the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Must be set before the QApplication exists (pytest-qt creates it on first use of ``qapp``/``qtbot``).
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_SCALE_FACTOR", "1")

from fixtures.fileserver import FileServer
from gui.bundle import ModelServer, write_catalog
from rigfit.gui.qt import QMessageLogContext, QtMsgType, qInstallMessageHandler

# The offscreen platform plugin has no window manager to pass size hints to; Qt says so once per top-level
# window. Nothing else is ignored.
IGNORED_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",)
FAILING = {QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg}


@pytest.fixture(autouse=True)
def qt_warnings_fail(qapp: object) -> Iterator[list[str]]:
    """Every Qt warning, critical or fatal message during a test fails it."""
    caught: list[str] = []

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if kind in FAILING and not any(text in message for text in IGNORED_QT_MESSAGES):
            caught.append(f"{kind.name}: {message}")

    previous = qInstallMessageHandler(handler)
    yield caught
    qInstallMessageHandler(previous)
    assert not caught, "Qt warnings:\n" + "\n".join(caught)


@pytest.fixture(autouse=True)
def rigfit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "rigfit-home"
    monkeypatch.setenv("RIGFIT_HOME", str(home))
    monkeypatch.delenv("RIGFIT_HARDWARE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    return home


@pytest.fixture
def model_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    with FileServer() as server:
        catalog, files = write_catalog(server, tmp_path / "catalog")
        monkeypatch.setenv("HF_ENDPOINT", server.url("").rstrip("/"))
        yield ModelServer(server, catalog, files)


@pytest.fixture
def make_wizard(qtbot: object, model_server: ModelServer) -> Callable[..., object]:
    from rigfit.gui.app import apply_theme, make_application, make_wizard

    def build(profile: str = "rtx4060-8gb") -> object:
        make_application()
        apply_theme("light")
        wizard = make_wizard(hardware=[profile], catalog=[str(model_server.catalog)])
        qtbot.addWidget(wizard)  # type: ignore[attr-defined]
        return wizard

    return build
