"""The model store: one copy per content, placed in ComfyUI/models by each link mode, adoption, stat cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fixtures.fileserver import FileServer, sha256_hex
from rigfit.core.plan import Plan, PlanFile
from rigfit.shell import store as store_module
from rigfit.shell.fetch import Tuning
from rigfit.shell.model_install import FileOutcome, ModelsSettings, install_models
from rigfit.shell.store import Store, write_extra_model_paths


def _plan(srv: FileServer, files: dict[str, bytes], *, folder: str = "loras", sha: bool = True) -> Plan:
    for name, data in files.items():
        srv.add(f"/{name}", data)
    return Plan(tuple(PlanFile(srv.url(f"/{n}"), n, folder, len(d), sha256_hex(d) if sha else None)
                      for n, d in files.items()))


def _install(plan: Plan, comfy: Path, store: Store) -> list[FileOutcome]:
    settings = ModelsSettings(comfyui=comfy, store=store, jobs=2, tuning=Tuning(segments=2), timeout_s=5,
                              free_space=lambda _: 10**12)
    return install_models(plan, settings)


def test_a_file_is_stored_once_and_hard_linked_into_two_comfyui_installs(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(100_000)
    plan = _plan(server, {"a.safetensors": data})
    store = Store(tmp_path / "store")
    first = _install(plan, tmp_path / "c1", store)
    second = _install(plan, tmp_path / "c2", store)
    assert [o.status for o in first] == ["downloaded"] and first[0].how == "hardlink"
    assert [o.status for o in second] == ["linked"] and second[0].how == "hardlink"
    assert len(server.requests("/a.safetensors")) == 1  # the second install downloads nothing
    obj = store.object_path(sha256_hex(data))
    for comfy in ("c1", "c2"):
        placed = tmp_path / comfy / "models" / "loras" / "a.safetensors"
        assert placed.read_bytes() == data and placed.samefile(obj)
    assert obj.stat().st_nlink == 3


def test_rerun_reports_present_and_touches_nothing(server: FileServer, tmp_path: Path) -> None:
    plan = _plan(server, {"a.safetensors": os.urandom(50_000), "b.safetensors": os.urandom(60_000)}, sha=False)
    store = Store(tmp_path / "store")
    _install(plan, tmp_path / "c", store)
    server.log.clear()
    again = _install(plan, tmp_path / "c", Store(tmp_path / "store"))
    assert [o.status for o in again] == ["present", "present"]
    assert server.log == []


def test_a_plan_without_hash_is_stored_under_the_computed_hash(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(70_000)
    plan = _plan(server, {"n.safetensors": data}, sha=False)
    store = Store(tmp_path / "store")
    [out] = _install(plan, tmp_path / "c", store)
    assert out.sha256 == sha256_hex(data) and out.verified_by == "size"
    assert store.object_path(sha256_hex(data)).read_bytes() == data
    assert list((store.root / "incoming").iterdir()) == []


def test_a_file_already_in_models_is_adopted_not_downloaded(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(80_000)
    plan = _plan(server, {"a.safetensors": data})
    placed = tmp_path / "c" / "models" / "loras" / "a.safetensors"
    placed.parent.mkdir(parents=True)
    placed.write_bytes(data)
    store = Store(tmp_path / "store")
    [out] = _install(plan, tmp_path / "c", store)
    assert out.status == "adopted" and out.how == "hardlink"
    assert server.log == []
    assert store.object_path(sha256_hex(data)).samefile(placed)  # now deduplicated with future installs


@pytest.mark.parametrize("damage", ["truncated", "same-size-other-bytes"])
def test_a_wrong_file_of_the_same_name_is_moved_aside_and_replaced(server: FileServer, tmp_path: Path,
                                                                   damage: str) -> None:
    data = os.urandom(80_000)
    plan = _plan(server, {"a.safetensors": data})
    placed = tmp_path / "c" / "models" / "loras" / "a.safetensors"
    placed.parent.mkdir(parents=True)
    wrong = data[:40_000] if damage == "truncated" else os.urandom(80_000)
    placed.write_bytes(wrong)
    [out] = _install(plan, tmp_path / "c", Store(tmp_path / "store"))
    assert out.status == "downloaded" and placed.read_bytes() == data
    assert out.moved_aside is not None and out.moved_aside.read_bytes() == wrong  # never deleted


def test_a_damaged_store_object_is_downloaded_again(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(90_000)
    plan = _plan(server, {"a.safetensors": data})
    store = Store(tmp_path / "store")
    _install(plan, tmp_path / "c1", store)
    obj = store.object_path(sha256_hex(data))
    obj.write_bytes(b"\0" * len(data))  # bit rot; also changes mtime, so the cache no longer vouches for it
    [out] = _install(plan, tmp_path / "c2", Store(tmp_path / "store"))
    assert out.status == "downloaded"
    assert (tmp_path / "c2" / "models" / "loras" / "a.safetensors").read_bytes() == data


def test_symlink_when_the_store_is_on_another_file_system(server: FileServer, tmp_path: Path) -> None:
    other = Path("/dev/shm")
    if not other.is_dir() or other.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system to put the store on")
    root = other / f"rigfit-test-store-{os.getpid()}"
    try:
        data = os.urandom(50_000)
        plan = _plan(server, {"a.safetensors": data})
        [out] = _install(plan, tmp_path / "c", Store(root))
        placed = tmp_path / "c" / "models" / "loras" / "a.safetensors"
        assert out.how == "symlink" and placed.is_symlink() and placed.read_bytes() == data
        [again] = _install(plan, tmp_path / "c", Store(root))
        assert again.status == "present" and again.how == "symlink"
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def test_without_links_extra_model_paths_points_comfyui_at_the_store(server: FileServer, tmp_path: Path) -> None:
    """Windows without symlink rights and the store on another drive: a view of hard links inside the store
    and a rigfit section in extra_model_paths.yaml; the user's own sections stay."""
    comfy = tmp_path / "c"
    comfy.mkdir()
    (comfy / "extra_model_paths.yaml").write_text("mine:\n    base_path: /x\n    loras: loras\n")
    data = os.urandom(40_000)
    plan = _plan(server, {"a.safetensors": data}, folder="vae")
    store = Store(tmp_path / "store", link_modes=("extra_model_paths", "copy"))
    [out] = _install(plan, comfy, store)
    assert out.how == "extra_model_paths"
    assert not (comfy / "models" / "vae" / "a.safetensors").exists()
    view = store.view_dir() / "vae" / "a.safetensors"
    assert view.samefile(store.object_path(sha256_hex(data)))
    text = (comfy / "extra_model_paths.yaml").read_text()
    assert text.startswith("mine:\n    base_path: /x\n    loras: loras\n")
    assert f"rigfit_store:\n    base_path: '{store.view_dir()}'\n    vae: 'vae'\n" in text
    [again] = _install(plan, comfy, Store(tmp_path / "store", link_modes=("extra_model_paths", "copy")))
    assert again.status == "present"
    assert (comfy / "extra_model_paths.yaml").read_text() == text


