"""Where the hardware comes from: ``--hardware FILE|ID``, ``RIGFIT_HARDWARE``, or a probe of this machine."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from rigfit.core.errors import ProfileError
from rigfit.core.hardware import Hardware, hardware_from_json

ENV = "RIGFIT_HARDWARE"


def _read_json(text: str, source: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                           source=source) from exc
    except RecursionError as exc:
        raise ProfileError(f"{source}: JSON nested too deeply", source=source) from exc


@lru_cache(maxsize=1)
def _embedded() -> tuple[tuple[str, Hardware], ...]:
    from importlib import resources

    folder = resources.files("rigfit") / "data" / "profiles"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            pid = entry.name[: -len(".json")]
            found.append((pid, hardware_from_json(_read_json(entry.read_text(encoding="utf-8"), entry.name),
                                                  source=f"profiles/{entry.name}")))

    def order(item: tuple[str, Hardware]) -> tuple[int, int, str]:
        gpu = item[1].primary_gpu
        group = 0 if gpu is None else {"nvidia": 1, "amd": 2, "intel": 3, "apple": 4}.get(gpu.vendor, 5)
        return (group, (gpu.vram_bytes or 0) if gpu else (item[1].ram_bytes or 0), item[0])

    return tuple(sorted(found, key=order))


def embedded_profiles() -> dict[str, Hardware]:
    """The profiles shipped in ``rigfit/data/profiles``, by id: CPU-only, NVIDIA, AMD, Intel, Apple; small first."""
    return dict(_embedded())


def load_profile(spec: str) -> Hardware:
    """A profile from a JSON file path or an embedded profile id; ``ProfileError`` (exit 2) otherwise."""
    path = Path(spec).expanduser()
    looks_like_path = spec.endswith(".json") or os.sep in spec or (os.altsep or "/") in spec
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{spec}: cannot read the profile ({exc})", source=spec) from exc
        return hardware_from_json(_read_json(text, spec), source=spec)
    profiles = embedded_profiles()
    if spec in profiles:
        return profiles[spec]
    if looks_like_path:
        raise ProfileError(f"{spec}: no such profile file", source=spec)
    import difflib

    near = difflib.get_close_matches(spec, list(profiles), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(near)}?" if near else "see `rigfit profiles` for the ids"
    raise ProfileError(f"unknown hardware profile {spec!r}: not a file and not an embedded id ({hint})",
                       source=spec)


def load_hardware(specs: list[str] | None, *, disk_path: str | None = None) -> Hardware:
    """The first ``--hardware`` given, else ``RIGFIT_HARDWARE``, else a probe of this machine."""
    if specs:
        return load_profile(specs[0])
    env = os.environ.get(ENV, "").strip()
    if env:
        return load_profile(env)
    from rigfit.shell.probes import probe_hardware

    return probe_hardware(disk_path)


def hardware_list(specs: list[str] | None) -> list[Hardware]:
    """Every ``--hardware`` given (for comparisons); this machine when none is."""
    if not specs:
        return [load_hardware(None)]
    return [load_profile(spec) for spec in specs]
