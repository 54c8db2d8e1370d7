"""Conflicts in node packs' declared requirements, found without a resolver.

``rigfit recommend`` must stay offline and fast, so it cannot run uv. What it can do is read the requirement
lines the catalog declares for the node packs a preset selects, screen and normalise them as the resolver
would (``rigfit.core.requirements``, ``rigfit.core.normalize``: the OpenCV family and the onnxruntime builds
collapse to one distribution and are no conflict), and intersect, per package, the version specifiers every
pack asks for together with the fixed parties (ComfyUI's own requirements, the torch build). An empty
intersection is a certain conflict: no version satisfies everyone, whatever the index holds. What this
cannot see are conflicts through dependencies of dependencies; ``rigfit deps check`` and ``rigfit plan``
resolve fully. Lines with an environment marker are left out (they may not apply to the target).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from rigfit.core.normalize import Target, normalize
from rigfit.core.requirements import Declared, Refused, screen_declarations
from rigfit.core.torch_index import CUDA_LADDER, TorchIndex
from rigfit.core.versions import ANY, Interval, allowed_by, intersect, intersect_all

if TYPE_CHECKING:  # `rigfit deps check` needs find_conflicts only, not the catalog's types
    from rigfit.core.catalog.schema import NodePack

# ComfyUI's requirements.txt at the reference commit a125cd84 (0.3.64; shared/comfyui/VERSION.txt), every line
# with a version specifier, in file order (its "non essential" kornia and pydantic lines included: ComfyUI
# installs them). Used as constraints when no installation is given; unpinned names constrain nothing, and the
# torch family is the planned build's to pin.
COMFYUI_REQUIREMENTS = (
    "comfyui-frontend-package==1.27.10", "comfyui-workflow-templates==0.1.95", "comfyui-embedded-docs==0.2.6",
    "numpy>=1.25.0", "transformers>=4.37.2", "tokenizers>=0.13.3", "safetensors>=0.4.2", "aiohttp>=3.11.8",
    "yarl>=1.18.0", "av>=14.2.0", "kornia>=0.7.1", "pydantic~=2.0", "pydantic-settings~=2.0",
)
COMFYUI_PARTY = "ComfyUI"
PLANNED_TORCH_PARTY = "the planned torch build"
# The newest torch release line the CUDA ladder names (a release that retired an index, or the first one on
# a new index): a fresh install of an index without an end gets this line or a newer one.
NEWEST_TORCH = max(v for w in CUDA_LADDER for v in (w.first_torch, w.torch_until) if v is not None)


class DeclaredConflict(NamedTuple):
    """Packs (and fixed parties) whose declared version specifiers for one package cannot all hold."""

    package: str
    packs: tuple[str, ...]
    against: tuple[str, ...]  # fixed parties taking part: "ComfyUI", "the planned torch build", ...
    asks: tuple[tuple[str, str], ...]  # (pack or party, the specifiers it gives), in the order shown
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"packages": [self.package], "packs": list(self.packs), "against": list(self.against),
                "detail": self.detail}


class _Ask(NamedTuple):
    """What one pack (or fixed party) allows of one package."""

    party: str
    text: str
    allowed: tuple[Interval, ...]


def _asks_by_package(declared: Sequence[Declared]) -> dict[str, dict[str, _Ask]]:
    """package → pack → what the pack's lines for it allow together (lines with markers or URLs left out)."""
    out: dict[str, dict[str, _Ask]] = {}
    for d in declared:
        req = d.requirement
        if not req.specifier or req.marker or req.url:
            continue
        allowed = allowed_by(req.specifier)
        if allowed is None:
            continue
        per_pack = out.setdefault(req.name, {})
        old = per_pack.get(d.origin.pack)
        text = f"{req.name}{req.specifier}"
        per_pack[d.origin.pack] = _Ask(d.origin.pack, text, allowed) if old is None else \
            _Ask(d.origin.pack, f"{old.text}, {text}", intersect(old.allowed, allowed))
    return out


def _fixed_asks(fixed: Mapping[str, Sequence[str]]) -> dict[str, dict[str, _Ask]]:
    screened = screen_declarations({party: tuple(lines) for party, lines in fixed.items()})
    return _asks_by_package(screened.declared)


def _minimal(members: list[_Ask]) -> list[_Ask]:
    """Drop members while the rest still leaves no version (the last one is where it became empty)."""
    keep = list(members)
    for m in list(keep[:-1]):
        rest = [k for k in keep if k is not m]
        if not intersect_all(k.allowed for k in rest):
            keep = rest
    return keep


def _detail(package: str, asks: Sequence[_Ask], packs: Sequence[str]) -> str:
    parts = [f"{a.party} {'needs' if a.party in packs else ('is' if 'torch' in a.party else 'requires')} {a.text}"
             for a in asks]
    if len(packs) >= 2:
        advice = f"no {package} version satisfies both; drop one of {', '.join(packs)}"
    else:
        advice = f"no {package} version satisfies it; drop {packs[0]} or pin it to a commit that agrees"
    return "; ".join(parts) + " — " + advice