def test_rewriting_the_extra_model_paths_section_replaces_it(tmp_path: Path) -> None:
    write_extra_model_paths(tmp_path, Path("/s/view"), ["vae"])
    write_extra_model_paths(tmp_path, Path("/s/it's"), ["loras", "vae"])
    text = (tmp_path / "extra_model_paths.yaml").read_text()
    assert text.count("rigfit_store:") == 1
    assert "base_path: '/s/it''s'" in text and "    loras: 'loras'" in text


def test_a_nested_custom_folder_falls_back_to_a_copy(server: FileServer, tmp_path: Path) -> None:
    data = os.urandom(30_000)
    plan = _plan(server, {"face.pt": data}, folder="ultralytics/bbox")
    [out] = _install(plan, tmp_path / "c", Store(tmp_path / "store", link_modes=("extra_model_paths", "copy")))
    placed = tmp_path / "c" / "models" / "ultralytics" / "bbox" / "face.pt"
    assert out.how == "copy" and placed.read_bytes() == data and not placed.is_symlink()


def test_the_stat_cache_skips_hashing_an_unchanged_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "store")
    datas = [os.urandom(20_000) for _ in range(3)]
    for data in datas:
        incoming = tmp_path / "in"
        incoming.write_bytes(data)
        store.add(incoming, sha256_hex(data))
    store.save()
    calls: list[Path] = []
    real = store_module.sha256_file
    monkeypatch.setattr(store_module, "sha256_file", lambda p: calls.append(p) or real(p))
    count, total, bad = Store(tmp_path / "store").verify_all()
    assert (count, total, bad, calls) == (3, 60_000, [], [])
    # Changed content with a new mtime: hashed again, and found bad.
    victim = store.object_path(sha256_hex(datas[0]))
    victim.write_bytes(b"x" * 20_000)
    count, _, bad = Store(tmp_path / "store").verify_all()
    assert bad == [victim] and calls == [victim]


