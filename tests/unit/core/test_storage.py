"""Storage: each file once, installed files subtracted, free space, SSD advice, smaller alternatives."""

from __future__ import annotations

from recommend_fixtures import mini_catalog, nvidia

from rigfit.core.bundle import Chosen
from rigfit.core.recommend import Choices, recommend
from rigfit.core.storage import InstalledFile, index_installed, preset_bytes, smaller_alternatives, storage

CAT = mini_catalog()


def _chosen(*variant_ids: str) -> list[Chosen]:
    out = []
    for vid in variant_ids:
        var = CAT.variants[vid]
        model = CAT.models[var.model]
        out.append(Chosen(model.role, model, var, ""))
    return out


def test_shared_files_are_counted_once_across_presets() -> None:
    dev, schnell = _chosen("flux1-dev-fp8", "t5xxl-fp8", "flux-ae-fp32"), _chosen("flux1-schnell-fp8", "t5xxl-fp8", "flux-ae-fp32")
    both = storage([*dev, *schnell], {}, None, False)
    t5, ae = CAT.variants["t5xxl-fp8"].files[0].bytes, CAT.variants["flux-ae-fp32"].files[0].bytes
    assert both.total_bytes == preset_bytes(dev) + preset_bytes(schnell) - t5 - ae


def test_installed_file_with_same_folder_name_and_size_is_not_downloaded_again() -> None:
    comps = _chosen("flux1-dev-fp8", "t5xxl-fp8")
    t5 = CAT.variants["t5xxl-fp8"].files[0]
    present = index_installed([InstalledFile("clip", t5.filename, t5.bytes)])  # legacy folder name
    st = storage(comps, present, 10**12, False)
    assert st.present_bytes == t5.bytes and st.download_bytes == st.total_bytes - t5.bytes


def test_a_truncated_or_different_file_does_not_count_as_installed() -> None:
    comps = _chosen("t5xxl-fp8")
    t5 = CAT.variants["t5xxl-fp8"].files[0]
    short = index_installed([InstalledFile("text_encoders", t5.filename, t5.bytes - 1)])
    assert storage(comps, short, None, False).present_bytes == 0
    other_hash = index_installed([InstalledFile("text_encoders", t5.filename, t5.bytes, "0" * 64)])
    from dataclasses import replace

    hashed = [replace(comps[0], variant=replace(comps[0].variant, files=(replace(t5, sha256="1" * 64),)))]
    assert storage(hashed, other_hash, None, False).present_bytes == 0


def test_not_enough_space_offers_smaller_variants_with_the_bytes_saved() -> None:
    device = nvidia(24)
    runnable = [c for r in recommend(CAT, device, Choices(presets=("photorealism",))) for c in r.components]
    alts = smaller_alternatives(runnable, CAT.models, device)
    st = storage(runnable, {}, 10 * 10**9, False, alts)
    assert st.fits is False and st.alternatives
    assert any("short" in n for n in st.notes)
    flux = next(a for a in st.alternatives if a.model == "flux1-dev")
    assert flux.current == "BF16" and flux.saves_bytes > 10 * 10**9


def test_rotational_disk_gets_the_ssd_advice_and_ssd_does_not() -> None:
    comps = _chosen("flux1-dev-fp8")
    hdd = storage(comps, {}, 10**12, True)
    assert hdd.ssd_recommended and any("SSD" in n for n in hdd.notes)
    assert not storage(comps, {}, 10**12, False).ssd_recommended
    assert storage(comps, {}, None, None).fits is None
