"""ComfyUI's model folders and the rules that keep a file name inside its folder.

Folder keys and their directories are ComfyUI's own (``folder_paths.py``; see
``shared/reference/comfyui-facts.md`` §2). ``unet`` and ``clip`` are legacy aliases that ComfyUI maps to
``diffusion_models`` and ``text_encoders``; rigfit always writes the current names.
"""

from __future__ import annotations

import re

# key -> directory under models/ where rigfit places files of that key (the first search directory that
# is not a legacy alias).
COMFYUI_FOLDERS: dict[str, str] = {
    "checkpoints": "checkpoints",
    "configs": "configs",
    "loras": "loras",
    "vae": "vae",
    "text_encoders": "text_encoders",
    "diffusion_models": "diffusion_models",
    "clip_vision": "clip_vision",
    "style_models": "style_models",
    "embeddings": "embeddings",
    "diffusers": "diffusers",
    "vae_approx": "vae_approx",
    "controlnet": "controlnet",
    "gligen": "gligen",
    "upscale_models": "upscale_models",
    "hypernetworks": "hypernetworks",
    "photomaker": "photomaker",
    "classifiers": "classifiers",
    "model_patches": "model_patches",
    "audio_encoders": "audio_encoders",
}

LEGACY_ALIASES: dict[str, str] = {"unet": "diffusion_models", "clip": "text_encoders"}

# ComfyUI lists these extensions in its standard folders (``supported_pt_extensions``); ``.gguf`` files are
# only listed by the ComfyUI-GGUF loaders, which register their own extension for the same folders.
PT_EXTENSIONS = frozenset({".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"})

_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)
_BAD_CHARS = re.compile(r'[\x00-\x1f<>:"|?*\\]')
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\- ]*$")


def filename_problem(name: str) -> str | None:
    """Why ``name`` is not a safe plain file name (no folders, no escape, valid on Windows too); None if it is."""
    if not name:
        return "empty file name"
    if len(name) > 200:
        return "file name longer than 200 characters"
    if "/" in name or "\\" in name:
        return f"file name {name!r} contains a path separator"
    if name in {".", ".."} or name.startswith("."):
        return f"file name {name!r} is hidden or points outside its folder"
    if _BAD_CHARS.search(name):
        return f"file name {name!r} contains a character not allowed in file names"
    if name.endswith((" ", ".")):
        return f"file name {name!r} ends with a space or a dot"
    if name.split(".")[0].lower() in _WINDOWS_RESERVED:
        return f"file name {name!r} is a reserved device name on Windows"
    return None


def folder_problem(folder: str) -> str | None:
    """Why ``folder`` is not a safe relative folder under ``models/`` (``ultralytics/bbox`` is fine)."""
    if not folder:
        return "empty folder"
    if folder.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", folder):
        return f"folder {folder!r} is an absolute path"
    for segment in folder.split("/"):
        if segment in {"", ".", ".."}:
            return f"folder {folder!r} has an empty, '.' or '..' segment"
        if not _SEGMENT.match(segment) or segment.endswith((" ", ".")):
            return f"folder {folder!r} has an unsafe segment {segment!r}"
    return None


def canonical_folder(folder: str) -> str:
    """Map ComfyUI's legacy keys (``unet``, ``clip``) to the current ones."""
    head, _, rest = folder.partition("/")
    head = LEGACY_ALIASES.get(head, head)
    return f"{head}/{rest}" if rest else head