def find_conflicts(declared: Sequence[Declared], fixed: Mapping[str, Sequence[str]]) -> tuple[DeclaredConflict, ...]:
    """Each set of packs whose declared specifiers for a package leave no version, with the fixed parties.

    Attribution follows the resolver (``rigfit.shell.resolver.check``): a pack that contradicts the fixed
    parties alone is a conflict of its own; otherwise packs are added in order until no version is left, the
    set is shrunk to the smallest that still fails, and its last pack is set aside before looking again.
    """
    fixed_by_package = _fixed_asks(fixed)
    conflicts: list[DeclaredConflict] = []
    for package, per_pack in _asks_by_package(declared).items():
        parties = list(fixed_by_package.get(package, {}).values())
        base = intersect_all(p.allowed for p in parties)
        if not base:
            continue  # the fixed parties contradict each other: not the packs' doing
        remaining = [a for a in per_pack.values() if a.allowed != ANY]
        for ask in list(remaining):
            if not intersect(ask.allowed, base):
                against = [p for p in parties if not intersect(ask.allowed, p.allowed)] or parties
                conflicts.append(_conflict(package, [ask, *against], (ask.party,)))
                remaining.remove(ask)
        while remaining:
            current, culprit = base, None
            for i, ask in enumerate(remaining):
                current = intersect(current, ask.allowed)
                if not current:
                    culprit = i
                    break
            if culprit is None:
                break
            members = _minimal([*parties, *remaining[: culprit + 1]])
            packs = tuple(m.party for m in members if m in remaining)
            conflicts.append(_conflict(package, [m for m in members if m in remaining] +
                                       [m for m in members if m not in remaining], packs))
            remaining.remove(remaining[culprit])
    return tuple(conflicts)


def _conflict(package: str, asks: Sequence[_Ask], packs: tuple[str, ...]) -> DeclaredConflict:
    against = tuple(a.party for a in asks if a.party not in packs)
    return DeclaredConflict(package, packs, against, tuple((a.party, a.text) for a in asks),
                            _detail(package, asks, packs))


def planned_torch_lines(index: TorchIndex) -> tuple[str, ...]:
    """What a fresh install from ``index`` gets, as specifiers: the newest torch release line it carries.

    ``rigfit plan`` asks the index for the exact build; offline, an index that stops at torch X.Y
    (``torch_spec`` ``<X.Y``) gives the X.(Y-1) line, one without an end the newest line the ladder names
    or a newer one. torchvision follows torch 2.N as 0.(N+15); torchaudio's numbering no longer does.
    """
    if index.torch_spec.startswith("<"):
        major, minor = (int(p) for p in index.torch_spec[1:].split(".")[:2])
        lines = [f"torch>={major}.{minor - 1},<{major}.{minor}"]
        if major == 2:
            lines.append(f"torchvision>=0.{minor - 1 + 15},<0.{minor + 15}")
        return tuple(lines)
    major, minor = NEWEST_TORCH
    return (f"torch>={major}.{minor}",) + ((f"torchvision>=0.{minor + 15}",) if major == 2 else ())


class PackCheck(NamedTuple):
    """What the declared requirements of a preset's node packs say: conflicts and refused lines."""

    conflicts: tuple[DeclaredConflict, ...]
    refused: tuple[Refused, ...]

    def warnings(self) -> tuple[str, ...]:
        out = [f"node packs conflict ({c.package}): {c.detail} (a check of the packs' declared requirements; "
               "`rigfit deps check` and `rigfit plan` resolve them fully)" for c in self.conflicts]
        by_pack: dict[str, list[Refused]] = {}
        for r in self.refused:
            by_pack.setdefault(r.origin.pack, []).append(r)
        for pack, lines in by_pack.items():
            shown = "; ".join(f"{r.text!r} ({r.reason})" for r in lines[:3])
            more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
            out.append(f"{pack}: {len(lines)} requirement line(s) refused, rigfit will not install them: "
                       f"{shown}{more}")
        return tuple(out)


@lru_cache(maxsize=1024)
def check_packs(packs: tuple[NodePack, ...], target: Target, torch_lines: tuple[str, ...],
                comfyui: tuple[str, ...] = COMFYUI_REQUIREMENTS) -> PackCheck:
    """Screen, normalise and intersect the declared requirements of ``packs`` for ``target``.

    ``torch_lines`` are the planned torch build as specifiers (``planned_torch_lines``); torch-family lines of
    the packs are checked against them, never applied (``rigfit.core.normalize``). Memoized: a recommendation
    checks the same few pack sets over and over.
    """
    screened = screen_declarations({p.id: p.requirements for p in packs})
    normalized = normalize(screened.declared, target, {})
    fixed = {COMFYUI_PARTY: comfyui, PLANNED_TORCH_PARTY: torch_lines}
    return PackCheck(find_conflicts(normalized.declared, fixed), screened.refused)
