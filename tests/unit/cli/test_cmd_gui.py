"""``rigfit gui`` without PySide6 (or without Qt's system libraries) says what to install: exit 2, one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rigfit.cli.cmd_gui import INSTALL_HINT, display_problem, missing_qt_message


def _rigfit_gui_with_blocked(module: str) -> subprocess.CompletedProcess[str]:
    # ``sys.modules[name] = None`` makes every import of ``name`` raise ImportError, as when it is not installed.
    script = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from rigfit.cli.main import main\n"
        "sys.exit(main(['gui']))\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


def test_missing_pyside6_is_one_line_with_the_install_command_and_exit_2() -> None:
    result = _rigfit_gui_with_blocked("PySide6")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "pip install 'rigfit[gui]'" in lines[0] and "uv sync --extra gui" in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_missing_system_library_names_the_debian_packages() -> None:
    """Qt's own ImportError for a missing shared library is not mistaken for a missing PySide6."""
    error = ImportError("libEGL.so.1: cannot open shared object file: No such file or directory")
    message = missing_qt_message(error)
    assert "libEGL.so.1" in message and "apt-get install" in message and INSTALL_HINT not in message


def test_scale_out_of_range_is_refused_before_qt_starts() -> None:
    result = subprocess.run([sys.executable, "-m", "rigfit", "gui", "--scale", "9"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "--scale 9" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("platform", "environ", "refused"),
    [
        pytest.param("linux", {}, True, id="linux-no-display"),
        pytest.param("linux", {"DISPLAY": ":0"}, False, id="linux-x11"),
        pytest.param("linux", {"WAYLAND_DISPLAY": "wayland-0"}, False, id="linux-wayland"),
        pytest.param("linux", {"QT_QPA_PLATFORM": "offscreen"}, False, id="linux-offscreen"),
        pytest.param("win32", {}, False, id="windows"),
        pytest.param("darwin", {}, False, id="macos"),
    ],
)
def test_no_display_is_refused_before_qt_aborts(platform: str, environ: dict[str, str], refused: bool) -> None:
    assert (display_problem(platform, environ) is not None) is refused


def test_rigfit_gui_without_a_display_is_one_line_and_exit_2() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}}
    result = subprocess.run([sys.executable, "-m", "rigfit", "gui", "--hardware", "rtx4060-8gb"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "no display" in result.stderr
