"""One file: resume or start, the first request, the in-order hash, verification and publishing.

The connections themselves (workers, piece requests, retries) are ``rigfit.shell.transfer``.

The first request asks for the first piece still missing; its answer tells the size (``Content-Range``),
the validator (``ETag``, sent back as ``If-Range`` on every later request so a file that changed on the
server is never stitched together from two versions) and, behind Hugging Face's redirect, the published
hash (``X-Linked-Etag``). A server that answers 200 to a Range request is read as one stream from the
start. Nothing appears under the final name before its size and hash are checked.
"""

from __future__ import annotations

import os
import threading
import time

from rigfit.core.download_plan import (
    Journal,
    JournalState,
    Piece,
    journal_state,
    plan_pieces,
)
from rigfit.core.errors import DownloadError
from rigfit.core.range_reply import (
    FirstAsk,
    Go,
    Stop,
    read_first_reply,
    strong_etag,
)
from rigfit.shell.http import Client, Response, is_transient
from rigfit.shell.partfile import (
    PartLock,
    PrefixHasher,
    Progress,
    discard,
    fsync_dir,
    part_path,
    read_journal,
    write_journal,
)
from rigfit.shell.transfer import Emit, Fetched, FetchSpec, Restart, Transfer, Tuning

MAX_ROUNDS = 3  # starts from zero after the server's file changed, before giving up

__all__ = ["FetchSpec", "Fetched", "FileFetch", "Tuning"]


