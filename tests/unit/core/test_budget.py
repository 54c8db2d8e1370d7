"""The VRAM/RAM budget follows ComfyUI's memory rules (comfyui-facts.md §4)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from recommend_fixtures import apple, cpu_only, mini_catalog, nvidia

from rigfit.core.budget import (
    MIN_INFERENCE,
    Piece,
    Workload,
    activation_bytes,
    comfyui_reserve,
    estimate,
    reserve_bytes,
    vae_bytes,
)
from rigfit.core.bundle import pieces_for, resident_bytes
from rigfit.core.units import GIB, MIB

CAT = mini_catalog()


def flux_pieces(device, dit="flux1-dev-bf16", te="t5xxl-fp16") -> list[Piece]:
    out: list[Piece] = []
    for vid, role in ((dit, "diffusion_model"), (te, "text_encoder"), ("clip-l-fp16", "text_encoder"),
                      ("flux-ae-fp32", "vae")):
        var = CAT.variants[vid]
        out.extend(pieces_for(CAT.models[var.model], var, role, device))
    return out


@pytest.mark.parametrize(("os", "vram_gib", "expected_mib"), [
    ("linux", 24, 400), ("macos", 16, 400), ("windows", 12, 600), ("windows", 16, 700)],
    ids=["linux", "macos", "windows-12gb", "windows-over-15gib"])
def test_comfyui_reserve_by_os_and_size(os: str, vram_gib: int, expected_mib: int) -> None:
    assert comfyui_reserve(nvidia(vram_gib, os=os)) == expected_mib * MIB


def test_laptop_gpu_gets_a_larger_reserve_for_the_desktop() -> None:
    from recommend_fixtures import gpu_hw

    from rigfit.core.quant import device_of

    laptop = device_of(gpu_hw("nvidia", "NVIDIA GeForce RTX 4060 Laptop GPU", 8, cc="8.9", arch="ada"))
    assert reserve_bytes(laptop) == GIB > comfyui_reserve(laptop)


@pytest.mark.parametrize(("factor", "comfyui_mib"), [(0.8, 524.288), (3.1, 2031.616)], ids=["sdxl", "flux"])
def test_activation_is_comfyuis_memory_required_at_1024(factor: float, comfyui_mib: float) -> None:
    """comfyui-facts.md §4.3 worked numbers: SDXL 1024² ≈ 524 MiB, Flux ≈ 2032 MiB (cond + uncond)."""
    piece = Piece("diffusion_model", "m", "v", 0, "diffusion", factor, 8)
    got = activation_bytes(piece, Workload(1024, 1024), nvidia(24), scale=1.0)
    assert got == pytest.approx(comfyui_mib * MIB, rel=1e-3)


def test_cpu_and_mps_use_the_sub_quadratic_rule() -> None:
    piece = Piece("diffusion_model", "m", "v", 0, "diffusion", 1.0, 8)
    gpu = activation_bytes(piece, Workload(512, 512), nvidia(24), scale=1.0)
    mps = activation_bytes(piece, Workload(512, 512), apple(32), scale=1.0)
    assert mps == pytest.approx(gpu * 0.15 / 0.02)


def test_video_activations_grow_with_latent_frames() -> None:
    piece = Piece("diffusion_model", "wan", "v", 0, "diffusion", 1.38, 16, 4)
    short = activation_bytes(piece, Workload(1280, 704, 33), nvidia(24))
    long = activation_bytes(piece, Workload(1280, 704, 81), nvidia(24))
    assert long / short == pytest.approx(21 / 9)  # (81-1)//4+1 = 21 latent frames vs 9


def test_text_encoders_are_offloaded_so_the_peak_is_the_largest_stage() -> None:
    device = nvidia(16)
    b = estimate(flux_pieces(device, "flux1-dev-fp8"), Workload(1024, 1024), device)
    enc, diff = b.stage("text_encode"), b.stage("diffusion")
    assert enc is not None and diff is not None
    assert b.required_bytes == max(s.need_bytes for s in b.stages)
    assert enc.weights_bytes + diff.weights_bytes > device.vram_bytes  # the sum would not fit ...
    assert b.status == "fits"  # ... but the stages do, one after the other


def test_full_load_needs_minimum_inference_memory_on_top_of_weights() -> None:
    device = nvidia(24)
    b = estimate(flux_pieces(device), Workload(512, 512), device)
    diff = b.stage("diffusion")
    assert diff is not None
    assert diff.need_bytes - diff.weights_bytes >= MIN_INFERENCE + reserve_bytes(device)


def test_too_big_for_full_speed_streams_weights_with_an_estimated_slowdown() -> None:
    device = nvidia(12, ram_gib=64)
    b = estimate(flux_pieces(device), Workload(1024, 1024), device)
    assert b.status == "offload"
    assert b.streamed_bytes > 10 * GIB and b.slowdown is not None and b.slowdown > 1
    assert any("estimate" in n for n in b.notes)
    assert b.min_bytes < device.vram_bytes < b.required_bytes


def test_below_the_minimum_it_is_unsupported() -> None:
    device = nvidia(1.5, "7.5", "turing")
    assert estimate(flux_pieces(device), Workload(1024, 1024), device).status == "unsupported"


def test_cpu_runs_non_diffusion_runtimes_but_not_diffusion() -> None:
    device = cpu_only()
    piper = CAT.variants["piper-lessac"]
    run = estimate(pieces_for(CAT.models["piper"], piper, "tts", device), Workload(1, 1), device)
    assert run.status == "fits"
    assert estimate(flux_pieces(device), Workload(1024, 1024), device).status == "unsupported"
    gpu_made = CAT.variants["cuda-only-pth"]
    slow = estimate(pieces_for(CAT.models["cuda-only"], gpu_made, "tts", device), Workload(1, 1), device)
    assert slow.status == "offload" and any("slowly" in n for n in slow.notes)


def test_offload_without_the_ram_to_hold_the_weights_is_unsupported() -> None:
    device = nvidia(12, ram_gib=16)
    b = estimate(flux_pieces(device), Workload(1024, 1024), device)
    assert b.status == "unsupported" and any("RAM" in n for n in b.notes)


def test_ram_holds_every_offloaded_model() -> None:
    device = nvidia(24)
    pieces = flux_pieces(device)
    b = estimate(pieces, Workload(1024, 1024), device)
    assert b.ram_required_bytes >= sum(p.weight_bytes for p in pieces)


def test_fp8_diffusion_model_is_upcast_without_fp8_compute_when_a_16_bit_copy_fits() -> None:
    """model_management.unet_dtype: keep fp8 with fp8 compute or when 2× would not fit 0.88·VRAM − min."""
    flux = CAT.variants["flux1-dev-fp8"]
    size = flux.files[0].bytes
    assert resident_bytes(flux, nvidia(48, "8.6", "ampere")) == 2 * size  # RTX A6000: upcast
    assert resident_bytes(flux, nvidia(24, "8.6", "ampere")) == size  # RTX 3090: too big for 16-bit
    assert resident_bytes(flux, nvidia(48, "8.9", "ada")) == size  # fp8 compute: stays fp8
    t5 = CAT.variants["t5xxl-fp8"]
    assert resident_bytes(t5, nvidia(48, "8.6", "ampere"), diffusion=False) == t5.files[0].bytes


def test_all_in_one_checkpoint_splits_into_three_stages() -> None:
    sdxl = CAT.variants["sdxl-fp16"]
    pieces = pieces_for(CAT.models["sdxl"], sdxl, "checkpoint", nvidia(8))
    assert [p.stage for p in pieces] == ["text_encode", "diffusion", "vae_decode"]
    assert sum(p.weight_bytes for p in pieces) == pytest.approx(sdxl.files[0].bytes, rel=1e-6)


def test_vae_tiled_decode_needs_less_than_untiled_at_high_resolution() -> None:
    p = Piece("vae", "ae", "ae", 0, "vae_decode", spatial=8)
    assert vae_bytes(p, Workload(2048, 2048), nvidia(24), tiled=True) < vae_bytes(p, Workload(2048, 2048), nvidia(24))


@given(st.integers(256, 2048), st.integers(256, 2048), st.integers(1, 4))
def test_required_grows_with_resolution_and_batch(w: int, h: int, batch: int) -> None:
    device = nvidia(24)
    pieces = flux_pieces(device, "flux1-dev-q8_0", "t5xxl-fp8")
    small = estimate(pieces, Workload(w, h, 1, batch), device)
    big = estimate(pieces, Workload(w + 64, h + 64, 1, batch + 1), device)
    assert big.required_bytes >= small.required_bytes
    assert big.min_bytes >= small.min_bytes
    assert small.min_bytes <= small.required_bytes


def test_windows_reserve_changes_the_verdict_near_the_edge() -> None:
    linux, windows = nvidia(24), nvidia(24, os="windows")
    pieces = flux_pieces(linux)
    lin = estimate(pieces, Workload(1024, 1024), linux)
    win = estimate(pieces, Workload(1024, 1024), replace(windows))
    assert win.required_bytes - lin.required_bytes == comfyui_reserve(windows) - comfyui_reserve(linux)
