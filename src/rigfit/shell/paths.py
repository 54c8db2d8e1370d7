"""Where rigfit keeps its data. ``RIGFIT_HOME`` moves all of it (tests, portable installs)."""

from __future__ import annotations

import os
from pathlib import Path


def _home() -> Path | None:
    value = os.environ.get("RIGFIT_HOME")
    return Path(value) if value else None


def data_dir() -> Path:
    """The default model store and state live here."""
    home = _home()
    if home is not None:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir("rigfit", appauthor=False))


def cache_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("rigfit", appauthor=False))


def config_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir("rigfit", appauthor=False))
