"""The only place the CLI prints: JSON documents, tables, warnings."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

_console: Console | None = None


def console() -> Console:
    """A Rich console on stdout, created on first use (Rich costs ~50 ms to import)."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(highlight=False, soft_wrap=False)
    return _console


def emit_json(document: dict[str, Any]) -> None:
    """Print one JSON document; every document rigfit prints carries a ``schema``."""
    if "schema" not in document:
        raise ValueError("JSON documents must carry a schema key")
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def warn(message: str) -> None:
    sys.stderr.write(f"rigfit: warning: {message}\n")
