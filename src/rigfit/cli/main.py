"""Entry point of the ``rigfit`` command.

Start-up must stay fast (``rigfit --help`` is measured): only the module of the command being run is
imported, and command modules import their heavy dependencies inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn, Protocol

from rigfit import __version__

# name -> (module, one-line help). A command module defines ``configure(parser)`` and ``run(args) -> int``.
COMMANDS: dict[str, tuple[str, str]] = {
    "detect": ("rigfit.cli.cmd_detect", "probe this machine: GPUs, VRAM, RAM, disk"),
    "profiles": ("rigfit.cli.cmd_profiles", "list the embedded hardware profiles (use with --hardware ID)"),
    "catalog": ("rigfit.cli.cmd_catalog", "validate, list and show the catalog of models, node packs and presets"),
    "recommend": ("rigfit.cli.cmd_recommend", "which presets run here, with which quantization, VRAM, RAM, disk"),
    "compare": ("rigfit.cli.cmd_compare", "what several machines run, side by side (--hardware A --hardware B)"),
    "plan": ("rigfit.cli.cmd_plan", "write the recommendation as a plan (lock file) for rigfit install"),
    "estimate": ("rigfit.cli.cmd_estimate", "VRAM/RAM of one model at your resolution, frames and batch"),
    "deps": ("rigfit.cli.cmd_deps", "resolve node packs' Python requirements together and name the conflicts"),
    "install": ("rigfit.cli.cmd_install", "carry out a plan: download, verify and place its model files"),
    "doctor": ("rigfit.cli.cmd_doctor", "check an install: files, node packs, Python, torch and GPU, workflows"),
    "launch": ("rigfit.cli.cmd_launch", "start ComfyUI from its venv with the recorded launch arguments"),
    "gui": ("rigfit.cli.cmd_gui", "the desktop wizard (needs the gui extra: pip install 'rigfit[gui]')"),
}


class CommandModule(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2, as the contract asks."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _common_options() -> Parser:
    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print a JSON document instead of tables")
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    common.add_argument(
        "--hardware",
        metavar="FILE|ID",
        action="append",
        help="use a hardware profile (a JSON file or an embedded profile id) instead of probing; "
        "also RIGFIT_HARDWARE",
    )
    common.add_argument(
        "--catalog",
        metavar="PATH",
        action="append",
        default=[],
        help="add a user catalog file or folder on top of the shipped catalog (repeatable)",
    )
    return common


def build_parser(command: str | None) -> argparse.ArgumentParser:
    """The parser of ``command`` alone (its module imported), or of every command by its one-line help.

    Each sub-parser costs ~0.5 ms (argparse looks up its translations on disk): ``rigfit deps check`` and
    ``rigfit detect`` are measured, so a known command gets only its own.
    """
    parser = Parser(
        prog="rigfit",
        description="rigfit: the right ComfyUI models, quantizations and node packs for this machine.",
    )
    parser.add_argument("--version", action="version", version=f"rigfit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    common = _common_options()
    for name, (module_name, summary) in COMMANDS.items():
        if command is not None and name != command:
            continue
        child = sub.add_parser(name, help=summary, description=summary, parents=[common])
        if name == command:
            module: CommandModule = importlib.import_module(module_name)
            module.configure(child)
            child.set_defaults(_module=module)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    debug = bool(args.debug)
    from rigfit.core.errors import RigfitError

    try:
        return int(args._module.run(args))
    except RigfitError as exc:
        if debug:
            raise
        sys.stderr.write(f"rigfit: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        sys.stderr.write("rigfit: interrupted\n")
        return 130
    except BrokenPipeError:
        return 1


def entry() -> int:
    """The ``rigfit`` program (console script and ``python -m rigfit``): ``main``, then a quick exit.

    At exit Python collects every object left (all the modules' values) once more before freeing them, ~6 ms of
    ``rigfit deps check``'s measured wall time. The process is ending and the OS takes its memory back, so the
    objects are frozen out of that collection (``gc.freeze``). Files are closed by ``with`` blocks and the
    standard streams are flushed as usual. Not for the desktop wizard, whose Qt objects are torn down by
    collection, nor for callers of ``main`` in a process that goes on (tests).
    """
    code = main()
    if _command_in(sys.argv[1:]) != "gui":
        import gc

        gc.freeze()
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(entry())
