"""rigfit's budget model holds every ComfyUI peak measured on real hardware (bench/gpu/results/*.json, made by
bench/gpu/calibrate.py) within 10 %.

Compared per stage under ComfyUI's default memory policy: the stage's own peak (torch's peak allocated minus
the other stages' models left resident on the big card) against rigfit's stage peak without the CUDA
context (torch's counters do not see it). Points measured with a simulated smaller card (``sim*``
policies) measure ComfyUI's offload policy, not the model's need; they feed the offload slowdown instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench" / "gpu"))
import budget_fit  # noqa: E402

from rigfit.shell.catalog_source import load_catalog  # noqa: E402

TOLERANCE = 0.10
CATALOG = load_catalog(())
DOCS = budget_fit.load()
POINTS = [m for m in budget_fit.points(DOCS) if m.policy == "default"]


@pytest.mark.parametrize("point", POINTS, ids=[m.label.replace(" ", "-") for m in POINTS])
def test_estimate_within_10_percent_of_measured_comfyui_peak(point: budget_fit.Measured) -> None:
    why = budget_fit.exclusion(point)
    if why is not None:
        pytest.skip(why)
    predicted = budget_fit.predicted(CATALOG, point)
    error = (predicted - point.bytes) / point.bytes
    assert abs(error) <= TOLERANCE, f"{point.label}: predicted {predicted / 2**30:.2f} GiB, " \
                                    f"measured {point.bytes / 2**30:.2f} GiB ({error:+.1%})"


def test_the_measured_set_is_compared() -> None:
    """The results are committed and cover every family the calibration ran (not a vacuous pass)."""
    families = {m.family for m in POINTS if budget_fit.exclusion(m) is None}
    assert families >= {"flux-dev", "sdxl", "sd15", "sd35-medium", "wan22-ti2v-5b"}
    assert sum(budget_fit.exclusion(m) is None for m in POINTS) >= 30


def test_offload_slowdown_estimate_is_within_a_factor_of_two_of_measured() -> None:
    """The rough "N× slower" of streaming weights, against ComfyUI on a simulated smaller card."""
    rows = budget_fit.slowdowns(DOCS, CATALOG)
    assert rows
    for group, measured, estimated in rows:
        assert measured / 2 <= estimated <= measured * 2, (group, measured, estimated)


def _consumer_card_points() -> list[dict[str, object]]:
    """Points measured under ComfyUI's default policy with only a consumer card's memory free (no flag)."""
    return [p for d in DOCS if not d.get("smoke") for p in d.get("points", ())
            if not p.get("error") and p["policy"].get("sim_gib") and not p["policy"].get("lowvram")
            and p["group"] in _CONSUMER_GROUPS]


# The groups of the second H200 run (bench/README.md, "Second run: consumer-sized cards").
_CONSUMER_GROUPS = {"flux-dev-fp8-sim12", "sdxl-fp16-sim8", "sd15-fp16-sim6", "flux-dev-bf16-sim24",
                    "sd35m-fp16-sim12", "wan22-5b-fp16-sim24"}
def _comfyui_streamed(point: dict[str, object]) -> bool:
    """ComfyUI ran some stage with its own model only partly on the GPU (weights streamed from RAM).

    Models of earlier stages that ComfyUI partly evicts to make room do not count: that is not streaming.
    """
    for stage in point["stages"]:  # type: ignore[attr-defined]
        for entry in stage.get("models_loaded_after", ()):
            own = budget_fit._kind(entry, point["weights"]) == stage["stage"]  # type: ignore[arg-type]
            if own and entry.get("loaded_bytes", 0) < entry.get("total_bytes", 0):
                return True
    return False


def _consumer_params() -> list[object]:
    params = []
    for p in _consumer_card_points():
        label = f"{p['group']}-{p['width']}x{p['height']}" + (f"x{p['frames']}" if p["frames"] > 1 else "")
        params.append(pytest.param(p, id=label))
    return params


def _card_bytes(point: dict[str, object]) -> int:
    """The card ComfyUI ran on, as rigfit counts cards: what ComfyUI found free once the ballast was in place,
    plus the CUDA context rigfit assumes (``CONTEXT_BYTES``). calibrate.py sizes the ballast so that a "24 GiB"
    card keeps what the device already used when the script started (0.59 GiB on the H200: its own CUDA context
    included), which left 23.41 GiB free; rigfit assumes a 0.39 GiB context, so at equal free memory that card
    is a 23.80 GiB one in rigfit's terms."""
    from rigfit.core.budget import CONTEXT_BYTES

    policy = point["policy"]
    return int(policy["free_after_ballast_bytes"]) + CONTEXT_BYTES  # type: ignore[index]


@pytest.mark.parametrize("point", _consumer_params())
def test_status_on_a_consumer_sized_card_matches_what_comfyui_did(point: dict[str, object]) -> None:
    """On a card of the simulated size, rigfit says `offload` exactly where ComfyUI streamed weights."""
    from dataclasses import replace

    from rigfit.core.estimate import estimate_model, reference_device

    family, precision = str(point["family"]), str(point["precision"])
    device = replace(reference_device(), vram_bytes=_card_bytes(point))
    frames = int(point["frames"])  # type: ignore[call-overload]
    est = estimate_model(CATALOG, device, budget_fit.MODEL[family], budget_fit.VARIANT[(family, precision)],
                         resolution=(int(point["width"]), int(point["height"])),  # type: ignore[call-overload]
                         frames=frames if frames > 1 else None, batch=int(point["batch"]),  # type: ignore[call-overload]
                         companions=budget_fit.COMPANIONS.get((family, str(point["text_encoder_precision"])), ()))
    expected = "offload" if _comfyui_streamed(point) else "fits"
    assert est.budget.status == expected, (
        f"rigfit says {est.budget.status} (peak {est.budget.required_bytes / 2**30:.2f} GiB), ComfyUI "
        f"{'streamed weights' if expected == 'offload' else 'loaded everything'}")


def test_every_consumer_card_group_is_compared() -> None:
    assert {p["group"] for p in _consumer_card_points()} == _CONSUMER_GROUPS
