"""Qt stays behind ``rigfit.gui.qt``: no other module imports PySide6, and the adapter and views load without it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import rigfit.gui

GUI = Path(rigfit.gui.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_qt_module_imports_pyside6() -> None:
    offenders = sorted(
        str(path.relative_to(GUI))
        for path in GUI.rglob("*.py")
        if path.name != "qt.py" and any(m.split(".")[0] in {"PySide6", "shiboken6"} for m in _imported_modules(path))
    )
    assert offenders == []


def test_the_adapter_and_the_views_load_without_qt() -> None:
    """``services`` and ``views`` decide what the pages show; they are usable (and testable) with no Qt at all."""
    script = (
        "import sys; sys.modules['PySide6'] = None\n"
        "import rigfit.gui.services, rigfit.gui.views\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6.', 'rigfit.gui.qt', 'rigfit.gui.pages'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
