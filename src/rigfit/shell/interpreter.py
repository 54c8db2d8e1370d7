"""Asking a Python interpreter its version, started early.

``rigfit deps check --python PATH`` needs the target interpreter's exact version (uv compiles for it:
markers, wheel tags). Asking costs a process start (~15 ms); started on a thread before the resolver's
modules load, it is done by the time they are, instead of adding to the command's wall time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rigfit.core.errors import UsageError
from rigfit.shell.runner import run


def interpreter_version(python: str) -> str:
    """The full version of a Python interpreter (uv compiles for exactly it: markers, wheel tags)."""
    done = run([python, "-c", "import sys;print('%d.%d.%d' % sys.version_info[:3])"], timeout=60)
    if not done.ok:
        raise UsageError(f"--python {python}: not a working Python interpreter ({done.describe_failure()})")
    return done.stdout.strip()


def version_soon(python: str) -> Callable[[], str]:
    """Start asking ``python`` its version; the returned call waits for the answer (or its UsageError)."""
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
