"""ComfyUI launch flags for a bundle on a machine.

Only flags that exist in ComfyUI's ``comfy/cli_args.py`` (0.3.64 and the newer upstream read in
``comfyui-facts.md`` §1 and §9), always spelled in full: ComfyUI's argparse accepts abbreviations, and an
ambiguous one is an error. Never the specification's Automatic1111 flags: ``--medvram``,
``--use-xformers`` and ``--cpu-text-encoder`` make ComfyUI exit with "unrecognized arguments".
``--normalvram`` was removed upstream and is never written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rigfit.core.budget import SHARED_DESKTOP_RESERVE, Budget, desktop_shares_gpu
from rigfit.core.bundle import Chosen
from rigfit.core.quant import Device
from rigfit.core.units import GIB

# Flags rigfit may emit; each is in cli_args.py at 0.3.64 and at Comfy-Org/ComfyUI@03294572.
KNOWN_FLAGS = frozenset({
    "--cpu", "--lowvram", "--reserve-vram", "--fp8_e4m3fn-text-enc", "--use-pytorch-cross-attention",
    "--use-split-cross-attention", "--force-upcast-attention", "--cpu-vae", "--bf16-vae", "--fp32-vae",
})
NEVER = frozenset({"--medvram", "--use-xformers", "--cpu-text-encoder", "--normalvram", "--xformers"})
# AMD targets where ComfyUI turns on PyTorch attention by itself (model_management.py, torch ≥ 2.7).
_AMD_AUTO_ATTENTION = ("rdna3", "rdna3.5", "cdna2", "cdna3")


@dataclass(frozen=True, slots=True)
class LaunchArgs:
    args: tuple[str, ...]
    reasons: tuple[str, ...]


def launch_args(device: Device, budget: Budget | None, chosen: Sequence[Chosen]) -> LaunchArgs:
    """The flags that help this bundle run on ``device``, each with its reason."""
    args: list[str] = []
    why: list[str] = []
    if device.backend == "cpu":
        return LaunchArgs(("--cpu",), ("no GPU: ComfyUI must be started with --cpu or it exits at start-up",))
    enc = budget.stage("text_encode") if budget else None
    diff = budget.stage("diffusion") if budget else None
    if budget is not None and budget.status == "offload" and device.backend != "mps":
        if enc is not None and diff is not None and enc.need_bytes > device.vram_bytes:
            args.append("--lowvram")
            why.append("--lowvram: text encoders run on the CPU, so the diffusion model is not evicted for them")
        sixteen_bit_te = [c for c in chosen if c.role == "text_encoder" and c.variant.format in {"fp16", "bf16"}]
        if sixteen_bit_te and enc is not None and enc.need_bytes > device.vram_bytes and device.backend == "cuda":
            args.append("--fp8_e4m3fn-text-enc")
            why.append("--fp8_e4m3fn-text-enc: stores the 16-bit text encoder in FP8, halving its memory")
    if desktop_shares_gpu(device):
        args += ["--reserve-vram", f"{SHARED_DESKTOP_RESERVE / GIB:.1f}"]
        why.append("--reserve-vram 1.0: leaves 1 GiB for the desktop and browser sharing this GPU")
    if device.backend == "rocm" and (device.architecture or "") not in _AMD_AUTO_ATTENTION:
        args.append("--use-pytorch-cross-attention")
        why.append("--use-pytorch-cross-attention: ComfyUI only enables it by itself on a few AMD chips; "
                   "it needs less memory than the sub-quadratic fallback")
    return LaunchArgs(tuple(args), tuple(why))


def merge(all_args: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """One flag list for several presets installed together (values: the largest reserve wins)."""
    flags: list[str] = []
    reserve: float | None = None
    for args in all_args:
        i = 0
        while i < len(args):
            flag = args[i]
            if flag == "--reserve-vram" and i + 1 < len(args):
                reserve = max(reserve or 0.0, float(args[i + 1]))
                i += 2
                continue
            if flag not in flags:
                flags.append(flag)
            i += 1
    if reserve is not None:
        flags += ["--reserve-vram", f"{reserve:g}"]
    return tuple(flags)
