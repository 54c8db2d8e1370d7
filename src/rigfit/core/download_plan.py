"""Pure decisions of the downloader: pieces, disk space, retries, Hugging Face URLs and tokens.

Numbers and their sources: ``shared/reference/ecosystem.md`` §3.2 and §3.4 (about 40–60 MB/s per connection
from the Hugging Face CDN; 4–8 connections saturate 1–2.5 Gbit; more than ~8 per host risks throttling;
16–64 MiB pieces; retry ×5 with exponential backoff; honour ``Retry-After``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from rigfit.core.plan import split_url, url_problem
from rigfit.core.units import MIB, format_bytes

DEFAULT_SEGMENTS = 4  # connections per large file
DEFAULT_JOBS = 2  # files at once: 2 × 4 = 8 connections, the most a single CDN host should see from us
MAX_PIECE = 64 * MIB  # a piece is the unit of work, retry and resume
MIN_PIECE = 8 * MIB  # below this, another connection costs more than it brings


@dataclass(frozen=True, slots=True)
class Piece:
    """Bytes ``[start, end)`` of a file, of which the first ``done`` are on disk."""

    start: int
    end: int
    done: int = 0

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def complete(self) -> bool:
        return self.done >= self.size


def plan_pieces(size: int, *, segments: int, max_piece: int = MAX_PIECE, min_piece: int = MIN_PIECE) -> tuple[Piece, ...]:
    """Split ``size`` bytes into contiguous pieces: ``segments`` of them (one per connection) unless that
    would make them smaller than ``min_piece``; when they would be larger than ``max_piece``, a multiple of
    ``segments`` (a retry or a resume loses little, and a fast connection takes more pieces than a slow one)."""
    if size <= 0:
        return (Piece(0, 0),)
    segments = max(1, segments)
    by_min = max(1, size // max(1, min_piece))
    count = min(segments, by_min)
    if -(-size // count) > max_piece:
        # A multiple of the connection count, so that with equal speeds no connection idles at the end.
        count = -(-size // (max_piece * segments)) * segments
    base, extra = divmod(size, count)
    pieces: list[Piece] = []
    start = 0
    for i in range(count):
        end = start + base + (1 if i < extra else 0)
        pieces.append(Piece(start, end))
        start = end
    return tuple(pieces)


def contiguous_prefix(pieces: tuple[Piece, ...]) -> int:
    """How many bytes from offset 0 are on disk without a gap (what an in-order hasher may read)."""
    for piece in sorted(pieces, key=lambda p: p.start):
        if not piece.complete:
            return piece.start + piece.done
    return max((p.end for p in pieces), default=0)


class JournalState(Enum):
    """What a journal found next to partial data means for the download."""

    RESUME = "resume"  # same URL, size, validator and expected hash: keep the done bytes
    RESTART = "restart"  # something changed (or the journal is unreadable): start from zero
    FRESH = "fresh"  # no journal: start from zero


@dataclass(frozen=True, slots=True)
class Journal:
    """The resume record written next to ``<final>.rigfit-part`` as ``<final>.rigfit-journal``."""

    url: str
    size: int
    etag: str | None
    sha256: str | None
    pieces: tuple[Piece, ...]

    @property
    def done_bytes(self) -> int:
        return sum(min(p.done, p.size) for p in self.pieces)


JOURNAL_SCHEMA = "rigfit.journal/1"


def journal_to_json(journal: Journal) -> dict[str, object]:
    return {
        "schema": JOURNAL_SCHEMA,
        "url": journal.url,
        "size": journal.size,
        "etag": journal.etag,
        "sha256": journal.sha256,
        "pieces": [[p.start, p.end, p.done] for p in journal.pieces],
    }


def journal_from_json(doc: object) -> Journal | None:
    """The journal in ``doc``, or None when it is not a consistent one (then the download restarts)."""
    if not isinstance(doc, dict) or doc.get("schema") != JOURNAL_SCHEMA:
        return None
    url, size, etag, sha, raw = (doc.get(k) for k in ("url", "size", "etag", "sha256", "pieces"))
    if not isinstance(url, str) or not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None
    if (etag is not None and not isinstance(etag, str)) or (sha is not None and not isinstance(sha, str)):
        return None
    if not isinstance(raw, list):
        return None
    pieces: list[Piece] = []
    expected_start = 0
    for item in raw:
        if (
            not isinstance(item, list)
            or len(item) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in item)
        ):
            return None
        start, end, done = item
        if start != expected_start or end < start or not 0 <= done <= end - start:
            return None
        pieces.append(Piece(start, end, done))
        expected_start = end
    if expected_start != size or not pieces:
        return None
    return Journal(url, size, etag, sha, tuple(pieces))


def journal_state(journal: Journal | None, *, url: str, size: int | None, sha256: str | None) -> JournalState:
    """Resume only when the journal describes the same download (URL, size and expected hash)."""
    if journal is None:
        return JournalState.FRESH
    if journal.url != url or (size is not None and journal.size != size):
        return JournalState.RESTART
    if sha256 is not None and journal.sha256 is not None and journal.sha256 != sha256:
        return JournalState.RESTART
    return JournalState.RESUME


# ---- disk space -------------------------------------------------------------------------------------------


def space_margin(remaining: int) -> int:
    """Head-room kept free beyond the downloads: 2 % or 100 MB, whichever is larger (journals, the OS)."""
    return max(remaining // 50, 100_000_000) if remaining else 0


def space_problem(*, remaining: int, free: int, target: str, unknown_files: int = 0) -> str | None:
    """Why the remaining bytes of the whole bundle do not fit in ``free`` bytes at ``target``; None if they do."""
    margin = space_margin(remaining)
    if remaining + margin <= free:
        return None
    short = remaining + margin - free
    unknown = f" (plus {unknown_files} file(s) of unknown size)" if unknown_files else ""
    return (
        f"not enough free space at {target}: the remaining downloads need {format_bytes(remaining)}{unknown} "
        f"plus {format_bytes(margin)} head-room, but only {format_bytes(free)} is free "
        f"({format_bytes(short)} short). Free up {format_bytes(short)}, put the model store on a larger drive "
        f"with --models-dir DIR, or choose fewer presets or a smaller quantization (--quant)."
    )


# ---- retries ----------------------------------------------------------------------------------------------


class Outcome(Enum):
    RETRY = "retry"  # transient: wait and try again
    FAIL = "fail"  # permanent: stop now
    AUTH = "auth"  # 401/403: credentials or licence


def classify_status(status: int) -> Outcome:
    """429, 408 and 5xx are transient; 401/403 need credentials; every other 4xx is final."""
    if status in {401, 403}:
        return Outcome.AUTH
    if status in {408, 429} or 500 <= status <= 599:
        return Outcome.RETRY
    return Outcome.FAIL


_HTTP_DATE = re.compile(r"^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _epoch(year: int, month: int, day: int, hh: int, mm: int, ss: int) -> int:
    """Seconds since 1970 for a UTC date (days-from-civil; email.utils would pull socket into the core)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146097 + doe - 719468) * 86400 + hh * 3600 + mm * 60 + ss


