"""Launch flags: real ComfyUI flags only, full names, chosen from the bundle and the hardware."""

from __future__ import annotations

from pathlib import Path

import pytest
from recommend_fixtures import apple, cpu_only, gpu_hw, mini_catalog, nvidia

from rigfit.core.launch_args import KNOWN_FLAGS, NEVER, launch_args, merge
from rigfit.core.quant import device_of
from rigfit.core.recommend import Choices, recommend

CAT = mini_catalog()


def _args(device, preset: str = "photorealism", **kw) -> tuple[str, ...]:
    r = recommend(CAT, device, Choices(presets=(preset,), **kw))[0]
    return launch_args(device, r.budget, r.components).args


DEVICES = {
    "cpu": cpu_only(), "rtx4090": nvidia(24), "rtx4060": nvidia(8), "gtx1650-4gb": nvidia(4, "7.5", "turing"),
    "m3-max": apple(64), "rx6700xt": device_of(gpu_hw("amd", "Radeon RX 6700 XT", 12, arch="rdna2", gfx="gfx1031")),
    "laptop-4060": device_of(gpu_hw("nvidia", "NVIDIA GeForce RTX 4060 Laptop GPU", 8, cc="8.9", arch="ada")),
}


@pytest.mark.parametrize("name", DEVICES, ids=list(DEVICES))
def test_only_known_full_name_flags_and_never_a1111_ones(name: str) -> None:
    for preset in ("photorealism", "lightweight", "voice"):
        args = _args(DEVICES[name], preset)
        flags = [a for a in args if a.startswith("--")]
        assert set(flags) <= KNOWN_FLAGS
        assert not set(flags) & NEVER


def test_cpu_machine_must_start_with_cpu_flag() -> None:
    assert _args(cpu_only(), "voice") == ("--cpu",)


def test_big_gpu_needs_no_flags() -> None:
    assert _args(nvidia(24)) == ()


def test_tight_card_with_a_16_bit_text_encoder_gets_lowvram() -> None:
    device = nvidia(4, "7.5", "turing", ram_gib=64)
    args = _args(device)
    assert "--lowvram" in args


def test_laptop_reserves_vram_for_the_desktop() -> None:
    args = _args(DEVICES["laptop-4060"], "lightweight")
    assert args[args.index("--reserve-vram") + 1] == "1.0"


def test_amd_without_automatic_pytorch_attention_gets_it() -> None:
    assert "--use-pytorch-cross-attention" in _args(DEVICES["rx6700xt"], "lightweight")


def test_merge_keeps_each_flag_once_and_the_largest_reserve() -> None:
    merged = merge([("--lowvram", "--reserve-vram", "0.6"), ("--reserve-vram", "1.0", "--lowvram")])
    assert merged == ("--lowvram", "--reserve-vram", "1")


@pytest.mark.skipif(not Path("/work/shared/reference/comfyui-facts.md").exists(), reason="reference not present")
def test_every_known_flag_is_in_comfyuis_flag_table() -> None:
    """Each flag rigfit may write appears in the argparse-generated table of comfyui-facts.md §1."""
    text = Path("/work/shared/reference/comfyui-facts.md").read_text(encoding="utf-8")
    table = text.split("## 2.")[0]
    for flag in KNOWN_FLAGS:
        assert f"`{flag}`" in table, flag
    for flag in NEVER - {"--normalvram"}:
        assert f"| `{flag}` |" not in table, flag
