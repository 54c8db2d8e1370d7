"""A ComfyUI folder on disk: its version, its model files, its node schema, and a short-lived live server.

The version comes from ``comfyui_version.py`` (``__version__ = "0.3.64"``) or ``pyproject.toml``; the node
schema from the bundled dump of the version rigfit was checked against, or from a running server's
``/object_info`` (``rigfit doctor --live``).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from rigfit.core.errors import VerifyError
from rigfit.core.folders import LEGACY_ALIASES
from rigfit.core.workflow_schema import Schema, parse_object_info, parse_pack_schemas

SCHEMA_VERSION = "0.3.64"
SCHEMA_COMMIT = "a125cd84b054a57729b5eecab930ca9408719832"
_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def detect_version(folder: Path) -> str | None:
    """ComfyUI's version in ``folder``; None when the folder is not a ComfyUI checkout."""
    if not (folder / "main.py").is_file():
        return None
    version_file = folder / "comfyui_version.py"
    if version_file.is_file():
        match = _VERSION.search(version_file.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1)
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except tomllib.TOMLDecodeError:
            project = {}
        if isinstance(project, dict) and isinstance(project.get("version"), str):
            return str(project["version"])
    return "unknown"


@lru_cache(maxsize=1)
def bundled_schema() -> Schema:
    """The node schema of ComfyUI 0.3.64 shipped with rigfit (empty file lists)."""
    text = (
        resources.files("rigfit.data")
        .joinpath("comfyui", f"object_info-{SCHEMA_VERSION}.json")
        .read_text("utf-8")
    )
    return parse_object_info(json.loads(text))


def bundled_pack_schemas() -> Schema:
    """The node-pack classes the starter workflows use, as read from each pack's source (shipped with rigfit)."""
    text = resources.files("rigfit.data").joinpath("comfyui", "node_packs-schema.json").read_text("utf-8")
    return parse_pack_schemas(json.loads(text))


def model_roots(comfyui: Path, store: Path | None) -> list[Path]:
    roots = [comfyui / "models"]
    if store is not None and store.resolve() != roots[0].resolve():
        roots.append(store)
    return roots


def installed_files(roots: Sequence[Path]) -> dict[str, list[str]]:
    """folder key -> file names below it (``sub/name`` with ``/``), over every root, as ComfyUI lists them."""
    out: dict[str, set[str]] = {}
    for root in roots:
        if not root.is_dir():
            continue
        for folder in root.iterdir():
            if not folder.is_dir():
                continue
            key = LEGACY_ALIASES.get(folder.name, folder.name)
            for path in folder.rglob("*"):
                if path.is_file() and ".git" not in path.parts and not path.name.startswith("."):
                    out.setdefault(key, set()).add(path.relative_to(folder).as_posix())
    return {k: sorted(v) for k, v in out.items()}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def live_server(python: Path, comfyui: Path, args: Sequence[str], *, timeout: float = 300.0) -> Iterator[str]:
    """Start ComfyUI on 127.0.0.1 at a free port; yield its base URL; stop it on exit.

    A long-running process cannot go through ``runner.run`` (which waits for the end); this is the one other
    place rigfit starts one, always stopped in ``finally``.
    """
    port = free_port()
    log = comfyui / "user" / "rigfit-doctor-live.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        str(python),
        "main.py",
        *args,
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-auto-launch",
    ]
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            argv, cwd=comfyui, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
                    raise VerifyError(
                        f"ComfyUI exited with {proc.returncode} while starting: {' | '.join(tail)}"
                    )
                try:
                    with urllib.request.urlopen(f"{base}/system_stats", timeout=2):
                        break
                except (urllib.error.URLError, OSError) as exc:
                    if time.monotonic() > deadline:
                        raise VerifyError(
                            f"ComfyUI did not answer on {base} within {timeout:.0f} s (log: {log})"
                        ) from exc
                    time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def fetch_object_info(base: str) -> Mapping[str, Any]:
    try:
        with urllib.request.urlopen(f"{base}/object_info", timeout=120) as answer:
            doc = json.loads(answer.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
        raise VerifyError(f"could not read {base}/object_info: {exc}") from exc
    if not isinstance(doc, dict):
        raise VerifyError(f"{base}/object_info is not a JSON object")
    return doc
