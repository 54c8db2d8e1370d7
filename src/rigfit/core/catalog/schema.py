"""The catalog's values. The wire format (``src/rigfit/data/catalog/*.json``) maps 1:1 onto these classes:
JSON keys are the field names; lists become tuples; a missing optional key takes the default.

Every number says how it is known: ``CatalogFile.bytes_exact`` is False where a size is a rounded listing
or an estimate, ``sha256`` is None where no source printed it. Memory figures carry their source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Category = Literal["image", "video", "audio", "3d", "aux"]
Maturity = Literal["mature", "maturing", "experimental", "maintenance-mode"]
# The contract's formats. fp8 covers e4m3fn, e5m2 and "scaled" files (the variant's ``quant`` says which).
Format = Literal["fp32", "fp16", "bf16", "fp8", "gguf", "nf4", "nvfp4", "onnx", "pth", "other"]
RuntimeKind = Literal["comfyui", "node-pack", "python", "mlx"]
# Where a runtime works: CUDA (NVIDIA), ROCm (AMD on Linux), XPU (Intel), MPS (Apple), CPU.
Platform = Literal["cuda", "rocm", "xpu", "mps", "cpu", "directml"]
FigureRuntime = Literal["comfyui", "diffusers", "reference-code", "other"]


@dataclass(frozen=True, slots=True)
class License:
    id: str  # e.g. "apache-2.0", "flux-1-dev-non-commercial-license"
    name: str
    commercial: bool  # does the licence allow commercial use of outputs / the model?
    url: str | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class CatalogFile:
    filename: str  # a plain file name, never a path (``rigfit.core.folders.filename_problem``)
    folder: str  # a ComfyUI folder key (``COMFYUI_FOLDERS``) or a node pack's declared folder
    url: str  # https:// only
    bytes: int | None  # exact where ``bytes_exact``; else an approximation (None when unknown)
    bytes_exact: bool
    sha256: str | None = None  # 64 lower-case hex digits, only where a source printed it
    source: str = ""  # where size / hash come from
    # The runtime fetches this file itself on first use (into its own store, named by ``folder``, which a node
    # pack or runtime declares); rigfit counts it for storage and memory but the installer need not place it.
    auto_download: bool = False


@dataclass(frozen=True, slots=True)
class Requirement:
    """A companion the model needs beside it: one model of ``models`` (any variant) in ``role``."""

    role: str  # text_encoder, vae, clip_vision, ...
    models: tuple[str, ...]  # model ids that satisfy it, in order of preference
    optional: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class Variant:
    id: str  # globally unique, e.g. "flux1-dev-gguf-q8_0"
    format: Format
    quant: str | None  # GGUF tier ("Q8_0", "Q4_K_M"), fp8 kind ("e4m3fn", "e4m3fn_scaled", "e5m2"), else None
    files: tuple[CatalogFile, ...]
    model: str = ""  # the parent model's id (set by the loader)
    weight_bytes: int | None = None  # bytes resident in VRAM when loaded; None → sum of the files' bytes
    all_in_one: bool = False  # a checkpoint that carries its text encoders and VAE (needs no companions)
    requires: tuple[Requirement, ...] | None = None  # None → the model's requirements (all_in_one → none)
    node_packs: tuple[str, ...] = ()  # packs needed to load this variant (e.g. "comfyui-gguf")
    loader: str | None = None  # the ComfyUI node class that loads it (UNETLoader, UnetLoaderGGUF, ...)
    min_comfyui: str | None = None  # lowest ComfyUI version that loads it natively
    notes: str = ""


@dataclass(frozen=True, slots=True)
class PublishedFigure:
    """A peak-VRAM figure somebody published or measured, with what it was measured under."""

    vram_bytes: int
    runtime: FigureRuntime
    settings: str  # e.g. "1024x1024, 20 steps, bf16 + t5xxl fp16"
    source: str  # URL or document
    measured: bool  # a measurement (True) or a rounded claim / requirement statement (False)
    variant: str | None = None  # the variant id it applies to
    gpu: str | None = None
    resolution: tuple[int, int] | None = None
    frames: int | None = None
    batch: int = 1
    # Variant ids of the companions resident or used in the measured run (``t5xxl-fp16``, ``clip-l-fp16``...).
    components: tuple[str, ...] = ()
    # True when the text encoders stayed on the GPU (diffusers ``pipe.to("cuda")``), False when offloaded.
    text_encoders_resident: bool | None = None
    # How it was measured: torch_peak_allocated, torch_peak_reserved, device_or_process_used, vendor_stated_peak,
    # stated_requirement_of_tested_example, minimum_that_runs, ... (vram-measurements.md's metric_class).
    metric: str = ""


@dataclass(frozen=True, slots=True)
class MemoryFacts:
    """What the budget model needs beyond the weights' bytes."""

    usage_factor: float | None = None  # ComfyUI's memory_usage_factor (supported_models.py)
    latent_channels: int | None = None
    spatial_compression: int | None = None  # VAE downscale (8 for SD/Flux, 16 for Wan 2.2 5B)
    temporal_compression: int | None = None  # video VAEs (4 for Wan/Hunyuan, 8 for LTX)
    working_bytes: int | None = None  # extra working memory of a non-diffusion runtime (TTS, lip sync, 3D)
    published: tuple[PublishedFigure, ...] = ()


