"""Small helpers the probe parsers share: safe JSON, numbers with units, "N/A" cells."""

from __future__ import annotations

import json
import re
from typing import Any

from rigfit.core.errors import HardwareError

_MISSING = {"", "n/a", "[n/a]", "na", "none", "null", "[not supported]", "not supported", "unknown",
            "[unknown error]", "[insufficient permissions]", "[gpu is lost]", "-"}
_UNIT = {"b": 1, "kib": 1024, "kb": 1024, "k": 1024, "mib": 1024**2, "mb": 1024**2, "m": 1024**2,
         "gib": 1024**3, "gb": 1024**3, "g": 1024**3, "tib": 1024**4, "tb": 1024**4}


def load_json(text: str, *, source: str) -> Any:
    """``json.loads`` that fails with ``HardwareError`` (also on absurdly deep nesting)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise HardwareError(f"{source}: output is not JSON ({str(exc)[:80]})", source=source) from exc


def missing(cell: str) -> bool:
    return cell.strip().lower() in _MISSING


def to_int(value: object, *, source: str, what: str) -> int | None:
    """An integer from an int or a decimal/hex string; ``None`` for "N/A"-like cells."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value < 0:
            raise HardwareError(f"{source}: {what} is negative ({value})", source=source)
        return value
    if isinstance(value, float):
        if value != value or value < 0 or value > 2**63:
            raise HardwareError(f"{source}: {what} is not a size ({value!r})", source=source)
        return int(value)
    if not isinstance(value, str):
        raise HardwareError(f"{source}: {what} is not a number ({type(value).__name__})", source=source)
    text = value.strip()
    if missing(text):
        return None
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError as exc:
        raise HardwareError(f"{source}: {what} is not a number ({text[:40]!r})", source=source) from exc


def size_to_bytes(value: object, *, default_unit: str, source: str, what: str) -> int | None:
    """``"24564 MiB"`` / ``"24564"`` (in ``default_unit``) / ``{"value": 24564, "unit": "MB"}`` → bytes.

    Memory sizes from GPU tools are binary even where they say "MB" (nvidia-smi, amd-smi), so every
    unit here is a power of 1024.
    """
    if isinstance(value, dict):
        return size_to_bytes(f"{value.get('value')} {value.get('unit', default_unit)}",
                             default_unit=default_unit, source=source, what=what)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        raise HardwareError(f"{source}: {what} is not a size ({type(value).__name__})", source=source)
    text = value.strip()
    if missing(text) or text.lower().startswith("none "):
        return None
    match = re.fullmatch(r"(\d{1,18}(?:\.\d{1,6})?)\s*([A-Za-z]{0,3})", text)
    if not match:
        raise HardwareError(f"{source}: {what} is not a size ({text[:40]!r})", source=source)
    unit = (match.group(2) or default_unit).lower()
    if unit not in _UNIT:
        raise HardwareError(f"{source}: {what} has an unknown unit ({unit!r})", source=source)
    return int(float(match.group(1)) * _UNIT[unit])
