"""A small catalog and hardware builders for the recommendation engine's unit tests.

File sizes are the real ones from ``shared/reference/model-facts.json`` so the budget numbers are realistic;
the tests do not depend on the shipped catalog data.
"""

from __future__ import annotations

from types import MappingProxyType

from rigfit.core.catalog.schema import (
    Catalog,
    CatalogFile,
    License,
    MemoryFacts,
    Model,
    NodePack,
    Preset,
    PresetComponent,
    PublishedFigure,
    Requirement,
    Runtime,
    Variant,
)
from rigfit.core.hardware import Cpu, Disk, Gpu, Hardware
from rigfit.core.quant import Device, device_of
from rigfit.core.units import GIB, MIB

HF = "https://huggingface.co/x/y/resolve/main/"


def f(name: str, folder: str, size: int, exact: bool = True) -> CatalogFile:
    return CatalogFile(name, folder, HF + name, size, exact)


def v(model: str, vid: str, fmt: str, quant: str | None, name: str, folder: str, size: int, **kw: object) -> Variant:
    packs = ("comfyui-gguf",) if fmt == "gguf" else ()
    return Variant(vid, fmt, quant, (f(name, folder, size),), model=model, node_packs=packs, **kw)  # type: ignore[arg-type]


FLUX_FILES = [
    ("bf16", None, "flux1-dev.safetensors", 23_802_932_552),
    ("fp8", "e4m3fn", "flux1-dev-fp8.safetensors", 11_901_517_702),
    ("gguf", "Q8_0", "flux1-dev-Q8_0.gguf", 12_708_281_504),
    ("gguf", "Q6_K", "flux1-dev-Q6_K.gguf", 9_860_000_000),
    ("gguf", "Q5_K_S", "flux1-dev-Q5_K_S.gguf", 8_290_000_000),
    ("gguf", "Q5_0", "flux1-dev-Q5_0.gguf", 8_270_000_000),
    ("gguf", "Q4_K_S", "flux1-dev-Q4_K_S.gguf", 6_805_988_640),
    ("gguf", "Q4_0", "flux1-dev-Q4_0.gguf", 6_790_000_000),
    ("gguf", "Q3_K_S", "flux1-dev-Q3_K_S.gguf", 5_230_000_000),
    ("gguf", "Q2_K", "flux1-dev-Q2_K.gguf", 4_030_000_000),
    ("nf4", None, "flux1-dev-bnb-nf4.safetensors", 11_500_000_000),
]
FLUX_MEMORY = MemoryFacts(3.1, 16, 8, None, published=(
    PublishedFigure(23_564 * MIB, "comfyui", "1024x1024, bf16 + t5xxl fp16", "homelab doc", True,
                    variant="flux1-dev-bf16", gpu="24 GB card", resolution=(1024, 1024)),))
FLUX_REQ = (Requirement("text_encoder", ("t5xxl",)), Requirement("text_encoder", ("clip-l",)),
            Requirement("vae", ("flux-ae",)))


def _flux(mid: str, lic: str, **kw: object) -> Model:
    memory = FLUX_MEMORY if mid == "flux1-dev" else MemoryFacts(3.1, 16, 8)
    variants = tuple(v(mid, f"{mid}-{(q if fmt == 'gguf' else fmt).lower()}", fmt, q, n.replace("flux1-dev", mid), "diffusion_models", s)
                     for fmt, q, n, s in FLUX_FILES)
    return Model(mid, mid, "flux1", "image", "diffusion_model", lic, "mature", variants, params_b=12.0,
                 native_resolution=(1024, 1024), requires=FLUX_REQ, memory=memory,
                 alt_runtimes=(Runtime("mlx", package="mflux", platforms=("mps",)),), **kw)  # type: ignore[arg-type]


