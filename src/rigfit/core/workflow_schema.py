"""ComfyUI's node schema (the ``/object_info`` document) and the checks ``POST /prompt`` makes.

The checks follow ComfyUI 0.3.64 ``execution.py`` (``validate_prompt`` / ``validate_inputs``) as recorded in
``shared/reference/comfyui-prompt-validation.md``: every node has a known ``class_type``; at least one output
node; from each output node, every required input present, links pointing at existing nodes with a matching
output type, combo values in their list, INT/FLOAT inside min/max (the step is not checked). Unlike the server,
which stops at the first bad node class and drops invalid branches silently, every problem is reported.

Model-file combos are empty in a dump taken with an empty ``models/`` folder; ``with_files`` fills them with the
files an install has (or will have), so a workflow is checked as the live server would check it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})


@dataclass(frozen=True, slots=True)
class InputSpec:
    name: str
    type: str  # a link type ("MODEL", "CLIP", ...), a widget type, or "COMBO"
    required: bool
    options: tuple[str, ...] | None = None  # COMBO only
    minimum: int | float | None = None  # kept exact: a seed's max is 2**64 - 1
    maximum: int | float | None = None
    default: Any = None
    control_after_generate: bool = False  # the UI adds a "fixed/randomize" widget value after it

    @property
    def is_widget(self) -> bool:
        return self.type in WIDGET_TYPES


@dataclass(frozen=True, slots=True)
class NodeSchema:
    name: str
    inputs: tuple[InputSpec, ...]  # required first, then optional, each in ``input_order``
    outputs: tuple[str, ...]
    output_names: tuple[str, ...]
    output_node: bool

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)


@dataclass(frozen=True, slots=True)
class Schema:
    nodes: Mapping[str, NodeSchema] = field(default_factory=lambda: MappingProxyType({}))

    def __contains__(self, class_type: object) -> bool:
        return class_type in self.nodes

    def merged(self, extra: Schema) -> Schema:
        """This schema plus ``extra``'s node classes (``extra`` wins on a clash)."""
        return Schema(MappingProxyType({**self.nodes, **extra.nodes}))


def _input_spec(name: str, raw: object, required: bool) -> InputSpec:
    spec = list(raw) if isinstance(raw, list | tuple) else [raw]
    head = spec[0] if spec else "*"
    opts = spec[1] if len(spec) > 1 and isinstance(spec[1], Mapping) else {}
    if isinstance(head, list | tuple):  # V1 combo: the option list itself
        return InputSpec(name, "COMBO", required, tuple(str(o) for o in head), default=opts.get("default"))
    kind = str(head)
    options = None
    if kind == "COMBO":
        options = tuple(str(o) for o in opts.get("options", ()))
    lo, hi = opts.get("min"), opts.get("max")
    return InputSpec(
        name,
        kind,
        required,
        options,
        minimum=lo if isinstance(lo, int | float) and not isinstance(lo, bool) else None,
        maximum=hi if isinstance(hi, int | float) and not isinstance(hi, bool) else None,
        default=opts.get("default"),
        control_after_generate=bool(opts.get("control_after_generate")),
    )


def parse_object_info(doc: Mapping[str, Any]) -> Schema:
    """A schema from a decoded ``/object_info`` document (V1 and V3 combo encodings both)."""
    nodes: dict[str, NodeSchema] = {}
    for class_type, info in doc.items():
        if not isinstance(info, Mapping):
            continue
        raw_inputs = info.get("input") or {}
        order = info.get("input_order") or {}
        inputs: list[InputSpec] = []
        for section, required in (("required", True), ("optional", False)):
            specs = raw_inputs.get(section) or {}
            names = [n for n in order.get(section, ()) if n in specs] or list(specs)
            inputs.extend(_input_spec(n, specs[n], required) for n in names)
        outputs = tuple(str(o) if not isinstance(o, list) else "COMBO" for o in info.get("output") or ())
        names_out = tuple(str(o) for o in info.get("output_name") or outputs)
        nodes[str(class_type)] = NodeSchema(
            str(class_type), tuple(inputs), outputs, names_out, bool(info.get("output_node"))
        )
    return Schema(MappingProxyType(nodes))


