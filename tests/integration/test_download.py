"""The downloader against a real HTTP server on 127.0.0.1, one rule per test, faults injected by the server.

Every test ends by checking what is on disk: the right bytes under the final name, or nothing there at all.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.fileserver import Fault, FileServer, sha256_hex
from rigfit.core.download_plan import RetryPolicy
from rigfit.core.errors import DownloadError
from rigfit.shell.download import Downloader, DownloadEvent, check_space
from rigfit.shell.fetch import Fetched, FetchSpec, Tuning
from rigfit.shell.http import Client
from rigfit.shell.partfile import journal_path, part_path, read_journal

KIB = 1024
TUNING = Tuning(segments=4, min_piece=64 * KIB, max_piece=128 * KIB, buffer=32 * KIB, checkpoint_s=0.05,
                retry=RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05))



def _spec(srv: FileServer, tmp: Path, name: str, data: bytes | None, *, sha: bool = True, size: bool = True,
          path: str | None = None) -> FetchSpec:
    return FetchSpec(srv.url(path or f"/{name}"), tmp / name, len(data) if size and data is not None else None,
                     sha256_hex(data) if sha and data is not None else None, f"loras/{name}")


def _run(specs: list[FetchSpec], *, tuning: Tuning = TUNING, timeout: float = 2.0, token: str | None = None,
         events: list[DownloadEvent] | None = None, jobs: int = 2) -> list[Fetched | DownloadError]:
    client = Client(timeout=timeout, token=token)
    return Downloader(client=client, jobs=jobs, tuning=tuning, on_event=events.append if events is not None else None,
                      tick_s=0.02).run(specs)


def _ok(result: Fetched | DownloadError, data: bytes) -> Fetched:
    assert isinstance(result, Fetched), result
    assert result.path.read_bytes() == data
    assert result.sha256 == sha256_hex(data)
    assert not part_path(result.path).exists() and not journal_path(result.path).exists()
    return result


def _nothing_final(spec: FetchSpec) -> None:
    assert not spec.dest.exists(), "a file that failed verification is visible under its final name"


# ---- the happy path -----------------------------------------------------------------------------------------


def test_large_file_comes_in_parallel_range_segments_over_kept_alive_connections(server: FileServer,
                                                                                  tmp_path: Path) -> None:
    data = os.urandom(1_000_000)
    server.add("/big.bin", data)
    server.speed = 2_000_000  # slow enough that the segments overlap in time
    events: list[DownloadEvent] = []
    [result] = _run([_spec(server, tmp_path, "big.bin", data)], events=events)
    assert _ok(result, data).verified_by == "sha256"
    gets = server.requests("/big.bin")
    assert all(r.headers["range"].startswith("bytes=") for r in gets)
    assert len(gets) == 8  # 1 MB in 128 KiB pieces
    assert len({r.connection for r in gets}) == 4  # four connections, each reused for two pieces
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and "progress" in kinds and kinds[-1] == "done"
    last = events[-1]
    assert last.done == last.total == len(data) == last.all_done == last.all_total


def test_several_files_at_once_and_a_file_of_unknown_size(server: FileServer, tmp_path: Path) -> None:
    files = {f"f{i}.bin": os.urandom(50_000 + 70_000 * i) for i in range(4)}
    for name, data in files.items():
        server.add(f"/{name}", data)
    specs = [_spec(server, tmp_path, n, d, sha=i % 2 == 0, size=i != 3) for i, (n, d) in enumerate(files.items())]
    results = _run(specs)
    for result, data in zip(results, files.values(), strict=True):
        _ok(result, data)
    assert [r.verified_by for r in results if isinstance(r, Fetched)] == ["sha256", "size", "sha256", "size"]


def test_empty_file(server: FileServer, tmp_path: Path) -> None:
    server.add("/empty.bin", b"")
    [result] = _run([_spec(server, tmp_path, "empty.bin", b"")])
    _ok(result, b"")


# ---- resume ---------------------------------------------------------------------------------------------------


def _interrupt(server: FileServer, tmp_path: Path, data: bytes, name: str = "r.bin") -> FetchSpec:
    """Download until about half is on disk, then stop (as a crash would): partial data and journal stay."""
    server.add(f"/{name}", data)
    server.speed = 400_000
    spec = _spec(server, tmp_path, name, data)
    client = Client(timeout=2)
    downloader = Downloader(client=client, jobs=1, tuning=TUNING)

    def watch(event: DownloadEvent) -> None:
        if event.done >= len(data) // 2:
            downloader.cancel.set()

    downloader.on_event = watch
    [result] = downloader.run([spec])
    assert isinstance(result, DownloadError)
    _nothing_final(spec)
    journal = read_journal(spec.dest)
    assert journal is not None and 0 < journal.done_bytes < len(data)
    server.speed = None
    return spec


def test_resume_fetches_only_the_missing_bytes_with_if_range(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(800_000)
    spec = _interrupt(server, tmp_path, data)
    done_before = read_journal(spec.dest).done_bytes  # type: ignore[union-attr]
    server.log.clear()
    [result] = _run([spec])
    fetched = _ok(result, data)
    assert fetched.resumed_bytes == done_before
    assert fetched.fetched_bytes == len(data) - done_before
    ranges = [r.headers for r in server.requests("/r.bin")]
    assert all(h.get("if-range") == server.resources["/r.bin"].etag for h in ranges)


def test_content_changed_between_runs_starts_over(server: FileServer, tmp_path: Path) -> None:
    """If-Range does not match the new ETag: the server sends the new file whole and nothing old is mixed in."""
    old = os.urandom(800_000)
    spec = _interrupt(server, tmp_path, old)
    new = os.urandom(800_000)
    server.fault("/r.bin", Fault("change", data=new))
    spec = FetchSpec(spec.url, spec.dest, len(new), None, spec.label)  # the plan has no hash: the size must do
    [result] = _run([spec])
    assert _ok(result, new).resumed_bytes == 0


def test_content_changed_mid_download_starts_over(server: FileServer, tmp_path: Path) -> None:
    old, new = os.urandom(600_000), os.urandom(600_000)
    server.add("/c.bin", old)
    server.fault("/c.bin", Fault("status", status=503, retry_after="0"), Fault("change", data=new))
    events: list[DownloadEvent] = []
    [result] = _run([_spec(server, tmp_path, "c.bin", new, sha=False)], events=events, tuning=Tuning(
        segments=1, min_piece=64 * KIB, max_piece=128 * KIB, retry=RetryPolicy(base_s=0.01)))
    _ok(result, new)


def test_a_server_that_ignores_range_is_read_as_one_stream(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(500_000)
    server.add("/n.bin", data, ranges=False)
    [result] = _run([_spec(server, tmp_path, "n.bin", data)])
    _ok(result, data)
    assert len(server.requests("/n.bin")) == 1


def test_resume_against_a_server_that_now_ignores_range_starts_over(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(800_000)
    spec = _interrupt(server, tmp_path, data)
    server.resources["/r.bin"].ranges = False
    [result] = _run([spec])
    assert _ok(result, data).resumed_bytes == 0


def test_416_on_resume_starts_over(server: FileServer, tmp_path: Path) -> None:
    """The server's file shrank below what the journal says is done: 416, then a clean start."""
    data = os.urandom(800_000)
    spec = _interrupt(server, tmp_path, data)
    journal = read_journal(spec.dest)
    assert journal is not None
    short = os.urandom(100)
    server.add("/r.bin", short, etag=server.resources["/r.bin"].etag)  # same validator, fewer bytes
    [result] = _run([FetchSpec(spec.url, spec.dest, None, None, spec.label)])
    assert any(r.status == 416 for r in server.requests("/r.bin"))
    _ok(result, short)


