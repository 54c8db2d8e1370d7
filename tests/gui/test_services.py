"""The wizard's adapter: what the pages show, computed from the real engine on embedded profiles and the
shipped catalog (no Qt involved)."""

from __future__ import annotations

import pytest

from rigfit.core.units import GIB
from rigfit.gui.services import Services
from rigfit.gui.views import Choices

PROFILES = [
    pytest.param("rtx4060-8gb", id="rtx4060-8gb-ada"),
    pytest.param("rtx3090-24gb", id="rtx3090-24gb-ampere"),
    pytest.param("m3-max-64gb", id="m3-max-apple"),
    pytest.param("rx7600-8gb", id="rx7600-8gb-rdna3"),
]


@pytest.fixture(scope="module")
def services() -> Services:
    return Services()


@pytest.mark.parametrize("profile", PROFILES)
def test_budget_segments_add_up_to_the_required_vram(services: Services, profile: str) -> None:
    """The bar's parts (models, node packs, working memory) are the engine's requirement, split, never more."""
    hw = services.load_hardware(profile)
    rec = services.recommend(hw, Choices())
    runnable = [p for p in rec.presets if p.status in ("fits", "offload")]
    assert runnable
    for preset in runnable:
        budget = preset.budget
        assert sum(s.bytes for s in budget.segments) == budget.required_bytes, preset.id
        assert budget.card_bytes == (hw.primary_gpu.vram_bytes if hw.primary_gpu else 0)
        assert (budget.required_bytes <= budget.card_bytes) == (preset.status == "fits"), preset.id


def test_what_if_changes_only_the_memory_sizes(services: Services) -> None:
    hw = services.load_hardware("rtx4060-8gb")
    bigger = services.what_if(hw, vram_bytes=16 * GIB, ram_bytes=64 * GIB)
    assert bigger.primary_gpu is not None and hw.primary_gpu is not None
    assert bigger.primary_gpu.vram_bytes == 16 * GIB and bigger.ram_bytes == 64 * GIB
    assert bigger.primary_gpu.name == hw.primary_gpu.name and bigger.primary_gpu.architecture == "ada"
    view = services.machine_view(bigger, edited=True)
    assert view.vram_bytes == 16 * GIB and view.edited


def test_what_if_on_a_cpu_only_machine_adds_a_reference_gpu(services: Services) -> None:
    """Without a GPU, a VRAM size stands for an NVIDIA Ada card of that size, and image presets start to run."""
    hw = services.load_hardware("cpu-laptop-16gb")
    assert hw.primary_gpu is None
    before = services.recommend(hw, Choices())
    with_gpu = services.what_if(hw, vram_bytes=12 * GIB, ram_bytes=None)
    after = services.recommend(with_gpu, Choices())
    assert with_gpu.primary_gpu is not None and with_gpu.primary_gpu.vram_bytes == 12 * GIB
    assert before.preset("photorealism").status == "unsupported"
    assert after.preset("photorealism").status in ("fits", "offload")


def test_the_commercial_toggle_drops_a_selected_non_commercial_preset(services: Services) -> None:
    """Photorealism uses FLUX.1 [dev] (non-commercial): asking for commercial use deselects it, with no error."""
    hw = services.load_hardware("rtx4090-24gb")
    chosen = services.recommend(hw, Choices(presets=("photorealism",)))
    assert [p.id for p in chosen.selected] == ["photorealism"]
    assert not chosen.preset("photorealism").commercial_ok
    commercial = services.recommend(hw, Choices(presets=("photorealism",), commercial=True))
    flux = commercial.preset("photorealism")
    if flux.status in ("fits", "offload"):  # the engine offered a commercial alternative instead
        assert flux.commercial_ok and flux.selected
    else:
        assert not flux.selected and commercial.storage.total_bytes == 0


def test_storage_counts_shared_files_once(services: Services) -> None:
    hw = services.load_hardware("rtx4090-24gb")
    both = services.recommend(hw, Choices(presets=("photorealism", "character")))
    per_preset = sum(p.disk_bytes for p in both.selected)
    assert len(both.selected) == 2
    assert both.storage.total_bytes < per_preset, "the two presets share FLUX.1 [dev], its encoders and VAE"


def test_a_variant_chosen_for_another_machine_is_dropped_where_it_cannot_run(services: Services) -> None:
    """An FP8 choice made on an Ada card does not reach the engine on Apple Silicon (it would refuse it)."""
    ada = services.load_hardware("rtx4070-12gb")
    rec = services.recommend(ada, Choices(presets=("photorealism",)))
    flux = next(c for c in rec.preset("photorealism").components if c.model == "flux1-dev")
    fp8 = next(o for o in flux.options if o.label.startswith("FP8") and o.allowed)
    mac = services.load_hardware("m3-max-64gb")
    on_mac = services.recommend(mac, Choices(presets=("photorealism",), variants=(("flux1-dev", fp8.variant),)))
    mac_flux = next(c for c in on_mac.preset("photorealism").components if c.model == "flux1-dev")
    assert mac_flux.variant != fp8.variant
    blocked = next(o for o in mac_flux.options if o.variant == fp8.variant)
    assert not blocked.allowed and "float8" in blocked.reason