class FileFetch(Transfer):
    def __init__(self, spec: FetchSpec, client: Client, tuning: Tuning, emit: Emit, cancel: threading.Event) -> None:
        super().__init__(spec, client, tuning, emit, cancel)
        self.progress: Progress | None = None
        self.resumed = 0
        self.total: int | None = spec.size

    # ---- rounds -------------------------------------------------------------------------------------
    def run(self) -> Fetched:
        try:
            with PartLock(self.spec.dest):
                return self._rounds()
        except BlockingIOError as exc:
            raise DownloadError(f"{self.spec.label} is being downloaded by another rigfit process right now "
                                f"({exc}); wait for it to finish and run this again", url=self.spec.url) from exc
        except DownloadError:
            raise
        except OSError as exc:  # the part file, its journal or the rename: a local disk problem
            raise self._write_error(exc) from exc

    def _rounds(self) -> Fetched:
        mismatch_retried = False
        for _ in range(MAX_ROUNDS):
            try:
                return self._round()
            except Restart as exc:
                discard(self.spec.dest)
                if exc.damaged:
                    if mismatch_retried:
                        break
                    mismatch_retried = True
                self.emit("restart", str(exc))
        raise DownloadError(
            f"{self.spec.label}: the file on the server kept changing during the download ({self.spec.url}); "
            f"try again later", url=self.spec.url)

    def _round(self) -> Fetched:
        spec = self.spec
        part = part_path(spec.dest)
        journal = read_journal(spec.dest)
        pieces: tuple[Piece, ...] | None = None
        etag: str | None = None
        self.resumed = 0
        state = journal_state(journal, url=spec.url, size=spec.size, sha256=spec.sha256)
        if state is JournalState.RESUME and journal is not None and part.exists() and part.stat().st_size == journal.size:
            pieces, etag, self.resumed = journal.pieces, journal.etag, journal.done_bytes
        elif journal is not None or part.exists():
            discard(spec.dest)
        self.progress = Progress(pieces) if pieces else None
        resp, go = self._probe(pieces, etag, journal)
        if go.drop_resumed:
            self.resumed = 0
            discard(spec.dest)
            self.emit("restart", "the server did not resume (it changed the file or ignores ranges); starting over")
        pieces, etag, expected, single, index = go.pieces, go.etag, go.expected_sha, go.single, go.index
        self.total = pieces[-1].end if pieces else 0
        spec.dest.parent.mkdir(parents=True, exist_ok=True)
        fresh = self.resumed == 0
        fd = os.open(part, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        try:
            if fresh:
                os.ftruncate(fd, self.total)
            progress = self.progress = Progress(pieces)
            base = Journal(spec.url, self.total, etag, expected, pieces)
            self._checkpoint(fd, progress, base)
            hasher = self.hasher = PrefixHasher(fd, progress, buffer_size=self.tuning.buffer)
            hasher.start()
            if index is not None:
                progress.taken[index] = True
            workers = 1 if single else max(1, min(self.tuning.segments, sum(not p.complete for p in pieces)))
            threads = [threading.Thread(target=self._work, args=(fd, progress, etag, resp, index), daemon=True,
                                        name=f"rigfit-get-{spec.label}")]
            threads += [threading.Thread(target=self._work, args=(fd, progress, etag, None, None), daemon=True)
                        for _ in range(workers - 1)]
            for t in threads:
                t.start()
            last = time.monotonic()
            while alive := [t for t in threads if t.is_alive()]:
                alive[0].join(max(0.0, last + self.tuning.checkpoint_s - time.monotonic()))
                if time.monotonic() - last >= self.tuning.checkpoint_s:
                    self._checkpoint(fd, progress, base)
                    last = time.monotonic()
            failed = progress.failed
            if failed is None and self.cancel.is_set():
                failed = DownloadError(f"{spec.label}: cancelled")
            progress.stop()
            hasher.join()
            if failed is not None:
                self._checkpoint(fd, progress, base)
                raise failed
            self.emit("verifying", "")
            hashed, digest = hasher.result()
            return self._publish(fd, hashed, digest, expected)
        finally:
            os.close(fd)

    # ---- first request ----------------------------------------------------------------------------
    def _first_ask(self, pieces: tuple[Piece, ...] | None, etag: str | None, journal: Journal | None) -> FirstAsk:
        spec, tuning = self.spec, self.tuning
        if pieces:
            piece = next(p for p in pieces if not p.complete)
            start, end = piece.start + piece.done, piece.end
        elif spec.size is not None:
            start, end = 0, plan_pieces(spec.size, segments=tuning.segments, max_piece=tuning.max_piece,
                                        min_piece=tuning.min_piece)[0].end
        else:
            start, end = 0, tuning.min_piece  # a probe: its Content-Range tells the size
        return FirstAsk(start, end, pieces, etag, journal.sha256 if journal else None, spec.size, spec.sha256,
                        tuning.segments, tuning.max_piece, tuning.min_piece)

    def _probe(self, pieces: tuple[Piece, ...] | None, etag: str | None,
               journal: Journal | None) -> tuple[Response | None, Go]:
        """The first answer (its body unread) and what it means; retried while the failures are transient."""
        if pieces and all(p.complete for p in pieces):  # killed after the last byte, before publishing
            return None, Go(pieces, None, etag, self.spec.sha256 or (journal.sha256 if journal else None), False,
                            False)
        failures = 0
        while True:
            ask = self._first_ask(pieces, etag, journal)
            headers = {"Range": f"bytes={ask.start}-{max(ask.start, ask.end - 1)}"}
            if pieces and strong_etag(etag):
                headers["If-Range"] = str(etag)
            try:
                resp = self.client.get(self.spec.url, headers)
                if resp.status not in (200, 206, 416):
                    raise self._status(resp)
                decision = read_first_reply(ask, self._reply(resp), label=self.spec.label, url=self.spec.url)
                if isinstance(decision, Stop):
                    raise self._stop(decision, resp)
                if decision.index is None:
                    resp.release()
                    return None, decision
                return resp, decision
            except Restart:
                raise
            except BaseException as exc:
                if not is_transient(exc):
                    raise
                failures += 1
                self._backoff(failures, exc)

    # ---- journal and publish -------------------------------------------------------------------------
    def _checkpoint(self, fd: int, progress: Progress, base: Journal) -> None:
        """Flush the data first, then record it: the journal never claims bytes that are not on disk."""
        pieces = progress.snapshot()
        try:
            (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(fd)
            write_journal(self.spec.dest, Journal(base.url, base.size, base.etag, base.sha256, pieces))
        except OSError:
            pass  # a full disk: the previous journal stays valid (it claims less)

    def _publish(self, fd: int, hashed: int, digest: str, expected: str | None) -> Fetched:
        spec = self.spec
        total = self.total or 0
        size = os.fstat(fd).st_size
        if hashed != total or size != total:
            discard(spec.dest)
            raise DownloadError(f"{spec.label}: {size} bytes on disk, {hashed} hashed, {total} expected; deleted")
        if expected is not None and digest != expected:
            if self.resumed:
                raise Restart("the hash did not match after resuming (the partial data was damaged); starting over",
                               damaged=True)
            discard(spec.dest)
            raise DownloadError(
                f"{spec.label}: sha256 mismatch (expected {expected}, got {digest}, {total} bytes from {spec.url}); "
                f"the data was deleted. The plan's hash or the server's file is wrong", url=spec.url)
        os.fsync(fd)
        part_path(spec.dest).replace(spec.dest)
        fsync_dir(spec.dest.parent)
        discard(spec.dest)
        verified_by = "sha256" if spec.sha256 else ("sha256-server" if expected else "size")
        return Fetched(spec.dest, total, digest, verified_by, self.resumed, total - self.resumed)


