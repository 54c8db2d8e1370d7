"""What a server's answer to a Range request means for a download (pure; the shell only reads headers).

The first answer for a file decides everything: its size (``Content-Range``), its validator (``ETag``,
returned as ``If-Range`` later), whether the server honours ranges at all (a 200 means it does not, or that
the file changed), and the published hash behind a Hugging Face redirect (``X-Linked-Etag``). Later answers,
one per piece, must match the range asked exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rigfit.core.download_plan import (
    Outcome,
    Piece,
    classify_status,
    hf_auth_message,
    parse_content_range,
    plan_pieces,
    sha256_from_linked_etag,
)


@dataclass(frozen=True, slots=True)
class Reply:
    """The headers that matter, as received (``linked_*`` may come from a redirect on the way)."""

    status: int
    content_range: str | None = None
    content_length: str | None = None
    etag: str | None = None
    linked_etag: str | None = None
    linked_size: str | None = None


@dataclass(frozen=True, slots=True)
class FirstAsk:
    """What the first request asked for, and what was known before it."""

    start: int
    end: int  # exclusive
    resumed: tuple[Piece, ...] | None  # the journal's pieces when resuming
    etag: str | None  # the journal's validator
    journal_sha: str | None
    plan_size: int | None
    plan_sha: str | None
    segments: int
    max_piece: int
    min_piece: int


@dataclass(frozen=True, slots=True)
class Go:
    """Read the body of this answer into ``pieces[index]`` (no body when ``index`` is None)."""

    pieces: tuple[Piece, ...]
    index: int | None
    etag: str | None
    expected_sha: str | None
    single: bool  # one stream from the start: the server does not do ranges (for us, now)
    drop_resumed: bool  # the partial data on disk is not this file's: discard it first


class Problem(Enum):
    RETRY = "retry"  # transient: back off and ask again
    RESTART = "restart"  # the partial data belongs to another version: discard it and start over
    FAIL = "fail"  # permanent


@dataclass(frozen=True, slots=True)
class Stop:
    problem: Problem
    message: str


def strong_etag(etag: str | None) -> str | None:
    """Weak validators (``W/...``) may not be used with If-Range (RFC 9110 §13.1.5)."""
    return etag if etag and not etag.startswith("W/") else None


def _size_stop(total: int, known: int | None, label: str, url: str) -> Stop | None:
    if known is None or total == known:
        return None
    what = "larger" if total > known else "smaller"
    return Stop(Problem.FAIL, f"{label}: the server's file is {what} than expected ({total} bytes, the plan says "
                              f"{known}); nothing was kept. The plan is outdated or the URL points at another "
                              f"file: {url}")


def read_first_reply(ask: FirstAsk, reply: Reply, *, label: str, url: str) -> Go | Stop:
    """Decide what to do with the first answer of a file (any status but redirects)."""
    linked = sha256_from_linked_etag(reply.linked_etag)
    expected = ask.plan_sha or (ask.journal_sha if ask.resumed else None) or linked
    known = ask.plan_size
    if known is None and reply.linked_size and reply.linked_size.isdigit():
        known = int(reply.linked_size)
    if reply.status == 206:
        cr = parse_content_range(reply.content_range)
        if cr is None or cr[2] is None or cr[0] != ask.start or cr[1] != min(ask.end, cr[2]):
            return Stop(Problem.RETRY, f"unexpected Content-Range {reply.content_range!r} for bytes "
                                       f"{ask.start}-{ask.end - 1}")
        if reply.content_length is not None and reply.content_length != str(cr[1] - cr[0]):
            return Stop(Problem.RETRY, f"Content-Length {reply.content_length} does not match the range of "
                                       f"{cr[1] - cr[0]} bytes")
        total = cr[2]
        if (stop := _size_stop(total, known, label, url)) is not None:
            return stop
        new_etag = strong_etag(reply.etag)
        if ask.resumed:
            if ask.etag and new_etag and new_etag != ask.etag:
                return Stop(Problem.RESTART, "the file changed on the server since the last run; starting over")
            index = next(i for i, p in enumerate(ask.resumed) if not p.complete)
            return Go(ask.resumed, index, ask.etag or new_etag, expected, False, False)
        if ask.plan_size is not None:
            pieces = plan_pieces(total, segments=ask.segments, max_piece=ask.max_piece, min_piece=ask.min_piece)
        else:  # the first piece was a probe of min_piece bytes; plan the rest now that the size is known
            rest = plan_pieces(total - cr[1], segments=ask.segments, max_piece=ask.max_piece,
                               min_piece=ask.min_piece) if total > cr[1] else ()
            pieces = (Piece(0, cr[1]), *(Piece(p.start + cr[1], p.end + cr[1]) for p in rest))
        return Go(pieces, 0, new_etag, expected, False, False)
    if reply.status == 200:
        length = reply.content_length
        full = int(length) if length and length.isdigit() else known
        if full is None:
            return Stop(Problem.FAIL, f"{label}: the server sent neither a length nor a range for {url}; add "
                                      f"\"bytes\" to the plan entry")
        if (stop := _size_stop(full, known, label, url)) is not None:
            return stop
        if ask.resumed:
            expected = ask.plan_sha or linked  # the journal's hash may belong to the old content
        return Go((Piece(0, full),), 0, strong_etag(reply.etag), expected, True, bool(ask.resumed))
    if reply.status == 416:
        server_total = (reply.content_range or "").rsplit("/", 1)[-1] if "/" in (reply.content_range or "") else "?"
        if ask.resumed:
            return Stop(Problem.RESTART, f"the server refused to resume (416, it has {server_total} bytes); "
                                         f"starting over")
        if server_total == "0" and known in (None, 0):
            return Go((Piece(0, 0),), None, None, expected, True, False)
        return Stop(Problem.FAIL, f"{label}: the server has {server_total} bytes at {url}, the plan expects "
                                  f"{known if known is not None else 'more'}")
    return status_stop(reply.status, label=label, url=url, origin_url=url, hf=False, token_set=False)


def read_piece_reply(reply: Reply, *, start: int, end: int, total: int, etag: str | None) -> Stop | None:
    """None when a later answer is exactly the piece asked for; else what to do."""
    if reply.status == 200:
        return Stop(Problem.RESTART, "the server answered a range request with the whole file (it changed, or "
                                     "it ignores ranges); starting over")
    if reply.status != 206:  # callers word other statuses with status_stop, which knows the host
        return Stop(Problem.FAIL, f"HTTP {reply.status} for bytes {start}-{end - 1}")
    cr = parse_content_range(reply.content_range)
    if cr is None or (cr[0], cr[1]) != (start, end) or cr[2] != total:
        return Stop(Problem.RETRY, f"unexpected Content-Range {reply.content_range!r} for bytes {start}-{end - 1}")
    if reply.content_length is not None and reply.content_length != str(end - start):
        return Stop(Problem.RETRY, f"the server announced {reply.content_length} bytes for a range of {end - start}")
    new_etag = strong_etag(reply.etag)
    if etag and new_etag and new_etag != etag:
        return Stop(Problem.RESTART, "the file changed on the server during the download; starting over")
    return None


def status_stop(status: int, *, label: str, url: str, origin_url: str, hf: bool, token_set: bool) -> Stop:
    """An error status: retry (429/408/5xx), or fail with what to do (401/403 on Hugging Face: licence, token)."""
    outcome = classify_status(status)
    if outcome is Outcome.RETRY:
        return Stop(Problem.RETRY, f"HTTP {status} from {url}")
    if outcome is Outcome.AUTH and hf:
        return Stop(Problem.FAIL, hf_auth_message(origin_url, status, token_set=token_set))
    if outcome is Outcome.AUTH:
        return Stop(Problem.FAIL, f"{label}: the server refused access to {url} (HTTP {status}); check that the "
                                  f"URL is public or that you have access")
    return Stop(Problem.FAIL, f"{label}: HTTP {status} for {url}; the file is not available there (the plan may "
                              f"be outdated)")
