"""``rigfit doctor``'s judgements: observed facts in, findings out (each failing one with the command that fixes it).

GPU compatibility follows CUDA's rules: a cubin built for ``sm_XY`` runs on a card of the same major version
and an equal or higher minor (an ``sm_86`` build serves an ``sm_89`` Ada card); PTX (``compute_XY``) is compiled
at load time for any newer card. A Blackwell RTX 50 (``sm_120``) therefore needs a build that lists ``sm_120``
or ``compute_120``-or-lower PTX; without it torch fails with "sm_120 is not compatible with the current PyTorch
installation".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    status: str  # ok | warn | fail | skip
    message: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "message": self.message, "fix": self.fix}


@dataclass(frozen=True, slots=True)
class GpuExpectation:
    backend: str | None  # cuda | rocm | mps | xpu | None (no GPU expected)
    label: str  # the card's name
    sm: tuple[int, int] | None = None  # NVIDIA compute capability


def expect_gpu(vendor: str | None, name: str | None, compute_capability: str | None) -> GpuExpectation:
    """What torch should see, from the hardware profile's primary GPU (None: a CPU-only profile)."""
    if vendor is None:
        return GpuExpectation(None, "no GPU in the hardware profile")
    backend = {"nvidia": "cuda", "amd": "rocm", "apple": "mps", "intel": "xpu"}.get(vendor)
    sm = None
    if vendor == "nvidia" and compute_capability:
        major, _, minor = compute_capability.partition(".")
        if major.isdigit() and (minor or "0").isdigit():
            sm = (int(major), int(minor or "0"))
    return GpuExpectation(backend, name or vendor, sm)


def _arch(entry: str) -> tuple[str, int, int] | None:
    kind, _, digits = entry.partition("_")
    if kind not in {"sm", "compute"} or not digits.rstrip("a").isdigit():
        return None
    number = int(digits.rstrip("a"))
    return kind, number // 10, number % 10


def arch_supported(arch_list: Sequence[str], sm: tuple[int, int]) -> bool:
    """Whether a torch build compiled for ``arch_list`` runs kernels on a card of compute capability ``sm``."""
    for entry in arch_list:
        parsed = _arch(entry)
        if parsed is None:
            continue
        kind, major, minor = parsed
        if kind == "sm" and major == sm[0] and minor <= sm[1]:
            return True
        if kind == "compute" and (major, minor) <= sm:
            return True
    return False


def judge_torch(probe: Mapping[str, Any], expected: GpuExpectation) -> list[Finding]:
    """Findings about torch inside the target venv: it imports, and it sees the GPU the profile has."""
    reinstall = "run `rigfit install --only python`"
    if "error" in probe:
        return [
            Finding(
                "torch imports",
                FAIL,
                f"torch does not import in the ComfyUI venv: {probe['error']}",
                reinstall,
            )
        ]
    version = str(probe.get("torch", "?"))
    out = [Finding("torch imports", OK, f"torch {version} (Python {probe.get('python', '?')})")]
    if expected.backend is None:
        out.append(
            Finding("torch sees the GPU", SKIP, f"no GPU expected ({expected.label}); GPU checks skipped")
        )
        return out
    if expected.backend == "mps":
        seen = bool(probe.get("mps_available"))
        out.append(Finding("torch sees the GPU", OK if seen else FAIL,
                           f"MPS {'available' if seen else 'not available'} for {expected.label}",
                           None if seen else "macOS 12.3+ on Apple Silicon is needed; " + reinstall))  # fmt: skip
        return out
    if expected.backend == "xpu":
        seen = bool(probe.get("xpu_available"))
        out.append(Finding("torch sees the GPU", OK if seen else FAIL, f"XPU {'available' if seen else 'not available'}",
                           None if seen else "install Intel's GPU driver; " + reinstall))  # fmt: skip
        return out
    build = probe.get("hip_build") if expected.backend == "rocm" else probe.get("cuda_build")
    if not probe.get("cuda_available"):
        why = (
            "a CPU-only torch build"
            if not build
            else f"the driver does not serve this {expected.backend} {build} build"
        )
        out.append(Finding("torch sees the GPU", FAIL, f"torch.cuda.is_available() is False for {expected.label} ({why})",
                           "check the GPU driver (nvidia-smi / rocm-smi), then " + reinstall))  # fmt: skip
        return out
    out.append(
        Finding(
            "torch sees the GPU",
            OK,
            f"{probe.get('device_name') or expected.label} via {expected.backend} {build}",
        )
    )
    if expected.sm is not None:
        arch_list = [str(a) for a in probe.get("arch_list") or ()]
        tag = f"sm_{expected.sm[0]}{expected.sm[1]}"
        if arch_supported(arch_list, expected.sm):
            out.append(Finding("torch supports the card", OK, f"{tag} is served by {' '.join(arch_list)}"))
        else:
            built = [a for a in (_arch(e) for e in arch_list) if a is not None]
            older = bool(built) and expected.sm < min((a[1], a[2]) for a in built)
            # CUDA 12.8+ builds dropped Maxwell/Pascal/Volta kernels; Blackwell needs 12.8+ builds.
            hint = (
                "re-plan with an older torch index that still ships it (cu126)"
                if older
                else "re-plan with a newer torch index (Blackwell needs cu128 or later)"
            )
            out.append(Finding("torch supports the card", FAIL, f"this torch build has no kernels for {tag} (built for {' '.join(arch_list) or 'nothing'})",
                               f"{hint}, then {reinstall}"))  # fmt: skip
    return out


def judge_torch_change(recorded: Sequence[str], current: Sequence[str]) -> Finding:
    if not recorded:
        return Finding("torch unchanged", SKIP, "no torch build recorded at install time")
    if list(recorded) == list(current):
        return Finding("torch unchanged", OK, ", ".join(current))
    return Finding("torch unchanged", FAIL, f"torch changed since install: {', '.join(recorded)} -> {', '.join(current) or 'none'}",
                   "run `rigfit install --only python` to put the planned build back")  # fmt: skip


def summary(findings: Sequence[Finding]) -> tuple[bool, dict[str, int]]:
    counts = {s: sum(f.status == s for f in findings) for s in (OK, WARN, FAIL, SKIP)}
    return counts[FAIL] == 0, counts
