from __future__ import annotations

from rigfit.cli.main import main

raise SystemExit(main())
