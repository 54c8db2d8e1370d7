"""The command line that starts an installed ComfyUI: its venv's Python, ``main.py``, the recorded arguments."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rigfit.core.comfyui_config import launch_args
from rigfit.core.errors import InstallError


def launch_command(comfyui_dir: str | Path, extra: Sequence[str] = ()) -> list[str]:
    """``[python, main.py, *recorded launch args, *extra]`` for the ComfyUI rigfit installed in ``comfyui_dir``."""
    from rigfit.shell.install import read_journal
    from rigfit.shell.venv import venv_python

    comfyui = Path(comfyui_dir).expanduser().absolute()
    if not (comfyui / "main.py").is_file():
        raise InstallError(
            f"no ComfyUI in {comfyui} (main.py is missing); run `rigfit install plan.json --comfyui DIR`"
        )
    python = venv_python(comfyui / ".venv")
    if not python.is_file():
        raise InstallError(f"{python} is missing; run `rigfit install --only python`")
    facts = read_journal(comfyui).facts
    recorded = list((facts.get("config") or {}).get("launch_args") or ())
    extra = list(extra)
    extra = extra[1:] if extra[:1] == ["--"] else extra
    return [str(python), str(comfyui / "main.py"), *launch_args(recorded), *extra]
