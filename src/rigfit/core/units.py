"""Byte sizes: integers inside, human text only at the edge."""

from __future__ import annotations

import re

KIB = 1024
MIB = 1024**2
GIB = 1024**3
KB = 1000
MB = 1000**2
GB = 1000**3

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_FACTORS = {
    "": 1, "b": 1,
    "k": KB, "kb": KB, "kib": KIB, "ki": KIB,
    "m": MB, "mb": MB, "mib": MIB, "mi": MIB,
    "g": GB, "gb": GB, "gib": GIB, "gi": GIB,
    "t": 1000**4, "tb": 1000**4, "tib": 1024**4, "ti": 1024**4,
}


def format_bytes(n: int | None, *, binary: bool = False) -> str:
    """``12884901888`` → ``"12.9 GB"`` (or ``"12.0 GiB"`` with ``binary``); ``None`` → ``"?"``."""
    if n is None:
        return "?"
    base, units = (1024, ("B", "KiB", "MiB", "GiB", "TiB")) if binary else (1000, ("B", "kB", "MB", "GB", "TB"))
    value = float(n)
    for unit in units:
        if abs(value) < base or unit == units[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= base
    raise AssertionError("unreachable")


def parse_bytes(text: str) -> int:
    """``"8GB"`` → 8_000_000_000, ``"8 GiB"`` → 8_589_934_592; raises ``ValueError`` on anything else."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r}")
    number, unit = match.group(1), (match.group(2) or "").lower()
    if unit not in _FACTORS:
        raise ValueError(f"unknown size unit in {text!r}")
    return int(float(number) * _FACTORS[unit])
