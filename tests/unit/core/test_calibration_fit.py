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
