"""The plan wire format ``rigfit.plan/1`` (see ``shared/design/CLI-CONTRACT.md``) as frozen values.

A plan is a lock file: what to download and where, which node packs at which commit, which Python packages,
and the launch flags. ``parse_plan`` checks everything at once and reports every problem in one
``PlanError``; a plan that parses is safe to act on (no file escapes its folder, no ``file://`` or plain
``http://`` URL except to loopback). ``plan_to_json`` is its exact inverse for the fields it knows.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rigfit.core.errors import PlanError
from rigfit.core.folders import canonical_folder, filename_problem, folder_problem

SCHEMA = "rigfit.plan/1"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# scheme://[userinfo@]host[:port][/path...]; host is a name, an IPv4 address or a bracketed IPv6 address.
_URL = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?:(?P<userinfo>[^@/?#]*)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?#\[\]@]+)(?::(?P<port>\d{1,5}))?(?P<rest>[/?#].*)?$"
)
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9\-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,62})?)*\.?$")


@dataclass(frozen=True, slots=True)
class PlanFile:
    """One model file: where it comes from, where it goes under ``models/``, and how to check it."""

    url: str
    filename: str
    folder: str
    bytes: int | None
    sha256: str | None
    license: str | None = None

    @property
    def relpath(self) -> str:
        """``folder/filename`` below ``ComfyUI/models``, with forward slashes."""
        return f"{self.folder}/{self.filename}"


@dataclass(frozen=True, slots=True)
class PlanNodePack:
    id: str
    repo: str
    commit: str | None


@dataclass(frozen=True, slots=True)
class PlanPython:
    torch_index: str | None
    requirements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    files: tuple[PlanFile, ...]
    node_packs: tuple[PlanNodePack, ...] = ()
    python: PlanPython | None = None
    launch_args: tuple[str, ...] = ()
    # The recommendation engine's per-preset details; carried through unchanged (JSON values), not hashed.
    presets: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)

    @property
    def total_bytes(self) -> int:
        """Sum of the known file sizes (files of unknown size count 0)."""
        return sum(f.bytes or 0 for f in self.files)


@dataclass(frozen=True, slots=True)
class UrlParts:
    scheme: str
    host: str  # lower case; IPv6 without brackets
    port: int | None
    target: str  # path + query, at least "/"


def split_url(url: str) -> UrlParts | None:
    """Split an absolute http(s) URL; None when it is not one (no other parser: the core has no urllib)."""
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return None
    match = _URL.match(url)
    if not match:
        return None
    host = match.group("host").lower()
    if host.startswith("["):
        host = host[1:-1]
    port = int(match.group("port")) if match.group("port") else None
    if port is not None and not 0 < port < 65536:
        return None
    rest = match.group("rest") or "/"
    target = rest.split("#", 1)[0]
    if target.startswith("?"):
        target = "/" + target
    return UrlParts(match.group("scheme").lower(), host, port, target or "/")


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ``localhost`` and ``::1`` (host as ``split_url`` returns it)."""
    if host in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: object) -> str | None:
    """Why ``url`` may not be fetched: only ``https://``, or ``http://`` to a loopback host; no credentials."""
    if not isinstance(url, str) or not url:
        return "url must be a non-empty string"
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", url)
    if scheme and scheme.group(1).lower() not in {"https", "http"}:
        return f"url {url!r} uses {scheme.group(1)}:; only https:// is allowed"
    match = _URL.match(url)
    parts = split_url(url)
    if parts is None or match is None:
        return f"url {url!r} is not an absolute http(s) URL"
    if match.group("userinfo") is not None:
        return f"url {url!r} carries credentials; use HF_TOKEN instead of putting them in the plan"
    if ":" in parts.host:
        try:
            ipaddress.IPv6Address(parts.host)
        except ValueError:
            return f"url {url!r} has an invalid IPv6 host"
    elif not _HOSTNAME.match(parts.host):
        return f"url {url!r} has an invalid host name"
    if parts.scheme == "http" and not is_loopback_host(parts.host):
        return f"url {url!r} uses plain http://; only https:// is allowed (http:// only for loopback hosts)"
    return None


