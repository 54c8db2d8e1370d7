"""Launch scripts start ComfyUI from its venv with the plan's flags, quoted for each shell."""

from __future__ import annotations

import pytest

from rigfit.core.comfyui_config import launch_args, run_script_bat, run_script_sh


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        pytest.param(["--reserve-vram", "0.6"], ("--reserve-vram", "0.6"), id="kept"),
        pytest.param(["--listen", "0.0.0.0", "--lowvram"], ("--lowvram",), id="listen-value-dropped"),
        pytest.param(["--listen", "--cpu"], ("--cpu",), id="listen-without-value"),
        pytest.param(["--port=9000", "--cpu"], ("--cpu",), id="port-equals"),
    ],
)
def test_launch_args_leave_listen_and_port_to_the_user(planned: list[str], expected: tuple[str, ...]) -> None:
    assert launch_args(planned) == expected


def test_scripts_quote_arguments_with_spaces() -> None:
    sh = run_script_sh(["--output-directory", "/data/my outputs", "--cpu"])
    bat = run_script_bat(["--output-directory", "C:\\my outputs"])
    assert "exec ./.venv/bin/python main.py --output-directory '/data/my outputs' --cpu \"$@\"" in sh
    assert '".venv\\Scripts\\python.exe" main.py --output-directory "C:\\my outputs" %*' in bat
    assert sh.startswith("#!/bin/sh\n") and bat.endswith("\r\n")
