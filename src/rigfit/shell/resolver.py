"""Resolving node-pack requirements together with uv, before anything is installed.

Each pack becomes a tiny wheel ``nodepack-<id>`` (METADATA only) in a private ``--find-links`` folder, so uv's
explanation of a failure names packs (``rigfit.core.conflicts``). ComfyUI's requirements and the torch build
go in as constraints, the OpenCV/onnxruntime settlement as overrides (``rigfit.core.normalize``). After a
failure the named packs are checked alone and shrunk to the smallest failing set; the last of them is set
aside and the rest resolved again, until everything left resolves. Conflicts the declared specifiers already
prove (``rigfit.core.declared_conflicts``: numpy<2 against numpy>=2, a torch pin against the build) are taken
out before the first uv run, and their packs checked alone beside it, which saves a resolution per conflict.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

from rigfit.core.conflicts import (
    COMFYUI_PARTY,
    TORCH_PARTY,
    Conflict,
    Failure,
    explain,
    meta_names,
    parse_failure,
)
from rigfit.core.declared_conflicts import COMFYUI_REQUIREMENTS, find_conflicts
from rigfit.core.errors import ResolveError, UsageError
from rigfit.core.normalize import Normalized, Target, in_torch_family, lock_fix, normalize, torch_pins
from rigfit.core.requirements import (
    Declared,
    Screened,
    canonical_name,
    screen_declarations,
    screen_pyproject,
    screen_requirements_txt,
)
from rigfit.shell.interpreter import interpreter_version as interpreter_version  # its old home
from rigfit.shell.runner import Completed, run

TORCH_STEP = ("torch", "torchvision", "torchaudio")
TIMEOUT = 300.0
T = TypeVar("T")


class Background(Generic[T]):
    """A call running on a thread; ``result()`` waits for it and re-raises what it raised.

    The calls start uv processes, so threads only wait; ``concurrent.futures`` would add ~5 ms of imports
    (with ``logging``) to the start-up of ``rigfit deps check``.
    """

    def __init__(self, call: Callable[[], T]) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], T]) -> None:
        try:
            self._value = call()
        except BaseException as exc:  # handed to the waiting thread
            self._error = exc

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def in_parallel(calls: Sequence[Callable[[], T]], limit: int = 4) -> list[T]:
    """Results of ``calls`` in order, at most ``limit`` running at once."""
    results: list[T] = []
    for start in range(0, len(calls), limit):
        running = [Background(call) for call in calls[start:start + limit]]
        results += [r.result() for r in running]
    return results


def uv_binary() -> str:
    """The uv binary of the ``uv`` package installed beside rigfit.

    In a virtual environment on POSIX that is ``<prefix>/bin/uv``, the first place ``uv.find_uv_bin`` looks
    (the venv scheme's scripts folder); looked at directly, because importing ``uv`` and asking ``sysconfig``
    costs ~10 ms of ``rigfit deps check``'s start-up. Anywhere else ``uv.find_uv_bin`` decides.
    """
    if os.name == "posix" and sys.prefix != sys.base_prefix:
        path = Path(sys.prefix) / "bin" / "uv"
        if path.is_file():
            return str(path)
    import uv

    return str(uv.find_uv_bin())


class Sources(NamedTuple):
    """Where packages come from: the user's index or wheel folders; None/() means uv's own defaults."""

    index_url: str | None = None
    find_links: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()  # options allowed from pack lines, e.g. ("--extra-index-url", URL)
    offline: bool = False

    def args(self) -> list[str]:
        args: list[str] = []
        env_index = os.environ.get("UV_INDEX_URL") or os.environ.get("UV_DEFAULT_INDEX")
        if self.index_url:
            args += ["--index-url", self.index_url]
        elif self.find_links and not env_index:
            args.append("--no-index")  # a wheel folder alone means an offline wheelhouse (CLI contract)
        for link in self.find_links:
            args += ["--find-links", link]
        args += list(self.extra)
        if self.offline:
            args.append("--offline")
        return args


DEFAULT_SOURCES = Sources()  # uv's own index and settings


class Environment(NamedTuple):
    """The Python the packs must install into: an interpreter (or a version), its torch build, ComfyUI's pins."""

    python_version: str
    torch_build: Mapping[str, str]
    comfyui_requirements: tuple[str, ...] = COMFYUI_REQUIREMENTS
    python: str | None = None  # interpreter path of an existing installation


class DepsReport(NamedTuple):
    """What ``check`` found: conflicts with their packs, refused lines, and the lock when there is none."""

    conflicts: tuple[Conflict, ...]
    refused: Screened
    lock: tuple[str, ...]
    notes: tuple[str, ...]
    torch_pins: tuple[str, ...]
    packs: tuple[str, ...]
    runs: int = 0
    seconds: float = 0.0
    set_aside: tuple[str, ...] = ()
    relaxed: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (pack, lines taken out)


def collect_pack(folder: Path, *, allow_unsafe: bool = False) -> tuple[Screened, tuple[str, ...]]:
    """Requirements of one node-pack folder (requirements.txt, pyproject.toml) and notes about it."""
    pack = folder.name
    screened = Screened()
    notes: list[str] = []
    req = folder / "requirements.txt"
    if req.is_file():
        screened = screened.merged(screen_requirements_txt(pack, req.name, _read(req), allow_unsafe=allow_unsafe))
        seen = {req.resolve()}
        while screened.includes:
            includes, screened = screened.includes, Screened(screened.declared, screened.refused, (),
                                                             screened.index_options)
            for origin, relative, is_constraint in includes:
                target = ((folder / origin.source).parent / relative).resolve()  # pip: relative to the includer
                if not target.is_relative_to(folder.resolve()) or not target.is_file() or target in seen:
                    notes.append(f"{origin}: include {relative} is outside the pack, missing or repeated; skipped")
                    continue
                seen.add(target)
                if is_constraint:
                    notes.append(f"{origin}: constraint file {relative} read as requirements")
                source = target.relative_to(folder.resolve()).as_posix()
                screened = screened.merged(screen_requirements_txt(pack, source, _read(target), allow_unsafe=allow_unsafe))
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        screened = screened.merged(screen_pyproject(pack, pyproject.name, _read(pyproject), allow_unsafe=allow_unsafe))
    if (folder / "install.py").is_file():
        notes.append(f"{pack}: has install.py, which runs its own code at install time; rigfit does not run it")
    return screened, tuple(notes)


def _read(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "utf-16", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")  # pragma: no cover - latin-1 decodes everything


def read_installation(comfyui: Path) -> Environment:
    """Python version, installed torch family and requirements of an existing ComfyUI installation."""
    candidates = [comfyui / v / sub for v in (".venv", "venv") for sub in ("bin/python", "Scripts/python.exe")]
    candidates.append(comfyui.parent / "python_embeded" / "python.exe")
    python = next((p for p in candidates if p.is_file()), None)
    if python is None:
        raise UsageError(f"no Python environment found for {comfyui} (looked in .venv and venv); "
                         "give the installation folder or leave out --comfyui")
    script = ("import json,sys,importlib.metadata as m;print(json.dumps({'v':'%d.%d.%d'%sys.version_info[:3],"
              "'d':{(d.metadata['Name'] or ''):d.version for d in m.distributions()}}))")
    done = run([str(python), "-c", script], timeout=60)
    if not done.ok:
        raise ResolveError(f"could not read the packages of {python}: {done.describe_failure()}")
    import json

    info = json.loads(done.stdout)
    installed = {k: v for k, v in info["d"].items() if k and in_torch_family(k)}
    req = comfyui / "requirements.txt"
    comfy = screen_requirements_txt("ComfyUI", "requirements.txt", _read(req)) if req.is_file() else Screened()
    lines = tuple(str(d.requirement) for d in comfy.declared
                  if d.requirement.specifier and not in_torch_family(d.requirement.name))
    return Environment(info["v"], installed, lines, str(python))


def _public(version: str) -> str:
    return version.split("+", 1)[0]


def _write_meta_wheel(folder: Path, name: str, requires: Sequence[str]) -> None:
    dist = name.replace("-", "_")
    info = f"{dist}-0.dist-info"
    files = {
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: " + name + "\nVersion: 0\n"
        + "".join(f"Requires-Dist: {line}\n" for line in requires),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: rigfit\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b'=').decode()}"
                     f",{len(c.encode())}\n" for p, c in files.items()) + f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record
    with zipfile.ZipFile(folder / f"{dist}-0-py3-none-any.whl", "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)


class _Session:
    """One temporary workspace: the pack wheels, constraint and override files, and the uv command line."""

    def __init__(self, work: Path, normalized: Normalized, env: Environment, target: Target,
                 sources: Sources, timeout: float) -> None:
        self.work = work
        self.timeout = timeout
        self.runs = 0
        self.revision = 0
        self.lock = threading.Lock()
        packs = tuple(dict.fromkeys(d.origin.pack for d in normalized.declared))
        self.meta = meta_names(packs)
        self.pack_of = {m: p for p, m in self.meta.items()}
        self.wheels = wheels = work / "packs"
        wheels.mkdir()
        self.lines: dict[str, list[str]] = {}
        for pack, meta in self.meta.items():
            lines = [str(d.requirement) for d in normalized.declared if d.origin.pack == pack]
            self.lines[pack] = list(dict.fromkeys(lines))
            _write_meta_wheel(wheels, meta, self.lines[pack])
        self.constraints = (*env.comfyui_requirements,
                            *(f"{n}=={_public(v)}" for n, v in sorted(env.torch_build.items())
                              if in_torch_family(n)))
        (work / "constraints.txt").write_text("\n".join(self.constraints) + "\n", encoding="utf-8")
        self.base = [uv_binary(), "pip", "compile", "--no-header", "--no-annotate", "--quiet",
                     "-c", str(work / "constraints.txt"), "--find-links", str(wheels), *sources.args()]
        self.base += ["--python", env.python] if env.python else [
            "--python-version", env.python_version, "--python-platform", target.uv_platform()]
        self.overrides = normalized.overrides

    def relaxation(self, pack: str, packages: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
        """The pack's own lines for ``packages``, and a new synthetic wheel without them (None if none).

        Nothing changes until ``adopt``: the wheel may be used for a compile run ahead of the decision.
        """
        removed = tuple(line for line in self.lines[pack]
                        if canonical_name(re.split(r"[\s;<>=!~\[@]", line, maxsplit=1)[0]) in packages)
        if not removed:
            return (), None
        with self.lock:
            self.revision += 1
            # a fresh name, never a rewritten file: uv caches wheel metadata by path
            meta = f"{meta_names([pack])[pack]}-r{self.revision}"
        self.pack_of[meta] = pack
        _write_meta_wheel(self.wheels, meta, [line for line in self.lines[pack] if line not in removed])
        return removed, meta

    def adopt(self, pack: str, removed: tuple[str, ...], meta: str) -> None:
        self.lines[pack] = [line for line in self.lines[pack] if line not in removed]
        self.meta[pack] = meta

    def compile(self, packs: Sequence[str], extra: Sequence[str] = (), overrides: Sequence[str] = (),
                meta: Mapping[str, str] | None = None) -> Completed:
        names = {**self.meta, **(meta or {})}
        with self.lock:
            self.runs += 1
            name = f"in{self.runs}"
        (self.work / f"{name}.txt").write_text(
            "".join(f"{names[p]}\n" for p in packs) + "".join(f"{x}\n" for x in extra), encoding="utf-8")
        args = [*self.base, str(self.work / f"{name}.txt")]
        all_overrides = (*self.overrides, *overrides)
        if all_overrides:
            (self.work / f"{name}.ovr").write_text("\n".join(all_overrides) + "\n", encoding="utf-8")
            args += ["--override", str(self.work / f"{name}.ovr")]
        return run(args, timeout=self.timeout, env={"NO_COLOR": "1"})

    def fails(self, packs: Sequence[str]) -> bool:
        done = self.compile(packs)
        return not done.ok and "No solution found" in done.stderr


def _uv_error(done: Completed) -> ResolveError:
    return ResolveError(f"uv could not resolve the requirements: {done.describe_failure()}")


def check(screened: Screened, target: Target, env: Environment, sources: Sources = DEFAULT_SOURCES,
          *, timeout: float = TIMEOUT) -> DepsReport:
    """Resolve every pack's requirements together; report each conflict with the smallest set of packs."""
    start = time.monotonic()
    env = Environment(env.python_version, {canonical_name(k): v for k, v in env.torch_build.items()},
                      env.comfyui_requirements, env.python)
    normalized = normalize(screened.declared, target, env.torch_build)
    sources = Sources(sources.index_url, sources.find_links, sources.extra + screened.index_options,
                      sources.offline)
    pins = torch_pins(env.torch_build)
    fixed = {COMFYUI_PARTY: env.comfyui_requirements, TORCH_PARTY: pins}
    with tempfile.TemporaryDirectory(prefix="rigfit-deps-") as tmp:
        session = _Session(Path(tmp), normalized, env, target, sources, timeout)
        active = list(session.meta)
        conflicts: list[Conflict] = []
        set_aside: list[str] = []
        relaxed: list[tuple[str, tuple[str, ...]]] = []
        notes = list(normalized.notes)
        done = _declared_first(session, active, normalized.declared, fixed, conflicts, relaxed)
        while not done.ok:
            failure = parse_failure(done.stderr, session.pack_of)
            if not failure.is_conflict:
                raise _uv_error(done)
            if not active:
                raise ResolveError(f"ComfyUI's requirements and the torch build cannot be resolved together: "
                                   f"{failure.cause}")
            suspects = [p for p in active if p in failure.packs] or list(active)
            # Take out what the last pack of the conflict asks for and look again, so one pack's other
            # conflicts still show; a pack whose part in it is indirect is set aside whole. The next run
            # starts now, on the guess that the last pack uv named stays last once the set is shrunk.
            guess = suspects[-1]
            removed, meta = session.relaxation(guess, failure.packages)
            following = list(active) if meta else [p for p in active if p != guess]
            ahead = Background(partial(session.compile, following, (), (), {guess: meta} if meta else None))
            culprits = _smallest(session, suspects)
            ahead_done = ahead.result()
            conflict = explain(culprits, failure, normalized.declared, fixed)
            if (conflict.packs, conflict.packages) not in {(c.packs, c.packages) for c in conflicts}:
                conflicts.append(conflict)
            blamed = culprits[-1]
            if blamed != guess:
                removed, meta = session.relaxation(blamed, failure.packages)
            if meta:
                session.adopt(blamed, removed, meta)
                relaxed.append((blamed, removed))
            else:
                set_aside.append(blamed)
                active.remove(blamed)
            done = ahead_done if blamed == guess else session.compile(active)
        lock = _lock_lines(done.stdout, env)
        fix = lock_fix([line.split("==")[0] for line in lock], target)
        if fix.overrides and not conflicts:
            done = session.compile(active, fix.requirements, fix.overrides)
            if not done.ok:
                raise _uv_error(done)
            lock = _lock_lines(done.stdout, env)
            notes += fix.notes
        return DepsReport(tuple(conflicts), Screened(refused=screened.refused), () if conflicts else lock,
                          tuple(notes), pins, tuple(session.meta), session.runs, time.monotonic() - start,
                          tuple(set_aside), tuple(relaxed))


def _declared_first(session: _Session, active: list[str], declared: Sequence[Declared],
                    fixed: Mapping[str, Sequence[str]], conflicts: list[Conflict],
                    relaxed: list[tuple[str, tuple[str, ...]]]) -> Completed:
    """Take out the conflicts the declared specifiers prove, then resolve what is left (one uv run).

    A pack against ComfyUI or the torch build alone is the smallest set by definition. A pair is the smallest
    set when each of its packs resolves alone, in the state it was in when the pair was found: the packs whose
    lines were not changed afterwards are covered by the main run succeeding, the others run beside it. When
    one of them fails alone the pair was not the smallest set, and everything is left to uv's explanations.
    """
    found = [c for c in sorted(find_conflicts(declared, fixed), key=lambda c: len(c.packs)) if len(c.packs) <= 2]
    if not found:
        return session.compile(active)
    saved = dict(session.meta), {pack: list(lines) for pack, lines in session.lines.items()}
    alone: list[tuple[str, str]] = []  # (pack, synthetic wheel) that must resolve on its own
    taken: list[tuple[str, tuple[str, ...]]] = []
    for c in found:
        if len(c.packs) == 2:
            alone += [(pack, session.meta[pack]) for pack in c.packs]
        removed, meta = session.relaxation(c.packs[-1], (c.package,))
        if meta is not None:
            session.adopt(c.packs[-1], removed, meta)
            taken.append((c.packs[-1], removed))
    pending = list(dict.fromkeys(alone))
    uncovered = [(p, m) for p, m in pending if session.meta[p] != m]

    def alone_run(pack: str, meta: str) -> Callable[[], Completed]:
        return lambda: session.compile([pack], (), (), {pack: meta})

    main = Background(lambda: session.compile(active))
    runs = [Background(alone_run(p, m)) for p, m in uncovered]
    done = main.result()
    results = [r.result() for r in runs]
    if not done.ok:
        results += in_parallel([alone_run(p, m) for p, m in pending if (p, m) not in uncovered])
    if not all(r.ok for r in results):
        session.meta, session.lines = saved
        return session.compile(active)
    for c in found:
        cause = (f"the declared requirements leave no {c.package} version: "
                 + "; ".join(f"{party} {text}" for party, text in c.asks))
        conflicts.append(explain(c.packs, Failure(True, c.packs, (c.package,), (), cause), declared, fixed))
    relaxed += taken
    return done


def _smallest(session: _Session, suspects: list[str]) -> list[str]:
    """Shrink a failing set of packs until dropping any one of them makes it resolve.

    uv's derivation is a proof that the packs it names fail together (with ComfyUI and the torch build), so
    only their subsets are tried; they run side by side.
    """
    while len(suspects) > 1:
        trials = [suspects[:i] + suspects[i + 1:] for i in range(len(suspects))]
        verdicts = in_parallel([partial(session.fails, t) for t in trials])
        failing = [t for t, bad in zip(trials, verdicts, strict=True) if bad]
        if not failing:
            break
        suspects = failing[0]
    return suspects


def _lock_lines(stdout: str, env: Environment) -> tuple[str, ...]:
    """Pinned lines of a compile, without the synthetic packs and without the torch build (installed apart)."""
    lines = []
    for raw in stdout.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        name = re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0].lower()
        if name.startswith("nodepack-"):
            continue
        if in_torch_family(name) and (name in env.torch_build or name not in {"torchvision", "torchaudio",
                                                                              "xformers"}):
            continue
        lines.append(line)
    return tuple(lines)


def planned_torch(target: Target, torch_index_url: str | None, torch_spec: str, sources: Sources,
                  *, python: str | None = None, timeout: float = TIMEOUT) -> dict[str, str]:
    """The torch family versions a fresh install would get: resolved from the torch index (or the user's sources)."""
    if sources.index_url or sources.find_links or os.environ.get("UV_INDEX_URL") or os.environ.get("UV_DEFAULT_INDEX"):
        index_args = sources.args()  # a mirror or wheelhouse must carry the right torch build itself
    else:
        index_args = ["--index-url", torch_index_url] if torch_index_url else []
        index_args += ["--offline"] if sources.offline else []
    lines = [f"torch{torch_spec}", *TORCH_STEP[1:]]
    python_args = ["--python", python] if python else [
        "--python-version", target.python_version, "--python-platform", target.uv_platform()]
    done = run([uv_binary(), "pip", "compile", "--no-header", "--no-annotate", "--quiet", "-", *python_args,
                *index_args], timeout=timeout, input_text="\n".join(lines) + "\n", env={"NO_COLOR": "1"})
    if not done.ok:
        raise ResolveError(f"could not resolve torch for this machine ({torch_index_url or 'user sources'}): "
                           f"{done.describe_failure()}")
    pins = {}
    for raw in done.stdout.splitlines():
        name, _, version = raw.strip().partition("==")
        if version and in_torch_family(name):
            pins[name.lower()] = version.split(" ")[0]
    return pins


def resolve_lock(declared: Mapping[str, Sequence[str]], target: Target, torch_build: Mapping[str, str],
                 *, comfyui_requirements: Sequence[str] = COMFYUI_REQUIREMENTS, sources: Sources = DEFAULT_SOURCES,
                 allow_unsafe: bool = False, timeout: float = TIMEOUT) -> list[str]:
    """Pinned requirement lines for the node packs' declared requirements (pack id → lines).

    Raises ``ResolveError`` naming the packs when they conflict or a line is refused.
    """
    screened = screen_declarations(declared, allow_unsafe=allow_unsafe)
    if screened.refused:
        first = screened.refused[0]
        raise ResolveError(f"{first.origin}: {first.reason} ({first.text!r}); "
                           f"{len(screened.refused)} line(s) refused")
    env = Environment(target.python_version, dict(torch_build), tuple(comfyui_requirements))
    report = check(screened, target, env, sources, timeout=timeout)
    if report.conflicts:
        raise ResolveError("; ".join(c.detail for c in report.conflicts))
    return list(report.lock)
