"""The installer's models step: the one adapter onto the downloads side (``rigfit.shell.model_install``).

Files go into the content-addressed store and appear in ``ComfyUI/models/<folder>/`` as links (or through the
store's own section of ``extra_model_paths.yaml`` where links are impossible); the store decides. This adapter
builds the settings the way ``rigfit install --only models`` always has, and returns the per-file outcomes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rigfit.core.plan import Plan

if TYPE_CHECKING:
    from rigfit.shell.model_install import FileOutcome


def store_root(models_dir: Path | None) -> Path:
    from rigfit.shell import paths

    return models_dir if models_dir is not None else paths.data_dir() / "store"


def fetch_models(
    plan: Plan,
    comfyui: Path,
    models_dir: Path | None,
    *,
    on_event: Callable[[Any], None] | None = None,
    cancel: threading.Event | None = None,
    confirm: Callable[[int, int], bool] | None = None,
    jobs: int | None = None,
    segments: int | None = None,
) -> tuple[dict[str, Any], list[FileOutcome]]:
    """Download, verify and place every planned file: (the step's record, the outcome of each file).

    Failed files do not raise here (the downloads side reports every file); the caller fails the step.
    """
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
        jobs=jobs or DEFAULT_JOBS,
        tuning=Tuning(segments=segments or DEFAULT_SEGMENTS),
        hf_token=token,
        hf_endpoint=endpoint,
    )
    outcomes = install_models(plan, settings, on_event=on_event, confirm=confirm, cancel=cancel)
    details = {
        "store": str(root),
        "files": {o.file.relpath: {"status": o.status, "how": o.how, "sha256": o.sha256} for o in outcomes},
    }
    return details, outcomes