def test_cancel_stops_the_models_step_and_the_next_run_resumes(server: FileServer, tmp_path: Path) -> None:
    """The GUI's Cancel button: an Event set from another thread; partial data stays for the next call."""
    import threading

    data = os.urandom(600_000)
    plan = _plan(server, {"c.safetensors": data})
    server.speed = 400_000
    cancel = threading.Event()
    settings = ModelsSettings(comfyui=tmp_path / "c", store=Store(tmp_path / "store"), jobs=1,
                              tuning=Tuning(segments=2, min_piece=64 * 1024, max_piece=128 * 1024,
                                            checkpoint_s=0.05), timeout_s=5, free_space=lambda _: 10**12)
    [out] = install_models(plan, settings, cancel=cancel,
                           on_event=lambda e: cancel.set() if e.done > len(data) // 3 else None)
    assert out.status == "failed" and "cancelled" in (out.error or "")
    assert not (tmp_path / "c" / "models" / "loras" / "c.safetensors").exists()
    server.speed = None
    [again] = install_models(plan, ModelsSettings(comfyui=tmp_path / "c", store=Store(tmp_path / "store"),
                                                  jobs=1, tuning=Tuning(), timeout_s=5, free_space=lambda _: 10**12))
    assert again.status == "downloaded" and again.resumed_bytes > 0
    assert (tmp_path / "c" / "models" / "loras" / "c.safetensors").read_bytes() == data


@pytest.mark.parametrize("sha", [True, False], ids=["with-sha", "without-sha"])
def test_one_content_under_two_names_is_downloaded_once(server: FileServer, tmp_path: Path, sha: bool) -> None:
    data = os.urandom(120_000)
    server.add("/vae.safetensors", data)
    url = server.url("/vae.safetensors")
    digest = sha256_hex(data) if sha else None
    plan = Plan((PlanFile(url, "vae.safetensors", "vae", len(data), digest),
                 PlanFile(url, "vae.safetensors", "checkpoints", len(data), digest)))
    outs = _install(plan, tmp_path / "c", Store(tmp_path / "store"))
    assert [o.status for o in outs] == ["downloaded", "linked"]
    assert sum(o.downloaded_bytes for o in outs) == len(data)
    for folder in ("vae", "checkpoints"):
        assert (tmp_path / "c" / "models" / folder / "vae.safetensors").read_bytes() == data
    assert len({r.headers["range"] for r in server.requests("/vae.safetensors")}) == len(
        server.requests("/vae.safetensors"))  # no byte range fetched twice


def test_a_right_file_on_another_drive_is_adopted_in_place(server: FileServer, tmp_path: Path) -> None:
    other = Path("/dev/shm")
    if not other.is_dir() or other.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system for the ComfyUI folder")
    import shutil

    comfy = other / f"rigfit-test-comfy-{os.getpid()}"
    try:
        data = os.urandom(40_000)
        plan = _plan(server, {"a.safetensors": data})
        placed = comfy / "models" / "loras" / "a.safetensors"
        placed.parent.mkdir(parents=True)
        placed.write_bytes(data)
        [out] = _install(plan, comfy, Store(tmp_path / "store"))
        assert (out.status, out.how) == ("adopted", "in-place")
        assert server.log == [] and placed.read_bytes() == data and not placed.is_symlink()
    finally:
        shutil.rmtree(comfy, ignore_errors=True)
