"""The quantization decision tree: what each kind of hardware may run, and in what order."""

from __future__ import annotations

import pytest
from recommend_fixtures import apple, cpu_only, mini_catalog, nvidia

from rigfit.core.errors import BudgetError
from rigfit.core.hardware import Cpu, Gpu, Hardware
from rigfit.core.quant import (
    check_explicit,
    check_fp8_flag,
    check_tier,
    device_of,
    is_k_quant,
    judge,
    label,
    parse_quant_args,
    rank_variants,
)
from rigfit.core.units import GIB

FLUX = mini_catalog().models["flux1-dev"]


def _v(quant_or_format: str):
    return next(v for v in FLUX.variants if label(v).lower() == quant_or_format.lower())


def _order(device, **kw) -> list[str]:
    return [label(v) for v, _ in rank_variants(FLUX.variants, device, **kw)]


def test_ada_prefers_native_fp8_over_gguf_q8() -> None:
    order = _order(nvidia(16, "8.9", "ada"))
    assert order.index("FP8") < order.index("Q8_0") < order.index("Q6_K")
    assert "native FP8" in judge(_v("fp8"), nvidia(16)).reason


def test_ampere_prefers_gguf_q8_and_q6_over_weight_only_fp8() -> None:
    device = nvidia(12, "8.6", "ampere")
    order = _order(device)
    assert order.index("Q8_0") < order.index("Q6_K") < order.index("FP8")
    assert "weight-only" in judge(_v("fp8"), device).reason


@pytest.mark.parametrize("device", [apple(64), apple(16, "Apple M2", "m2")], ids=["m3-max", "m2"])
def test_mps_never_fp8_nor_k_quants(device) -> None:
    order = _order(device)
    assert "FP8" not in order
    assert not [q for q in order if is_k_quant(q)]
    assert {"BF16", "Q8_0", "Q5_0", "Q4_0"} <= set(order)


def test_nf4_never_by_default_and_never_with_lora() -> None:
    assert "NF4" not in _order(nvidia(24))
    assert not judge(_v("nf4"), nvidia(24), lora=True, explicit=True).runnable
    assert judge(_v("nf4"), nvidia(24), explicit=True).runnable
    with pytest.raises(BudgetError, match="LoRA"):
        check_explicit(_v("nf4"), nvidia(24), lora=True)


def test_fp8_refused_on_apple_with_reason() -> None:
    with pytest.raises(BudgetError, match="MPS"):
        check_fp8_flag(apple(32), True)
    with pytest.raises(BudgetError, match="float8"):
        check_explicit(_v("fp8"), apple(32), lora=False)


def test_k_quant_tier_refused_on_apple_but_non_k_accepted() -> None:
    with pytest.raises(BudgetError, match="K-quants"):
        check_tier("Q4_K_M", apple(32))
    check_tier("Q4_0", apple(32))


def test_no_fp8_removes_fp8_and_fp8_promotes_it_on_ampere() -> None:
    assert "FP8" not in _order(nvidia(16), fp8=False)
    assert _order(nvidia(12, "8.6", "ampere"), fp8=True)[0] == "FP8"


def test_blackwell_only_for_nvfp4() -> None:
    from dataclasses import replace

    nv = replace(_v("fp8"), id="x-nvfp4", format="nvfp4", quant=None)
    assert judge(nv, nvidia(32, "12.0", "blackwell")).runnable
    assert not judge(nv, nvidia(24, "8.9", "ada")).runnable


def test_device_of_reads_vendor_architecture_and_apple_base_chip() -> None:
    assert device_of(Hardware("linux", "x86_64", Cpu(None, None), 16 * GIB, (), None)).backend == "cpu"
    m1 = apple(8, "Apple M1", "m1")
    assert m1.backend == "mps" and m1.apple_base_chip and not m1.fp8_compute
    assert not apple(16, "Apple M1 Pro", "m1").apple_base_chip
    amd = device_of(Hardware("linux", "x86_64", None, 32 * GIB,
                             (Gpu("amd", "Radeon RX 9070 XT", 16 * GIB, None, "rdna4", None, None, False,
                                  gfx_target="gfx1201"),), None))
    assert amd.backend == "rocm" and amd.fp8_compute
    assert cpu_only().vram_bytes == 0


@pytest.mark.parametrize(("args", "tier", "pairs"), [
    (["Q6_K"], "Q6_K", ()),
    (["flux1-dev=Q8_0"], None, (("flux1-dev", "Q8_0"),)),
    (["Q5_0", "t5xxl=fp8"], "Q5_0", (("t5xxl", "fp8"),)),
], ids=["tier", "per-model", "both"])
def test_parse_quant_args(args: list[str], tier: str | None, pairs: tuple[tuple[str, str], ...]) -> None:
    q = parse_quant_args(args)
    assert q.tier == tier and q.per_model == pairs


def test_parse_quant_args_rejects_two_tiers_and_empty_pairs() -> None:
    with pytest.raises(BudgetError):
        parse_quant_args(["Q4_0", "Q8_0"])
    with pytest.raises(BudgetError):
        parse_quant_args(["flux1-dev="])
