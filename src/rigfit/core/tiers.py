"""What other GPU sizes would unlock, and what this machine could train (the specification's Training column)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rigfit.core.catalog.schema import Catalog, Preset
from rigfit.core.quant import Device, QuantChoice
from rigfit.core.selection import Choices
from rigfit.core.units import GIB

if TYPE_CHECKING:
    from rigfit.core.recommend import PresetResult


TIERS_GIB = (4, 6, 8, 12, 16, 24, 32)


def reference_device(vram_gib: int, base: Device) -> Device:
    """An NVIDIA Ada card of ``vram_gib`` in this machine: what a GPU of that size would unlock."""
    ram = max(base.ram_bytes, 32 * GIB)
    return Device("cuda", f"NVIDIA GPU with {vram_gib} GB (Ada)", "ada", (8, 9), vram_gib * GIB, ram,
                  base.os if base.os in {"linux", "windows"} else "linux", True, True)


def _first_tier(catalog: Catalog, preset: Preset, device: Device, choices: Choices, tiers: Sequence[int],
                statuses: frozenset[str]) -> int | None:
    """The smallest of ``tiers`` where ``preset`` reaches one of ``statuses`` (bisection: more VRAM only helps)."""
    from rigfit.core.recommend import resolve_preset  # recommend imports this module

    def status(tier: int) -> str:
        ref = reference_device(tier, device)
        key = (id(catalog), preset.id, ref, choices)
        hit = _STATUS.get(key)
        if hit is None or hit[0] is not catalog:  # the catalog is kept, so its id cannot be reused meanwhile
            if len(_STATUS) > 4096:
                _STATUS.clear()
            hit = _STATUS[key] = (catalog, resolve_preset(catalog, preset, ref, choices).status)
        return hit[1]

    lo, hi = 0, len(tiers)  # answer in tiers[lo:hi], hi meaning "none"
    while lo < hi:
        mid = (lo + hi) // 2
        if status(tiers[mid]) in statuses:
            hi = mid
        else:
            lo = mid + 1
    return tiers[lo] if lo < len(tiers) else None


# Memo of the reference cards' verdicts: machines with the same RAM and OS ask the same questions.
_STATUS: dict[tuple[int, str, Device, Choices], tuple[Catalog, str]] = {}


def unlocks(catalog: Catalog, device: Device, results: Sequence[PresetResult], choices: Choices, *,
            runs: bool = False) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """For each GPU size above this machine's: which presets would newly fit at full speed (``runs``: which
    unsupported presets would newly run at all, offloading included)."""
    plain = replace(choices, quant=QuantChoice())
    tiers = [t for t in TIERS_GIB if t * GIB > device.vram_bytes]
    wanted = frozenset({"fits", "offload"} if runs else {"fits"})
    todo = {"unsupported"} if runs else {"offload", "unsupported"}
    first: dict[str, int] = {}
    for r in results:
        if r.status in todo and tiers:
            tier = _first_tier(catalog, r.preset, device, plain, tiers, wanted)
            if tier is not None:
                first[r.preset.id] = tier
    return tuple((t, tuple(p for p, pt in first.items() if pt == t)) for t in tiers if t in first.values())


# The specification's Training column, keyed by the VRAM it starts at.
_TRAINING = ((24, "full fine-tuning of SD-class models"), (16, "most LoRA training, Flux LoRA included"),
             (12, "SDXL LoRA"), (8, "SD1.5 LoRA"))


def training(device: Device) -> tuple[str, ...]:
    """What this machine could train, per the specification's tier table (not part of any preset)."""
    if device.backend == "cpu":
        return ()
    gib = device.vram_bytes / GIB + 0.25  # an "8 GB" card reports a little under 8 GiB
    return tuple(what for need, what in _TRAINING if gib >= need)
