"""One file: probe, pieces over several connections, retries, resume, in-order hash, verify, publish.

The first request asks for the first piece still missing; its answer tells the size (``Content-Range``),
the validator (``ETag``, sent back as ``If-Range`` on every later request so a file that changed on the
server is never stitched together from two versions) and, behind Hugging Face's redirect, the published
hash (``X-Linked-Etag``). A server that answers 200 to a Range request is read as one stream from the
start. Nothing appears under the final name before its size and hash are checked.
"""

from __future__ import annotations

import errno
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rigfit.core.download_plan import (
    MAX_PIECE,
    MIN_PIECE,
    Journal,
    JournalState,
    Piece,
    RetryPolicy,
    is_hf_host,
    journal_state,
    parse_retry_after,
    plan_pieces,
    retry_delay,
)
from rigfit.core.errors import DownloadError
from rigfit.core.plan import split_url
from rigfit.core.range_reply import (
    FirstAsk,
    Go,
    Problem,
    Reply,
    Stop,
    read_first_reply,
    read_piece_reply,
    status_stop,
    strong_etag,
)
from rigfit.core.units import MIB, format_bytes
from rigfit.shell.http import NETWORK_ERRORS, Client, Response, TransientError, is_transient
from rigfit.shell.partfile import (
    PartLock,
    PrefixHasher,
    Progress,
    discard,
    fsync_dir,
    part_path,
    pwrite_all,
    read_journal,
    write_journal,
)

MAX_ROUNDS = 3  # starts from zero after the server's file changed, before giving up


@dataclass(frozen=True, slots=True)
class FetchSpec:
    url: str  # the URL to fetch (HF_ENDPOINT already applied)
    dest: Path  # the final path; partial data sits next to it
    size: int | None
    sha256: str | None
    label: str  # what messages and progress call it (folder/filename)
    origin_url: str = ""  # the plan's URL, for messages (model page of a gated repo)


@dataclass(frozen=True, slots=True)
class Fetched:
    path: Path
    size: int
    sha256: str
    verified_by: str  # "sha256" (the plan's), "sha256-server" (X-Linked-Etag) or "size"
    resumed_bytes: int
    fetched_bytes: int


@dataclass(frozen=True, slots=True)
class Tuning:
    segments: int = 4
    max_piece: int = MAX_PIECE
    min_piece: int = MIN_PIECE
    buffer: int = 1 * MIB
    checkpoint_s: float = 1.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class _Restart(Exception):
    """The server's file is not the one the partial data came from: start over from zero."""

    def __init__(self, message: str, *, damaged: bool = False) -> None:
        super().__init__(message)
        self.damaged = damaged  # the resumed data itself was bad (a hash mismatch after resuming)


Emit = Callable[[str, str], None]  # (kind, message)


