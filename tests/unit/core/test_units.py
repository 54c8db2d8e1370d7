from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rigfit.core.units import GIB, format_bytes, parse_bytes


@pytest.mark.parametrize(
    ("n", "binary", "text"),
    [(0, False, "0 B"), (999, False, "999 B"), (12_884_901_888, False, "12.9 GB"), (12 * GIB, True, "12.0 GiB"),
     (None, False, "?")],
)
def test_format_bytes(n: int | None, binary: bool, text: str) -> None:
    assert format_bytes(n, binary=binary) == text


@pytest.mark.parametrize(("text", "n"), [("8GB", 8 * 10**9), ("8 GiB", 8 * GIB), ("512", 512), ("1.5 MiB", 1572864)])
def test_parse_bytes(text: str, n: int) -> None:
    assert parse_bytes(text) == n


@given(st.text(max_size=20))
def test_parse_bytes_raises_only_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_bytes(text)
