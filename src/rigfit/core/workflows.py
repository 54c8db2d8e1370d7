"""Starter workflows: for each planned preset, a ComfyUI graph that loads exactly the preset's files.

Graphs follow ComfyUI's own examples at 0.3.64 (``comfyui-facts.md`` §5, §7): a checkpoint txt2img for SD1.5 /
SDXL, split files for Flux and SD3.5, Wan 2.2 (5B: one model + Wan22ImageToVideoLatent; 14B: high- and
low-noise models in two KSamplerAdvanced passes), LTX-Video, Stable Audio Open and ACE-Step, with an upscale
branch when the preset carries an upscaler. GGUF files use ComfyUI-GGUF's loaders, only when the plan installs
a pack that declares them. LatentSync 1.6 (lip sync), TripoSR (image to 3D) and F5-TTS (voice) run through their
node packs' graphs when the plan installs the packs. Anything else is listed as skipped with the reason, never
written half-working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rigfit.core.workflow_pipelines import (
    STARTER_MEDIA,
    Builder,
    Files,
    Link,
    build_pipeline,
    classify,
    pack_pipeline,
)
from rigfit.core.workflow_schema import Schema, pack_supplement, validate_prompt, with_files


@dataclass(frozen=True, slots=True)
class WorkflowNode:
    id: int
    class_type: str
    inputs: Mapping[str, Any]  # literal values, or ``Link`` for a connection
    title: str = ""


@dataclass(frozen=True, slots=True)
class Workflow:
    preset: str
    name: str  # file stem, e.g. ``rigfit-photorealism``
    kind: str  # the pipeline used: sd15, sdxl, flux, sd3, wan22-5b, wan22-14b, ltxv, stable-audio, ace-step,
    # latentsync, triposr, f5-tts
    nodes: tuple[WorkflowNode, ...]
    files: tuple[tuple[str, str], ...]  # (folder, file name) the graph loads
    notes: tuple[str, ...] = ()  # planned files the graph does not wire (ControlNets, embeddings, ...)
    # (folder, file name) -> download URL, for the frontend's missing-model dialog (``properties.models``)
    urls: Mapping[tuple[str, str], str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class StarterSet:
    workflows: tuple[Workflow, ...]
    skipped: tuple[tuple[str, str], ...] = field(default=())  # (preset id, reason)


_FOLDER_ALIASES = {"unet": "diffusion_models", "clip": "text_encoders"}  # ComfyUI's legacy folder names


def _component_files(component: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for f in component.get("files") or ():
        if isinstance(f, Mapping) and isinstance(f.get("filename"), str) and isinstance(f.get("folder"), str):
            raw = str(f["folder"])
            folder = _FOLDER_ALIASES.get(raw, raw)
            out.append((folder, str(f["filename"])))
    return out


# Roles follow the files' folders, not the preset's slot names (``base_model``, ``music``, ``sfx``, ...): the
# folder says which ComfyUI loader reads a file.
_FOLDER_ROLES = {
    "checkpoints": "checkpoint",
    "diffusion_models": "diffusion_model",
    "text_encoders": "text_encoder",
    "vae": "vae",
    "upscale_models": "upscale",
    "loras": "lora",
}
_MAIN = frozenset({"checkpoint", "diffusion_model"})


def _key(component: Mapping[str, Any], families: Mapping[str, str]) -> str:
    model = str(component.get("model") or "")
    return f"{families.get(model, '')} {model}".strip().lower()


def _group(
    components: Sequence[Mapping[str, Any]], families: Mapping[str, str]
) -> list[list[Mapping[str, Any]]]:
    """One group per component that carries a checkpoint or diffusion model (or runs a node-pack pipeline), with
    its companions; components with neither (an upscaler, a VAE slot, a LoRA) join the first group."""
    groups: list[list[Mapping[str, Any]]] = []
    owner: dict[str, int] = {}
    loose: list[Mapping[str, Any]] = []
    for comp in components:
        roles = {_FOLDER_ROLES.get(f.split("/")[0], "") for f, _ in _component_files(comp)}
        companion = comp.get("companion_of")
        if isinstance(companion, str):
            # A companion goes with its owner; one whose owner is not a main model (a base model a ControlNet
            # asks for) goes with the first group.
            (groups[owner[companion]] if companion in owner else loose).append(comp)
        elif roles & _MAIN or pack_pipeline(_key(comp, families)) is not None:
            owner[str(comp.get("model") or "")] = len(groups)
            groups.append([comp])
        else:
            loose.append(comp)
    if groups:
        groups[0].extend(loose)
    return groups or [list(components)]


def preset_files(components: Sequence[Mapping[str, Any]], families: Mapping[str, str]) -> Files:
    """Group planned files by the loader role their folder implies, with the main model's family key."""
    by_role: dict[str, list[tuple[str, str]]] = {}
    main_key = ""
    for comp in components:
        if not main_key and pack_pipeline(_key(comp, families)) is not None:
            main_key = _key(comp, families)
        for folder, name in _component_files(comp):
            role = _FOLDER_ROLES.get(folder.split("/")[0], folder)
            by_role.setdefault(role, []).append((folder, name))
            if role in _MAIN and not main_key:
                main_key = _key(comp, families)
    return Files({k: tuple(v) for k, v in by_role.items()}, main_key)


