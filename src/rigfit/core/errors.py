"""The one error tree of rigfit.

::

    RigfitError                      exit 1 unless the subclass says otherwise
    ├── UsageError (ValueError)      exit 2: bad input on the command line
    ├── CatalogError (ValueError)    exit 2: a malformed catalog file; carries every problem at once
    ├── HardwareError                exit 1: a probe output that cannot be parsed
    │   └── ProfileError (ValueError)   exit 2: a malformed hardware profile
    ├── BudgetError                  exit 2: a choice the hardware cannot run (FP8 on MPS, ...)
    ├── PlanError (ValueError)       exit 2: a malformed or unsafe plan file
    ├── DownloadError (OSError)      exit 1
    ├── ResolveError                 exit 1: dependency resolution failed or found conflicts
    ├── InstallError                 exit 1
    └── VerifyError                  exit 1

The CLI catches ``RigfitError`` only: one line on stderr, ``exit_code`` as the exit status. Anything else is
a bug and crashes loudly.
"""

from __future__ import annotations

from collections.abc import Sequence


class RigfitError(Exception):
    """Base of every error rigfit raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(RigfitError, ValueError):
    """Bad input given on the command line (unknown preset, impossible option)."""

    exit_code = 2


class CatalogError(RigfitError, ValueError):
    """One or more problems in catalog data, each as ``file:key: message``."""

    exit_code = 2

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        head = self.problems[0] if self.problems else "invalid catalog"
        more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
        super().__init__(head + more)


class HardwareError(RigfitError):
    """A probe output that could not be understood."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source


class ProfileError(HardwareError, ValueError):
    """A hardware profile that is malformed; the message names the field."""

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, source: str | None = None) -> None:
        super().__init__(message, source=source)
        self.field = field


class BudgetError(RigfitError, ValueError):
    """A choice the hardware cannot run at all (FP8 on Apple, a K-quant on MPS)."""

    exit_code = 2


class PlanError(RigfitError, ValueError):
    """A plan file that is malformed or unsafe (hostile file names, bad URLs)."""

    exit_code = 2


class DownloadError(RigfitError, OSError):
    """A file could not be downloaded or verified."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        path: str | None = None,
        needed: int | None = None,
        available: int | None = None,
    ) -> None:
        RigfitError.__init__(self, message)
        self.url = url
        self.path = path
        self.needed = needed
        self.available = available


class ResolveError(RigfitError):
    """Python dependencies could not be resolved."""


class InstallError(RigfitError):
    """An install step failed."""


class VerifyError(RigfitError):
    """An installation does not match its plan."""