def _str(value: object, where: str, problems: list[str], *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        problems.append(f"{where}: must be a non-empty string")
        return None
    return value


def _parse_file(raw: object, where: str, problems: list[str]) -> PlanFile | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be an object")
        return None
    before = len(problems)
    url = raw.get("url")
    if (msg := url_problem(url)) is not None:
        problems.append(f"{where}.url: {msg}")
    filename = _str(raw.get("filename"), f"{where}.filename", problems)
    if filename is not None and (msg := filename_problem(filename)) is not None:
        problems.append(f"{where}.filename: {msg}")
    folder = _str(raw.get("folder"), f"{where}.folder", problems)
    if folder is not None and (msg := folder_problem(folder)) is not None:
        problems.append(f"{where}.folder: {msg}")
    size = raw.get("bytes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        problems.append(f"{where}.bytes: must be a non-negative integer or null, got {size!r}")
    sha = raw.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.match(sha.lower())):
        problems.append(f"{where}.sha256: must be 64 hexadecimal digits or null, got {sha!r}")
    lic = raw.get("license")
    if lic is not None and not isinstance(lic, str):
        problems.append(f"{where}.license: must be a string or null")
    if len(problems) > before:
        return None
    assert isinstance(url, str) and filename is not None and folder is not None
    return PlanFile(
        url=url,
        filename=filename,
        folder=canonical_folder(folder),
        bytes=size if isinstance(size, int) else None,
        sha256=sha.lower() if isinstance(sha, str) else None,
        license=lic if isinstance(lic, str) else None,
    )


def _parse_node_pack(raw: object, where: str, problems: list[str]) -> PlanNodePack | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be an object")
        return None
    before = len(problems)
    pack_id = _str(raw.get("id"), f"{where}.id", problems)
    repo = _str(raw.get("repo"), f"{where}.repo", problems)
    if repo is not None and (msg := url_problem(repo)) is not None:
        problems.append(f"{where}.repo: {msg}")
    commit = _str(raw.get("commit"), f"{where}.commit", problems, optional=True)
    if len(problems) > before or pack_id is None or repo is None:
        return None
    return PlanNodePack(pack_id, repo, commit)


def _parse_python(raw: object, problems: list[str]) -> PlanPython | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append("python: must be an object")
        return None
    index = raw.get("torch_index")
    if index is not None and (msg := url_problem(index)) is not None:
        problems.append(f"python.torch_index: {msg}")
    reqs = raw.get("requirements", [])
    if not isinstance(reqs, Sequence) or isinstance(reqs, str) or not all(isinstance(r, str) and r for r in reqs):
        problems.append("python.requirements: must be a list of non-empty strings")
        reqs = []
    return PlanPython(index if isinstance(index, str) else None, tuple(reqs))


def _list(doc: Mapping[str, Any], key: str, problems: list[str]) -> Sequence[object]:
    value = doc.get(key, [])
    if not isinstance(value, list | tuple):
        problems.append(f"{key}: must be a list")
        return []
    return value


def parse_plan(doc: object, *, source: str) -> Plan:
    """Validate a decoded ``plan.json``; every problem is reported at once (``source:key: message``)."""
    problems: list[str] = []
    if not isinstance(doc, Mapping):
        raise PlanError(f"{source}: a plan must be a JSON object")
    if doc.get("schema") != SCHEMA:
        problems.append(f"schema: must be {SCHEMA!r}, got {doc.get('schema')!r}")
    files: list[PlanFile] = []
    seen: dict[str, PlanFile] = {}
    for i, raw in enumerate(_list(doc, "files", problems)):
        parsed = _parse_file(raw, f"files[{i}]", problems)
        if parsed is None:
            continue
        # Case-folded: two names that differ only in case are the same file on Windows and macOS.
        key = parsed.relpath.lower()
        if key in seen:
            if seen[key] != parsed:
                problems.append(f"files[{i}]: {parsed.relpath} is listed twice with different contents")
            continue
        seen[key] = parsed
        files.append(parsed)
    packs = [
        p
        for i, raw in enumerate(_list(doc, "node_packs", problems))
        if (p := _parse_node_pack(raw, f"node_packs[{i}]", problems)) is not None
    ]
    python = _parse_python(doc.get("python"), problems)
    launch = _list(doc, "launch_args", problems)
    if not all(isinstance(a, str) for a in launch):
        problems.append("launch_args: must be a list of strings")
        launch = []
    presets = _list(doc, "presets", problems)
    if not all(isinstance(p, Mapping) for p in presets):
        problems.append("presets: must be a list of objects")
        presets = []
    if problems:
        raise PlanProblems(source, problems)
    return Plan(
        files=tuple(files),
        node_packs=tuple(packs),
        python=python,
        launch_args=tuple(str(a) for a in launch),
        presets=tuple(copy.deepcopy(dict(p)) for p in presets if isinstance(p, Mapping)),
    )


class PlanProblems(PlanError):
    """A plan with one or more problems; ``problems`` lists each as ``key: message``."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        more = f" (and {count - 1} more: " + "; ".join(self.problems[1:]) + ")" if count > 1 else ""
        super().__init__(f"{source}: {self.problems[0]}{more}")


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The JSON document for ``plan`` (``parse_plan(plan_to_json(p), source=...) == p``)."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "files": [
            {
                "url": f.url,
                "filename": f.filename,
                "folder": f.folder,
                "bytes": f.bytes,
                "sha256": f.sha256,
                **({"license": f.license} if f.license is not None else {}),
            }
            for f in plan.files
        ],
        "node_packs": [{"id": p.id, "repo": p.repo, "commit": p.commit} for p in plan.node_packs],
        "python": None
        if plan.python is None
        else {"torch_index": plan.python.torch_index, "requirements": list(plan.python.requirements)},
        "launch_args": list(plan.launch_args),
        "presets": [copy.deepcopy(dict(p)) for p in plan.presets],
    }
    return doc
