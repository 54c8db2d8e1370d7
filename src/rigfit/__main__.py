from __future__ import annotations

from rigfit.cli.main import entry

raise SystemExit(entry())