def test_a_journal_for_another_url_is_not_trusted(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(800_000)
    spec = _interrupt(server, tmp_path, data)
    server.add("/other.bin", data)
    [result] = _run([FetchSpec(server.url("/other.bin"), spec.dest, len(data), sha256_hex(data), spec.label)])
    assert _ok(result, data).resumed_bytes == 0


# ---- faults and retries -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault("reset", after=10_000),
        Fault("truncate", after=10_000),
        Fault("status", status=500),
        Fault("status", status=503),
        Fault("status", status=429, retry_after="0"),
        Fault("stall", after=1000, seconds=1.0),
        Fault("extra", extra=5000),
    ],
    ids=["reset", "truncated", "500", "503", "429", "stall", "longer-than-asked"],
)
def test_transient_faults_are_retried_and_the_file_is_still_exact(server: FileServer, tmp_path: Path,
                                                                  fault: Fault) -> None:
    data = os.urandom(300_000)
    server.add("/t.bin", data)
    server.fault("/t.bin", fault, fault)  # twice in a row: the first two requests fail
    events: list[DownloadEvent] = []
    [result] = _run([_spec(server, tmp_path, "t.bin", data)], timeout=0.3, events=events)
    _ok(result, data)
    assert sum(e.kind == "retry" for e in events) >= 2


