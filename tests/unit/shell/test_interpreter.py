"""The target interpreter's version: read from a virtual environment's record when it is current, else asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rigfit.core.errors import UsageError
from rigfit.shell.interpreter import venv_version, version_soon

RUNNING = ".".join(str(part) for part in sys.version_info[:3])


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    return root


def _python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def test_a_venv_made_by_python_reports_its_version_without_a_process(venv: Path) -> None:
    assert venv_version(str(_python(venv))) == RUNNING
    assert version_soon(str(_python(venv)))() == RUNNING


def _fake_venv(root: Path, record: str) -> Path:
    (root / "bin").mkdir(parents=True)
    python = root / "bin" / "python"
    python.symlink_to(sys.executable)
    (root / "pyvenv.cfg").write_text(record, encoding="utf-8")
    return python


@pytest.mark.skipif(os.name == "nt", reason="symlinked interpreter")
@pytest.mark.parametrize("record, expected", [
    pytest.param("home = /x\nversion_info = 3.12.4.final.0\n", "3.12.4", id="virtualenv"),
    pytest.param("home = /x\nimplementation = CPython\nuv = 0.13.9\nversion_info = 3.13.1\n", "3.13.1", id="uv"),
    pytest.param("home = /x\nversion = 3.11.9\n", "3.11.9", id="venv"),
    pytest.param("home = /x\n", None, id="no-version"),
    pytest.param("version = three\n", None, id="not-a-version"),
])
def test_the_record_formats_of_venv_uv_and_virtualenv(tmp_path: Path, record: str, expected: str | None) -> None:
    assert venv_version(str(_fake_venv(tmp_path, record))) == expected


@pytest.mark.skipif(os.name == "nt", reason="symlinked interpreter")
def test_a_base_interpreter_newer_than_the_record_is_asked(tmp_path: Path) -> None:
    """An in-place upgrade of the base Python leaves a stale version in pyvenv.cfg: the interpreter is asked."""
    base = tmp_path / "base-python"
    base.write_text("", encoding="utf-8")
    python = _fake_venv(tmp_path / "v", f"home = {tmp_path}\nversion = 3.0.1\nexecutable = {base}\n")
    made = (tmp_path / "v" / "pyvenv.cfg").stat().st_mtime
    os.utime(base, (made + 60, made + 60))
    assert venv_version(str(python)) is None
    assert version_soon(str(python))() == RUNNING  # what the interpreter itself says, not the record's 3.0.1
    os.utime(base, (made - 60, made - 60))
    assert venv_version(str(python)) == "3.0.1"


def test_outside_a_venv_or_broken_the_interpreter_is_asked(tmp_path: Path) -> None:
    assert venv_version(str(tmp_path / "nothing")) is None
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    broken.chmod(0o755)
    with pytest.raises(UsageError, match="not a working Python interpreter"):
        version_soon(str(broken))()
