"""The graphs behind the starter workflows, one builder per model family.

Node classes, input names and sensible defaults come from the ComfyUI 0.3.64 schema dump and its example
workflows (``shared/reference/comfyui-facts.md`` §5 and §7); ComfyUI-GGUF's loaders from its ``nodes.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GGUF_UNET = "UnetLoaderGGUF"
GGUF_CLIP = "CLIPLoaderGGUF"
GGUF_DUAL_CLIP = "DualCLIPLoaderGGUF"
NEGATIVE = "blurry, low quality, watermark, text"

# Node-pack pipelines: family key word -> (pipeline, the pack classes its graph needs, the pack that has them).
PACK_PIPELINES: dict[str, tuple[str, frozenset[str], str]] = {
    "latentsync": (
        "latentsync",
        frozenset({"LatentSyncNode", "VideoLengthAdjuster", "VHS_LoadVideo", "VHS_VideoCombine"}),
        "ComfyUI-LatentSyncWrapper and ComfyUI-VideoHelperSuite",
    ),
    "f5-tts": ("f5-tts", frozenset({"F5TTSAudioInputs"}), "ComfyUI-F5-TTS"),
    "triposr": (
        "triposr",
        frozenset({"TripoSRModelLoader", "TripoSRSampler", "TripoSRViewer"}),
        "ComfyUI-Flowty-TripoSR",
    ),
}
# The media the starter graphs read from ComfyUI's input/ folder: example.png ships with ComfyUI; the face video
# and the voice clip are placeholders the user replaces with an upload (``notes`` say so).
STARTER_MEDIA: dict[str, tuple[str, ...]] = {"input": ("example.png", "rigfit-face.mp4", "rigfit-voice.wav")}


def pack_pipeline(key: str) -> tuple[str, frozenset[str], str] | None:
    """The node-pack pipeline for a family key, if there is one."""
    return next((v for word, v in PACK_PIPELINES.items() if word in key), None)


@dataclass(frozen=True, slots=True)
class Link:
    node: int
    slot: int


@dataclass(frozen=True, slots=True)
class Files:
    by_role: Mapping[str, tuple[tuple[str, str], ...]]  # role -> (folder, file name)
    key: str  # family and model id of the main model, lower case

    def role(self, *roles: str) -> tuple[tuple[str, str], ...]:
        return tuple(f for r in roles for f in self.by_role.get(r, ()))

    def main(self) -> tuple[tuple[str, str], ...]:
        return self.role("checkpoint", "diffusion_model")


class Builder:
    """Collects nodes with ids 1, 2, ... (mutable only while one pure call builds a graph)."""

    def __init__(self) -> None:
        self.nodes: dict[int, tuple[str, dict[str, Any], str]] = {}

    def add(self, class_type: str, title: str = "", **inputs: Any) -> int:
        node_id = len(self.nodes) + 1
        self.nodes[node_id] = (class_type, dict(inputs), title)
        return node_id


def _is_gguf(name: str) -> bool:
    return name.lower().endswith(".gguf")


def classify(files: Files, pack_classes: frozenset[str]) -> tuple[str | None, str]:
    """The pipeline for these files, or None and the reason there is no starter workflow."""
    key = files.key
    main = files.main()
    pack = pack_pipeline(key)
    if pack is not None:
        kind, graph_classes, where = pack
        if not graph_classes <= pack_classes:
            missing = ", ".join(sorted(graph_classes - pack_classes))
            return None, f"the {kind} graph needs {where} ({missing}), not in the planned node packs"
        return kind, ""
    if not main:
        return None, "no checkpoint or diffusion model in the preset (a ComfyUI graph needs one)"
    ggufs = [n for _, n in (*main, *files.role("text_encoder")) if _is_gguf(n)]
    if ggufs:
        needed = {GGUF_UNET} if any(_is_gguf(n) for _, n in main) else set()
        if any(_is_gguf(n) for _, n in files.role("text_encoder")):
            needed |= {GGUF_CLIP, GGUF_DUAL_CLIP}
        if not needed <= pack_classes:
            return (
                None,
                f"{ggufs[0]} needs ComfyUI-GGUF's {', '.join(sorted(needed))}, not in the planned node packs",
            )
    checkpoint = bool(files.role("checkpoint"))
    if "i2v" in key.replace("ti2v", ""):
        return None, "image-to-video models need a start image; rigfit writes text-only starter workflows"
    if "wan" in key:
        return ("wan22-5b" if "5b" in key else "wan22-14b"), ""
    if (
        "ltx" in key
        and "ltx-2" not in key
        and "ltx2" not in key
        and checkpoint
        and files.role("text_encoder")
    ):
        return "ltxv", ""
    if "flux" in key and "flux2" not in key and "flux.2" not in key and "flux-2" not in key:
        if checkpoint or (len(files.role("text_encoder")) >= 2 and files.role("vae")):
            return "flux", ""
        return None, "Flux needs a diffusion model, two text encoders (clip_l, t5xxl) and the ae VAE"
    if "sd3" in key:
        if checkpoint or (len(files.role("text_encoder")) >= 3 and files.role("vae")):
            return "sd3", ""
        return None, "SD3.5 split files need three text encoders (clip_l, clip_g, t5xxl) and a VAE"
    if "stable-audio" in key or "stable_audio" in key:
        return (
            ("stable-audio", "")
            if files.role("text_encoder")
            else (None, "Stable Audio needs its t5-base text encoder")
        )
    if any(t in key for t in ("ace-step", "ace_step", "acestep")) and not any(
        v in key for v in ("1.5", "1-5", "v15")
    ):
        return "ace-step", ""
    if checkpoint and ("sdxl" in key or "xl" in key or "pony" in key or "illustrious" in key):
        return "sdxl", ""
    if checkpoint and ("sd1" in key or "sd15" in key or "1.5" in key or "dreamshaper" in key):
        return "sd15", ""
    return None, f"no starter workflow for {key or 'this model'} in ComfyUI 0.3.64 core nodes"


def _unet(b: Builder, name: str, dtype: str = "default") -> int:
    if _is_gguf(name):
        return b.add(GGUF_UNET, "Load diffusion model (GGUF)", unet_name=name)
    return b.add("UNETLoader", "Load diffusion model", unet_name=name, weight_dtype=dtype)


def _clip(b: Builder, names: list[str], kind: str) -> int:
    gguf = any(_is_gguf(n) for n in names)
    # ``device`` is an optional widget of the core loaders; set so the UI file and the prompt carry the same values.
    device = {} if gguf else {"device": "default"}
    if len(names) == 1:
        cls = GGUF_CLIP if gguf else "CLIPLoader"
        return b.add(cls, "Load text encoder", clip_name=names[0], type=kind, **device)
    if len(names) == 2:
        cls = GGUF_DUAL_CLIP if gguf else "DualCLIPLoader"
        return b.add(cls, "Load text encoders", clip_name1=names[0], clip_name2=names[1], type=kind, **device)
    return b.add(
        "TripleCLIPLoader",
        "Load text encoders",
        clip_name1=names[0],
        clip_name2=names[1],
        clip_name3=names[2],
    )


def _texts(b: Builder, clip: Link, prompt: str, negative: str | None = NEGATIVE) -> tuple[Link, Link]:
    pos = b.add("CLIPTextEncode", "Prompt", text=prompt, clip=clip)
    if negative is None:
        return Link(pos, 0), Link(
            b.add("ConditioningZeroOut", "Empty negative", conditioning=Link(pos, 0)), 0
        )
    return Link(pos, 0), Link(b.add("CLIPTextEncode", "Negative prompt", text=negative, clip=clip), 0)


def _ksampler(b: Builder, model: Link, pos: Link, neg: Link, latent: Link, **settings: Any) -> Link:
    values: dict[str, Any] = {
        "seed": 42,
        "steps": 20,
        "cfg": 7.0,
        "sampler_name": "euler",
        "scheduler": "normal",
        "denoise": 1.0,
    }
    values.update(settings)
    return Link(b.add("KSampler", **values, model=model, positive=pos, negative=neg, latent_image=latent), 0)


def _save_video(b: Builder, images: Link, fps: float, prefix: str) -> None:
    video = b.add("CreateVideo", fps=fps, images=images)
    b.add("SaveVideo", filename_prefix=prefix, format="auto", codec="auto", video=Link(video, 0))


def _image(b: Builder, files: Files, kind: str, prefix: str) -> tuple[Link, list[str]]:
    notes: list[str] = []
    ckpt = files.role("checkpoint")
    te = [n for _, n in files.role("text_encoder")]
    vae_files = [n for _, n in files.role("vae")]
    if ckpt:
        loader = b.add("CheckpointLoaderSimple", "Load checkpoint", ckpt_name=ckpt[0][1])
        model, clip, vae = Link(loader, 0), Link(loader, 1), Link(loader, 2)
        if vae_files:
            vae = Link(b.add("VAELoader", "Load VAE", vae_name=vae_files[0]), 0)
        if te and kind in {"flux", "sd3"}:
            # A checkpoint without its text encoders (SD3.5 Large's official file; ComfyUI's SD3.5 example)
            # takes them from text_encoders/ through the family's CLIP loader.
            clip = Link(_clip(b, te[:3] if kind == "sd3" else te[:2], kind), 0)
    else:
        model = Link(_unet(b, files.role("diffusion_model")[0][1]), 0)
        clip_kind = "flux" if kind == "flux" else "sd3"
        clip = Link(_clip(b, te[:3] if kind == "sd3" else te[:2], clip_kind), 0)
        vae = Link(b.add("VAELoader", "Load VAE", vae_name=vae_files[0]), 0)
    loras = [n for _, n in files.role("lora")]
    if loras:
        lora = b.add(
            "LoraLoader",
            "LoRA",
            lora_name=loras[0],
            strength_model=0.8,
            strength_clip=0.8,
            model=model,
            clip=clip,
        )
        model, clip = Link(lora, 0), Link(lora, 1)
        notes += [f"LoRA {n} is not wired (one LoRA per starter workflow)" for n in loras[1:]]
    schnell = "schnell" in files.key
    if kind == "flux":
        pos, neg = _texts(b, clip, "a photo of a red fox in a snowy forest, golden hour", None)
        if not schnell:
            pos = Link(b.add("FluxGuidance", guidance=3.5, conditioning=pos), 0)
        latent = Link(b.add("EmptySD3LatentImage", width=1024, height=1024, batch_size=1), 0)
        out = _ksampler(b, model, pos, neg, latent, steps=4 if schnell else 20, cfg=1.0, scheduler="simple")
    elif kind == "sd3":
        model = Link(b.add("ModelSamplingSD3", shift=3.0, model=model), 0)
        pos, neg = _texts(b, clip, "a photo of a red fox in a snowy forest, golden hour")
        latent = Link(b.add("EmptySD3LatentImage", width=1024, height=1024, batch_size=1), 0)
        out = _ksampler(
            b, model, pos, neg, latent, steps=28, cfg=4.5, sampler_name="dpmpp_2m", scheduler="sgm_uniform"
        )
    else:
        size = 1024 if kind == "sdxl" else 512
        pos, neg = _texts(b, clip, "a photo of a red fox in a snowy forest, golden hour")
        latent = Link(b.add("EmptyLatentImage", width=size, height=size, batch_size=1), 0)
        settings = (
            {"steps": 25, "cfg": 6.0, "sampler_name": "dpmpp_2m", "scheduler": "karras"}
            if kind == "sdxl"
            else {}
        )
        out = _ksampler(b, model, pos, neg, latent, **settings)
    image = Link(b.add("VAEDecode", samples=out, vae=vae), 0)
    b.add("SaveImage", filename_prefix=prefix, images=image)
    return image, notes


def _wan(b: Builder, files: Files, kind: str, prefix: str) -> None:
    unets = [n for _, n in files.role("diffusion_model", "checkpoint")]
    clip = Link(_clip(b, [n for _, n in files.role("text_encoder")][:1], "wan"), 0)
    vae = Link(b.add("VAELoader", "Load VAE", vae_name=files.role("vae")[0][1]), 0)
    pos, neg = _texts(b, clip, "a red fox running through a snowy forest, cinematic")
    models = [Link(b.add("ModelSamplingSD3", shift=8.0, model=Link(_unet(b, n), 0)), 0) for n in unets[:2]]
    if kind == "wan22-5b":
        latent = Link(
            b.add("Wan22ImageToVideoLatent", width=1280, height=704, length=121, batch_size=1, vae=vae), 0
        )
        out = _ksampler(
            b, models[0], pos, neg, latent, steps=30, cfg=5.0, sampler_name="uni_pc", scheduler="simple"
        )
        fps = 24.0
    else:
        latent = Link(b.add("EmptyHunyuanLatentVideo", width=640, height=640, length=81, batch_size=1), 0)
        fps = 16.0
        if len(models) == 1:
            out = _ksampler(b, models[0], pos, neg, latent, steps=20, cfg=3.5, scheduler="simple")
        else:
            common = {
                "noise_seed": 42,
                "steps": 20,
                "cfg": 3.5,
                "sampler_name": "euler",
                "scheduler": "simple",
            }
            high = b.add("KSamplerAdvanced", "High-noise pass", add_noise="enable", **common, start_at_step=0,
                         end_at_step=10, return_with_leftover_noise="enable", model=models[0], positive=pos,
                         negative=neg, latent_image=latent)  # fmt: skip
            low = b.add("KSamplerAdvanced", "Low-noise pass", add_noise="disable", **common, start_at_step=10,
                        end_at_step=10000, return_with_leftover_noise="disable", model=models[1], positive=pos,
                        negative=neg, latent_image=Link(high, 0))  # fmt: skip
            out = Link(low, 0)
    _save_video(b, Link(b.add("VAEDecode", samples=out, vae=vae), 0), fps, prefix)


def _ltxv(b: Builder, files: Files, prefix: str) -> None:
    loader = b.add("CheckpointLoaderSimple", "Load checkpoint", ckpt_name=files.role("checkpoint")[0][1])
    clip = Link(_clip(b, [n for _, n in files.role("text_encoder")][:1], "ltxv"), 0)
    pos, neg = _texts(b, clip, "a red fox running through a snowy forest, cinematic")
    cond = b.add("LTXVConditioning", frame_rate=25.0, positive=pos, negative=neg)
    latent = b.add("EmptyLTXVLatentVideo", width=768, height=512, length=97, batch_size=1)
    sigmas = b.add("LTXVScheduler", steps=30, max_shift=2.05, base_shift=0.95, stretch=True, terminal=0.1,
                   latent=Link(latent, 0))  # fmt: skip
    sampler = b.add("KSamplerSelect", sampler_name="euler")
    out = b.add("SamplerCustom", add_noise=True, noise_seed=42, cfg=3.0, model=Link(loader, 0),
                positive=Link(cond, 0), negative=Link(cond, 1), sampler=Link(sampler, 0), sigmas=Link(sigmas, 0),
                latent_image=Link(latent, 0))  # fmt: skip
    _save_video(b, Link(b.add("VAEDecode", samples=Link(out, 0), vae=Link(loader, 2)), 0), 25.0, prefix)


def _audio(b: Builder, files: Files, kind: str, prefix: str) -> None:
    loader = b.add("CheckpointLoaderSimple", "Load checkpoint", ckpt_name=files.main()[0][1])
    if kind == "stable-audio":
        clip = Link(_clip(b, [n for _, n in files.role("text_encoder")][:1], "stable_audio"), 0)
        pos, neg = _texts(b, clip, "warm lo-fi hip hop beat, vinyl crackle, 90 BPM", "")
        cond = b.add(
            "ConditioningStableAudio", seconds_start=0.0, seconds_total=30.0, positive=pos, negative=neg
        )
        pos, neg = Link(cond, 0), Link(cond, 1)
        latent = Link(b.add("EmptyLatentAudio", seconds=30.0, batch_size=1), 0)
        out = _ksampler(b, Link(loader, 0), pos, neg, latent, steps=50, cfg=4.98, sampler_name="dpmpp_3m_sde_gpu",
                        scheduler="exponential")  # fmt: skip
    else:
        text = b.add("TextEncodeAceStepAudio", tags="pop, female vocals, upbeat, 120 bpm", lyrics="[instrumental]",
                     lyrics_strength=0.99, clip=Link(loader, 1))  # fmt: skip
        neg = Link(b.add("ConditioningZeroOut", conditioning=Link(text, 0)), 0)
        latent = Link(b.add("EmptyAceStepLatentAudio", seconds=60.0, batch_size=1), 0)
        model = Link(b.add("ModelSamplingSD3", shift=5.0, model=Link(loader, 0)), 0)
        out = _ksampler(b, model, Link(text, 0), neg, latent, steps=50, cfg=5.0, scheduler="simple")
    audio = b.add("VAEDecodeAudio", samples=out, vae=Link(loader, 2))
    b.add("SaveAudio", filename_prefix=prefix, audio=Link(audio, 0))


def _latentsync(b: Builder, files: Files, prefix: str) -> list[str]:
    # The pack's example workflow (example_workflows/latentsync1.5_comfyui_basic.json): video and voice through
    # VideoLengthAdjuster into LatentSyncNode, the result muxed with the audio by VHS_VideoCombine.
    video = b.add("VHS_LoadVideo", "Face video (upload yours)", video=STARTER_MEDIA["input"][1], force_rate=25.0,
                  custom_width=0, custom_height=0, frame_load_cap=0, skip_first_frames=0, select_every_nth=1, format="None")  # fmt: skip
    audio = b.add("LoadAudio", "Speech (upload yours)", audio=STARTER_MEDIA["input"][2])
    fit = b.add("VideoLengthAdjuster", mode="normal", fps=25.0, silent_padding_sec=0.5, images=Link(video, 0),
                audio=Link(audio, 0))  # fmt: skip
    synced = b.add("LatentSyncNode", seed=1247, lips_expression=1.5, inference_steps=20, images=Link(fit, 0),
                   audio=Link(fit, 1))  # fmt: skip
    b.add("VHS_VideoCombine", frame_rate=25.0, loop_count=0, filename_prefix=prefix, format="video/h264-mp4",
          pingpong=False, save_output=True, images=Link(synced, 0), audio=Link(synced, 1))  # fmt: skip
    notes = [f"choose your own face video and speech in place of {STARTER_MEDIA['input'][1]} and "
             f"{STARTER_MEDIA['input'][2]} (ComfyUI's input/ folder)"]  # fmt: skip
    notes += [f"{folder}/{name} is loaded by LatentSyncNode itself" for folder, name in files.role(*files.by_role)
              if folder.startswith("custom_nodes/ComfyUI-LatentSyncWrapper")]  # fmt: skip
    return notes


def _triposr(b: Builder, files: Files) -> list[str]:
    # The pack's workflow_simple.json: an image into TripoSRSampler, the mesh shown (and saved as .obj) by the viewer.
    model = b.add("TripoSRModelLoader", "Load TripoSR", model=files.role("checkpoint")[0][1], chunk_size=8192)
    image = b.add("LoadImage", "Object image (upload yours)", image=STARTER_MEDIA["input"][0])
    mesh = b.add("TripoSRSampler", geometry_resolution=256, threshold=25.0, model=Link(model, 0),
                 reference_image=Link(image, 0))  # fmt: skip
    b.add("TripoSRViewer", "Mesh (saved as .obj)", mesh=Link(mesh, 0))
    return [f"choose your own object image (plain background) in place of {STARTER_MEDIA['input'][0]}"]


def _f5_tts(b: Builder, files: Files, prefix: str) -> list[str]:
    # A voice clip and its transcript into F5TTSAudioInputs; "F5v1" is the pack's name for F5TTS_v1_Base, whose
    # model_1250000.safetensors it fetches from SWivid/F5-TTS itself.
    sample = b.add("LoadAudio", "Voice to clone (upload yours)", audio=STARTER_MEDIA["input"][2])
    speech = b.add("F5TTSAudioInputs", "F5-TTS", sample_text="Type what the voice clip says here.",
                   speech="Hello! This is a starter workflow for F5-TTS.", seed=1, model="F5v1", vocoder="auto",
                   speed=1.0, model_type="F5TTS_v1_Base", sample_audio=Link(sample, 0))  # fmt: skip
    b.add("SaveAudio", filename_prefix=prefix, audio=Link(speech, 0))
    notes = [
        f"choose a 5-15 s voice clip in place of {STARTER_MEDIA['input'][2]} and type its words in sample_text"
    ]
    notes += [f"{folder}/{name} is loaded by F5TTSAudioInputs itself (model F5v1)" for folder, name in
              files.role(*files.by_role) if folder.startswith("checkpoints/F5-TTS")]  # fmt: skip
    return notes


_IMAGE_KINDS = frozenset({"sd15", "sdxl", "flux", "sd3"})


def build_pipeline(
    kind: str, files: Files, b: Builder, *, prefix: str
) -> tuple[list[tuple[str, str]], list[str]]:
    """Add ``kind``'s graph to ``b``; the (folder, file) pairs it loads and notes on planned files left out."""
    notes: list[str] = []
    if kind in _IMAGE_KINDS:
        image, notes = _image(b, files, kind, prefix)
        upscalers = files.role("upscale", "upscaler", "upscale_model")
        if upscalers:
            model = b.add("UpscaleModelLoader", "Load upscaler", model_name=upscalers[0][1])
            big = b.add("ImageUpscaleWithModel", upscale_model=Link(model, 0), image=image)
            b.add("SaveImage", "Save upscaled", filename_prefix=f"{prefix}-upscaled", images=Link(big, 0))
    elif kind.startswith("wan22"):
        _wan(b, files, kind, prefix)
    elif kind == "ltxv":
        _ltxv(b, files, prefix)
    elif kind == "latentsync":
        notes = _latentsync(b, files, prefix)
    elif kind == "triposr":
        notes = _triposr(b, files)
    elif kind == "f5-tts":
        notes = _f5_tts(b, files, prefix)
    else:
        _audio(b, files, kind, prefix)
    used = _loaded_files(b)
    planned = {f for fs in files.by_role.values() for f in fs}
    explained = {n.split(" is loaded by ")[0] for n in notes}
    for folder, name in sorted(planned - set(used)):
        if f"{folder}/{name}" in explained:
            continue
        notes.append(f"{folder}/{name} is installed but not used by this starter workflow")
    return used, notes


LOADER_INPUTS = {
    "CheckpointLoaderSimple": (("checkpoints", "ckpt_name"),),
    "UNETLoader": (("diffusion_models", "unet_name"),),
    GGUF_UNET: (("diffusion_models", "unet_name"),),
    "CLIPLoader": (("text_encoders", "clip_name"),),
    GGUF_CLIP: (("text_encoders", "clip_name"),),
    "DualCLIPLoader": (("text_encoders", "clip_name1"), ("text_encoders", "clip_name2")),
    GGUF_DUAL_CLIP: (("text_encoders", "clip_name1"), ("text_encoders", "clip_name2")),
    "TripleCLIPLoader": tuple(("text_encoders", f"clip_name{i}") for i in (1, 2, 3)),
    "VAELoader": (("vae", "vae_name"),),
    "LoraLoader": (("loras", "lora_name"),),
    "UpscaleModelLoader": (("upscale_models", "model_name"),),
    "TripoSRModelLoader": (("checkpoints", "model"),),
}


def _loaded_files(b: Builder) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for cls, inputs, _ in b.nodes.values():
        for folder, name in LOADER_INPUTS.get(cls, ()):
            out.append((folder, str(inputs[name])))
    return out