@dataclass(frozen=True, slots=True)
class Runtime:
    kind: RuntimeKind
    package: str | None = None  # python/mlx: the PyPI package ("piper-tts", "mflux")
    node_pack: str | None = None  # node-pack: the pack id
    platforms: tuple[Platform, ...] = ("cuda", "rocm", "xpu", "mps", "cpu")
    note: str = ""
    # python/mlx: the model folders (relative to the models directory) the package reads its weights from.
    folders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Model:
    id: str  # e.g. "flux1-dev"
    name: str
    family: str  # e.g. "flux1"
    category: Category
    role: str  # the component role it fills: checkpoint, diffusion_model, text_encoder, vae, controlnet, ...
    license: str  # a License id
    maturity: Maturity
    variants: tuple[Variant, ...]
    params_b: float | None = None  # parameters, in billions
    capabilities: tuple[
        str, ...
    ] = ()  # "text-rendering", "native-audio", "lora-ecosystem", "voice-clone", ...
    native_resolution: tuple[int, int] | None = None
    max_resolution: tuple[int, int] | None = None
    default_frames: int | None = None
    max_seconds: float | None = None
    runtime: Runtime = field(default_factory=lambda: Runtime("comfyui"))
    alt_runtimes: tuple[Runtime, ...] = ()  # e.g. an MLX runtime that runs it better on Apple Silicon
    requires: tuple[Requirement, ...] = ()
    memory: MemoryFacts = field(default_factory=MemoryFacts)
    excluded: str | None = None  # why the specification keeps it out of default presets (FLUX.2, Mochi...)
    source: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class NodePack:
    id: str  # e.g. "comfyui-gguf"
    name: str
    repo: str  # https URL of the git repository
    commit: str  # pinned commit (40 hex)
    stability: int  # 1..5, the specification's stars
    maturity: Maturity = "mature"
    requirements: tuple[str, ...] = ()  # declared Python requirements (PEP 508 lines) at the pinned commit
    install_script: bool = False  # runs an install.py
    vram_overhead_bytes: int = 0
    platforms: tuple[Platform, ...] = ("cuda", "rocm", "xpu", "mps", "cpu")
    models: tuple[str, ...] = ()  # model ids it needs
    node_classes: tuple[str, ...] = ()  # node class names it registers (for workflow validation)
    folders: tuple[str, ...] = ()  # model folders it adds under models/
    license: str | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class PresetComponent:
    """One slot of a preset: the recommender takes the first candidate model that is allowed and fits."""

    role: str
    models: tuple[str, ...]  # candidate model ids, best first
    optional: bool = False
    note: str = ""
    # Only when the preset's ``base_model`` component chose one of these models (SD1.5-only ControlNets,
    # embeddings and VAE in a preset whose base may also be SDXL); empty: always.
    applies_to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Preset:
    id: str  # photorealism anime video lightweight character voice music lipsync 3d
    name: str
    description: str
    category: Category
    maturity: Maturity
    components: tuple[PresetComponent, ...]
    node_packs: tuple[str, ...] = ()
    min_vram_bytes: int = 0  # the specification's minimum tier (0: runs without a GPU)
    recommended_vram_bytes: int = 0
    resolution: tuple[int, int] | None = None  # the preset's working resolution
    frames: int | None = None
    prompt_tags: tuple[str, ...] = ()
    negative_tags: tuple[str, ...] = ()
    default: bool = True  # listed when no --preset is given
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Catalog:
    licenses: Mapping[str, License]
    models: Mapping[str, Model]
    node_packs: Mapping[str, NodePack]
    presets: Mapping[str, Preset]
    variants: Mapping[str, Variant] = field(default_factory=lambda: MappingProxyType({}))

    def variant_model(self, variant_id: str) -> Model:
        return self.models[self.variants[variant_id].model]
