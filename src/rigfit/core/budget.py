"""VRAM and RAM per stage, as ComfyUI runs a bundle (``shared/reference/comfyui-facts.md`` §4).

Stages run one after another and ComfyUI unloads what the next one needs room for: text encoding (text
encoders, CLIP vision), diffusion (the diffusion model with its ControlNets/IP-Adapters/LoRAs, plus
activations), VAE decode. A non-diffusion runtime (TTS, lip sync, 3D) is one ``run`` stage.

Per stage: ``peak`` is what a memory counter shows when VRAM is ample (weights + activations + CUDA context);
``need`` is the least VRAM for full speed: ComfyUI loads a model completely only when its weights plus
``max(0.8 GiB + reserve, activations(1×) + reserve)`` are free (``load_models_gpu``), and the VAE decodes
untiled. ``min`` is the least that runs at all with weights streamed from RAM (``lowvram`` partial loading),
text encoders on the CPU and tiled VAE decoding.

The constants below marked *fitted* are calibrated against measured ComfyUI peaks (``bench/README.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rigfit.core.quant import Device
from rigfit.core.units import GIB, MIB

# comfy/model_management.py @0.3.64 (unchanged upstream): EXTRA_RESERVED_VRAM and minimum_inference_memory.
RESERVE_LINUX = 400 * MIB
RESERVE_WINDOWS = 600 * MIB
RESERVE_WINDOWS_LARGE = 700 * MIB  # Windows with more than 15 GiB of VRAM
MIN_INFERENCE = int(0.8 * GIB)
SHARED_DESKTOP_RESERVE = GIB
# Constants marked "fitted" come from ComfyUI 0.3.64's own peaks measured on an NVIDIA H200
# (bench/gpu/results/calibration-nvidia-h200-2026-11-26.json; bench/README.md "VRAM model calibration").
# CUDA context + cuBLAS workspace + allocator slack that a device counter (nvidia-smi) adds to torch's.
CONTEXT_BYTES = 400 * MIB
# Fraction of ComfyUI's activation estimate (memory_required: cond + uncond) really allocated while
# sampling (fitted: Flux, SDXL, SD1.5, SD3.5 Medium and Wan 2.2 5B all within 8 % at 0.5).
ACTIVATION_SCALE = 0.5
# VAE decode, two numbers. With memory to spare ComfyUI's regular (untiled) decode allocates about 2.7× its
# own estimate (memory_used_decode): 11.6 GiB for one 1024² image, linear in pixels and batch (fitted).
# Where memory is short the same decode runs in far less (512-px tiles measured 0.5–1.0 GiB, i.e. 0.5–0.9×
# the estimate at tile size), so the need is ComfyUI's estimate itself: what it frees before decoding.
VAE_PEAK_SCALE = 2.72
VAE_NEED_SCALE = 1.0
# diffusers' VAE decodes far leaner than ComfyUI with memory to spare: its full-GPU Flux and SDXL peaks put
# one 1024² decode at about half of ComfyUI's estimate (fitted on vram-measurements flux-1-20/21, sdxl-05/08).
DIFFUSERS_VAE_SCALE = 0.5
# Text encoding works on top of the encoder weights: about 3 % of their 16-bit size (fp8 weights are upcast
# layer by layer), at least 40 MiB (fitted: CLIP-L, CLIP-L+G, T5-XXL fp16/fp8, umT5-XXL within 5 %).
ENCODE_SHARE = 0.03
ENCODE_FLOOR = 40 * MIB
# ComfyUI's KL VAE decode estimate: 2178 · H_lat · W_lat · 64 · dtype bytes (sd.py); video VAEs decode in
# causal chunks: Wan 2.1 7000 · H_lat · W_lat · 64 · dtype, per chunk, whatever the frame count.
VAE_IMAGE_K = 2178
VAE_VIDEO_K = 7000
TILE_PIXELS = 512  # ComfyUI's tiled decode fallback works on 512-pixel tiles (64×64 latents at 8×)
# Host→GPU rate of weights streamed by ComfyUI's partial loading (pageable copies, one layer at a time):
# fitted to the offload points (Flux bf16 on 16 GiB: 8.5× slower; SDXL on 4 GiB: 9.6×), 5–8 GB/s.
PCIE_BYTES_PER_S = 6 * 10**9
# Effective dense fp16/bf16 throughput (TFLOPS) for the compute side of that slowdown: the H200 ran Flux at
# ~600 effective (fitted); the others are ~60 % of a mid-range card's dense tensor peak per architecture.
# Only the rough "N× slower" uses them.
_TFLOPS = {"pascal": 6, "volta": 60, "turing": 30, "ampere": 40, "ada": 70, "hopper": 600, "blackwell": 90,
           "rdna2": 15, "rdna3": 40, "rdna4": 50, "alchemist": 25, "battlemage": 35}
# Guidance-distilled families sample one pass per step (ComfyUI skips the uncond pass at cfg 1).
_SINGLE_PASS = ("flux",)
# Streamed per-layer granularity: ComfyUI casts one Linear/Conv at a time; keep room for a few of them.
STREAM_WINDOW = 512 * MIB
# ComfyUI process baseline in RAM (Python, torch, CUDA host libraries), measured order of magnitude.
RAM_BASELINE = 3 * GIB

STAGES = ("text_encode", "diffusion", "vae_decode", "run")


@dataclass(frozen=True, slots=True)
class Piece:
    """One model of the bundle as the budget sees it."""

    role: str
    model: str
    variant: str
    weight_bytes: int  # resident in VRAM once loaded (after ComfyUI's dtype rules)
    stage: str  # one of STAGES
    usage_factor: float | None = None  # diffusion models: ComfyUI's memory_usage_factor
    spatial: int = 8
    temporal: int | None = None
    working_bytes: int = 0  # extra working memory of a non-diffusion runtime
    params_b: float | None = None
    cpu_friendly: bool = False  # made to run on a CPU (Piper); others run there only slowly
    fp8: bool = False  # fp8 weights (upcast layer by layer while computing)


@dataclass(frozen=True, slots=True)
class Workload:
    width: int
    height: int
    frames: int = 1
    batch: int = 1
    cfg: bool = True  # ComfyUI sizes for cond + uncond whatever the guidance


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    weights_bytes: int
    activation_bytes: int
    peak_bytes: int  # what a counter shows when VRAM is ample
    need_bytes: int  # the least VRAM that runs this stage at full speed
    min_bytes: int  # the least VRAM that runs it at all (streaming, tiling)


@dataclass(frozen=True, slots=True)
class Budget:
    stages: tuple[Stage, ...]
    required_bytes: int
    min_bytes: int
    available_bytes: int
    ram_required_bytes: int
    status: str  # fits | offload | unsupported
    streamed_bytes: int  # weights streamed from RAM per step when offloading
    slowdown: float | None  # rough factor when offloading (an estimate)
    notes: tuple[str, ...]

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)


def comfyui_reserve(device: Device) -> int:
    """ComfyUI's default EXTRA_RESERVED_VRAM: what it leaves for the OS, the display and other programs."""
    if device.os == "windows":
        return RESERVE_WINDOWS_LARGE if device.vram_bytes > 15 * GIB else RESERVE_WINDOWS
    return RESERVE_LINUX


