"""Node-pack requirement lines: parsed, screened and kept with the pack and line they came from.

A small PEP 508 parser lives here instead of ``packaging.requirements``: that module imports
``packaging.tags`` and through it ``subprocess``, which the pure core may not load, and resolution itself is
uv's job. What rigfit needs is the name, extras, specifiers, marker and URL of each line, and a firm "no" for
lines that are not requirements. The grammar follows PEP 508 and pip's requirements-file format
(https://pip.pypa.io/en/stable/reference/requirements-file-format/).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, NamedTuple

_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_VERSION = re.compile(
    r"v?(?:\d+!)?\d+(?:\.\d+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?"
    r"(?:-\d+|[-_.]?(?:post|rev|r)[-_.]?\d*)?"
    r"(?:[-_.]?dev[-_.]?\d*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?",
    re.IGNORECASE,
)
_SPEC = re.compile(r"\s*(===|~=|==|!=|<=|>=|<|>)\s*([^\s,;()=<>!~][^\s,;()]*)\s*")
_MARKER_VARS = frozenset(
    {
        "python_version", "python_full_version", "os_name", "sys_platform", "platform_release",
        "platform_system", "platform_version", "platform_machine", "platform_python_implementation",
        "implementation_name", "implementation_version", "extra", "dependency_groups", "extras",
        # legacy spellings pip still accepts
        "os.name", "sys.platform", "platform.version", "platform.machine", "platform.python_implementation",
        "python_implementation",
    }
)
_MARKER_TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^']*'|\"[^\"]*\")|(?P<op>===|~=|==|!=|<=|>=|<|>|not\s+in\b|in\b)"
    r"|(?P<bool>and\b|or\b)|(?P<paren>[()])|(?P<var>[A-Za-z_][A-Za-z0-9_.]*))"
)
# Options that may follow a requirement on the same line; only --hash is harmless (it narrows, never widens).
_HASH_OPTION = re.compile(r"\s--hash[=\s]\S+")
_LINE_OPTION = re.compile(r"\s(--[a-z-]+)")

RefusalKind = Literal["source", "include", "direct-url", "option", "malformed"]


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name: ``Opencv_Python`` → ``opencv-python``."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Origin(NamedTuple):
    """Where a line came from: the node pack, the file (or ``catalog``) and the 1-based line number."""

    pack: str
    source: str
    line: int

    def __str__(self) -> str:
        return f"{self.pack}/{self.source}:{self.line}"


class Requirement(NamedTuple):
    """One PEP 508 requirement; ``specifier`` is normalised text such as ``>=1.26,<2``."""

    name: str
    extras: tuple[str, ...] = ()
    specifier: str = ""
    marker: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        text = f"{self.name}{extras}"
        text += f" @ {self.url}" if self.url else self.specifier
        if self.marker:
            text += f" ; {self.marker}"
        return text


class Declared(NamedTuple):
    """A requirement a node pack asks for, with its origin."""

    requirement: Requirement
    origin: Origin


class Refused(NamedTuple):
    """A line that will not be resolved, and why."""

    origin: Origin
    text: str
    kind: RefusalKind
    reason: str

    def as_dict(self) -> dict[str, str | int]:
        return {"pack": self.origin.pack, "source": self.origin.source, "line": self.origin.line,
                "text": self.text, "kind": self.kind, "reason": self.reason}


class Screened(NamedTuple):
    """Requirements kept, lines refused, and (only when unsafe lines are allowed) the extra sources they name."""

    declared: tuple[Declared, ...] = ()
    refused: tuple[Refused, ...] = ()
    includes: tuple[tuple[Origin, str, bool], ...] = ()  # (origin, relative path, is_constraint)
    index_options: tuple[str, ...] = ()

    def merged(self, other: Screened) -> Screened:
        """This and ``other`` together (a NamedTuple's ``+`` would concatenate the fields)."""
        return Screened(self.declared + other.declared, self.refused + other.refused,
                        self.includes + other.includes, self.index_options + other.index_options)

    def packs(self) -> tuple[str, ...]:
        """Pack ids in first-seen order."""
        return tuple(dict.fromkeys(d.origin.pack for d in self.declared))


def _check_marker(text: str) -> None:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _MARKER_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"unexpected text in marker at {text[pos:].strip()[:20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    index = 0

    def value() -> None:
        nonlocal index
        if index >= len(tokens):
            raise ValueError("marker ends early")
        kind, token = tokens[index]
        if kind == "var" and token not in _MARKER_VARS:
            raise ValueError(f"unknown marker variable {token!r}")
        if kind not in {"var", "str"}:
            raise ValueError(f"expected a marker variable or string, got {token!r}")
        index += 1

    def atom() -> None:
        nonlocal index
        if index < len(tokens) and tokens[index] == ("paren", "("):
            index += 1
            expr()
            if index >= len(tokens) or tokens[index] != ("paren", ")"):
                raise ValueError("unbalanced parenthesis in marker")
            index += 1
            return
        value()
        if index >= len(tokens) or tokens[index][0] != "op":
            raise ValueError("marker comparison lacks an operator")
        index += 1
        value()

    def expr() -> None:
        nonlocal index
        atom()
        while index < len(tokens) and tokens[index][0] == "bool":
            index += 1
            atom()

    expr()
    if index != len(tokens):
        raise ValueError(f"unexpected {tokens[index][1]!r} in marker")


def _parse_specifiers(text: str) -> str:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    if not text.strip():
        return ""
    parts: list[str] = []
    for piece in text.split(","):
        match = _SPEC.fullmatch(piece)
        if match is None:
            raise ValueError(f"invalid version specifier {piece.strip()!r}")
        op, version = match.groups()
        if op != "===":
            core = version[:-2] if version.endswith(".*") and op in {"==", "!="} else version
            if not _VERSION.fullmatch(core):
                raise ValueError(f"invalid version {version!r}")
            if op == "~=" and "." not in core.split("+")[0]:
                raise ValueError(f"'~=' needs at least two version parts, got {version!r}")
        parts.append(op + version)
    return ",".join(parts)


def parse_requirement(text: str) -> Requirement:
    """Parse one PEP 508 requirement; raises ``ValueError`` saying what is wrong."""
    body, _, marker = text.partition(";")
    body = body.strip()
    match = _NAME.match(body)
    if match is None:
        raise ValueError("does not start with a package name")
    name = canonical_name(match.group(0))
    rest = body[match.end():].strip()
    extras: tuple[str, ...] = ()
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            raise ValueError("unclosed extras bracket")
        names = [e.strip() for e in rest[1:close].split(",") if e.strip()]
        if any(_NAME.fullmatch(e) is None for e in names):
            raise ValueError(f"invalid extras {rest[: close + 1]!r}")
        extras = tuple(sorted(canonical_name(e) for e in names))
        rest = rest[close + 1:].strip()
    url = None
    specifier = ""
    if rest.startswith("@"):
        # ' ;' ends a URL only when preceded by whitespace (PEP 508); the partition above split on any ';'.
        url = rest[1:].strip()
        if not url:
            raise ValueError("'@' without a URL")
    else:
        specifier = _parse_specifiers(rest)
    marker = marker.strip()
    if marker:
        _check_marker(marker)
    return Requirement(name, extras, specifier, marker or None, url)


def _strip_comment(line: str) -> str:
    if line.lstrip().startswith("#"):
        return ""
    return re.split(r"\s+#", line, maxsplit=1)[0].strip()


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """Lines with backslash continuations joined, numbered by their first physical line."""
    start = 0
    buffer = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        line = raw.rstrip()
        if line.endswith("\\") and not line.lstrip().startswith("#"):
            buffer += line[:-1] + " "
            continue
        yield start, buffer + line
        buffer = ""
    if buffer:
        yield start, buffer


_SOURCE_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f", "--trusted-host",
                   "--no-index")