def mini_catalog() -> Catalog:
    models = [
        _flux("flux1-dev", "flux-dev-nc"),
        _flux("flux1-schnell", "apache-2.0"),
        Model("t5xxl", "T5-XXL", "t5", "aux", "text_encoder", "apache-2.0", "mature", (
            v("t5xxl", "t5xxl-fp16", "fp16", None, "t5xxl_fp16.safetensors", "text_encoders", 9_787_841_024),
            v("t5xxl", "t5xxl-fp8", "fp8", "e4m3fn", "t5xxl_fp8_e4m3fn.safetensors", "text_encoders",
              4_893_934_904),
            v("t5xxl", "t5xxl-q8_0", "gguf", "Q8_0", "t5-v1_1-xxl-encoder-Q8_0.gguf", "text_encoders",
              5_060_000_000),
        )),
        Model("clip-l", "CLIP-L", "clip", "aux", "text_encoder", "mit", "mature", (
            v("clip-l", "clip-l-fp16", "fp16", None, "clip_l.safetensors", "text_encoders", 246_144_152),)),
        Model("flux-ae", "Flux VAE", "flux1", "aux", "vae", "apache-2.0", "mature", (
            v("flux-ae", "flux-ae-fp32", "fp32", None, "ae.safetensors", "vae", 335_304_388),),
            memory=MemoryFacts(spatial_compression=8)),
        Model("sd15", "SD1.5", "sd15", "image", "checkpoint", "openrail", "mature", (
            v("sd15", "sd15-fp16", "fp16", None, "v1-5-pruned-emaonly-fp16.safetensors", "checkpoints",
              2_132_625_894, all_in_one=True),), params_b=0.86, native_resolution=(512, 512),
            memory=MemoryFacts(1.0, 4, 8)),
        Model("sdxl", "SDXL", "sdxl", "image", "checkpoint", "openrail", "mature", (
            v("sdxl", "sdxl-fp16", "fp16", None, "sd_xl_base_1.0.safetensors", "checkpoints", 6_938_078_334,
              all_in_one=True),), params_b=3.5, native_resolution=(1024, 1024), memory=MemoryFacts(0.8, 4, 8)),
        Model("piper", "Piper TTS", "piper", "audio", "tts", "mit", "mature", (
            v("piper", "piper-lessac", "onnx", None, "en_US-lessac-medium.onnx", "tts", 63_201_294),),
            capabilities=("cpu-only",),
            runtime=Runtime("python", package="piper-tts", platforms=("cuda", "rocm", "mps", "cpu"), folders=("tts",)),
            memory=MemoryFacts(working_bytes=200 * MIB)),
        Model("mochi", "Mochi", "mochi", "video", "diffusion_model", "apache-2.0", "experimental", (
            v("mochi", "mochi-bf16", "bf16", None, "mochi.safetensors", "diffusion_models", 20_000_000_000),),
            excluded="research preview, 60 GB baseline"),
        Model("cuda-only", "CUDA only", "x", "audio", "tts", "mit", "mature", (
            v("cuda-only", "cuda-only-pth", "pth", None, "x.pth", "tts", 1_000_000_000),),
            runtime=Runtime("python", package="x-tts", platforms=("cuda",), folders=("tts",)), memory=MemoryFacts(working_bytes=GIB)),
    ]
    presets = [
        Preset("photorealism", "Photorealism", "", "image", "mature",
               (PresetComponent("diffusion_model", ("flux1-dev", "flux1-schnell")),), min_vram_bytes=12 * GIB,
               resolution=(1024, 1024)),
        Preset("lightweight", "Lightweight", "", "image", "mature",
               (PresetComponent("checkpoint", ("sd15",)), PresetComponent("tts", ("piper",), optional=True)),
               min_vram_bytes=4 * GIB, resolution=(512, 512)),
        Preset("anime", "Anime", "", "image", "mature", (PresetComponent("checkpoint", ("sdxl", "sd15")),),
               min_vram_bytes=8 * GIB, resolution=(1024, 1024)),
        Preset("voice", "Voice", "", "audio", "mature", (PresetComponent("tts", ("piper",)),)),
        Preset("video", "Video", "", "video", "experimental", (PresetComponent("diffusion_model", ("mochi",)),),
               default=False),
    ]
    packs = [NodePack("comfyui-gguf", "ComfyUI-GGUF", "https://github.com/city96/ComfyUI-GGUF", "a" * 40, 5)]
    licenses = [License("flux-dev-nc", "FLUX.1 [dev] Non-Commercial License", False),
                License("apache-2.0", "Apache 2.0", True), License("mit", "MIT", True),
                License("openrail", "CreativeML OpenRAIL-M", True)]
    variants = {var.id: var for m in models for var in m.variants}
    return Catalog(MappingProxyType({x.id: x for x in licenses}), MappingProxyType({m.id: m for m in models}),
                   MappingProxyType({p.id: p for p in packs}), MappingProxyType({p.id: p for p in presets}),
                   MappingProxyType(variants))


def gpu_hw(vendor: str, name: str, vram_gib: float, *, cc: str | None = None, arch: str | None = None,
           os: str = "linux", ram_gib: int = 32, gfx: str | None = None) -> Hardware:
    gpu = Gpu(vendor, name, int(vram_gib * GIB), cc, arch, None, None, vendor == "apple", gfx_target=gfx)
    return Hardware(os, "x86_64", Cpu("cpu", 8), ram_gib * GIB, (gpu,), Disk("/", 500 * 10**9, False))


def nvidia(vram_gib: float, cc: str = "8.9", arch: str = "ada", **kw: object) -> Device:
    return device_of(gpu_hw("nvidia", f"NVIDIA RTX {arch} {vram_gib} GB", vram_gib, cc=cc, arch=arch, **kw))  # type: ignore[arg-type]


def apple(ram_gib: int, name: str = "Apple M3 Max", arch: str = "m3") -> Device:
    hw = gpu_hw("apple", name, ram_gib * 2 / 3, arch=arch, ram_gib=ram_gib, os="macos")
    return device_of(hw)


def cpu_only(ram_gib: int = 16) -> Device:
    return device_of(Hardware("linux", "x86_64", Cpu("cpu", 8), ram_gib * GIB, (), None))


def catalog_document(catalog: Catalog | None = None, prefix: str = "t-") -> dict[str, object]:
    """``catalog`` in the catalog wire format (``rigfit.catalog/1``), for ``--catalog FILE`` on top of the shipped
    catalog: model and variant ids and file names get ``prefix`` so nothing shipped is replaced (presets are)."""
    import dataclasses

    cat = catalog or mini_catalog()

    def clean(o: object) -> object:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            d = {fl.name: clean(getattr(o, fl.name)) for fl in dataclasses.fields(o)}
            if isinstance(o, Variant):
                d.pop("model")
            return d
        if isinstance(o, tuple):
            return [clean(x) for x in o]
        return o

    ids = {*cat.models, *cat.variants}

    def rename(doc: object) -> object:
        if isinstance(doc, dict):
            out = {k: rename(v) for k, v in doc.items()}
            if "filename" in out and "url" in out:
                out["filename"] = prefix + str(out["filename"])
                out["url"] = HF + out["filename"]
            return out
        if isinstance(doc, list):
            return [rename(v) for v in doc]
        return prefix + doc if isinstance(doc, str) and doc in ids else doc

    doc = {"schema": "rigfit.catalog/1",
           "licenses": [clean(x) for x in cat.licenses.values()], "models": [clean(x) for x in cat.models.values()],
           "node_packs": [clean(x) for x in cat.node_packs.values()],
           "presets": [clean(x) for x in cat.presets.values()]}
    return rename(doc)  # type: ignore[return-value]
