"""`rigfit doctor --live` checks the starter graphs against the server's schema, placeholder media included."""

from __future__ import annotations

from pathlib import Path

from rigfit.core.plan import parse_plan
from rigfit.core.workflow_pipelines import STARTER_MEDIA
from rigfit.shell.comfyui import bundled_pack_schemas, bundled_schema
from rigfit.shell.doctor import _schema_for


def _options(schema, class_type: str, name: str) -> tuple[str, ...]:
    node = schema.nodes[class_type]
    return next(spec.options or () for spec in node.inputs if spec.name == name)


def test_the_live_schema_lists_the_starter_graphs_placeholder_media(tmp_path: Path) -> None:
    """A fresh ComfyUI has no face video or voice clip in input/: the live check must not call the lipsync and
    voice graphs broken for a file the user is told to upload."""
    live = bundled_schema().merged(bundled_pack_schemas())  # stands in for /object_info of a fresh install
    assert "rigfit-voice.wav" not in _options(live, "LoadAudio", "audio")
    plan = parse_plan({"schema": "rigfit.plan/1", "files": []}, source="plan.json")
    checked = _schema_for(plan, tmp_path, {}, live)
    for name in STARTER_MEDIA["input"]:
        listed = {*_options(checked, "LoadAudio", "audio"), *_options(checked, "LoadImage", "image"),
                  *_options(checked, "VHS_LoadVideo", "video")}
        assert name in listed