_INCLUDE_OPTIONS = {"-r": False, "--requirement": False, "-c": True, "--constraint": True}
_LOOKS_LIKE_PATH = re.compile(r"^(?:\.{1,2}[/\\]|[/\\~]|[A-Za-z]:[/\\])|\.(?:whl|zip|tar\.gz|tgz|tar\.bz2)$")


def _option_line(origin: Origin, line: str, allow_unsafe: bool) -> Screened:
    flag, _, value = line.replace("=", " ", 1).partition(" ")
    value = value.strip()
    if flag in _SOURCE_OPTIONS:
        if allow_unsafe and flag in {"--index-url", "-i", "--extra-index-url", "--find-links", "-f"} and value:
            # An allowed --index-url from a pack may only add a source, never replace the user's.
            option = "--find-links" if flag in {"--find-links", "-f"} else "--extra-index-url"
            return Screened(index_options=(option, value))
        return Screened(refused=(Refused(origin, line, "source",
                                         f"{flag} changes where packages come from"),))
    if flag in _INCLUDE_OPTIONS:
        if allow_unsafe and value:
            return Screened(includes=((origin, value, _INCLUDE_OPTIONS[flag]),))
        return Screened(refused=(Refused(origin, line, "include", f"{flag} includes another file"),))
    if flag in {"-e", "--editable"}:
        return Screened(refused=(Refused(origin, line, "direct-url",
                                         "an editable install runs code from a local or remote checkout"),))
    return Screened(refused=(Refused(origin, line, "option", f"option {flag} is not allowed in node-pack requirements"),))


