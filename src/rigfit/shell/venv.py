"""The ComfyUI virtual environment, driven through ``uv``: create, install, freeze, restore, check, probe torch.

Every change goes through ``uv pip`` with the torch family pinned as constraints, so no later step can swap
torch for another build (``comfyui-facts.md`` §8: an unpinned ``pip install -r requirements.txt`` replaced a
CPU torch with a CUDA one). ``freeze`` before a step and ``restore`` after a failure put the environment back.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from rigfit.core.errors import InstallError, ResolveError
from rigfit.shell.runner import Completed, run

TIMEOUT = 1800.0
# ComfyUI supports CPython 3.10 to 3.13 at 0.3.64 (pyproject ``requires-python >=3.9``, CI on 3.10-3.13);
# uv picks the newest interpreter it finds in that range.
PYTHON_REQUEST = ">=3.10,<3.14"
TORCH_FAMILY = ("torch", "torchvision", "torchaudio")


def uv_binary() -> str:
    """The uv that ships with rigfit (a dependency); a ``uv`` on PATH when rigfit runs without it."""
    try:
        import uv
    except ImportError:
        import shutil

        return shutil.which("uv") or "uv"
    return str(uv.find_uv_bin())


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _uv(
    args: Sequence[str], *, offline: bool, timeout: float = TIMEOUT, input_text: str | None = None
) -> Completed:
    env = {"NO_COLOR": "1", "UV_NO_PROGRESS": "1"}
    if offline:
        env["UV_OFFLINE"] = "1"
        env["UV_PYTHON_DOWNLOADS"] = "never"
    return run([uv_binary(), *args], timeout=timeout, env=env, input_text=input_text)


def create(venv: Path, *, python: str | None = None, offline: bool = False) -> str:
    """Make ``venv`` (kept when it already has a working interpreter); returns its Python version."""
    interpreter = venv_python(venv)
    probe = "import sys;print('%d.%d.%d' % sys.version_info[:3])"
    if not interpreter.is_file() or not run([str(interpreter), "-c", probe], timeout=60).ok:
        # ``--clear``: a venv folder left half-made by an interrupted run is replaced, never trusted.
        args = ["venv", "--quiet", "--clear", "--python", python or PYTHON_REQUEST, str(venv)]
        done = _uv(args, offline=offline)
        if not done.ok:
            raise InstallError(
                f"could not create the virtual environment {venv}: {done.describe_failure()}; "
                f"install a Python {PYTHON_REQUEST} (e.g. `uv python install 3.12`) and run again"
            )
    done = run([str(interpreter), "-c", probe], timeout=60)
    if not done.ok:
        raise InstallError(f"the virtual environment {venv} does not start: {done.describe_failure()}")
    return done.stdout.strip()


def freeze(python: Path, *, offline: bool = False) -> list[str]:
    done = _uv(["pip", "freeze", "--python", str(python)], offline=offline, timeout=120)
    if not done.ok:
        raise InstallError(f"uv pip freeze failed: {done.describe_failure()}")
    return [line.strip() for line in done.stdout.splitlines() if line.strip() and not line.startswith("#")]


def versions(frozen: Sequence[str]) -> dict[str, str]:
    """name (lower case, ``-``) -> version, from ``name==version`` lines."""
    out: dict[str, str] = {}
    for line in frozen:
        name, sep, version = line.partition("==")
        if sep:
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def torch_pins(frozen: Sequence[str]) -> list[str]:
    found = versions(frozen)
    return [f"{name}=={found[name]}" for name in TORCH_FAMILY if name in found]


def install(
    python: Path,
    requirements: Sequence[str],
    *,
    source_args: Sequence[str],
    constraints: Sequence[str] = (),
    offline: bool = False,
    what: str,
    error: type[InstallError] | type[ResolveError] = InstallError,
) -> None:
    """``uv pip install`` the lines in ``requirements`` with ``constraints``; uv resolves before it changes
    anything, so a resolution failure leaves the environment as it was."""
    if not requirements:
        return
    with tempfile.TemporaryDirectory(prefix="rigfit-pip-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        args = ["pip", "install", "--python", str(python), "-r", str(req), *source_args]
        if constraints:
            con = Path(tmp) / "constraints.txt"
            con.write_text("\n".join(constraints) + "\n", encoding="utf-8")
            args += ["-c", str(con)]
        done = _uv(args, offline=offline)
    if not done.ok:
        detail = _uv_reason(done)
        raise error(f"installing {what} failed: {detail}")


def _uv_reason(done: Completed) -> str:
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    if done.timed_out or done.missing or not lines:
        return done.describe_failure()
    # uv prints the reason after "No solution found" / "error:"; keep the explanation, not the progress lines.
    start = next(
        (i for i, line in enumerate(lines) if "No solution found" in line or line.startswith("×")), 0
    )
    return " ".join(lines[start : start + 6])[:900]


def restore(
    python: Path, frozen: Sequence[str], *, source_args: Sequence[str], offline: bool = False
) -> bool:
    """Put the environment back to ``frozen`` (``uv pip sync``); False when that failed too."""
    with tempfile.TemporaryDirectory(prefix="rigfit-sync-") as tmp:
        req = Path(tmp) / "frozen.txt"
        req.write_text("\n".join(frozen) + "\n", encoding="utf-8")
        done = _uv(["pip", "sync", "--python", str(python), str(req), *source_args], offline=offline)
    return done.ok


def pip_check(python: Path) -> tuple[bool, str]:
    done = _uv(["pip", "check", "--python", str(python)], offline=True, timeout=120)
    text = (done.stdout + done.stderr).strip()
    return done.ok, text


_PROBE = """
import json, sys
out = {"python": "%d.%d.%d" % sys.version_info[:3]}
try:
    import torch
except Exception as exc:
    out["error"] = "%s: %s" % (type(exc).__name__, exc)
else:
    out["torch"] = getattr(torch, "__version__", "?")
    out["cuda_build"] = getattr(getattr(torch, "version", None), "cuda", None)
    out["hip_build"] = getattr(getattr(torch, "version", None), "hip", None)
    try:
        out["cuda_available"] = bool(torch.cuda.is_available())
        out["arch_list"] = list(torch.cuda.get_arch_list()) if out["cuda_available"] else []
        out["device_name"] = torch.cuda.get_device_name(0) if out["cuda_available"] else None
        out["capability"] = list(torch.cuda.get_device_capability(0)) if out["cuda_available"] else None
    except Exception as exc:
        out["cuda_error"] = "%s: %s" % (type(exc).__name__, exc)
    try:
        out["mps_available"] = bool(torch.backends.mps.is_available())
    except Exception:
        out["mps_available"] = False
    try:
        out["xpu_available"] = bool(torch.xpu.is_available())
    except Exception:
        out["xpu_available"] = False
print(json.dumps(out))
"""


def probe_torch(python: Path, *, env: Mapping[str, str] | None = None) -> dict[str, object]:
    """What torch reports inside the target environment (import error, build, devices, compiled archs)."""
    done = run([str(python), "-c", _PROBE], timeout=300, env=dict(env or {}))
    if not done.ok:
        return {"error": done.describe_failure()}
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {"error": f"unreadable probe output: {done.stdout[-200:]!r}"}
    return result if isinstance(result, dict) else {"error": "unreadable probe output"}


def is_windows() -> bool:
    return os.name == "nt"
