"""doctor's torch judgements: CUDA's binary-compatibility rule, and "no GPU expected" on CPU profiles."""

from __future__ import annotations

import pytest

from rigfit.core.doctor_checks import Finding, arch_supported, expect_gpu, judge_torch, judge_torch_change

CU128 = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"]
CU124 = ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]


@pytest.mark.parametrize(
    ("arch_list", "sm", "ok"),
    [
        pytest.param(CU124, (8, 9), True, id="ada-on-sm86-cubin"),
        pytest.param(CU124, (12, 0), False, id="blackwell-on-cu124"),
        pytest.param(CU128, (12, 0), True, id="blackwell-on-cu128"),
        pytest.param(["sm_90", "compute_90"], (10, 0), True, id="ptx-jit-for-newer"),
        pytest.param(["sm_86"], (8, 0), False, id="older-minor-not-served"),
    ],
)
def test_arch_supported(arch_list: list[str], sm: tuple[int, int], ok: bool) -> None:
    assert arch_supported(arch_list, sm) is ok


def _status(findings: list[Finding], name: str) -> str:
    return next(f.status for f in findings if f.name == name)


def test_cpu_profile_skips_gpu_checks() -> None:
    findings = judge_torch({"torch": "2.8.0", "python": "3.12.3"}, expect_gpu(None, None, None))
    assert _status(findings, "torch sees the GPU") == "skip"
    assert "no GPU expected" in findings[-1].message


def test_blackwell_with_old_torch_fails_with_a_fix() -> None:
    probe = {
        "torch": "2.5.1",
        "cuda_build": "12.4",
        "cuda_available": True,
        "arch_list": CU124,
        "device_name": "RTX 5090",
    }
    findings = judge_torch(probe, expect_gpu("nvidia", "NVIDIA GeForce RTX 5090", "12.0"))
    bad = next(f for f in findings if f.name == "torch supports the card")
    assert bad.status == "fail" and "sm_120" in bad.message and bad.fix and "cu128" in bad.fix


def test_cpu_torch_on_an_nvidia_machine_fails() -> None:
    findings = judge_torch(
        {"torch": "2.8.0+cpu", "cuda_available": False}, expect_gpu("nvidia", "RTX 4060", "8.9")
    )
    assert _status(findings, "torch sees the GPU") == "fail"
    assert "CPU-only torch" in findings[-1].message


def test_import_failure_points_at_the_python_step() -> None:
    (finding,) = judge_torch(
        {"error": "ModuleNotFoundError: No module named 'torch'"}, expect_gpu(None, None, None)
    )
    assert finding.status == "fail" and finding.fix == "run `rigfit install --only python`"


def test_torch_change_is_a_failure() -> None:
    assert judge_torch_change(["torch==2.8.0"], ["torch==2.8.0"]).status == "ok"
    assert judge_torch_change(["torch==2.8.0"], ["torch==2.9.1"]).status == "fail"


def test_old_card_on_a_new_build_points_to_an_older_index() -> None:
    """Measured on an H200 (torch 2.11.0+cu130 lists sm_75..sm_120): a Pascal card needs cu126, not newer."""
    cu130 = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]
    probe = {"torch": "2.11.0+cu130", "cuda_build": "13.0", "cuda_available": True, "arch_list": cu130}
    bad = judge_torch(probe, expect_gpu("nvidia", "GeForce GTX 1080", "6.1"))[-1]
    assert bad.status == "fail" and "sm_61" in bad.message and bad.fix and "cu126" in bad.fix
