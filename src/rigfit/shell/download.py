"""The downloader: several files at once, progress events, and the free-space check for the whole bundle.

``Downloader.run(specs)`` fetches every spec (``FileFetch`` does one file), at most ``jobs`` files at a time,
each over up to ``Tuning.segments`` connections. It reports through ``on_event`` (``DownloadEvent`` values:
what the CLI's progress display and the GUI subscribe to) and returns one result per spec: ``Fetched`` or the
``DownloadError`` that stopped it. A full disk stops every file (each keeps its partial data and journal).
"""

from __future__ import annotations

import errno
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rigfit.core.download_plan import DEFAULT_JOBS, space_problem
from rigfit.core.errors import DownloadError
from rigfit.shell.fetch import Fetched, FetchSpec, FileFetch, Tuning
from rigfit.shell.http import Client
from rigfit.shell.partfile import part_path, read_journal


@dataclass(frozen=True, slots=True)
class DownloadEvent:
    """One thing that happened. ``kind``: start, progress, retry, restart, verifying, done, failed.

    ``done``/``total`` are the file's bytes; ``all_done``/``all_total`` the whole run's; ``speed`` is bytes
    per second over the last few seconds (all files) and ``eta_s`` the seconds left at that speed.
    """

    kind: str
    label: str
    done: int
    total: int | None
    all_done: int
    all_total: int
    speed: float
    eta_s: float | None
    message: str = ""


OnEvent = Callable[[DownloadEvent], None]


def remaining_bytes(specs: Sequence[FetchSpec]) -> tuple[int, int]:
    """(bytes still to download, files of unknown size), counting what journals say is already on disk."""
    remaining = unknown = 0
    for spec in specs:
        if spec.size is None:
            unknown += 1
            continue
        journal = read_journal(spec.dest)
        done = journal.done_bytes if journal and journal.size == spec.size and part_path(spec.dest).exists() else 0
        remaining += spec.size - done
    return remaining, unknown


def check_space(specs: Sequence[FetchSpec], target: Path, *, free: Callable[[Path], int] | None = None) -> None:
    """Refuse before the first byte when the whole bundle's remaining bytes do not fit on ``target``'s disk."""
    remaining, unknown = remaining_bytes(specs)
    probe = target
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    available = (free or (lambda p: shutil.disk_usage(p).free))(probe)
    problem = space_problem(remaining=remaining, free=available, target=str(target), unknown_files=unknown)
    if problem is not None:
        raise DownloadError(problem, path=str(target), needed=remaining, available=available)


class Downloader:
    def __init__(self, *, client: Client, jobs: int = DEFAULT_JOBS, tuning: Tuning | None = None,
                 on_event: OnEvent | None = None, tick_s: float = 0.2,
                 cancel: threading.Event | None = None) -> None:
        self.client = client
        self.jobs = max(1, jobs)
        self.tuning = tuning or Tuning()
        self.on_event = on_event
        self.tick_s = tick_s
        # Set from any thread to stop: partial data and journals stay, and the next run resumes from them.
        self.cancel = cancel if cancel is not None else threading.Event()
        self._lock = threading.Lock()
        self._active: dict[str, FileFetch] = {}
        self._finished_bytes = 0
        self._all_total = 0
        self._rate: list[tuple[float, int]] = []

    # ---- progress --------------------------------------------------------------------------------------
    def _file_done(self, fetch: FileFetch) -> int:
        progress = fetch.progress
        return progress.done_bytes() if progress is not None else fetch.resumed

    def _all_done(self) -> int:
        with self._lock:
            active = list(self._active.values())
            finished = self._finished_bytes
        return finished + sum(self._file_done(f) for f in active)

    def _speed(self, all_done: int) -> float:
        now = time.monotonic()
        with self._lock:
            self._rate.append((now, all_done))
            while len(self._rate) > 2 and now - self._rate[0][0] > 5.0:
                self._rate.pop(0)
            t0, b0 = self._rate[0]
        return (all_done - b0) / (now - t0) if now > t0 else 0.0

    def _emit(self, kind: str, fetch: FileFetch, message: str = "") -> None:
        if self.on_event is None:
            return
        all_done = self._all_done()
        speed = self._speed(all_done)
        left = max(0, self._all_total - all_done)
        eta = left / speed if speed > 0 else None
        self.on_event(DownloadEvent(kind, fetch.spec.label, self._file_done(fetch), fetch.total, all_done,
                                    self._all_total, speed, eta, message))

    def _ticker(self, stop: threading.Event) -> None:
        while not stop.wait(self.tick_s):
            with self._lock:
                active = list(self._active.values())
            for fetch in active:
                self._emit("progress", fetch)

    # ---- running -----------------------------------------------------------------------------------------
    def run(self, specs: Sequence[FetchSpec]) -> list[Fetched | DownloadError]:
        results: list[Fetched | DownloadError | None] = [None] * len(specs)
        self._all_total = sum(s.size or 0 for s in specs)
        queue = list(enumerate(specs))
        queue_lock = threading.Lock()
        crashed: list[BaseException] = []

        def worker() -> None:
            while not self.cancel.is_set():
                with queue_lock:
                    if not queue:
                        return
                    i, spec = queue.pop(0)
                try:
                    results[i] = self._one(spec)
                except BaseException as exc:  # a bug: re-raised in the calling thread below
                    crashed.append(exc)
                    self.cancel.set()

        stop = threading.Event()
        ticker = threading.Thread(target=self._ticker, args=(stop,), daemon=True, name="rigfit-progress")
        ticker.start()
        threads = [threading.Thread(target=worker, daemon=True, name="rigfit-file") for _ in range(self.jobs)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                while t.is_alive():
                    t.join(0.2)
        except KeyboardInterrupt:
            self.cancel.set()
            for t in threads:
                t.join()
            raise
        finally:
            stop.set()
            ticker.join()
            self.client.close()
        if crashed:
            raise crashed[0]
        return [r if r is not None else DownloadError(f"{specs[i].label}: not started (an earlier error stopped "
                                                      f"the run)") for i, r in enumerate(results)]

    def _one(self, spec: FetchSpec) -> Fetched | DownloadError:
        fetch = FileFetch(spec, self.client, self.tuning, lambda kind, msg: self._emit(kind, fetch, msg),
                          self.cancel)
        with self._lock:
            self._active[spec.label] = fetch
        self._emit("start", fetch)
        try:
            result: Fetched | DownloadError = fetch.run()
        except DownloadError as exc:
            result = exc
            if "disk is full" in exc.message or getattr(exc.__cause__, "errno", None) == errno.ENOSPC:
                self.cancel.set()  # every other file would fail the same way
        finally:
            with self._lock:
                self._active.pop(spec.label, None)
                self._finished_bytes += fetch.progress.done_bytes() if fetch.progress else 0
        if isinstance(result, DownloadError):
            self._emit("failed", fetch, result.message)
        else:
            self._emit("done", fetch, result.verified_by)
        return result
