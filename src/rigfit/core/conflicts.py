"""uv's resolution failures turned into conflicts between named node packs.

Each node pack is resolved as one synthetic package ``nodepack-<id>`` whose dependencies are the pack's
requirements, so uv's derivation names the guilty packs and only them (measured in
``shared/reference/ecosystem.md`` §2.5; a flat requirements list makes uv say only "you require", and
ComfyUI-Manager's name matching over-reports 5 packs where 2 conflict). uv's wording is stable across
releases: "depends on", "you require", "all versions of", "was not found".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from rigfit.core.requirements import Declared, canonical_name

META_PREFIX = "nodepack-"
TORCH_PARTY = "the torch build"
COMFYUI_PARTY = "ComfyUI"
_META = re.compile(r"\bnodepack-[a-z0-9]+(?:-[a-z0-9]+)*(?:==[^\s,]+)?")
_SPEC_OPS = r"(?:===|==|!=|~=|<=|>=|<|>)"
_WITH_SPEC = re.compile(rf"\b([A-Za-z0-9][A-Za-z0-9._-]*?)(?:\[[^\]]*\])?{_SPEC_OPS}[^\s,]+(?:,{_SPEC_OPS}[^\s,]+)*")
_NAMED = re.compile(r"(?:all versions of|depends? on|you require|no versions of|version of|only)\s+"
                    r"([A-Za-z0-9][A-Za-z0-9._-]*)")
_NOT_FOUND = re.compile(r"\b([A-Za-z0-9][A-Za-z0-9._-]*) was not found")
_STOP = frozenset({"and", "or", "the", "we", "because", "you", "your", "all", "versions", "version", "of"})


def meta_name(pack: str) -> str:
    """The synthetic distribution that stands for a node pack in uv's input and messages."""
    slug = re.sub(r"[^a-z0-9]+", "-", canonical_name(pack)).strip("-") or "pack"
    return META_PREFIX + slug


def meta_names(packs: Sequence[str]) -> dict[str, str]:
    """Pack id → distinct synthetic name (packs whose ids normalise alike get a numeric suffix)."""
    taken: dict[str, str] = {}
    result: dict[str, str] = {}
    for pack in packs:
        name = meta_name(pack)
        if name in taken:
            name = f"{name}-{sum(1 for v in taken.values() if v == pack) + len(taken)}"
        taken[name] = pack
        result[pack] = name
    return result


class Failure(NamedTuple):
    """What one failed ``uv pip compile`` says."""

    is_conflict: bool  # False: uv failed for another reason (network, build, bad input)
    packs: tuple[str, ...]  # pack ids named in the derivation, in order of appearance
    packages: tuple[str, ...]  # real packages named (canonical), in order of appearance
    missing: tuple[str, ...]  # packages the index does not have
    cause: str  # uv's explanation with synthetic names replaced by pack ids


class Conflict(NamedTuple):
    """Packs that cannot be installed together, the packages they fight over, and a readable explanation."""

    packs: tuple[str, ...]
    packages: tuple[str, ...]
    detail: str
    against: tuple[str, ...] = ()  # fixed parties involved: "ComfyUI", "the torch build"
    cause: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"packs": list(self.packs), "packages": list(self.packages), "detail": self.detail,
                "against": list(self.against), "resolver": self.cause}


def parse_failure(output: str, packs_by_meta: Mapping[str, str]) -> Failure:
    """Read uv's stderr of a failed compile; ``packs_by_meta`` maps synthetic names back to pack ids."""
    is_conflict = "No solution found when resolving dependencies" in output
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("cause:")), None)
    body = lines[start:] if start is not None else [ln for ln in lines if ln.strip()]
    cause = " ".join(ln.strip() for ln in body if ln.strip()).removeprefix("cause:").strip()

    packs: list[str] = []

    def to_pack(match: re.Match[str]) -> str:
        meta = match.group(0).split("==")[0]
        pack = packs_by_meta.get(meta, meta)
        if pack not in packs:
            packs.append(pack)
        return pack

    cause = _META.sub(to_pack, cause)
    reserved = {canonical_name(p) for p in packs} | set(packs_by_meta)
    names: list[str] = []
    for match in sorted([*_WITH_SPEC.finditer(cause), *_NAMED.finditer(cause), *_NOT_FOUND.finditer(cause)],
                        key=lambda m: m.start(1)):
        name = canonical_name(match.group(1))
        if name not in _STOP and name not in reserved and not name.startswith(META_PREFIX) and name not in names:
            names.append(name)
    missing = tuple(dict.fromkeys(canonical_name(m.group(1)) for m in _NOT_FOUND.finditer(cause)))
    return Failure(is_conflict, tuple(packs), tuple(names), missing, cause)


def _asks(items: Sequence[Declared], packages: Sequence[str]) -> list[str]:
    return [str(d.requirement) for d in items if d.requirement.name in packages]


def explain(packs: Sequence[str], failure: Failure, declared: Sequence[Declared],
            fixed: Mapping[str, Sequence[str]]) -> Conflict:
    """A conflict among ``packs`` (the smallest failing set), worded for people.

    ``fixed`` are the parties that cannot move (``"ComfyUI"`` → its requirement lines, ``"the torch build"``
    → the pins); one takes part when it constrains a package of the conflict.
    """
    packages = failure.packages
    parts: list[str] = []
    for pack in packs:
        mine = [d for d in declared if d.origin.pack == pack]
        asks = _asks(mine, packages) or [str(d.requirement) for d in mine
                                         if d.requirement.name in failure.cause] or ["its dependencies"]
        parts.append(f"{pack} needs {', '.join(dict.fromkeys(asks))}")
    against: list[str] = []
    for party, lines in fixed.items():
        hits = [line for line in lines if re.split(r"[\s;<>=!~\[]", line, maxsplit=1)[0] and
                canonical_name(re.split(r"[\s;<>=!~\[]", line, maxsplit=1)[0]) in packages
                and re.search(_SPEC_OPS, line.split(";")[0])]
        if hits:
            against.append(party)
            verb = "is pinned at" if party == TORCH_PARTY else "requires"
            parts.append(f"{party} {verb} {', '.join(hits)}")
    missing = [m for m in failure.missing if m in packages]
    if missing:
        parts.append(f"the package index has no {', '.join(missing)}")
    if missing:
        advice = "check the package name, or point --index-url/--find-links at an index that has it"
    elif against and len(packs) <= 1:
        advice = (f"drop {packs[0]}, or pin it to a commit whose requirements accept what {against[0]} needs"
                  if packs else "the fixed requirements contradict each other")
        if TORCH_PARTY in against:
            advice += "; rigfit never lets a node pack change torch"
    elif len(packs) >= 2:
        advice = f"drop one of {', '.join(packs)}, or pin {packs[-1]} to a commit whose requirements agree"
    else:
        advice = f"drop {packs[0]}: its own requirements cannot be satisfied" if packs else "see the resolver output"
    detail = "; ".join(parts) + " — " + advice
    return Conflict(tuple(packs), tuple(packages), detail, tuple(against), failure.cause)
