"""The installer's models step: the one adapter onto the downloads side (``rigfit.shell.model_install``).

Files go into the content-addressed store and appear in ``ComfyUI/models/<folder>/`` as links (or through the
store's own section of ``extra_model_paths.yaml`` where links are impossible); the store decides, this adapter
only turns its per-file outcomes into the step's record and one error when any file failed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rigfit.core.errors import DownloadError
from rigfit.core.plan import Plan


def store_root(models_dir: Path | None) -> Path:
    from rigfit.shell import paths

    return models_dir if models_dir is not None else paths.data_dir() / "store"


def fetch_models(
    plan: Plan,
    comfyui: Path,
    models_dir: Path | None,
    *,
    on_event: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Download, verify and place every planned file; returns the outcome per file (``folder/name`` -> status)."""
    from rigfit.core.download_plan import DEFAULT_JOBS, DEFAULT_SEGMENTS
    from rigfit.shell.fetch import Tuning
    from rigfit.shell.model_install import ModelsSettings, install_models
    from rigfit.shell.store import Store

    endpoint = (os.environ.get("HF_ENDPOINT") or "").strip().rstrip("/") or None
    token = (os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or "").strip() or None
    root = store_root(models_dir)
    settings = ModelsSettings(
        comfyui=comfyui,
        store=Store(root),
        jobs=DEFAULT_JOBS,
        tuning=Tuning(segments=DEFAULT_SEGMENTS),
        hf_token=token,
        hf_endpoint=endpoint,
    )
    outcomes = install_models(plan, settings, on_event=on_event)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise DownloadError(
            f"{failed[0].file.relpath}: {failed[0].error}{more}; run `rigfit install` again to resume"
        )
    return {
        "store": str(root),
        "files": {o.file.relpath: {"status": o.status, "how": o.how, "sha256": o.sha256} for o in outcomes},
    }
