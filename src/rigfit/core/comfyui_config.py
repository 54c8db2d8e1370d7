"""The launch scripts rigfit writes into a ComfyUI folder (``run_comfyui.sh`` / ``run_comfyui.bat``).

They start ComfyUI from its ``.venv`` with the plan's launch arguments (real ComfyUI flags only, checked by the
recommendation engine); ``--listen``/``--port`` are left to the user, who can append them to the script.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MARKER = "# Written by rigfit"
_PLAIN = re.compile(r"^[A-Za-z0-9_./,:=+@%-]+$")
# ComfyUI's main.py also accepts these, but rigfit owns them in the scripts it writes (launch binds to loopback).
RESERVED_FLAGS = frozenset({"--listen", "--port"})


def _sh_quote(arg: str) -> str:
    return arg if _PLAIN.match(arg) else "'" + arg.replace("'", "'\"'\"'") + "'"


def _bat_quote(arg: str) -> str:
    return arg if _PLAIN.match(arg) else '"' + arg.replace('"', '""') + '"'


def launch_args(planned: Sequence[str]) -> tuple[str, ...]:
    """The arguments ComfyUI is started with: the plan's, with ``--listen``/``--port`` left to the user."""
    out: list[str] = []
    skip = False
    for arg in planned:
        if skip:
            skip = False
            if not arg.startswith("--"):
                continue
        name = arg.split("=", 1)[0]
        if name in RESERVED_FLAGS:
            skip = "=" not in arg
            continue
        out.append(arg)
    return tuple(out)


def run_script_sh(args: Sequence[str]) -> str:
    line = " ".join(["main.py", *(_sh_quote(a) for a in args)])
    return (
        "#!/bin/sh\n"
        f"{MARKER} from the plan's launch arguments; extra arguments are passed on (e.g. --port 8189).\n"
        'cd "$(dirname "$0")" || exit 1\n'
        f'exec ./.venv/bin/python {line} "$@"\n'
    )


def run_script_bat(args: Sequence[str]) -> str:
    line = " ".join(["main.py", *(_bat_quote(a) for a in args)])
    return (
        "@echo off\r\n"
        f"rem {MARKER.lstrip('# ')} from the plan's launch arguments; extra arguments are passed on.\r\n"
        'cd /d "%~dp0"\r\n'
        f'".venv\\Scripts\\python.exe" {line} %*\r\n'
    )
