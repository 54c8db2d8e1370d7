"""Pure download decisions: pieces, journal round-trips, disk space, retry policy, Hugging Face URL rules."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rigfit.core.download_plan import (
    MAX_PIECE,
    MIN_PIECE,
    Journal,
    JournalState,
    Outcome,
    Piece,
    RetryPolicy,
    classify_status,
    contiguous_prefix,
    hf_auth_message,
    hf_model_page,
    is_hf_host,
    journal_from_json,
    journal_state,
    journal_to_json,
    parse_content_range,
    parse_retry_after,
    plan_pieces,
    retry_delay,
    rewrite_for_endpoint,
    sha256_from_linked_etag,
    space_problem,
)
from rigfit.core.units import GB, MIB


@given(size=st.integers(0, 2**40), segments=st.integers(1, 16))
def test_pieces_cover_the_file_exactly_once_in_order(size: int, segments: int) -> None:
    pieces = plan_pieces(size, segments=segments)
    assert pieces[0].start == 0 and pieces[-1].end == size
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
    assert all(p.size <= MAX_PIECE for p in pieces)
    if size >= segments * MIN_PIECE:
        assert len(pieces) >= segments


@pytest.mark.parametrize(
    ("size", "segments", "count"),
    [(2 * GB, 8, 32), (100 * MIB, 8, 8), (20 * MIB, 8, 2), (5 * MIB, 4, 1), (1000, 4, 1)],
    ids=["2GB-8conn", "100MiB-8conn", "20MiB-min-piece", "5MiB-one", "tiny"],
)
def test_piece_count(size: int, segments: int, count: int) -> None:
    """Large files get a multiple of the connection count (no idle connection at the end); small ones fewer."""
    assert len(plan_pieces(size, segments=segments)) == count


def test_contiguous_prefix_stops_at_the_first_gap() -> None:
    pieces = (Piece(0, 10, 10), Piece(10, 20, 4), Piece(20, 30, 10))
    assert contiguous_prefix(pieces) == 14
    assert contiguous_prefix((Piece(0, 10, 10), Piece(10, 20, 10))) == 20
    assert contiguous_prefix((Piece(0, 10, 0), Piece(10, 20, 10))) == 0


def test_journal_round_trips_and_rejects_inconsistent_documents() -> None:
    journal = Journal("https://x/a", 30, '"e"', "a" * 64, (Piece(0, 10, 10), Piece(10, 30, 5)))
    assert journal_from_json(journal_to_json(journal)) == journal
    assert journal.done_bytes == 15
    doc = journal_to_json(journal)
    for bad in (
        {**doc, "schema": "other"},
        {**doc, "size": 31},  # pieces do not end at the size
        {**doc, "pieces": [[0, 10, 11], [10, 30, 0]]},  # more done than the piece holds
        {**doc, "pieces": [[0, 10, 0], [12, 30, 0]]},  # a gap
        {**doc, "pieces": []},
        {**doc, "url": 5},
        "not a dict",
    ):
        assert journal_from_json(bad) is None, bad


@pytest.mark.parametrize(
    ("url", "size", "sha", "state"),
    [
        ("https://x/a", 30, None, JournalState.RESUME),
        ("https://x/a", None, "a" * 64, JournalState.RESUME),
        ("https://x/b", 30, None, JournalState.RESTART),
        ("https://x/a", 31, None, JournalState.RESTART),
        ("https://x/a", 30, "b" * 64, JournalState.RESTART),
    ],
    ids=["same", "size-unknown", "other-url", "other-size", "other-sha"],
)
def test_journal_state_resumes_only_the_same_download(url: str, size: int | None, sha: str | None,
                                                        state: JournalState) -> None:
    journal = Journal("https://x/a", 30, None, "a" * 64, (Piece(0, 30, 3),))
    assert journal_state(journal, url=url, size=size, sha256=sha) is state
    assert journal_state(None, url=url, size=size, sha256=sha) is JournalState.FRESH


def test_space_problem_gives_numbers_and_alternatives() -> None:
    assert space_problem(remaining=10 * GB, free=20 * GB, target="/d") is None
    message = space_problem(remaining=21_500_000_000, free=12 * GB, target="/models", unknown_files=1)
    assert message is not None
    for needle in ("/models", "21.5 GB", "12.0 GB", "--models-dir", "--quant", "1 file(s) of unknown size"):
        assert needle in message
    # The head-room counts: exactly the remaining bytes free is not enough.
    assert space_problem(remaining=5 * GB, free=5 * GB, target="/d") is not None
    assert space_problem(remaining=0, free=0, target="/d") is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(429, Outcome.RETRY), (408, Outcome.RETRY), (500, Outcome.RETRY), (503, Outcome.RETRY),
     (401, Outcome.AUTH), (403, Outcome.AUTH), (404, Outcome.FAIL), (410, Outcome.FAIL), (400, Outcome.FAIL)],
    ids=lambda v: str(v),
)
def test_status_classification(status: int, outcome: Outcome) -> None:
    assert classify_status(status) is outcome


def test_retry_delay_is_exponential_bounded_and_gives_up() -> None:
    policy = RetryPolicy(attempts=5, base_s=1.0, cap_s=4.0)
    delays = [retry_delay(policy, a, jitter=0.5) for a in range(1, 6)]
    assert delays == [1.0, 2.0, 4.0, 4.0, None]
    assert retry_delay(policy, 1, jitter=0.0) == 0.75 and retry_delay(policy, 1, jitter=1.0) == 1.25
    assert retry_delay(policy, 1, retry_after=3.0, jitter=0.5) == 3.0  # the server asks for longer
    assert retry_delay(policy, 1, retry_after=1e6) is None  # longer than we are willing to wait


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("7", now_epoch=0) == 7.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", now_epoch=10.0) == 20.0
    assert parse_retry_after("soon", now_epoch=0) is None
    assert parse_retry_after(None, now_epoch=0) is None


@pytest.mark.parametrize(
    ("host", "expected"),
    [("huggingface.co", True), ("cdn-lfs.huggingface.co", True), ("cas-bridge.xethub.hf.co", True),
     ("HF.CO", True), ("huggingface.co.evil.com", False), ("nothuggingface.co", False), ("github.com", False)],
    ids=lambda v: str(v),
)
def test_token_goes_only_to_hugging_face_hosts(host: str, expected: bool) -> None:
    assert is_hf_host(host) is expected


def test_the_hf_endpoint_host_counts_as_hugging_face() -> None:
    assert is_hf_host("hf-mirror.com", endpoint="https://hf-mirror.com")
    assert not is_hf_host("other.com", endpoint="https://hf-mirror.com")


@pytest.mark.parametrize(
    ("url", "endpoint", "expected"),
    [
        ("https://huggingface.co/a/b/resolve/main/x.safetensors?download=true", "https://hf-mirror.com",
         "https://hf-mirror.com/a/b/resolve/main/x.safetensors?download=true"),
        ("https://huggingface.co/a/b/resolve/main/x", "http://127.0.0.1:8080/hf/", "http://127.0.0.1:8080/hf/a/b/resolve/main/x"),
        ("https://hf.co/a/b/resolve/main/x", "https://m.example", "https://m.example/a/b/resolve/main/x"),
        ("https://github.com/a/b/x", "https://hf-mirror.com", "https://github.com/a/b/x"),
        ("https://huggingface.co/a/b/resolve/main/x", None, "https://huggingface.co/a/b/resolve/main/x"),
    ],
    ids=["mirror", "path-prefix", "hf.co", "not-hf", "no-endpoint"],
)
def test_hf_endpoint_rewrites_only_hugging_face_urls(url: str, endpoint: str | None, expected: str) -> None:
    assert rewrite_for_endpoint(url, endpoint) == expected


def test_auth_message_names_the_model_page_and_hf_token() -> None:
    url = "https://huggingface.co/black-forest-labs/FLUX.1-dev/resolve/main/flux1-dev.safetensors"
    assert hf_model_page(url) == "https://huggingface.co/black-forest-labs/FLUX.1-dev"
    message = hf_auth_message(url, 401, token_set=False)
    assert "https://huggingface.co/black-forest-labs/FLUX.1-dev" in message
    assert "accept" in message and "HF_TOKEN" in message and "settings/tokens" in message
    assert "although HF_TOKEN is set" in hf_auth_message(url, 403, token_set=True)
    assert hf_model_page("https://huggingface.co/datasets/a/b/resolve/main/x") == "https://huggingface.co/datasets/a/b"


def test_linked_etag_is_a_hash_only_when_it_looks_like_one() -> None:
    sha = "ab" * 32
    assert sha256_from_linked_etag(f'"{sha}"') == sha
    assert sha256_from_linked_etag(sha.upper()) == sha
    assert sha256_from_linked_etag('"abc123"') is None  # a git blob id is 40 hex digits, not a sha256
    assert sha256_from_linked_etag(None) is None


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("bytes 0-99/1000", (0, 100, 1000)), ("bytes 5-5/*", (5, 6, None)), ("bytes 10-5/100", None),
     ("bytes 0-1000/1000", None), ("items 0-1/2", None), (None, None)],
    ids=lambda v: str(v),
)
def test_content_range(value: str | None, parsed: tuple[int, int, int | None] | None) -> None:
    assert parse_content_range(value) == parsed