def screen_line(origin: Origin, line: str, *, allow_unsafe: bool = False) -> Screened:
    """Screen one logical line (comments already removed)."""
    if line.startswith("-"):
        return _option_line(origin, line, allow_unsafe)
    text = _HASH_OPTION.sub("", f" {line}").strip()
    option = _LINE_OPTION.search(f" {text}")
    if option is not None:
        return Screened(refused=(Refused(origin, line, "option",
                                         f"per-line option {option.group(1)} is not allowed"),))
    head = text.split("@")[0].split(";")[0].strip()
    if "://" in head or head.startswith(("git+", "hg+", "svn+", "bzr+")) or _LOOKS_LIKE_PATH.search(head):
        return Screened(refused=(Refused(origin, line, "direct-url",
                                         "a URL or local path without a package name cannot be screened"),))
    try:
        requirement = parse_requirement(text)
    except ValueError as exc:
        return Screened(refused=(Refused(origin, line, "malformed", str(exc)),))
    if requirement.url is not None and not allow_unsafe:
        what = "a git checkout" if "git+" in requirement.url else (
            "a local path" if requirement.url.startswith("file:") else "a direct URL")
        return Screened(refused=(Refused(origin, line, "direct-url",
                                         f"{requirement.name} comes from {what}, not from the package index"),))
    return Screened(declared=(Declared(requirement, origin),))


def screen_requirements_txt(pack: str, source: str, text: str, *, allow_unsafe: bool = False) -> Screened:
    """Screen a pip requirements file of one node pack."""
    result = Screened()
    for number, raw in _logical_lines(text):
        line = _strip_comment(raw)
        if line:
            result = result.merged(screen_line(Origin(pack, source, number), line, allow_unsafe=allow_unsafe))
    return result


def screen_pyproject(pack: str, source: str, text: str, *, allow_unsafe: bool = False) -> Screened:
    """Screen ``[project].dependencies`` of a node pack's pyproject.toml (line numbers point into the file)."""
    import tomllib  # only packs with a pyproject.toml need it (start-up time of `rigfit deps check`)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 0
        return Screened(refused=(Refused(Origin(pack, source, line), "", "malformed", f"invalid TOML: {exc}"),))
    project = data.get("project")
    deps = project.get("dependencies", []) if isinstance(project, dict) else []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        return Screened(refused=(Refused(Origin(pack, source, 0), "", "malformed",
                                         "[project].dependencies is not a list of strings"),))
    lines = text.splitlines()
    result = Screened()
    for dep in deps:
        number = next((i for i, raw in enumerate(lines, start=1) if f'"{dep}"' in raw or f"'{dep}'" in raw), 0)
        result = result.merged(screen_line(Origin(pack, source, number), dep.strip(), allow_unsafe=allow_unsafe))
    return result


def screen_declarations(declared: Mapping[str, Sequence[str]], *, allow_unsafe: bool = False) -> Screened:
    """Screen requirement lines declared per pack (e.g. the catalog's pinned declarations): pack id → lines."""
    result = Screened()
    for pack, lines in declared.items():
        result = result.merged(screen_requirements_txt(pack, "catalog", "\n".join(lines), allow_unsafe=allow_unsafe))
    return result