def parse_retry_after(value: str | None, *, now_epoch: float) -> float | None:
    """``Retry-After`` as seconds to wait (delta-seconds or an IMF-fixdate), or None when absent or malformed."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    match = _HTTP_DATE.match(value)
    if not match or match.group(2).lower() not in _MONTHS:
        return None
    day, year, hh, mm, ss = (int(match.group(i)) for i in (1, 3, 4, 5, 6))
    when = _epoch(year, _MONTHS.index(match.group(2).lower()) + 1, day, hh, mm, ss)
    return max(0.0, when - now_epoch)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 6  # tries per piece, the first included
    base_s: float = 1.0
    cap_s: float = 30.0
    retry_after_cap_s: float = 300.0  # a server asking for longer than this is treated as down


def retry_delay(policy: RetryPolicy, attempt: int, *, retry_after: float | None = None, jitter: float = 0.5) -> float | None:
    """Seconds to wait before try ``attempt + 1`` (``attempt`` counts from 1), or None to give up.

    Exponential (base × 2^(attempt-1)), capped, scaled by ``jitter`` in [0, 1) → [0.75, 1.25) so that
    parallel connections do not retry in lock-step; a server's ``Retry-After`` wins when it is longer.
    """
    if attempt >= policy.attempts:
        return None
    delay = min(policy.cap_s, policy.base_s * 2.0 ** (attempt - 1)) * (0.75 + 0.5 * min(max(jitter, 0.0), 1.0))
    if retry_after is not None:
        if retry_after > policy.retry_after_cap_s:
            return None
        delay = max(delay, retry_after)
    return delay


# ---- Hugging Face ----------------------------------------------------------------------------------------

HF_HOSTS = ("huggingface.co", "hf.co")


def is_hf_host(host: str, *, endpoint: str | None = None) -> bool:
    """Hugging Face's own hosts (and their subdomains, e.g. the CDN), or the host of ``HF_ENDPOINT``."""
    host = host.lower().rstrip(".")
    if any(host == h or host.endswith("." + h) for h in HF_HOSTS):
        return True
    if endpoint:
        parts = split_url(endpoint)
        return parts is not None and parts.host == host
    return False