def test_retry_after_is_honoured(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(10_000)
    server.add("/ra.bin", data)
    server.fault("/ra.bin", Fault("status", status=429, retry_after="1"))
    started = time.monotonic()
    [result] = _run([_spec(server, tmp_path, "ra.bin", data)])
    _ok(result, data)
    assert time.monotonic() - started >= 0.95


def test_retries_are_bounded(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(10_000)
    server.add("/b.bin", data)
    server.fault("/b.bin", *[Fault("status", status=503)] * 10)
    spec = _spec(server, tmp_path, "b.bin", data)
    [result] = _run([spec])
    assert isinstance(result, DownloadError) and "giving up after 4 failed tries" in result.message
    assert len(server.requests("/b.bin")) == 4
    _nothing_final(spec)


@pytest.mark.parametrize("status", [404, 410, 400], ids=lambda s: str(s))
def test_other_4xx_fail_at_once(server: FileServer, tmp_path: Path, status: int) -> None:
    server.add("/g.bin", b"x")
    server.fault("/g.bin", Fault("status", status=status))
    spec = _spec(server, tmp_path, "g.bin", b"x")
    [result] = _run([spec])
    assert isinstance(result, DownloadError) and f"HTTP {status}" in result.message
    assert len(server.requests("/g.bin")) == 1
    _nothing_final(spec)


def test_401_from_hugging_face_says_what_to_do(server: FileServer, tmp_path: Path) -> None:
    """Through HF_ENDPOINT the loopback server stands for Hugging Face."""
    path = "/black-forest-labs/FLUX.1-dev/resolve/main/ae.safetensors"
    server.add(path, b"x")
    server.fault(path, Fault("status", status=401))
    client = Client(timeout=2, hf_endpoint=server.url(""))
    spec = FetchSpec(server.url(path), tmp_path / "ae", 1, None, "vae/ae.safetensors",
                     origin_url="https://huggingface.co" + path)
    [result] = Downloader(client=client, tuning=TUNING).run([spec])
    assert isinstance(result, DownloadError)
    assert "https://huggingface.co/black-forest-labs/FLUX.1-dev" in result.message
    assert "accept its licence" in result.message and "HF_TOKEN" in result.message
    assert len(server.requests(path)) == 1


# ---- verification -------------------------------------------------------------------------------------------


def test_sha256_mismatch_deletes_the_data_and_fails(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    server.add("/m.bin", data)
    spec = FetchSpec(server.url("/m.bin"), tmp_path / "m.bin", len(data), "0" * 64, "loras/m.bin")
    [result] = _run([spec])
    assert isinstance(result, DownloadError) and "sha256 mismatch" in result.message
    _nothing_final(spec)
    assert not part_path(spec.dest).exists() and not journal_path(spec.dest).exists()


def test_server_published_hash_is_used_when_the_plan_has_none(server: FileServer, tmp_path: Path) -> None:
    """Hugging Face puts X-Linked-Etag (the sha256) and X-Linked-Size on the redirect to its CDN."""
    data = os.urandom(200_000)
    server.add("/cdn/x.bin", data)
    server.redirect("/resolve/x.bin", "/cdn/x.bin",
                    headers={"X-Linked-Etag": f'"{sha256_hex(data)}"', "X-Linked-Size": str(len(data))})
    [result] = _run([_spec(server, tmp_path, "x.bin", data, sha=False, size=False, path="/resolve/x.bin")])
    assert _ok(result, data).verified_by == "sha256-server"
    server.redirect("/resolve/x.bin", "/cdn/x.bin", headers={"X-Linked-Etag": '"' + "1" * 64 + '"'})
    spec = _spec(server, tmp_path, "y.bin", data, sha=False, size=False, path="/resolve/x.bin")
    [bad] = _run([spec])
    assert isinstance(bad, DownloadError) and "sha256 mismatch" in bad.message
    _nothing_final(spec)


@pytest.mark.parametrize("server_size", [300_001, 299_999], ids=["larger", "smaller"])
def test_a_file_of_another_size_than_planned_is_refused(server: FileServer, tmp_path: Path,
                                                        server_size: int) -> None:
    server.add("/s.bin", os.urandom(server_size))
    spec = FetchSpec(server.url("/s.bin"), tmp_path / "s.bin", 300_000, None, "loras/s.bin")
    [result] = _run([spec])
    assert isinstance(result, DownloadError) and "than expected" in result.message
    _nothing_final(spec)


def test_a_whole_body_longer_than_expected_is_cut_off_and_failed(server: FileServer, tmp_path: Path) -> None:
    """A server that ignores Range and sends more than the plan's size: nothing beyond the size is written."""
    server.add("/l.bin", os.urandom(200_000), ranges=False)
    spec = FetchSpec(server.url("/l.bin"), tmp_path / "l.bin", 150_000, None, "loras/l.bin")
    [result] = _run([spec])
    assert isinstance(result, DownloadError) and "larger than expected" in result.message
    _nothing_final(spec)


def test_a_chunked_body_longer_than_the_plan_says_is_cut_off_and_failed(server: FileServer,
                                                                        tmp_path: Path) -> None:
    """No Content-Length to compare with: the body is read up to the planned size, and one byte more fails it."""
    server.add("/ch.bin", os.urandom(200_000), chunked=True)
    spec = FetchSpec(server.url("/ch.bin"), tmp_path / "ch.bin", 150_000, None, "loras/ch.bin")
    [result] = _run([spec])
    assert isinstance(result, DownloadError) and "cut off and rejected" in result.message
    _nothing_final(spec)
    data = os.urandom(100_000)
    server.add("/ok.bin", data, chunked=True)
    _ok(_run([_spec(server, tmp_path, "ok.bin", data)])[0], data)


# ---- disk space ---------------------------------------------------------------------------------------------


def test_space_check_counts_the_whole_bundle_minus_resumed_bytes(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(800_000)
    spec = _interrupt(server, tmp_path, data)
    done = read_journal(spec.dest).done_bytes  # type: ignore[union-attr]
    other = FetchSpec(server.url("/o"), tmp_path / "o", 5_000_000_000, None, "loras/o")
    need = 5_000_000_000 + len(data) - done
    with pytest.raises(DownloadError) as info:
        check_space([spec, other], tmp_path, free=lambda _: need)  # no head-room left
    assert info.value.needed == need and info.value.available == need
    check_space([spec, other], tmp_path, free=lambda _: need + 200_000_000)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    rc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode
    if rc != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_mid_way_fails_clearly_and_keeps_verified_files(server: FileServer, small_disk: Path) -> None:
    first, second = os.urandom(400_000), os.urandom(900_000)
    server.add("/a.bin", first)
    server.add("/b.bin", second)
    specs = [_spec(server, small_disk, "a.bin", first), _spec(server, small_disk, "b.bin", second)]
    results = _run(specs, jobs=1)
    _ok(results[0], first)
    assert isinstance(results[1], DownloadError) and "disk is full" in results[1].message
    _nothing_final(specs[1])
    assert (small_disk / "a.bin").read_bytes() == first  # nothing verified is lost


# ---- kill -9 at random points -------------------------------------------------------------------------------

_DRIVER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from rigfit.core.download_plan import RetryPolicy
    from rigfit.core.plan import parse_plan
    from rigfit.shell.fetch import Tuning
    from rigfit.shell.model_install import ModelsSettings, install_models
    from rigfit.shell.store import Store
    plan = parse_plan(json.loads(Path(sys.argv[1]).read_text()), source="plan")
    settings = ModelsSettings(comfyui=Path(sys.argv[2]), store=Store(Path(sys.argv[3])), jobs=2,
        tuning=Tuning(segments=3, min_piece=64 * 1024, max_piece=96 * 1024, checkpoint_s=0.05,
                      retry=RetryPolicy(base_s=0.02)), timeout_s=2)
    out = install_models(plan, settings)
    print(json.dumps([o.status for o in out]))
""")


@pytest.mark.slow
def test_sigkill_at_ten_random_points_then_rerun_ends_verified(server: FileServer, tmp_path: Path) -> None:
    """Kill the downloading process with SIGKILL at 10 random moments; after each kill nothing corrupt is
    visible under a final name, and a final run completes with every file verified."""
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    files = {f"m{i}.safetensors": os.urandom(rng.randrange(150_000, 700_000)) for i in range(5)}
    for name, data in files.items():
        server.add(f"/{name}", data)
    server.speed = 250_000  # per connection: the bundle takes a few seconds
    plan = {"schema": "rigfit.plan/1", "files": [
        {"url": server.url(f"/{n}"), "filename": n, "folder": "loras", "bytes": len(d),
         "sha256": sha256_hex(d) if i % 2 == 0 else None} for i, (n, d) in enumerate(files.items())]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    comfy, store = tmp_path / "ComfyUI", tmp_path / "store"
    argv = [sys.executable, "-c", _DRIVER, str(tmp_path / "plan.json"), str(comfy), str(store)]
    resumed_runs = 0
    for kill in range(10):
        before = sum(p.stat().st_size for p in store.rglob("*.rigfit-part")) if store.exists() else 0
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # A random moment after the process has started writing (start-up time varies with machine load).
        deadline = time.monotonic() + 20
        while (proc.poll() is None and time.monotonic() < deadline
               and not (store.exists() and any(store.rglob("*.rigfit-journal")))):
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        resumed_runs += before > 0
        for name, data in files.items():  # whatever is under a final name is complete and right
            final = comfy / "models" / "loras" / name
            if final.exists():
                assert final.read_bytes() == data, f"kill {kill} (seed {seed}): {name} is corrupt"
        for obj in (store / "objects").rglob("*") if (store / "objects").exists() else []:
            if obj.is_file() and "." not in obj.name:  # objects, not their partial data
                assert sha256_hex(obj.read_bytes()) == obj.name, f"kill {kill} (seed {seed}): damaged object"
    assert resumed_runs > 0, f"no run found partial data to resume (seed {seed})"
    server.speed = None
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # "linked": a kill between storing a verified file and linking it into ComfyUI leaves it in the store only.
    assert set(json.loads(done.stdout)) <= {"downloaded", "present", "linked"}
    for name, data in files.items():
        assert (comfy / "models" / "loras" / name).read_bytes() == data
    assert not list(store.rglob("*.rigfit-part")) and not list(store.rglob("*.rigfit-journal"))


def test_a_second_process_on_the_same_file_is_told_to_wait(server: FileServer, tmp_path: Path) -> None:
    """Two installs sharing a store never write the same partial file."""
    from rigfit.shell.partfile import PartLock

    data = os.urandom(10_000)
    server.add("/lk.bin", data)
    spec = _spec(server, tmp_path, "lk.bin", data)
    with PartLock(spec.dest):
        [result] = _run([spec])
    assert isinstance(result, DownloadError) and "another rigfit process" in result.message
    assert server.log == []
    _ok(_run([spec])[0], data)


def test_killed_after_the_last_byte_publishes_without_asking_the_server(server: FileServer, tmp_path: Path) -> None:
    """A journal that says every byte is on disk (the process died before the rename): hash, verify, publish."""
    from rigfit.core.download_plan import Journal, Piece
    from rigfit.shell.partfile import write_journal

    data = os.urandom(50_000)
    server.add("/done.bin", data)
    spec = _spec(server, tmp_path, "done.bin", data)
    part_path(spec.dest).write_bytes(data)
    write_journal(spec.dest, Journal(spec.url, len(data), None, spec.sha256, (Piece(0, len(data), len(data)),)))
    [result] = _run([spec])
    assert _ok(result, data).resumed_bytes == len(data)
    assert server.log == []


def test_an_in_order_stream_is_hashed_from_memory_not_read_back(server: FileServer, tmp_path: Path) -> None:
    """One connection writes in order: the hasher takes the received buffers instead of re-reading the file."""
    from rigfit.shell.fetch import FileFetch

    data = os.urandom(2_000_000)
    server.add("/mem.bin", data)
    server.speed = 5_000_000  # a pace the hasher keeps up with even on a busy machine
    spec = _spec(server, tmp_path, "mem.bin", data)
    fetch = FileFetch(spec, Client(timeout=2), Tuning(segments=1, min_piece=4 << 20, buffer=64 * KIB),
                      lambda kind, msg: None, threading.Event())
    _ok(fetch.run(), data)
    assert fetch.hasher is not None and fetch.hasher.from_memory > len(data) // 2


def test_a_destination_that_cannot_be_written_is_a_clear_error_not_a_crash(server: FileServer,
                                                                          tmp_path: Path) -> None:
    server.add("/w.bin", b"x" * 100)
    (tmp_path / "blocker").write_text("a file where a folder should be")
    spec = FetchSpec(server.url("/w.bin"), tmp_path / "blocker" / "w.bin", 100, None, "loras/w.bin")
    [result] = _run([spec])
    assert isinstance(result, DownloadError) and result.message.startswith("cannot write loras/w.bin")