def planned_files(presets: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """folder -> file names, over every preset's components."""
    out: dict[str, list[str]] = {}
    for preset in presets:
        for comp in preset.get("components") or ():
            if isinstance(comp, Mapping):
                for folder, name in _component_files(comp):
                    out.setdefault(folder, []).append(name)
    return out


def check_schema(
    schema: Schema,
    pack_classes: frozenset[str],
    files: Mapping[str, Sequence[str]] | None,
    presets: Sequence[Mapping[str, Any]],
    packs: Schema | None = None,
) -> Schema:
    """The schema a starter workflow is checked against: core + declared pack classes (``packs``: the bundled
    node-pack schemas) + the installed files + the starter media the graphs name in input/."""
    merged = schema.merged(pack_supplement(schema, pack_classes, packs))
    listed = {k: list(v) for k, v in (files if files is not None else planned_files(presets)).items()}
    for folder, names in STARTER_MEDIA.items():
        listed.setdefault(folder, []).extend(names)
    return with_files(merged, listed)


def starter_workflows(
    presets: Sequence[Mapping[str, Any]],
    *,
    schema: Schema,
    families: Mapping[str, str] | None = None,
    pack_classes: frozenset[str] = frozenset(),
    files: Mapping[str, Sequence[str]] | None = None,
    packs: Schema | None = None,
) -> StarterSet:
    """A workflow per preset that has a known pipeline and validates; the others with the reason they have none.

    ``schema`` is ComfyUI's node schema (a dump or the live ``/object_info``); ``families`` maps model ids to
    catalog families (``flux1``, ``sdxl``, ...; the id alone is used when absent); ``pack_classes`` is every node
    class the plan's node packs declare in the catalog; ``files`` (folder -> names) defaults to the presets' files;
    ``packs`` is the bundled schema of node-pack classes (``data/comfyui/node_packs-schema.json``).
    """
    checked = check_schema(schema, pack_classes, files, presets, packs)
    workflows: list[Workflow] = []
    skipped: list[tuple[str, str]] = []
    for preset in presets:
        preset_id = str(preset.get("id") or "preset")
        components = [c for c in preset.get("components") or () if isinstance(c, Mapping)]
        for index, group in enumerate(_group(components, families or {})):
            name = f"rigfit-{preset_id}"
            label = preset_id
            if index:
                model = str(group[0].get("model") or index)
                name, label = f"{name}-{model}", f"{preset_id} ({model})"
            grouped = preset_files(group, families or {})
            kind, reason = classify(grouped, pack_classes)
            if kind is None:
                skipped.append((label, reason))
                continue
            builder = Builder()
            used, notes = build_pipeline(kind, grouped, builder, prefix=f"rigfit/{preset_id}")
            nodes = tuple(
                WorkflowNode(nid, cls, dict(inputs), title)
                for nid, (cls, inputs, title) in builder.nodes.items()
            )
            urls = {
                (folder, str(f["filename"])): str(f["url"])
                for c in group
                for f in c.get("files") or ()
                if isinstance(f, Mapping)
                and isinstance(f.get("url"), str)
                and isinstance(f.get("filename"), str)
                for folder in [_FOLDER_ALIASES.get(str(f.get("folder")), str(f.get("folder")))]
            }
            workflow = Workflow(preset_id, name, kind, nodes, tuple(used), tuple(notes), urls)
            problems = validate_prompt(to_api(workflow), checked)
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                skipped.append(
                    (label, f"the {kind} starter workflow would not validate: {problems[0]}{more}")
                )
                continue
            workflows.append(workflow)
    return StarterSet(tuple(workflows), tuple(skipped))


def to_api(workflow: Workflow) -> dict[str, Any]:
    """The API ("prompt") format: ``{id: {class_type, inputs, _meta}}`` with links as ``[id, slot]``."""
    prompt: dict[str, Any] = {}
    for node in workflow.nodes:
        inputs = {
            name: [str(value.node), value.slot] if isinstance(value, Link) else value
            for name, value in node.inputs.items()
        }
        prompt[str(node.id)] = {
            "class_type": node.class_type,
            "inputs": inputs,
            "_meta": {"title": node.title or node.class_type},
        }
    return prompt
