"""Catalog invariant: every preset resolves on every embedded profile at the VRAM tiers it claims.

The tiers are the specification's NVIDIA card tiers, so the invariant is checked on the embedded NVIDIA
profiles (lip sync, for one, has only CUDA runtimes: on Apple, AMD and Intel it is unsupported by platform,
which ``test_recommend`` covers). At ``min_vram_bytes`` a preset must run (``fits``, or ``offload`` with
weights streamed); at ``recommended_vram_bytes`` it must run at full speed, or so close to it that only a
sliver of the weights is streamed.
"""

from __future__ import annotations

import pytest

from rigfit.core.hardware import Hardware
from rigfit.core.quant import device_of
from rigfit.core.recommend import Choices, near_fit, recommend
from rigfit.core.units import GIB
from rigfit.shell.catalog_source import load_catalog
from rigfit.shell.hardware_source import embedded_profiles

CATALOG = load_catalog(())
NVIDIA = {pid: hw for pid, hw in embedded_profiles().items()
          if hw.primary_gpu is not None and hw.primary_gpu.vendor == "nvidia"}
SLACK = GIB // 4  # a "16 GB" card reports a little under 16 GiB


def _cases(field: str) -> list[tuple[str, str, Hardware]]:
    out = []
    for preset in CATALOG.presets.values():
        need = getattr(preset, field)
        for pid, hw in NVIDIA.items():
            vram = hw.primary_gpu.vram_bytes if hw.primary_gpu else 0
            if need and (vram or 0) + SLACK >= need:
                out.append((preset.id, pid, hw))
    return out


MIN = _cases("min_vram_bytes")
REC = _cases("recommended_vram_bytes")


@pytest.mark.parametrize(("preset", "pid", "hw"), MIN, ids=[f"{p}-on-{h}" for p, h, _ in MIN])
def test_preset_runs_at_its_minimum_tier(preset: str, pid: str, hw: Hardware) -> None:
    r = recommend(CATALOG, device_of(hw), Choices(presets=(preset,), experimental=True))[0]
    assert r.status in {"fits", "offload"}, [x.text for x in r.reasons]
    assert any(c.companion_of is None for c in r.components)


@pytest.mark.parametrize(("preset", "pid", "hw"), REC, ids=[f"{p}-on-{h}" for p, h, _ in REC])
def test_preset_runs_at_full_speed_at_its_recommended_tier(preset: str, pid: str, hw: Hardware) -> None:
    r = recommend(CATALOG, device_of(hw), Choices(presets=(preset,), experimental=True))[0]
    assert r.budget is not None
    assert r.status == "fits" or near_fit(r.budget), [x.text for x in r.reasons]


def test_the_invariant_covers_every_preset_with_a_gpu_tier() -> None:
    assert {p for p, _, _ in MIN} == {p.id for p in CATALOG.presets.values() if p.min_vram_bytes}
