"""How the downloader reads a server's answers to Range requests (pure decisions)."""

from __future__ import annotations

import pytest

from rigfit.core.download_plan import Piece
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

SHA = "c" * 64


def _ask(**kw: object) -> FirstAsk:
    base: dict[str, object] = {"start": 0, "end": 100, "resumed": None, "etag": None, "journal_sha": None,
                               "plan_size": 1000, "plan_sha": None, "segments": 4, "max_piece": 300,
                               "min_piece": 100}
    base.update(kw)
    return FirstAsk(**base)  # type: ignore[arg-type]


def _first(ask: FirstAsk, reply: Reply) -> Go | Stop:
    return read_first_reply(ask, reply, label="vae/x", url="https://h/x")


def test_a_fresh_206_plans_the_pieces_from_the_size() -> None:
    go = _first(_ask(end=250), Reply(206, "bytes 0-249/1000", "250", '"e1"'))
    assert isinstance(go, Go)
    assert [(p.start, p.end) for p in go.pieces] == [(0, 250), (250, 500), (500, 750), (750, 1000)]
    assert (go.index, go.etag, go.single, go.drop_resumed) == (0, '"e1"', False, False)


def test_unknown_size_probe_then_pieces_for_the_rest() -> None:
    go = _first(_ask(plan_size=None), Reply(206, "bytes 0-99/1000", "100", None, linked_etag=f'"{SHA}"'))
    assert isinstance(go, Go)
    assert go.pieces[0] == Piece(0, 100) and go.pieces[-1].end == 1000
    assert go.expected_sha == SHA  # Hugging Face's published hash


def test_resume_keeps_the_journal_and_its_hash() -> None:
    resumed = (Piece(0, 500, 500), Piece(500, 1000, 20))
    go = _first(_ask(start=520, end=1000, resumed=resumed, etag='"e1"', journal_sha=SHA),
                Reply(206, "bytes 520-999/1000", "480", '"e1"'))
    assert isinstance(go, Go) and go.pieces == resumed and go.index == 1 and go.expected_sha == SHA


@pytest.mark.parametrize(
    ("reply", "problem", "needle"),
    [
        (Reply(206, "bytes 520-999/1000", "480", '"e2"'), Problem.RESTART, "changed on the server"),
        (Reply(416, "bytes */300"), Problem.RESTART, "refused to resume"),
        (Reply(206, "bytes 0-479/1000", "480", '"e1"'), Problem.RETRY, "unexpected Content-Range"),
        (Reply(206, "bytes 520-999/1000", "999", '"e1"'), Problem.RETRY, "does not match"),
    ],
    ids=["new-etag", "416", "wrong-range", "wrong-length"],
)
def test_resume_problems(reply: Reply, problem: Problem, needle: str) -> None:
    resumed = (Piece(0, 500, 500), Piece(500, 1000, 20))
    stop = _first(_ask(start=520, end=1000, resumed=resumed, etag='"e1"'), reply)
    assert isinstance(stop, Stop) and stop.problem is problem and needle in stop.message


def test_a_200_to_a_resume_means_start_over_as_one_stream_and_forget_the_old_hash() -> None:
    resumed = (Piece(0, 1000, 20),)
    go = _first(_ask(start=20, end=1000, resumed=resumed, journal_sha=SHA), Reply(200, None, "1000", '"e9"'))
    assert isinstance(go, Go)
    assert go.single and go.drop_resumed and go.pieces == (Piece(0, 1000),) and go.expected_sha is None


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        (Reply(206, "bytes 0-99/1001", "100"), "larger than expected (1001 bytes, the plan says 1000)"),
        (Reply(200, None, "999"), "smaller than expected"),
        (Reply(200, None, None), None),
        (Reply(416, "bytes */5"), "the server has 5 bytes"),
    ],
    ids=["larger-206", "smaller-200", "no-length-but-plan-size", "416-fresh"],
)
def test_size_disagreements_fail_without_keeping_anything(reply: Reply, needle: str | None) -> None:
    result = _first(_ask(), reply)
    if needle is None:
        assert isinstance(result, Go) and result.pieces == (Piece(0, 1000),)
    else:
        assert isinstance(result, Stop) and result.problem is Problem.FAIL and needle in result.message


def test_no_length_anywhere_fails_and_says_to_add_bytes() -> None:
    stop = _first(_ask(plan_size=None), Reply(200))
    assert isinstance(stop, Stop) and '"bytes"' in stop.message


def test_empty_file() -> None:
    go = _first(_ask(plan_size=0), Reply(416, "bytes */0"))
    assert isinstance(go, Go) and go.index is None and go.pieces == (Piece(0, 0),)


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (Reply(206, "bytes 100-199/1000", "100", '"e"'), None),
        (Reply(200, None, "1000", '"e"'), Problem.RESTART),
        (Reply(206, "bytes 100-199/1000", "100", '"f"'), Problem.RESTART),
        (Reply(206, "bytes 100-199/1001", "100", '"e"'), Problem.RETRY),
        (Reply(206, "bytes 100-199/1000", "150", '"e"'), Problem.RETRY),
        (Reply(206, "bytes 100-199/1000", "100", 'W/"weak"'), None),
    ],
    ids=["exact", "whole-file", "changed", "other-total", "longer-than-asked", "weak-etag-ignored"],
)
def test_piece_answers_must_match_exactly(reply: Reply, problem: Problem | None) -> None:
    stop = read_piece_reply(reply, start=100, end=200, total=1000, etag='"e"')
    assert (stop.problem if stop else None) is problem


def test_status_stop_wording() -> None:
    url = "https://huggingface.co/org/repo/resolve/main/x"
    assert status_stop(503, label="x", url=url, origin_url=url, hf=True, token_set=False).problem is Problem.RETRY
    gated = status_stop(403, label="x", url=url, origin_url=url, hf=True, token_set=False)
    assert gated.problem is Problem.FAIL and "https://huggingface.co/org/repo" in gated.message
    other = status_stop(403, label="x", url="https://e.com/x", origin_url="https://e.com/x", hf=False,
                        token_set=False)
    assert "HF_TOKEN" not in other.message and "refused access" in other.message
    assert "not available" in status_stop(404, label="x", url=url, origin_url=url, hf=True, token_set=True).message
    assert strong_etag('W/"a"') is None and strong_etag('"a"') == '"a"'
