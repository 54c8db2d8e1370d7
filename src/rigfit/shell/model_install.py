"""The models step of ``rigfit install``: what is already there, what to download, and placing it all.

For each plan file, in order of preference: already in place (a link to the verified store object, or a
file whose size and hash match: adopted), in the store (linked), or downloaded into the store and linked.
A file of the same name with other content is moved aside to ``<name>.rigfit-mismatch`` (never deleted) and
reported. The whole bundle's remaining bytes are checked against free space before the first byte.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rigfit.core.download_plan import rewrite_for_endpoint
from rigfit.core.errors import DownloadError
from rigfit.core.plan import Plan, PlanFile
from rigfit.shell.download import Downloader, OnEvent, check_space
from rigfit.shell.fetch import Fetched, FetchSpec, Tuning
from rigfit.shell.http import Client
from rigfit.shell.store import Store


@dataclass(frozen=True, slots=True)
class FileOutcome:
    file: PlanFile
    status: str  # present | adopted | linked | downloaded | failed
    path: Path
    how: str | None = None  # hardlink | symlink | extra_model_paths | copy | in-place
    sha256: str | None = None
    verified_by: str | None = None  # sha256 | sha256-server | size
    downloaded_bytes: int = 0
    resumed_bytes: int = 0
    moved_aside: Path | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ModelsSettings:
    comfyui: Path
    store: Store
    jobs: int
    tuning: Tuning
    hf_token: str | None = None
    hf_endpoint: str | None = None
    timeout_s: float = 60.0
    free_space: Callable[[Path], int] | None = None  # a seam for tests; shutil.disk_usage otherwise


def _matches(store: Store, path: Path, f: PlanFile) -> str | None:
    """The sha256 of ``path`` when it is the plan's file (size, then hash when the plan has one)."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if f.bytes is not None and size != f.bytes:
        return None
    sha = store.sha_of(path)
    if f.sha256 is not None and sha != f.sha256:
        return None
    return sha


def _move_aside(path: Path) -> Path:
    for i in range(100):
        aside = path.with_name(path.name + (".rigfit-mismatch" if i == 0 else f".rigfit-mismatch{i}"))
        if not aside.exists() and not aside.is_symlink():
            path.replace(aside)
            return aside
    raise DownloadError(f"{path} has other content than the plan, and 100 earlier copies are already set aside; "
                        f"clean up {path.parent}")


def _existing(store: Store, f: PlanFile, target: Path, settings: ModelsSettings) -> FileOutcome | Path | None:
    """An outcome when ``target`` is already right; the aside path when it was wrong; None when absent."""
    if not target.exists() and not target.is_symlink():
        return None
    if target.is_symlink() and not target.exists():
        target.unlink()  # a dangling link (its store object was removed)
        return None
    sha = _matches(store, target, f)
    if sha is None:
        return _move_aside(target)
    obj = store.object_path(sha)
    if obj.exists() and obj.samefile(target):
        how = "symlink" if target.is_symlink() else "hardlink"
        return FileOutcome(f, "present", target, how, sha, "sha256" if f.sha256 else "size")
    adopted = store.adopt(target, sha)
    store.remember(target, sha)
    return FileOutcome(f, "adopted", target, "hardlink" if adopted else "in-place", sha,
                       "sha256" if f.sha256 else "size")


def install_models(plan: Plan, settings: ModelsSettings, *, on_event: OnEvent | None = None,
                   confirm: Callable[[int, int], bool] | None = None,
                   cancel: threading.Event | None = None) -> list[FileOutcome]:
    """Carry out the plan's files; every file gets an outcome (failures included, nothing raised for them).

    Raises ``DownloadError`` only before the first byte: not enough free space, or ``confirm`` said no.
    ``cancel`` (set from another thread) stops the downloads; partial data stays and resumes next time.
    """
    store = settings.store
    models = settings.comfyui / "models"
    outcomes: dict[int, FileOutcome] = {}
    to_fetch: list[tuple[int, PlanFile, FetchSpec]] = []
    for i, f in enumerate(plan.files):
        target = models / f.folder / f.filename
        found = _existing(store, f, target, settings)
        if isinstance(found, FileOutcome):
            outcomes[i] = found
            continue
        aside = found
        obj = store.has(f.sha256, f.bytes) if f.sha256 else None
        if obj is not None and aside is None and store.in_view(obj, f.folder, f.filename, settings.comfyui):
            outcomes[i] = FileOutcome(f, "present", target, "extra_model_paths", f.sha256, "sha256")
            continue
        if obj is not None:
            how = store.place(obj, target, comfyui=settings.comfyui, folder=f.folder)
            outcomes[i] = FileOutcome(f, "linked", target, how, f.sha256, "sha256", moved_aside=aside)
            continue
        url = rewrite_for_endpoint(f.url, settings.hf_endpoint)
        dest = (store.object_path(f.sha256) if f.sha256 else
                store.incoming_path(hashlib.sha256(url.encode()).hexdigest(), f.filename))
        to_fetch.append((i, f, FetchSpec(url, dest, f.bytes, f.sha256, f.relpath, origin_url=f.url)))
        if aside is not None:
            outcomes[i] = FileOutcome(f, "pending", target, moved_aside=aside)
    store.save()
    if to_fetch:
        # The same content listed under two names (one VAE in two folders) is downloaded once.
        unique: dict[Path, FetchSpec] = {}
        for _, _, spec in to_fetch:
            unique.setdefault(spec.dest, spec)
        specs = list(unique.values())
        check_space(specs, store.root, free=settings.free_space)
        total = sum(s.size or 0 for s in specs)
        if confirm is not None and not confirm(len(specs), total):
            raise DownloadError("cancelled: nothing was downloaded")
        client = Client(timeout=settings.timeout_s, token=settings.hf_token, hf_endpoint=settings.hf_endpoint)
        downloader = Downloader(client=client, jobs=settings.jobs, tuning=settings.tuning, on_event=on_event,
                                cancel=cancel)
        by_dest = dict(zip(unique, downloader.run(specs), strict=True))
        placed: set[Path] = set()
        for i, f, spec in to_fetch:
            target = models / f.folder / f.filename
            aside = outcomes[i].moved_aside if i in outcomes else None
            outcomes[i] = _finish(store, f, target, by_dest[spec.dest], settings, aside, again=spec.dest in placed)
            placed.add(spec.dest)
        store.save()
    return [outcomes[i] for i in range(len(plan.files))]


def _finish(store: Store, f: PlanFile, target: Path, result: Fetched | DownloadError, settings: ModelsSettings,
            aside: Path | None, *, again: bool) -> FileOutcome:
    """Move a download into the store and place it; ``again``: the same download placed under another name."""
    if isinstance(result, DownloadError):
        return FileOutcome(f, "failed", target, moved_aside=aside, error=result.message)
    try:
        obj = store.object_path(result.sha256)
        if result.path != obj and not again:
            store.add(result.path, result.sha256)
        store.remember(obj, result.sha256)
        how = store.place(obj, target, comfyui=settings.comfyui, folder=f.folder)
    except OSError as exc:
        return FileOutcome(f, "failed", target, sha256=result.sha256, moved_aside=aside,
                           error=f"downloaded and verified, but placing it at {target} failed: {exc}")
    if again:
        return FileOutcome(f, "linked", target, how, result.sha256, result.verified_by, moved_aside=aside)
    return FileOutcome(f, "downloaded", target, how, result.sha256, result.verified_by, result.fetched_bytes,
                       result.resumed_bytes, aside)
