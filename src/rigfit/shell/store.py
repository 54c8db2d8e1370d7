"""The shared, content-addressed model store and how its files appear in ``ComfyUI/models``.

Layout under the store root (``paths.data_dir()/store`` unless ``--models-dir`` moves it)::

    objects/sha256/ab/<sha256>      every model file, once
    incoming/<key>-<filename>       downloads whose hash is known only at the end (plans without sha256)
    view/<folder>/<filename>        hard links to objects, only for ``extra_model_paths.yaml`` (see below)
    index.json                      the stat cache: "<dev>:<inode>" → size, mtime_ns, sha256

How a file appears in ``ComfyUI/models/<folder>/<filename>``, tried in this order:

1. **Hard link** when store and ComfyUI are on the same file system (every platform; NTFS hard links need no
   special rights). ComfyUI sees an ordinary file, no link can dangle, and deleting it in ComfyUI (or
   ComfyUI-Manager) removes only that name, never the store's copy.
2. **Symbolic link** to the object when they are on different drives. ComfyUI lists models with
   ``os.walk(followlinks=True)`` (``comfyui-facts.md`` §2), so links are followed. On Windows this needs
   Developer Mode or administrator rights; without them ``os.symlink`` fails and we go on to 3.
3. **extra_model_paths.yaml**: a hard link under ``view/<folder>/`` (same drive as the store, so always
   possible) and a ``rigfit_store`` section in ``<ComfyUI>/extra_model_paths.yaml``, which ComfyUI always
   loads (``comfyui-facts.md`` §3), pointing each folder key at ``view/<folder>``. Only for ComfyUI's own
   single-level folder keys; anything else falls back to 4.
4. **Copy** (the last resort: correct, but it uses the space twice).

The stat cache makes re-verifying an unchanged store a ``stat`` per file: an entry is trusted while the
file's size, ``mtime_ns`` and inode are unchanged; anything else is hashed again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import threading
from pathlib import Path

from rigfit.core.folders import COMFYUI_FOLDERS

_HASH_BLOCK = 8 << 20
_OBJECT_NAME = re.compile(r"^[0-9a-f]{64}$")
_MARK_BEGIN = "# >>> rigfit model store (written by rigfit; this block is replaced on each install)"
_MARK_END = "# <<< rigfit model store"
LINK_MODES = ("hardlink", "symlink", "extra_model_paths", "copy")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    buf = bytearray(_HASH_BLOCK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


class Store:
    def __init__(self, root: Path, *, link_modes: tuple[str, ...] = LINK_MODES) -> None:
        self.root = root
        self.link_modes = link_modes  # tests narrow this to exercise each fallback
        self._lock = threading.Lock()
        self._index: dict[str, dict[str, int | str]] | None = None

    # ---- layout ------------------------------------------------------------------------------------
    def object_path(self, sha256: str) -> Path:
        return self.root / "objects" / "sha256" / sha256[:2] / sha256

    def incoming_path(self, key: str, filename: str) -> Path:
        return self.root / "incoming" / f"{key[:16]}-{filename}"

    def view_dir(self) -> Path:
        return self.root / "view"

    # ---- stat cache --------------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.root / "index.json"

    def _load(self) -> dict[str, dict[str, int | str]]:
        if self._index is None:
            try:
                doc = json.loads(self.index_path.read_text(encoding="utf-8"))
                self._index = dict(doc.get("files", {})) if isinstance(doc, dict) else {}
            except (OSError, ValueError):
                self._index = {}
        return self._index

    def save(self) -> None:
        with self._lock:
            index = self._load()
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = self.index_path.with_name("index.json.tmp")
            tmp.write_text(json.dumps({"schema": "rigfit.store-index/1", "files": index}), encoding="utf-8")
            tmp.replace(self.index_path)

    @staticmethod
    def _key(st: os.stat_result) -> str:
        return f"{st.st_dev}:{st.st_ino}"

    def cached_sha(self, path: Path) -> str | None:
        """The sha256 of ``path`` when the cache knows this exact file unchanged (one ``stat``); else None."""
        try:
            st = path.stat()
        except OSError:
            return None
        with self._lock:
            entry = self._load().get(self._key(st))
        if entry and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            sha = entry.get("sha256")
            return sha if isinstance(sha, str) else None
        return None

    def remember(self, path: Path, sha256: str) -> None:
        st = path.stat()
        with self._lock:
            self._load()[self._key(st)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}

    def sha_of(self, path: Path) -> str:
        """sha256 of ``path``: from the cache when unchanged, else hashed now (and cached)."""
        cached = self.cached_sha(path)
        if cached is not None:
            return cached
        sha = sha256_file(path)
        self.remember(path, sha)
        return sha

    def verify_all(self) -> tuple[int, int, list[Path]]:
        """(objects checked, bytes, objects whose content no longer matches their name)."""
        bad: list[Path] = []
        count = total = 0
        base = self.root / "objects" / "sha256"
        if base.is_dir():
            for sub in sorted(base.iterdir()):
                for obj in sorted(sub.iterdir()):
                    if not _OBJECT_NAME.match(obj.name):
                        continue  # partial data, journals and locks of downloads in progress
                    count += 1
                    total += obj.stat().st_size
                    if self.sha_of(obj) != obj.name:
                        bad.append(obj)
        self.save()
        return count, total, bad

    # ---- objects -----------------------------------------------------------------------------------
    def has(self, sha256: str, size: int | None) -> Path | None:
        """The object for ``sha256`` when present and intact (size, then hash via the cache)."""
        obj = self.object_path(sha256)
        try:
            st = obj.stat()
        except OSError:
            return None
        if size is not None and st.st_size != size:
            return None
        if self.sha_of(obj) != sha256:
            obj.unlink()  # damaged on disk: it will be downloaded again
            return None
        return obj

    def add(self, path: Path, sha256: str) -> Path:
        """Make ``path`` (verified content) the object for ``sha256``: moved, or hard-linked when ``keep``."""
        obj = self.object_path(sha256)
        obj.parent.mkdir(parents=True, exist_ok=True)
        if obj.exists():
            path.unlink()
        else:
            path.replace(obj)
        self.remember(obj, sha256)
        return obj

    def adopt(self, path: Path, sha256: str) -> Path | None:
        """Take a verified file found in ``models/`` into the store as a hard link; None on another drive."""
        obj = self.object_path(sha256)
        if obj.exists():
            return obj
        obj.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, obj)
        except OSError:
            return None
        self.remember(obj, sha256)
        return obj

    # ---- placing files in ComfyUI ------------------------------------------------------------------
    def place(self, obj: Path, target: Path, *, comfyui: Path, folder: str) -> str:
        """Make ``target`` show ``obj``; returns how (one of ``LINK_MODES``). Atomic: a temp name, then replace."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".rigfit-link")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        for mode in self.link_modes:
            try:
                if mode == "hardlink":
                    os.link(obj, tmp)
                elif mode == "symlink":
                    tmp.symlink_to(obj.resolve())
                elif mode == "extra_model_paths":
                    if "/" in folder or folder not in COMFYUI_FOLDERS:
                        continue
                    self._place_in_view(obj, folder, target.name)
                    write_extra_model_paths(comfyui, self.view_dir(), self._view_folders())
                    return mode
                else:
                    shutil.copyfile(obj, tmp)
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    raise
                continue
            tmp.replace(target)
            return mode
        raise OSError(f"could not place {target} in any way ({', '.join(self.link_modes)})")

    def in_view(self, obj: Path, folder: str, filename: str, comfyui: Path) -> bool:
        """Whether ``obj`` already reaches ComfyUI through the view and rigfit's extra_model_paths section."""
        view = self.view_dir() / folder / filename
        try:
            linked = view.samefile(obj)
            text = (comfyui / "extra_model_paths.yaml").read_text(encoding="utf-8")
        except OSError:
            return False
        return linked and _MARK_BEGIN in text and f"    {folder}: " in text

    def _place_in_view(self, obj: Path, folder: str, filename: str) -> None:
        dest = self.view_dir() / folder / filename
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".rigfit-link")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.link(obj, tmp)
        tmp.replace(dest)

    def _view_folders(self) -> list[str]:
        view = self.view_dir()
        return sorted(p.name for p in view.iterdir() if p.is_dir()) if view.is_dir() else []


def _yaml_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_extra_model_paths(comfyui: Path, base: Path, folders: list[str]) -> Path:
    """Write (or replace) rigfit's section of ``<ComfyUI>/extra_model_paths.yaml``; other sections stay."""
    path = comfyui / "extra_model_paths.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    lines = text.splitlines()
    if _MARK_BEGIN in lines and _MARK_END in lines:
        start, end = lines.index(_MARK_BEGIN), lines.index(_MARK_END)
        lines = lines[:start] + lines[end + 1 :]
    block = [_MARK_BEGIN, "rigfit_store:", f"    base_path: {_yaml_quote(str(base))}"]
    block += [f"    {folder}: {_yaml_quote(folder)}" for folder in folders]
    block.append(_MARK_END)
    body = "\n".join([*lines, *block]) + "\n"
    tmp = path.with_name(path.name + ".rigfit-tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)
    return path