@dataclass(frozen=True, slots=True)
class FileInput:
    """A node input whose combo lists the model files of one folder key."""

    folder: str
    extensions: frozenset[str]


# ComfyUI's ``supported_pt_extensions`` (folder_paths.py:12); ComfyUI-GGUF lists only ``.gguf`` in the same folders.
PT_EXTENSIONS = frozenset({".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"})
GGUF = frozenset({".gguf"})

# (class, input) -> folder, from ``nodes.py`` / comfy_extras @ 0.3.64 and ComfyUI-GGUF ``nodes.py``.
FILE_INPUTS: Mapping[tuple[str, str], FileInput] = MappingProxyType(
    {
        ("CheckpointLoaderSimple", "ckpt_name"): FileInput("checkpoints", PT_EXTENSIONS),
        ("ImageOnlyCheckpointLoader", "ckpt_name"): FileInput("checkpoints", PT_EXTENSIONS),
        ("UNETLoader", "unet_name"): FileInput("diffusion_models", PT_EXTENSIONS),
        ("CLIPLoader", "clip_name"): FileInput("text_encoders", PT_EXTENSIONS),
        ("DualCLIPLoader", "clip_name1"): FileInput("text_encoders", PT_EXTENSIONS),
        ("DualCLIPLoader", "clip_name2"): FileInput("text_encoders", PT_EXTENSIONS),
        ("TripleCLIPLoader", "clip_name1"): FileInput("text_encoders", PT_EXTENSIONS),
        ("TripleCLIPLoader", "clip_name2"): FileInput("text_encoders", PT_EXTENSIONS),
        ("TripleCLIPLoader", "clip_name3"): FileInput("text_encoders", PT_EXTENSIONS),
        ("VAELoader", "vae_name"): FileInput("vae", PT_EXTENSIONS),
        ("LoraLoader", "lora_name"): FileInput("loras", PT_EXTENSIONS),
        ("LoraLoaderModelOnly", "lora_name"): FileInput("loras", PT_EXTENSIONS),
        ("CLIPVisionLoader", "clip_name"): FileInput("clip_vision", PT_EXTENSIONS),
        ("ControlNetLoader", "control_net_name"): FileInput("controlnet", PT_EXTENSIONS),
        ("UpscaleModelLoader", "model_name"): FileInput("upscale_models", PT_EXTENSIONS),
        ("StyleModelLoader", "style_model_name"): FileInput("style_models", PT_EXTENSIONS),
        ("AudioEncoderLoader", "audio_encoder_name"): FileInput("audio_encoders", PT_EXTENSIONS),
        ("UnetLoaderGGUF", "unet_name"): FileInput("diffusion_models", GGUF),
        ("CLIPLoaderGGUF", "clip_name"): FileInput("text_encoders", GGUF | PT_EXTENSIONS),
        ("DualCLIPLoaderGGUF", "clip_name1"): FileInput("text_encoders", GGUF | PT_EXTENSIONS),
        ("DualCLIPLoaderGGUF", "clip_name2"): FileInput("text_encoders", GGUF | PT_EXTENSIONS),
        ("TripoSRModelLoader", "model"): FileInput("checkpoints", PT_EXTENSIONS),
    }
)

