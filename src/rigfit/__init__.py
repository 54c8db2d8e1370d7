"""rigfit: a hardware-aware configuration wizard for ComfyUI."""

from __future__ import annotations

__version__ = "0.1.0"