def endpoint_problem(endpoint: str) -> str | None:
    problem = url_problem(endpoint)
    return f"HF_ENDPOINT: {problem}" if problem else None


def rewrite_for_endpoint(url: str, endpoint: str | None) -> str:
    """Point a ``huggingface.co`` URL at the mirror in ``HF_ENDPOINT`` (path kept; other URLs unchanged)."""
    if not endpoint:
        return url
    parts = split_url(url)
    if parts is None or parts.host not in HF_HOSTS:
        return url
    return endpoint.rstrip("/") + parts.target


_HF_REPO_PATH = re.compile(r"^/(?:(?P<kind>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/(?:resolve|blob|raw)/")


def hf_model_page(url: str) -> str | None:
    """``https://huggingface.co/org/repo`` for a resolve URL (the page where a licence is accepted)."""
    parts = split_url(url)
    if parts is None:
        return None
    match = _HF_REPO_PATH.match(parts.target)
    if not match:
        return None
    kind = f"{match.group('kind')}/" if match.group("kind") else ""
    return f"https://huggingface.co/{kind}{match.group('repo')}"


def hf_auth_message(url: str, status: int, *, token_set: bool) -> str:
    """What to do when Hugging Face answers 401/403: accept the licence, set ``HF_TOKEN``."""
    page = hf_model_page(url) or "the model's page on https://huggingface.co"
    if token_set:
        return (
            f"Hugging Face refused {url} (HTTP {status}) although HF_TOKEN is set: open {page}, log in with the "
            f"account the token belongs to and accept the licence there, and check that the token is valid and "
            f"has read access (https://huggingface.co/settings/tokens)."
        )
    return (
        f"Hugging Face refused {url} (HTTP {status}): the model is gated. Open {page}, log in and accept its "
        f"licence; then create a read token at https://huggingface.co/settings/tokens and set HF_TOKEN=<token> "
        f"in the environment before running rigfit again."
    )


_SHA256 = re.compile(r'^(?:W/)?"?([0-9a-f]{64})"?$')


def sha256_from_linked_etag(value: str | None) -> str | None:
    """Hugging Face's ``X-Linked-Etag`` is the LFS object's sha256 (quoted); anything else is not a hash."""
    if not value:
        return None
    match = _SHA256.match(value.strip().lower())
    return match.group(1) if match else None


_CONTENT_RANGE = re.compile(r"^bytes\s+(\d+)-(\d+)/(\d+|\*)$")


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes 0-99/1000`` → ``(0, 100, 1000)`` (end exclusive); None when malformed."""
    if not value:
        return None
    match = _CONTENT_RANGE.match(value.strip())
    if not match:
        return None
    start, last = int(match.group(1)), int(match.group(2))
    total = None if match.group(3) == "*" else int(match.group(3))
    if last < start or (total is not None and last >= total):
        return None
    return start, last + 1, total