def desktop_shares_gpu(device: Device) -> bool:
    """A laptop GPU, or a small Windows card, also drives the desktop and browser."""
    return device.backend in {"cuda", "rocm", "xpu"} and (
        "laptop" in device.name.lower() or (device.os == "windows" and device.vram_bytes <= 8 * GIB))


def reserve_bytes(device: Device) -> int:
    """The reserve rigfit plans with: ComfyUI's default, or 1 GiB (``--reserve-vram 1.0``) when the desktop
    shares a small GPU (ComfyUI's 600 MiB is often too little there)."""
    return SHARED_DESKTOP_RESERVE if desktop_shares_gpu(device) else comfyui_reserve(device)


def _latent(work: Workload, piece: Piece) -> tuple[int, int, int]:
    s = max(1, piece.spatial)
    h, w = math.ceil(work.height / s), math.ceil(work.width / s)
    t = 1
    if piece.temporal and work.frames > 1:
        t = (work.frames - 1) // piece.temporal + 1
    return h, w, t


def activation_bytes(piece: Piece, work: Workload, device: Device, *, scale: float = ACTIVATION_SCALE) -> int:
    """ComfyUI's memory_required for one sampling step (model_base.py), times ``scale``."""
    if piece.usage_factor is None:
        return 0
    h, w, t = _latent(work, piece)
    area = work.batch * h * w * t * (2 if work.cfg else 1)
    if device.backend in {"cuda", "rocm", "xpu"}:
        estimate = area * 2 * 0.01 * piece.usage_factor * MIB  # pytorch/flash attention, 16-bit compute
    else:
        estimate = area * 0.15 * piece.usage_factor * MIB  # split / sub-quadratic attention (CPU, MPS)
    return int(estimate * scale)


