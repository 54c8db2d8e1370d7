"""The one place rigfit opens HTTP connections.

Standard library only (``http.client``): on the 2-core test machine it reads a loopback stream at more than
1 GB/s into a reused buffer, faster than httpx (≈ 0.2 GB/s, ``shared/reference/ecosystem.md`` §3.3), and it
adds no dependency. Each worker thread keeps its own keep-alive connections per host. Redirects are followed
here, and only to URLs the plan rules allow (``https://``, or ``http://`` to loopback). The Hugging Face token
is attached only to Hugging Face hosts (and the ``HF_ENDPOINT`` mirror), never to a host a redirect leads to.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urljoin

from rigfit import __version__
from rigfit.core.download_plan import is_hf_host
from rigfit.core.errors import DownloadError
from rigfit.core.plan import split_url, url_problem

USER_AGENT = f"rigfit/{__version__}"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
_DRAIN_LIMIT = 64 * 1024  # a redirect body longer than this is not worth reading to keep the connection


class TransientError(Exception):
    """A failure worth retrying: reset, timeout/stall, truncated body, 429/5xx."""

    def __init__(self, message: str, *, retry_after: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


# Network exceptions that mean "the connection broke", not "the request is wrong".
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,  # reset, refused, aborted, broken pipe
    TimeoutError,  # socket.timeout: no byte within the stall timeout
    http.client.IncompleteRead,
    http.client.RemoteDisconnected,
    http.client.BadStatusLine,
    http.client.LineTooLong,
    ssl.SSLError,
    socket.gaierror,
)


def is_transient(exc: BaseException) -> bool:
    """Whether a network exception is worth a retry (every one that is not a programming error)."""
    return isinstance(exc, (TransientError, *NETWORK_ERRORS)) or (
        isinstance(exc, OSError) and not isinstance(exc, DownloadError) and exc.errno is None
    )


@dataclass
class Hop:
    url: str
    status: int
    headers: Message


@dataclass
class Response:
    """An answer whose body is still to be read (``readinto``); ``release`` when done with it."""

    url: str  # after redirects
    status: int
    headers: Message
    hops: list[Hop] = field(default_factory=list)
    _raw: http.client.HTTPResponse | None = None
    _key: tuple[str, str, int] | None = None
    _client: Client | None = None
    _conn: http.client.HTTPConnection | None = None

    def header(self, name: str, *, any_hop: bool = False) -> str | None:
        """A response header; with ``any_hop`` also one sent on a redirect on the way (Hugging Face puts
        ``X-Linked-Etag``/``X-Linked-Size`` on its 302, not on the CDN's answer)."""
        value = self.headers.get(name)
        if value is None and any_hop:
            for hop in self.hops:
                if (value := hop.headers.get(name)) is not None:
                    break
        return value

    def readinto(self, buffer: memoryview) -> int:
        assert self._raw is not None
        return self._raw.readinto(buffer)

    def abort(self) -> None:
        """Close the connection without reading the rest of the body."""
        raw, self._raw = self._raw, None
        conn, self._conn = self._conn, None
        if raw is not None:
            raw.close()
        if conn is not None:
            conn.close()

    def release(self) -> None:
        """Return the connection for reuse when the body was read to the end; otherwise close it."""
        raw, self._raw = self._raw, None
        conn, self._conn = self._conn, None
        if raw is None or conn is None:
            return
        if raw.isclosed() and not raw.will_close and self._client is not None and self._key is not None:
            self._client._put(self._key, conn)
        else:
            raw.close()
            conn.close()


class Client:
    """HTTP GETs with keep-alive per thread, redirects, a stall timeout and the token rule."""

    def __init__(self, *, timeout: float = 60.0, token: str | None = None, hf_endpoint: str | None = None) -> None:
        self.timeout = timeout
        self.token = token
        self.hf_endpoint = hf_endpoint
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._ssl = ssl.create_default_context()

    # ---- connection pool (shared by the worker threads) -----------------------------------------------
    def _get(self, key: tuple[str, str, int]) -> tuple[http.client.HTTPConnection, bool]:
        """An idle kept-alive connection to ``key`` (reused=True), or a new one."""
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop(), True
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._ssl), False
        return http.client.HTTPConnection(host, port, timeout=self.timeout), False

    def _put(self, key: tuple[str, str, int], conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(key, []).append(conn)

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()

    # ---- requests --------------------------------------------------------------------------------------
    def headers_for(self, url: str) -> dict[str, str]:
        parts = split_url(url)
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if self.token and parts is not None and is_hf_host(parts.host, endpoint=self.hf_endpoint):
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        """GET ``url`` following redirects; the answer of the last hop (any status) with its body unread."""
        hops: list[Hop] = []
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            problem = url_problem(current)
            if problem is not None:
                raise DownloadError(f"refusing to download {url}: redirected to a disallowed URL ({problem})",
                                    url=url)
            resp = self._send(current, {**self.headers_for(current), **(headers or {})})
            if resp.status in REDIRECTS and resp.headers.get("Location"):
                location = urljoin(current, resp.headers["Location"])
                self._drain(resp)
                hops.append(Hop(current, resp.status, resp.headers))
                current = location
                continue
            resp.hops = hops
            return resp
        raise DownloadError(f"too many redirects (more than {MAX_REDIRECTS}) for {url}", url=url)

    def _send(self, url: str, headers: dict[str, str]) -> Response:
        parts = split_url(url)
        assert parts is not None
        key = (parts.scheme, parts.host, parts.port or (443 if parts.scheme == "https" else 80))
        for _ in range(8):
            conn, reused = self._get(key)
            try:
                conn.request("GET", parts.target, headers=headers)
                raw = conn.getresponse()
            except OSError as exc:  # NETWORK_ERRORS are OSErrors, or http.client.HTTPException below
                conn.close()
                # A kept-alive connection the server closed while idle: try again on another one.
                if reused:
                    continue
                raise TransientError(f"connection to {parts.host} failed: {exc!r}") from exc
            except http.client.HTTPException as exc:
                conn.close()
                if reused:
                    continue
                raise TransientError(f"bad answer from {parts.host}: {exc!r}") from exc
            return Response(url, raw.status, raw.headers, _raw=raw, _key=key, _client=self, _conn=conn)
        raise TransientError(f"every kept-alive connection to {parts.host} was closed by the server")

    def _drain(self, resp: Response) -> None:
        length = resp.headers.get("Content-Length")
        raw = resp._raw
        if raw is not None and length is not None and length.isdigit() and int(length) <= _DRAIN_LIMIT:
            with contextlib.suppress(*NETWORK_ERRORS):
                raw.read()
        resp.release()
