"""Long work off the GUI thread, and the one adapter that turns rigfit's events into Qt signals.

A ``Job`` runs one callable on a ``QThread``. The callable gets ``emit`` (for ``views.Progress`` values and
questions) and a ``threading.Event`` that cancels it. Signals emitted from the worker thread reach slots in
the GUI thread queued, so pages never touch shared state from two threads.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import ClassVar

from rigfit.core.errors import RigfitError
from rigfit.gui.qt import QThread, Signal
from rigfit.gui.views import Progress, Question

Emit = Callable[[object], None]
Task = Callable[[Emit, threading.Event], object]


class Job(QThread):
    """One piece of long work. Signals: ``progress(Progress)``, ``question(Question)``,
    ``succeeded(object)`` with the callable's result, ``failed(message, details)``."""

    progress = Signal(object)
    question = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)

    # Running jobs are owned here, not by a page: a QThread destroyed while its thread runs aborts the
    # process, so a job lives until its thread has returned, whatever happens to the window meanwhile.
    _running: ClassVar[set[Job]] = set()

    def __init__(self, task: Task) -> None:
        super().__init__(None)
        self._task = task
        self.cancel_event = threading.Event()
        self.finished.connect(self._release)

    def start(self, priority: QThread.Priority = QThread.Priority.InheritPriority) -> None:
        Job._running.add(self)
        super().start(priority)

    def _release(self) -> None:
        Job._running.discard(self)
        self.deleteLater()

    @classmethod
    def stop_all(cls, timeout_ms: int = 30_000) -> None:
        """Cancel every running job and wait for its thread (the window is closing)."""
        for job in list(cls._running):
            job.cancel()
        for job in list(cls._running):
            job.wait(timeout_ms)

    def cancel(self) -> None:
        self.cancel_event.set()

    def _emit(self, event: object) -> None:
        # The adapter: every event kind the shell reports arrives here already translated by ``services``.
        if isinstance(event, Question):
            self.question.emit(event)
        elif isinstance(event, Progress):
            self.progress.emit(event)
        else:
            self.progress.emit(Progress(message=str(event)))

    def run(self) -> None:
        try:
            result = self._task(self._emit, self.cancel_event)
        except RigfitError as exc:
            self.failed.emit(str(exc), traceback.format_exc())
        except Exception as exc:  # a bug: still shown in the dialog's details rather than lost in a thread
            self.failed.emit(f"unexpected error: {type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            self.succeeded.emit(result)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
