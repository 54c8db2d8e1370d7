"""``rigfit gui``: the desktop wizard. PySide6 is an optional extra, so its absence is bad input (exit 2)
with the command that installs it, never a traceback."""

from __future__ import annotations

import argparse

INSTALL_HINT = "pip install 'rigfit[gui]' (or, in a checkout: uv sync --extra gui)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--theme", choices=("system", "light", "dark"), default="system",
                        help="colour theme (default: the system's)")
    parser.add_argument("--scale", type=float, metavar="FACTOR",
                        help="interface scale, e.g. 2 for 200 %% (default: the screen's)")


def missing_qt_message(exc: ImportError) -> str:
    """One line saying what is missing: the PySide6 package, or a system library Qt loads."""
    name = getattr(exc, "name", None) or ""
    if name.split(".")[0] in {"PySide6", "shiboken6"} or ("PySide6" in str(exc) and ".so" not in str(exc)):
        return f"the desktop wizard needs PySide6, which is not installed: {INSTALL_HINT}"
    return (f"Qt could not be loaded ({exc}); on Debian/Ubuntu install the libraries it needs: "
            "apt-get install libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libxcb-cursor0")


def display_problem(platform: str, environ: dict[str, str]) -> str | None:
    """Why Qt would find no screen (it aborts the process then, with a core dump, instead of an error)."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set); run it in a desktop "
            "session, or use the commands (rigfit recommend, rigfit plan, rigfit install)")


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from rigfit.core.errors import UsageError

    if args.scale is not None and not 0.5 <= args.scale <= 4:
        raise UsageError(f"--scale {args.scale:g}: give a factor between 0.5 and 4")
    try:
        import rigfit.gui.qt  # noqa: F401  (the one module that loads PySide6)
    except ImportError as exc:
        raise UsageError(missing_qt_message(exc)) from exc
    problem = display_problem(sys.platform, dict(os.environ))
    if problem is not None:
        raise UsageError(problem)
    from rigfit.gui.app import run as run_app

    return run_app(hardware=args.hardware or (), catalog=args.catalog or (), theme=args.theme, scale=args.scale)
