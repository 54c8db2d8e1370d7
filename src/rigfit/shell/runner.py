"""The one place rigfit starts subprocesses: always with a timeout, never with a shell."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple


class Completed(NamedTuple):
    """What a finished (or abandoned) command left behind."""

    argv: tuple[str, ...]
    returncode: int | None  # None when the command could not start or was killed at its timeout
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    missing: bool = False  # the program is not installed / not on PATH

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe_failure(self) -> str:
        """One short phrase for warnings: why this command gave nothing usable."""
        name = self.argv[0] if self.argv else "command"
        if self.missing:
            return f"{name} not found"
        if self.timed_out:
            return f"{name} timed out after {self.seconds:.1f} s"
        tail = (self.stderr or self.stdout).strip().splitlines()
        detail = f": {tail[-1][:200]}" if tail else ""
        return f"{name} exited with {self.returncode}{detail}"


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    input_text: str | None = None,
) -> Completed:
    """Run ``argv`` to completion or until ``timeout`` seconds; never raises for a missing program or a hang."""
    args = tuple(str(a) for a in argv)
    start = time.monotonic()
    full_env = None if env is None else {**os.environ, **env}
    try:
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=full_env,
            cwd=cwd,
            input=input_text,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        return Completed(args, None, "", "", time.monotonic() - start, missing=True)
    except PermissionError as exc:
        return Completed(args, None, "", str(exc), time.monotonic() - start, missing=True)
    except subprocess.TimeoutExpired as exc:
        out = _text(exc.stdout)
        err = _text(exc.stderr)
        return Completed(args, None, out, err, time.monotonic() - start, timed_out=True)
    return Completed(args, proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data
