"""``rigfit launch --comfyui DIR [-- EXTRA ...]``: start ComfyUI from its venv with the recorded launch arguments.

The process replaces rigfit (``os.execv``), so signals, the console and the exit status are ComfyUI's own.
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--comfyui", metavar="DIR", required=True, help="the ComfyUI folder rigfit installed")
    parser.add_argument("extra", nargs=argparse.REMAINDER, metavar="-- ARGS",
                        help="more ComfyUI arguments after --, e.g. -- --port 8189")  # fmt: skip
    parser.add_argument("--print", dest="print_only", action="store_true",
                        help="print the command line instead of starting ComfyUI")  # fmt: skip


def command_line(comfyui_dir: str, extra: list[str]) -> list[str]:
    from rigfit.shell.launch import launch_command

    return launch_command(comfyui_dir, extra)


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from pathlib import Path

    from rigfit.cli import render

    argv = command_line(args.comfyui, list(args.extra or []))
    if args.print_only or args.json:
        if args.json:
            render.emit_json({"schema": "rigfit.launch/1", "argv": argv})
        else:
            sys.stdout.write(" ".join(argv) + "\n")
        return 0
    os.chdir(Path(argv[1]).parent)
    sys.stdout.flush()
    os.execv(argv[0], argv)
    return 0  # pragma: no cover - execv does not return