class FileFetch:
    def __init__(self, spec: FetchSpec, client: Client, tuning: Tuning, emit: Emit, cancel: threading.Event) -> None:
        self.spec = spec
        self.client = client
        self.tuning = tuning
        self.emit = emit
        self.cancel = cancel
        self.progress: Progress | None = None
        self.hasher: PrefixHasher | None = None
        self.resumed = 0
        self.total: int | None = spec.size
        self._rng = random.Random()

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
            except _Restart as exc:
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
            except _Restart:
                raise
            except BaseException as exc:
                if not is_transient(exc):
                    raise
                failures += 1
                self._backoff(failures, exc)

    @staticmethod
    def _reply(resp: Response) -> Reply:
        return Reply(resp.status, resp.header("Content-Range"), resp.header("Content-Length"), resp.header("ETag"),
                     resp.header("X-Linked-Etag", any_hop=True), resp.header("X-Linked-Size", any_hop=True))

    def _stop(self, stop: Stop, resp: Response) -> BaseException:
        resp.release()
        if stop.problem is Problem.RETRY:
            return TransientError(stop.message, retry_after=resp.header("Retry-After"), status=resp.status)
        if stop.problem is Problem.RESTART:
            return _Restart(stop.message)
        return DownloadError(stop.message, url=self.spec.url)

    def _status(self, resp: Response) -> BaseException:
        parts = split_url(self.spec.url)
        hf = parts is not None and is_hf_host(parts.host, endpoint=self.client.hf_endpoint)
        stop = status_stop(resp.status, label=self.spec.label, url=self.spec.url,
                           origin_url=self.spec.origin_url or self.spec.url, hf=hf, token_set=bool(self.client.token))
        return self._stop(stop, resp)

    # ---- workers --------------------------------------------------------------------------------------
    def _backoff(self, failures: int, exc: BaseException) -> None:
        after = parse_retry_after(getattr(exc, "retry_after", None), now_epoch=time.time())
        delay = retry_delay(self.tuning.retry, failures, retry_after=after, jitter=self._rng.random())
        if delay is None:
            raise DownloadError(f"{self.spec.label}: giving up after {failures} failed tries: {exc}", url=self.spec.url)
        self.emit("retry", f"{exc} — retrying in {delay:.1f} s (try {failures + 1} of {self.tuning.retry.attempts})")
        if self.cancel.wait(delay):
            raise DownloadError(f"{self.spec.label}: cancelled")

    def _work(self, fd: int, progress: Progress, etag: str | None, resp: Response | None, index: int | None) -> None:
        buf = [bytearray(self.tuning.buffer)]  # the worker's current buffer; swapped when handed to the hasher
        try:
            while not progress.finished and not self.cancel.is_set():
                if index is None:
                    index = progress.take()
                    if index is None:
                        return
                self._piece(fd, progress, index, etag, resp, buf)
                resp, index = None, None
        except BaseException as exc:
            progress.stop(exc)
        finally:
            if resp is not None:
                resp.release()

    def _piece(self, fd: int, progress: Progress, index: int, etag: str | None, resp: Response | None,
               buf: list[bytearray]) -> None:
        failures = 0
        while progress.done[index] < progress.ends[index] - progress.starts[index]:
            if progress.finished or self.cancel.is_set():
                return
            before = progress.done[index]
            try:
                if resp is None:
                    resp = self._request_piece(progress, index, etag)
                self._read_body(fd, progress, index, resp, buf)
                resp.release()
                resp = None
            except BaseException as exc:
                if resp is not None:
                    resp.abort()
                    resp = None
                if not is_transient(exc):
                    raise
                failures = failures + 1 if progress.done[index] == before else 1
                self._backoff(failures, exc)

    def _request_piece(self, progress: Progress, index: int, etag: str | None) -> Response:
        start = progress.starts[index] + progress.done[index]
        end = progress.ends[index]
        headers = {"Range": f"bytes={start}-{end - 1}"}
        if etag:
            headers["If-Range"] = etag
        resp = self.client.get(self.spec.url, headers)
        if resp.status not in (200, 206):
            raise self._status(resp)
        stop = read_piece_reply(self._reply(resp), start=start, end=end, total=progress.total, etag=etag)
        if stop is not None:
            raise self._stop(stop, resp)
        return resp

    def _read_body(self, fd: int, progress: Progress, index: int, resp: Response, slot: list[bytearray]) -> None:
        pos = progress.starts[index] + progress.done[index]
        end = progress.ends[index]
        hasher = self.hasher
        buf = memoryview(slot[0])
        size = len(buf)
        while pos < end:
            if progress.finished or self.cancel.is_set():
                raise TransientError("stopped")
            want = min(size, end - pos)
            n = resp.readinto(buf[:want])
            if not n:
                raise TransientError(f"connection closed after {format_bytes(pos)} of {format_bytes(end)}")
            try:
                pwrite_all(fd, buf[:n], pos)
            except OSError as exc:
                raise self._write_error(exc) from exc
            if hasher is not None and (spare := hasher.offer(pos, n, slot[0])) is not None:
                buf.release()
                slot[0] = spare
                buf = memoryview(spare)
            pos += n
            progress.advance(index, n)
        # A whole-file answer that goes on past the expected size (no Content-Length, e.g. chunked): cut off
        # and failed; the extra bytes are never written.
        if resp.status == 200 and resp.readinto(buf[:1]):
            raise DownloadError(f"{self.spec.label}: the server sent more than the expected {end} bytes; "
                                f"cut off and rejected", url=self.spec.url)

    def _write_error(self, exc: OSError) -> DownloadError:
        where = self.spec.dest.parent
        if exc.errno in {errno.ENOSPC, getattr(errno, "EDQUOT", -1)}:
            return DownloadError(
                f"the disk is full at {where} while writing {self.spec.label}: files already verified are kept, and "
                f"this one resumes where it stopped. Free some space (or use --models-dir on another drive) and "
                f"run the same command again", path=str(where))
        return DownloadError(f"cannot write {self.spec.label} to {where}: {exc.strerror or exc}", path=str(where))

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
                raise _Restart("the hash did not match after resuming (the partial data was damaged); starting over",
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


__all__ = ["NETWORK_ERRORS", "FetchSpec", "Fetched", "FileFetch", "Tuning"]