# (class, input) -> what it lists from ComfyUI's input/ folder: the media a user uploads (nodes.py LoadImage,
# comfy_extras/nodes_audio.py LoadAudio, VideoHelperSuite's LoadVideoUpload ``video_extensions``).
INPUT_MEDIA: Mapping[tuple[str, str], FileInput] = MappingProxyType(
    {
        ("LoadImage", "image"): FileInput("input", frozenset({".png", ".jpg", ".jpeg", ".webp"})),
        ("LoadAudio", "audio"): FileInput("input", frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a"})),
        ("VHS_LoadVideo", "video"): FileInput("input", frozenset({".webm", ".mp4", ".mkv", ".gif", ".mov"})),
    }
)


def parse_pack_schemas(doc: Mapping[str, Any]) -> Schema:
    """The node-pack classes of a ``node_packs-schema.json`` document (``packs.<id>.nodes``, object_info-shaped)."""
    nodes: dict[str, Any] = {}
    for pack in (doc.get("packs") or {}).values():
        if isinstance(pack, Mapping):
            nodes.update(pack.get("nodes") or {})
    return parse_object_info(nodes)


def pack_supplement(core: Schema, declared: frozenset[str], packs: Schema | None = None) -> Schema:
    """Schemas of the node-pack classes starter workflows use, for the ones the planned packs declare.

    ``packs`` holds the classes read from the packs' source (``data/comfyui/node_packs-schema.json``: LatentSync,
    VideoHelperSuite, Flowty TripoSR, each at the catalog's pinned commit); only the declared ones are added.

    ComfyUI-GGUF (city96, ``nodes.py`` at 795e4515): ``UnetLoaderGGUF(unet_name)`` → MODEL;
    ``CLIPLoaderGGUF(clip_name, type)`` and ``DualCLIPLoaderGGUF(clip_name1, clip_name2, type)`` → CLIP, with
    the ``type`` lists of the core CLIPLoader / DualCLIPLoader. A live server's ``/object_info`` replaces these.
    """

    def combo(name: str, options: tuple[str, ...] = ()) -> InputSpec:
        return InputSpec(name, "COMBO", True, options)

    def types(cls: str) -> tuple[str, ...]:
        spec = core.nodes[cls].input("type") if cls in core.nodes else None
        return spec.options or () if spec is not None else ()

    known = {
        "UnetLoaderGGUF": NodeSchema("UnetLoaderGGUF", (combo("unet_name"),), ("MODEL",), ("MODEL",), False),
        "CLIPLoaderGGUF": NodeSchema(
            "CLIPLoaderGGUF",
            (combo("clip_name"), combo("type", types("CLIPLoader"))),
            ("CLIP",),
            ("CLIP",),
            False,
        ),
        "DualCLIPLoaderGGUF": NodeSchema(
            "DualCLIPLoaderGGUF",
            (combo("clip_name1"), combo("clip_name2"), combo("type", types("DualCLIPLoader"))),
            ("CLIP",),
            ("CLIP",),
            False,
        ),
    }
    if packs is not None:
        known = {**packs.nodes, **known}
    return Schema(MappingProxyType({k: v for k, v in known.items() if k in declared}))


def _listed(name: str, extensions: frozenset[str]) -> bool:
    lower = name.lower()
    return any(lower.endswith(ext) for ext in extensions)


def with_files(schema: Schema, files: Mapping[str, Iterable[str]]) -> Schema:
    """``schema`` with each model-file combo listing ``files[folder]`` (names relative to the folder, ``/``)."""
    nodes: dict[str, NodeSchema] = {}
    for class_type, node in schema.nodes.items():
        changed = False
        inputs: list[InputSpec] = []
        for spec in node.inputs:
            where = FILE_INPUTS.get((class_type, spec.name)) or INPUT_MEDIA.get((class_type, spec.name))
            if where is not None and spec.type == "COMBO":
                extra = sorted(n for n in files.get(where.folder, ()) if _listed(n, where.extensions))
                merged = tuple(dict.fromkeys((*(spec.options or ()), *extra)))
                spec = replace(spec, options=merged)
                changed = True
            inputs.append(spec)
        nodes[class_type] = replace(node, inputs=tuple(inputs)) if changed else node
    return Schema(MappingProxyType(nodes))


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding, typed as ComfyUI types it (``value_not_in_list``, ``required_input_missing``, ...)."""

    type: str
    node_id: str | None
    class_type: str | None
    input_name: str | None
    message: str

    def __str__(self) -> str:
        where = f"node {self.node_id} ({self.class_type})" if self.node_id is not None else "workflow"
        field_ = f" input {self.input_name!r}" if self.input_name else ""
        return f"{where}{field_}: {self.type}: {self.message}"


def _is_link(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def _types_match(received: str, expected: str) -> bool:
    if received == expected or "*" in (received, expected):
        return True
    # Union types ("IMAGE,MASK") accept a link whose types are all among them (execution.validate_node_input).
    return set(received.split(",")) <= set(expected.split(","))


def _check_literal(spec: InputSpec, value: object, out: list[str | tuple[str, str]]) -> None:
    if spec.type == "COMBO":
        if spec.options is not None and value not in spec.options:
            shown = list(spec.options) if len(spec.options) <= 20 else f"(list of length {len(spec.options)})"
            out.append(("value_not_in_list", f"{spec.name}: {value!r} not in {shown}"))
        return
    if spec.type in {"INT", "FLOAT"}:
        try:
            number: int | float = int(value) if spec.type == "INT" else float(value)  # type: ignore[call-overload,arg-type]
        except (TypeError, ValueError):
            out.append(("invalid_input_type", f"{spec.name}: cannot convert {value!r} to {spec.type}"))
            return
        if spec.minimum is not None and number < spec.minimum:
            out.append(
                ("value_smaller_than_min", f"{spec.name}: {number} smaller than min of {spec.minimum:g}")
            )
        if spec.maximum is not None and number > spec.maximum:
            out.append(
                ("value_bigger_than_max", f"{spec.name}: {number} bigger than max of {spec.maximum:g}")
            )


def validate_prompt(prompt: object, schema: Schema) -> tuple[Problem, ...]:
    """Every reason ComfyUI's ``/prompt`` would refuse (or partly drop) ``prompt``; empty when it would run it."""
    if not isinstance(prompt, Mapping):
        return (Problem("invalid_prompt", None, None, None, "a prompt must be an object of nodes"),)
    problems: list[Problem] = []
    known: dict[str, NodeSchema] = {}
    for node_id, node in prompt.items():
        class_type = node.get("class_type") if isinstance(node, Mapping) else None
        if not isinstance(class_type, str):
            problems.append(Problem("invalid_prompt", str(node_id), None, None, "node has no class_type"))
        elif class_type not in schema.nodes:
            problems.append(
                Problem("invalid_prompt", str(node_id), class_type, None, f"node {class_type} does not exist")
            )
        else:
            known[str(node_id)] = schema.nodes[class_type]
    outputs = [nid for nid, node in known.items() if node.output_node]
    if not outputs and not problems:
        problems.append(Problem("prompt_no_outputs", None, None, None, "prompt has no output node"))
    seen: set[str] = set()
    pending = list(outputs)
    while pending:
        node_id = pending.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        node_schema = known[node_id]
        raw = prompt[node_id]
        inputs = raw.get("inputs") if isinstance(raw.get("inputs"), Mapping) else {}
        for spec in node_schema.inputs:
            found: list[str | tuple[str, str]] = []
            if spec.name not in inputs:
                if spec.required:
                    found.append(("required_input_missing", f"required input {spec.name!r} is missing"))
            else:
                value = inputs[spec.name]
                if _is_link(value):
                    source_id, slot = str(value[0]), int(value[1])
                    source = known.get(source_id)
                    if source_id not in prompt:
                        found.append(
                            (
                                "exception_during_inner_validation",
                                f"{spec.name}: linked node {source_id} does not exist",
                            )
                        )
                    elif source is not None:
                        if not 0 <= slot < len(source.outputs):
                            found.append(
                                (
                                    "return_type_mismatch",
                                    f"{spec.name}: node {source_id} has no output {slot}",
                                )
                            )
                        elif not _types_match(source.outputs[slot], spec.type):
                            found.append(
                                (
                                    "return_type_mismatch",
                                    f"{spec.name}: received {source.outputs[slot]}, expects {spec.type}",
                                )
                            )
                        pending.append(source_id)
                else:
                    _check_literal(spec, value, found)
            for item in found:
                kind, msg = item if isinstance(item, tuple) else ("invalid", item)
                problems.append(Problem(kind, node_id, node_schema.name, spec.name, msg))
    return tuple(problems)


def file_inputs_of(prompt: Mapping[str, Any]) -> Sequence[tuple[str, str, str]]:
    """(node id, folder, file name) for every model file a prompt names, in node order."""
    found: list[tuple[str, str, str]] = []
    for node_id, node in prompt.items():
        if not isinstance(node, Mapping):
            continue
        for (class_type, input_name), where in FILE_INPUTS.items():
            if node.get("class_type") == class_type:
                value = (node.get("inputs") or {}).get(input_name)
                if isinstance(value, str):
                    found.append((str(node_id), where.folder, value))
    return tuple(found)
