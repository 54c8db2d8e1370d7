"""Partial data on disk: ``<final>.rigfit-part``, its journal, the in-order hasher, and the atomic publish.

The part file is written at piece offsets with ``os.pwrite``, so pieces need no joining afterwards. The
journal (``<final>.rigfit-journal``) is replaced atomically (temp file + ``os.replace``) and only ever claims
bytes that were flushed with ``fdatasync`` before it was written, so it stays true after ``kill -9`` and
after a power cut. The hasher follows the contiguous prefix of written bytes and reads it back with
``os.preadv`` from the page cache while the download runs (``ecosystem.md`` §3.3: the hash then finishes
a fraction of a second after the last byte instead of costing a second full read).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
from pathlib import Path

from rigfit.core.download_plan import Journal, Piece, contiguous_prefix, journal_from_json, journal_to_json

PART_SUFFIX = ".rigfit-part"
JOURNAL_SUFFIX = ".rigfit-journal"
LOCK_SUFFIX = ".rigfit-lock"
_HASH_BLOCK = 4 << 20


_seek_lock = threading.Lock()


def pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    """Write all of ``data`` at ``offset`` (``os.pwrite`` where it exists; Windows lacks it)."""
    while data:
        if hasattr(os, "pwrite"):
            n = os.pwrite(fd, data, offset)
        else:  # pragma: no cover - Windows
            with _seek_lock:
                os.lseek(fd, offset, os.SEEK_SET)
                n = os.write(fd, data)
        data = data[n:]
        offset += n


def pread_into(fd: int, view: memoryview, offset: int) -> int:
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], offset)
    with _seek_lock:  # pragma: no cover - Windows
        os.lseek(fd, offset, os.SEEK_SET)
        data = os.read(fd, len(view))
    view[: len(data)] = data
    return len(data)


def part_path(final: Path) -> Path:
    return final.with_name(final.name + PART_SUFFIX)


def journal_path(final: Path) -> Path:
    return final.with_name(final.name + JOURNAL_SUFFIX)


class PartLock:
    """An exclusive lock on ``<final>.rigfit-lock`` so that two rigfit processes sharing a store never write
    the same partial file (the second one is told to wait). The lock dies with its process (``kill -9``)."""

    def __init__(self, final: Path) -> None:
        self.path = final.with_name(final.name + LOCK_SUFFIX)
        self.fd = -1

    def __enter__(self) -> PartLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if sys.platform == "win32":  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(self.fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(self.fd)
            self.fd = -1
            raise BlockingIOError(f"{self.path.name} is locked by another rigfit process") from exc
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            # Unlink while still holding the lock: a process that opened the old file retries on a new one.
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self.fd)
            self.fd = -1


def read_journal(final: Path) -> Journal | None:
    try:
        doc = json.loads(journal_path(final).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return journal_from_json(doc)


def write_journal(final: Path, journal: Journal) -> None:
    path = journal_path(final)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(journal_to_json(journal), fh, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def discard(final: Path) -> None:
    """Remove the partial data and its journal (never the final file)."""
    for path in (journal_path(final), part_path(final), journal_path(final).with_name(journal_path(final).name + ".tmp")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def fsync_dir(directory: Path) -> None:
    if os.name != "posix":  # Windows cannot open a directory for fsync; NTFS journals renames itself
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Progress:
    """Pieces of one file and how far each got; shared by its workers, hasher and checkpointer."""

    def __init__(self, pieces: tuple[Piece, ...]) -> None:
        self.cond = threading.Condition()
        self.starts = [p.start for p in pieces]
        self.ends = [p.end for p in pieces]
        self.done = [p.done for p in pieces]
        self.taken = [p.done >= p.end - p.start for p in pieces]
        self.failed: BaseException | None = None
        self.finished = False

    @property
    def total(self) -> int:
        return self.ends[-1] if self.ends else 0

    def done_bytes(self) -> int:
        return sum(self.done)

    def snapshot(self) -> tuple[Piece, ...]:
        with self.cond:
            return tuple(Piece(s, e, d) for s, e, d in zip(self.starts, self.ends, self.done, strict=True))

    def take(self) -> int | None:
        """The next piece nobody works on, in file order (so the hashed prefix grows steadily)."""
        with self.cond:
            for i, taken in enumerate(self.taken):
                if not taken:
                    self.taken[i] = True
                    return i
        return None

    def advance(self, index: int, n: int) -> None:
        with self.cond:
            self.done[index] += n
            self.cond.notify_all()

    def prefix(self) -> int:
        return contiguous_prefix(tuple(Piece(s, e, d) for s, e, d in zip(self.starts, self.ends, self.done, strict=True)))

    def complete(self) -> bool:
        return all(d >= e - s for s, e, d in zip(self.starts, self.ends, self.done, strict=True))

    def stop(self, exc: BaseException | None = None) -> None:
        with self.cond:
            if exc is not None and self.failed is None:
                self.failed = exc
            self.finished = True
            self.cond.notify_all()


class PrefixHasher(threading.Thread):
    """SHA-256 of the file in order, following the written prefix; ``result()`` after ``Progress.stop``.

    A worker whose chunk extends the contiguous prefix hands the chunk's buffer over (``offer``) and goes on
    with a spare one, so the bytes of an in-order stream are hashed from memory; everything else (pieces
    further on, resumed data) is read back with ``preadv`` from the page cache.
    """

    def __init__(self, fd: int, progress: Progress, *, buffer_size: int = 1 << 20, spares: int = 8) -> None:
        super().__init__(daemon=True, name="rigfit-hash")
        self.fd = fd
        self.progress = progress
        self.position = 0
        self._digest = hashlib.sha256()
        self._error: BaseException | None = None
        self._offers: dict[int, tuple[int, bytearray]] = {}  # offset -> (length, buffer)
        self._spares = [bytearray(buffer_size) for _ in range(spares)]
        self.from_memory = 0  # bytes hashed without reading them back (for tests and benchmarks)

    def offer(self, offset: int, length: int, buf: bytearray) -> bytearray | None:
        """Take ``buf`` (its first ``length`` bytes were just written at ``offset``) when that chunk extends the
        written prefix; returns the spare buffer to go on with, or None (keep ``buf``; it will be read back)."""
        with self.progress.cond:
            if not self._spares or offset != self.progress.prefix():
                return None
            self._offers[offset] = (length, buf)
            return self._spares.pop()

    def run(self) -> None:
        block = bytearray(_HASH_BLOCK)
        view = memoryview(block)
        progress = self.progress
        try:
            while True:
                with progress.cond:
                    while (target := progress.prefix()) <= self.position and not progress.finished:
                        progress.cond.wait(0.5)
                    if target <= self.position and progress.finished:
                        return
                while self.position < target:
                    with progress.cond:
                        offered = self._offers.pop(self.position, None)
                        later = min((o for o in self._offers if o > self.position), default=target)
                    if offered is not None:
                        length, buf = offered
                        self._digest.update(memoryview(buf)[:length])
                        self.position += length
                        self.from_memory += length
                        with progress.cond:
                            self._spares.append(buf)
                        continue
                    want = min(_HASH_BLOCK, min(later, target) - self.position)
                    n = pread_into(self.fd, view[:want], self.position)
                    if n <= 0:
                        raise OSError(f"short read at {self.position} while hashing")
                    self._digest.update(view[:n])
                    self.position += n
                with progress.cond:  # chunks the disk reads went past: their buffers are free again
                    for offset in [o for o in self._offers if o < self.position]:
                        self._spares.append(self._offers.pop(offset)[1])
        except BaseException as exc:  # reported by result(); the thread must not die silently
            self._error = exc

    def result(self) -> tuple[int, str]:
        """(bytes hashed, hex digest); call after the download stopped and ``join()``."""
        if self._error is not None:
            raise self._error
        return self.position, self._digest.hexdigest()
