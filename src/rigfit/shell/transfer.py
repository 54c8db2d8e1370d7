"""Moving bytes for one file: the worker threads, one HTTP request per piece, retries, writing at offsets.

``FileFetch`` (``rigfit.shell.fetch``) decides what to fetch and publishes the result; the ``Transfer`` part
here runs the connections. Each worker takes the next free piece in file order, asks for exactly its missing
bytes (``If-Range`` with the file's ETag), checks that the answer is exactly that range, writes with
``pwrite`` at the piece's offset and hands chunks that extend the written prefix to the hasher. A transient
failure (reset, stall, truncated body, 429/5xx) keeps the bytes already written and retries with bounded
exponential backoff; progress made between failures resets the count.
"""

from __future__ import annotations

import errno
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rigfit.core.download_plan import (
    MAX_PIECE,
    MIN_PIECE,
    RetryPolicy,
    is_hf_host,
    parse_retry_after,
    retry_delay,
)
from rigfit.core.errors import DownloadError
from rigfit.core.plan import split_url
from rigfit.core.range_reply import Problem, Reply, Stop, read_piece_reply, status_stop
from rigfit.core.units import MIB, format_bytes
from rigfit.shell.http import Client, Response, TransientError, is_transient
from rigfit.shell.partfile import PrefixHasher, Progress, pwrite_all


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
    # How often the journal is brought up to date (data flushed first). A crash re-downloads at most this
    # many seconds of data; every flush waits for write-back, which cost 5-10 % of loopback throughput at
    # 1 s (bench/README.md, Downloads runs E-G). aria2c saves its control file every 60 s by default.
    checkpoint_s: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class Restart(Exception):
    """The server's file is not the one the partial data came from: start over from zero."""

    def __init__(self, message: str, *, damaged: bool = False) -> None:
        super().__init__(message)
        self.damaged = damaged  # the resumed data itself was bad (a hash mismatch after resuming)


Emit = Callable[[str, str], None]  # (kind, message)


class Transfer:
    """The connection side of one file's download (see the module docstring)."""

    def __init__(self, spec: FetchSpec, client: Client, tuning: Tuning, emit: Emit, cancel: threading.Event) -> None:
        self.spec = spec
        self.client = client
        self.tuning = tuning
        self.emit = emit
        self.cancel = cancel
        self.hasher: PrefixHasher | None = None
        self._rng = random.Random()

    @staticmethod
    def _reply(resp: Response) -> Reply:
        return Reply(resp.status, resp.header("Content-Range"), resp.header("Content-Length"), resp.header("ETag"),
                     resp.header("X-Linked-Etag", any_hop=True), resp.header("X-Linked-Size", any_hop=True))

    def _stop(self, stop: Stop, resp: Response) -> BaseException:
        resp.release()
        if stop.problem is Problem.RETRY:
            return TransientError(stop.message, retry_after=resp.header("Retry-After"), status=resp.status)
        if stop.problem is Problem.RESTART:
            return Restart(stop.message)
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
                                f"the data was cut off and rejected", url=self.spec.url)

    def _write_error(self, exc: OSError) -> DownloadError:
        where = self.spec.dest.parent
        if exc.errno in {errno.ENOSPC, getattr(errno, "EDQUOT", -1)}:
            return DownloadError(
                f"the disk is full at {where} while writing {self.spec.label}: files already verified are kept, and "
                f"this one resumes where it stopped. Free some space (or use --models-dir on another drive) and "
                f"run the same command again", path=str(where))
        return DownloadError(f"cannot write {self.spec.label} to {where}: {exc.strerror or exc}", path=str(where))

