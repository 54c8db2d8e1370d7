"""The command-line conventions: version, help, one-line errors with exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rigfit import __version__
from rigfit.cli.main import COMMANDS, main


def _rigfit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rigfit", *args], capture_output=True, text=True, timeout=60)


def test_version_prints_the_package_version() -> None:
    result = _rigfit("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"rigfit {__version__}"


def test_help_lists_every_command() -> None:
    result = _rigfit("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout


def test_help_imports_no_command_module_nor_rich() -> None:
    """`rigfit --help` stays fast: it loads none of the command modules and no heavy library."""
    script = (
        "import sys\nfrom rigfit.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in sys.modules if m.startswith(('rigfit.cli.cmd_', 'rich', 'pynvml', 'rigfit.shell'))]\n"
        "print(heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stderr.strip() == "[]"


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--no-such-option"], id="unknown-option"),
        pytest.param(["no-such-command"], id="unknown-command"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str]) -> None:
    result = _rigfit(*argv)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rigfit: error:")


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


@pytest.mark.parametrize("argv, frozen", [(["deps", "check", "x"], True), (["--debug", "gui"], False)])
def test_the_program_skips_the_last_collection_except_for_the_wizard(
        argv: list[str], frozen: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from rigfit.cli import main as cli

    calls: list[str] = []
    monkeypatch.setattr(sys, "argv", ["rigfit", *argv])
    monkeypatch.setattr(cli, "main", lambda: 3)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    assert cli.entry() == 3
    assert calls == (["freeze"] if frozen else [])
