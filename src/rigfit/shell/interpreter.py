"""Asking a Python interpreter its version, started early.

``rigfit deps check --python PATH`` needs the target interpreter's exact version (uv compiles for it:
markers, wheel tags). A virtual environment records it in ``pyvenv.cfg``; that is read when the base
interpreter has not changed since the environment was made. Otherwise the interpreter is asked, which costs
a process start (~15 ms): started on a thread before the resolver's modules load, mostly hidden by them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from rigfit.core.errors import UsageError
from rigfit.shell.runner import run


def interpreter_version(python: str) -> str:
    """The full version of a Python interpreter (uv compiles for exactly it: markers, wheel tags)."""
    done = run([python, "-c", "import sys;print('%d.%d.%d' % sys.version_info[:3])"], timeout=60)
    if not done.ok:
        raise UsageError(f"--python {python}: not a working Python interpreter ({done.describe_failure()})")
    return done.stdout.strip()


def venv_version(python: str) -> str | None:
    """X.Y.Z from the ``pyvenv.cfg`` of the virtual environment ``python`` belongs to, or None to ask it.

    None too when the base interpreter's file is newer than the record: an in-place upgrade (3.11.2 → 3.11.4
    by the system's package manager) leaves the old version written there.
    """
    exe = Path(python)
    record = exe.parent.parent / "pyvenv.cfg"
    try:
        made = record.stat().st_mtime
        values = {}
        for line in record.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
        # venv writes "version = 3.11.7", uv "version_info = 3.11.7", virtualenv "version_info = 3.11.7.final.0"
        written = values.get("version_info") or values.get("version", "")
        match = re.fullmatch(r"(\d+\.\d+\.\d+)(?:\.\w+\.\d+)?", written)
        base = Path(values["executable"]) if values.get("executable") else exe.resolve()
        if match is None or not exe.is_file() or base.stat().st_mtime > made:
            return None
    except (OSError, UnicodeDecodeError):
        return None
    return match.group(1)


def version_soon(python: str) -> Callable[[], str]:
    """Start asking ``python`` its version; the returned call waits for the answer (or its UsageError)."""
    known = venv_version(python)
    if known is not None:
        return lambda: known
    answer: list[str] = []
    error: list[BaseException] = []

    def ask() -> None:
        try:
            answer.append(interpreter_version(python))
        except BaseException as exc:  # handed to the waiting thread
            error.append(exc)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()

    def wait() -> str:
        thread.join()
        if error:
            raise error[0]
        return answer[0]

    return wait
