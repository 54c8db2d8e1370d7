"""The HTTP client against a real server on 127.0.0.1: keep-alive, redirects and their URL rule, the token rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixtures.fileserver import Fault, FileServer
from rigfit import __version__
from rigfit.core.errors import DownloadError
from rigfit.shell.http import Client, TransientError, is_transient


@pytest.fixture
def server() -> Iterator[FileServer]:
    with FileServer() as srv:
        srv.add("/a.bin", b"x" * 1000, headers={"X-Test": "1"})
        yield srv


def _read(client: Client, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    resp = client.get(url, headers)
    buf = memoryview(bytearray(4096))
    data = b""
    while n := resp.readinto(buf):
        data += bytes(buf[:n])
    resp.release()
    return resp.status, data


def test_user_agent_and_keep_alive(server: FileServer) -> None:
    """Three requests travel over one connection, each naming rigfit and its version."""
    client = Client(timeout=5)
    for _ in range(3):
        assert _read(client, server.url("/a.bin")) == (200, b"x" * 1000)
    log = server.requests("/a.bin")
    assert {r.headers["user-agent"] for r in log} == {f"rigfit/{__version__}"}
    assert len({r.connection for r in log}) == 1


def test_a_connection_closed_by_the_server_is_reopened_transparently(server: FileServer) -> None:
    client = Client(timeout=5)
    _read(client, server.url("/a.bin"))
    # The whole body, then the server hangs up without saying so: the client still holds the dead connection.
    server.fault("/a.bin", Fault("truncate", after=1000))
    assert _read(client, server.url("/a.bin")) == (200, b"x" * 1000)
    assert _read(client, server.url("/a.bin")) == (200, b"x" * 1000)
    assert len({r.connection for r in server.requests("/a.bin")}) == 2


def test_redirects_are_followed_and_their_headers_kept(server: FileServer) -> None:
    server.redirect("/resolve/a.bin", "/cdn/a.bin", headers={"X-Linked-Etag": '"abc"'})
    server.redirect("/cdn/a.bin", "/a.bin", status=307)
    resp = Client(timeout=5).get(server.url("/resolve/a.bin"))
    assert resp.status == 200 and resp.url == server.url("/a.bin")
    assert [h.status for h in resp.hops] == [302, 307]
    assert resp.header("X-Linked-Etag") is None
    assert resp.header("X-Linked-Etag", any_hop=True) == '"abc"'
    resp.abort()


@pytest.mark.parametrize(
    "location",
    ["http://example.com/a.bin", "file:///etc/passwd", "ftp://127.0.0.1/a.bin"],
    ids=["plain-http-to-internet", "file", "ftp"],
)
def test_a_redirect_to_a_disallowed_url_is_refused(server: FileServer, location: str) -> None:
    server.redirect("/r", location)
    with pytest.raises(DownloadError, match="redirected to a disallowed URL"):
        Client(timeout=5).get(server.url("/r"))


def test_a_redirect_loop_ends(server: FileServer) -> None:
    server.redirect("/loop", "/loop")
    with pytest.raises(DownloadError, match="too many redirects"):
        Client(timeout=5).get(server.url("/loop"))


def test_the_token_goes_to_the_hf_endpoint_but_not_where_it_redirects(server: FileServer) -> None:
    """HF_ENDPOINT's host is Hugging Face; a redirect to another host (here localhost) loses the token."""
    server.redirect("/org/repo/resolve/main/a.bin", server.url("/a.bin", host="localhost"))
    client = Client(timeout=5, token="hf_secret", hf_endpoint=server.url(""))
    status, _ = _read(client, server.url("/org/repo/resolve/main/a.bin"))
    assert status == 200
    first = server.requests("/org/repo/resolve/main/a.bin")[0]
    assert first.headers.get("authorization") == "Bearer hf_secret"
    assert "authorization" not in server.requests("/a.bin")[0].headers


def test_no_token_without_hf_endpoint_for_a_loopback_host(server: FileServer) -> None:
    client = Client(timeout=5, token="hf_secret")
    _read(client, server.url("/a.bin"))
    assert "authorization" not in server.requests("/a.bin")[0].headers


def test_a_refused_connection_is_transient() -> None:
    with FileServer() as srv:
        url = srv.url("/x")
    with pytest.raises(TransientError) as info:
        Client(timeout=2).get(url)
    assert is_transient(info.value)
    assert not is_transient(DownloadError("x"))
    assert not is_transient(ValueError("x"))