def vae_bytes(piece: Piece, work: Workload, device: Device, *, tiled: bool = False,
              scale: float = VAE_NEED_SCALE) -> int:
    """VAE decode working memory for one item (ComfyUI decodes a batch in as many chunks as memory needs)."""
    h, w, _ = _latent(work, piece)
    if tiled:
        # Video VAEs tile in time as well; 256-px spatial tiles stand in for both (an estimate: the
        # calibration could not isolate a tiled video decode).
        tile = max(1, (TILE_PIXELS // 2 if piece.temporal else TILE_PIXELS) // max(1, piece.spatial))
        h, w = min(h, tile), min(w, tile)
    dtype = 2 if device.bf16 or device.backend == "mps" else 4
    k = VAE_VIDEO_K if piece.temporal else VAE_IMAGE_K
    upscale = piece.spatial * piece.spatial
    return int(k * h * w * upscale * dtype * scale)


def _sum(pieces: Sequence[Piece], stage: str) -> list[Piece]:
    return [p for p in pieces if p.stage == stage]


def estimate(
    pieces: Sequence[Piece], work: Workload, device: Device, *, overhead_bytes: int = 0, reserve: int | None = None,
) -> Budget:
    """The bundle's budget on ``device``: per-stage peaks, required/min VRAM, RAM, status."""
    reserve = reserve_bytes(device) if reserve is None else reserve
    min_inference = MIN_INFERENCE + reserve
    ctx = CONTEXT_BYTES if device.backend in {"cuda", "rocm", "xpu"} else 0
    stages: list[Stage] = []
    notes: list[str] = []

    enc = _sum(pieces, "text_encode")
    if enc:
        weights = sum(p.weight_bytes for p in enc)
        act = max(ENCODE_FLOOR, int(ENCODE_SHARE * sum(p.weight_bytes * (2 if p.fp8 else 1) for p in enc)))
        need = ctx + weights + max(min_inference, act + reserve)
        stages.append(Stage("text_encode", weights, act, ctx + weights + act, need, 0))

    diff = _sum(pieces, "diffusion")
    if diff:
        weights = sum(p.weight_bytes for p in diff) + overhead_bytes
        act = sum(activation_bytes(p, work, device) for p in diff)
        act_min = sum(activation_bytes(p, work, device, scale=ACTIVATION_SCALE / 2) for p in diff)
        need = ctx + weights + max(min_inference, act + reserve)
        low = ctx + min(weights, STREAM_WINDOW + overhead_bytes) + max(min_inference, act_min + reserve)
        stages.append(Stage("diffusion", weights, act, ctx + weights + act, need, low))

    vae = _sum(pieces, "vae_decode")
    latent_source = diff[0] if diff else None
    if vae:
        weights = sum(p.weight_bytes for p in vae)
        shape = vae[0] if latent_source is None else Piece(
            "vae", "", "", 0, "vae_decode", spatial=latent_source.spatial, temporal=latent_source.temporal)
        act = vae_bytes(shape, work, device)
        tiled = vae_bytes(shape, work, device, tiled=True)
        ample = vae_bytes(shape, work, device, scale=VAE_PEAK_SCALE) * (1 if shape.temporal else work.batch)
        stages.append(Stage("vae_decode", weights, act, ctx + weights + ample, ctx + weights + act + reserve,
                            ctx + weights + tiled + reserve))

    run = _sum(pieces, "run")
    if run:
        # A standalone runtime (TTS, lip sync, 3D) is outside ComfyUI's model management, and its working
        # memory comes from a published whole-process figure that already holds the CUDA context: neither
        # the context nor ComfyUI's reserve is added again. Without a figure, the context is.
        weights = sum(p.weight_bytes for p in run) + overhead_bytes
        act = sum(p.working_bytes for p in run)
        extra = 0 if all(p.working_bytes for p in run) else ctx
        stages.append(Stage("run", weights, act, extra + weights + act, extra + weights + act,
                            extra + weights + act))

    required = max((s.need_bytes for s in stages), default=0)
    minimum = max((s.min_bytes for s in stages), default=0)
    all_weights = sum(p.weight_bytes for p in pieces)
    ram = RAM_BASELINE + all_weights
    available = device.vram_bytes
    streamed = 0
    slowdown: float | None = None
    if device.backend == "cpu":
        if run:
            ram += sum(p.working_bytes for p in run)
        if diff:
            status = "unsupported"
            notes.append("needs a GPU: diffusion on the CPU (--cpu) is 10–100× slower than on a GPU")
        elif all(p.cpu_friendly for p in run):
            status = "fits"
        else:
            status = "offload"
            notes.append("runs on the CPU, slowly: it is made for a GPU")
    elif required <= available:
        status = "fits"
    elif minimum <= available and device.backend != "mps":
        status = "offload"
        d = next((s for s in stages if s.name == "diffusion"), None)
        if d is not None and d.need_bytes > available:
            streamed = d.need_bytes - available
            slowdown = offload_slowdown(streamed, diff, work, device)
            pace = "little slowdown" if slowdown < 1.1 else f"roughly {slowdown:.1f}× slower"
            notes.append(f"about {format_gib(streamed)} of weights streamed from RAM each step: {pace} "
                         "(an estimate from PCIe bandwidth and compute, not a measurement)")
        for s in stages:
            if s.name == "vae_decode" and s.need_bytes > available:
                notes.append("VAE decode falls back to tiled decoding (slower, same result)")
            if s.name == "text_encode" and s.need_bytes > available:
                notes.append("text encoders load partially (one pass per prompt: little slowdown)")
    elif device.backend == "mps" and ram <= device.ram_bytes:
        status = "offload"
        notes.append("exceeds the GPU's share of unified memory: macOS will page (much slower)")
    else:
        status = "unsupported"
    if device.ram_bytes and ram > device.ram_bytes:
        notes.append(f"needs about {format_gib(ram)} of RAM, this machine has {format_gib(device.ram_bytes)}")
        if status == "offload" or device.backend == "cpu":
            status = "unsupported"
    return Budget(tuple(stages), required, minimum, available, ram, status, streamed, slowdown, tuple(notes))


def offload_slowdown(streamed: int, diff: Sequence[Piece], work: Workload, device: Device) -> float:
    """Rough factor: (compute + copy of the streamed weights) / compute, per sampling step."""
    params = sum((p.params_b or p.weight_bytes / 2e9) for p in diff) * 1e9
    h, w, t = _latent(work, diff[0])
    passes = 1 if not work.cfg or any(p.model.startswith(_SINGLE_PASS) for p in diff) else 2
    tokens = max(1, h * w * t // 4) * work.batch * passes
    tflops = _TFLOPS.get(device.architecture or "", 30)
    compute_s = 2 * params * tokens / (tflops * 1e12)
    copy_s = streamed / PCIE_BYTES_PER_S
    return round(1 + copy_s / max(compute_s, 1e-3), 1)


def format_gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


def vae_peak(pieces: Sequence[Piece], work: Workload, device: Device, scale: float) -> int:
    """The VAE decode stage's peak when the runtime decodes the whole batch at ``scale`` × ComfyUI's estimate."""
    ctx = CONTEXT_BYTES if device.backend in {"cuda", "rocm", "xpu"} else 0
    diff = _sum(pieces, "diffusion")
    vae = _sum(pieces, "vae_decode")
    if not diff or not vae:
        return 0
    shape = Piece("vae", "", "", 0, "vae_decode", spatial=diff[0].spatial, temporal=diff[0].temporal)
    act = vae_bytes(shape, work, device, scale=scale) * (1 if shape.temporal else work.batch)
    return ctx + sum(p.weight_bytes for p in vae) + act


def resident_peak(pieces: Sequence[Piece], work: Workload, device: Device,
                  vae_scale: float = DIFFUSERS_VAE_SCALE) -> int:
    """The peak when every model stays on the GPU (diffusers ``pipe.to("cuda")``, ComfyUI ``--gpu-only``):
    all weights plus the larger of the sampling activations and the VAE decode of the whole batch."""
    ctx = CONTEXT_BYTES if device.backend in {"cuda", "rocm", "xpu"} else 0
    weights = sum(p.weight_bytes for p in pieces)
    diff = _sum(pieces, "diffusion")
    act = sum(activation_bytes(p, work, device) for p in diff)
    decode = vae_peak(pieces, work, device, vae_scale) - ctx - sum(p.weight_bytes for p in _sum(pieces, "vae_decode"))
    return ctx + weights + max(act, decode)
