"""Suite-wide guard: no test reaches the internet.

Package indexes default to a closed port on loopback, so a resolution that a test forgot to point at its
local wheel index fails fast instead of quietly asking PyPI. Tests that need an index set their own
(``--index-url``, ``--find-links`` or these variables through ``monkeypatch``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from fixtures.fileserver import FileServer

_DEAD_INDEX = "http://127.0.0.1:9/simple"


def pytest_configure() -> None:
    for name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        os.environ[name] = _DEAD_INDEX


@pytest.fixture
def server() -> Iterator[FileServer]:
    """A local HTTP file server with Range support on 127.0.0.1 (tests add files and faults to it)."""
    with FileServer() as srv:
        yield srv
