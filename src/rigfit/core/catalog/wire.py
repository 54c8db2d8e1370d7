"""Decoding one catalog document (parsed JSON) into the schema's frozen values, collecting every problem.

The wire format maps 1:1 onto ``schema.py``: a JSON object becomes a dataclass (keys are field names, a
missing key takes the field's default), a list becomes a tuple. The type hints of the dataclasses are the
grammar, so a field added to the schema is accepted by the loader without touching this module. Every
problem is recorded as ``source:key: message``; a value with a problem decodes to ``BAD`` and its parent
is dropped, so one run reports all problems of a file rather than stopping at the first.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal, TypeVar, Union, get_args, get_origin

from rigfit.core.catalog import schema
from rigfit.core.folders import filename_problem, folder_problem

SCHEMA_ID: Final = "rigfit.catalog/1"
SECTIONS: Final = {
    "licenses": schema.License,
    "models": schema.Model,
    "node_packs": schema.NodePack,
    "presets": schema.Preset,
}
# Top-level keys besides the sections: the format id and a free-text note about the file's sources.
_DOCUMENT_KEYS: Final = ("schema", "notes", *SECTIONS)
# Fields the loader fills in itself; a catalog file may not set them.
_LOADER_FIELDS: Final = {(schema.Variant, "model")}

T = TypeVar("T")


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


BAD: Final = _Bad()

_ID = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,79}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_HTTPS = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$")
_GGUF_QUANT = re.compile(r"^(Q[2-8]_(K(_[SML])?|[01])|IQ[1-4]_(XXS|XS|S|M|NL)|F16|BF16|F32)$")
_FP8_QUANT = frozenset({"e4m3fn", "e4m3fn_scaled", "e5m2", "e5m2_scaled", "mixed"})


class Problems:
    """An ordered list of ``source:key: message`` lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        # Ids of entries left out because of a problem: references to them are not reported again.
        self.broken: set[str] = set()

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{where}: {message}")


def suggest(word: str, choices: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a near miss, else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _id_problem(value: str) -> str | None:
    if not _ID.match(value):
        return f"id {value!r} must be lower-case letters, digits, '.', '_', '+' or '-' (at most 80)"
    return None


def https_problem(value: str) -> str | None:
    if not value.startswith("https://"):
        return f"URL {value!r} must start with https://"
    if not _HTTPS.match(value):
        return f"URL {value!r} is malformed (no host, or spaces in it)"
    return None


def _sha_problem(value: str) -> str | None:
    if not _SHA256.match(value):
        return f"sha256 {value!r} must be 64 lower-case hex digits"
    return None


def _commit_problem(value: str) -> str | None:
    if not _COMMIT.match(value):
        return f"commit {value!r} must be a full 40-hex-digit git commit"
    return None


def _positive(value: int | float) -> str | None:
    return None if value > 0 else f"must be greater than 0, not {value}"


def _non_negative(value: int) -> str | None:
    return None if value >= 0 else f"must not be negative, not {value}"


def _stars(value: int) -> str | None:
    return None if 1 <= value <= 5 else f"stability must be 1 to 5 stars, not {value}"


def _optional(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    return lambda value: None if value is None else check(value)


# (class, field) -> a check on the decoded value; returns a problem or None.
_FIELD_CHECKS: Final[Mapping[tuple[type, str], Callable[[Any], str | None]]] = {
    (schema.License, "id"): _id_problem,
    (schema.License, "url"): _optional(https_problem),
    (schema.Model, "id"): _id_problem,
    (schema.Model, "params_b"): _optional(_positive),
    (schema.Model, "max_seconds"): _optional(_positive),
    (schema.Model, "default_frames"): _optional(_positive),
    (schema.Variant, "id"): _id_problem,
    (schema.Variant, "weight_bytes"): _optional(_positive),
    (schema.CatalogFile, "filename"): filename_problem,
    (schema.CatalogFile, "folder"): folder_problem,
    (schema.CatalogFile, "url"): https_problem,
    (schema.CatalogFile, "bytes"): _optional(_positive),
    (schema.CatalogFile, "sha256"): _optional(_sha_problem),
    (schema.PublishedFigure, "vram_bytes"): _positive,
    (schema.MemoryFacts, "usage_factor"): _optional(_positive),
    (schema.MemoryFacts, "working_bytes"): _optional(_non_negative),
    (schema.NodePack, "id"): _id_problem,
    (schema.NodePack, "repo"): https_problem,
    (schema.NodePack, "commit"): _commit_problem,
    (schema.NodePack, "stability"): _stars,
    (schema.NodePack, "vram_overhead_bytes"): _non_negative,
    (schema.Preset, "id"): _id_problem,
    (schema.Preset, "min_vram_bytes"): _non_negative,
    (schema.Preset, "recommended_vram_bytes"): _non_negative,
}


def _file_check(value: schema.CatalogFile) -> list[tuple[str, str]]:
    if value.bytes_exact and value.bytes is None:
        return [("bytes", "bytes_exact is true but bytes is missing; an unknown size is not exact")]
    return []


def _variant_check(value: schema.Variant) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not value.files:
        problems.append(("files", "a variant needs at least one file"))
    if value.format == "gguf" and (value.quant is None or not _GGUF_QUANT.match(value.quant)):
        problems.append(
            ("quant", f"a gguf variant needs a GGUF type such as Q4_K_M or Q8_0, not {value.quant!r}")
        )
    elif value.format == "fp8" and value.quant not in _FP8_QUANT:
        problems.append(
            ("quant", f"an fp8 variant's quant must be one of {sorted(_FP8_QUANT)}, not {value.quant!r}")
        )
    elif value.format in ("fp32", "fp16", "bf16") and value.quant is not None:
        problems.append(("quant", f"a {value.format} variant has no quant (null), not {value.quant!r}"))
    if value.all_in_one and value.requires:
        problems.append(("requires", "an all-in-one variant carries its companions; it cannot require any"))
    return problems


def _preset_check(value: schema.Preset) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not value.components:
        problems.append(("components", "a preset needs at least one component"))
    if value.recommended_vram_bytes and value.recommended_vram_bytes < value.min_vram_bytes:
        problems.append(
            (
                "recommended_vram_bytes",
                f"{value.recommended_vram_bytes} is below min_vram_bytes {value.min_vram_bytes}",
            )
        )
    return problems


def _candidates_check(value: schema.PresetComponent | schema.Requirement) -> list[tuple[str, str]]:
    if not value.models:
        return [("models", "name at least one candidate model")]
    return []


_OBJECT_CHECKS: Final[Mapping[type, Callable[[Any], list[tuple[str, str]]]]] = {
    schema.CatalogFile: _file_check,
    schema.Variant: _variant_check,
    schema.Preset: _preset_check,
    schema.PresetComponent: _candidates_check,
    schema.Requirement: _candidates_check,
}

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = typing.get_type_hints(cls, vars(schema))
        _HINTS[cls] = hints
    return hints


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is str:
        return "a string"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if origin is tuple:
        return "a list"
    if dataclasses.is_dataclass(tp):
        return "an object"
    return str(tp)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def decode(value: object, tp: Any, where: str, problems: Problems) -> Any:
    """``value`` decoded as ``tp``, or ``BAD`` after recording why not."""
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return decode(value, inner, where, problems)
    if origin is Literal:
        choices = get_args(tp)
        if value in choices and isinstance(value, str):
            return value
        shown = ", ".join(repr(c) for c in choices)
        hint = suggest(value, [str(c) for c in choices]) if isinstance(value, str) else ""
        problems.add(where, f"{value!r} is not one of {shown}{hint}")
        return BAD
    if origin is tuple:
        return _decode_tuple(value, get_args(tp), where, problems)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return decode_object(value, tp, where, problems)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, bool) and type(value) is tp:
        return value
    problems.add(where, f"must be {_type_name(tp)}, not {_json_kind(value)}")
    return BAD


def _element_label(item: object, index: int) -> str:
    if isinstance(item, dict):
        ident = item.get("id")
        if isinstance(ident, str) and ident:
            return ident
    return str(index)


def _decode_tuple(value: object, args: tuple[Any, ...], where: str, problems: Problems) -> Any:
    if not isinstance(value, list):
        problems.add(where, f"must be a list, not {_json_kind(value)}")
        return BAD
    if len(args) == 2 and args[1] is Ellipsis:
        items = [
            decode(item, args[0], f"{where}[{_element_label(item, i)}]", problems)
            for i, item in enumerate(value)
        ]
    elif len(value) != len(args):
        problems.add(where, f"must be a list of {len(args)} values, not {len(value)}")
        return BAD
    else:
        items = [
            decode(item, tp, f"{where}[{i}]", problems)
            for i, (item, tp) in enumerate(zip(value, args, strict=True))
        ]
    if any(item is BAD for item in items):
        return BAD
    return tuple(items)


def decode_object(value: object, cls: type[T], where: str, problems: Problems) -> T | _Bad:
    if not isinstance(value, dict):
        problems.add(where, f"must be an object, not {_json_kind(value)}")
        return BAD
    fields = {f.name: f for f in dataclasses.fields(cls) if (cls, f.name) not in _LOADER_FIELDS}  # type: ignore[arg-type]
    hints = _hints(cls)
    ok = True
    for key in value:
        if key not in fields:
            where_key = f"{where}.{key}" if where else str(key)
            problems.add(where_key, f"unknown key {key!r}{suggest(str(key), fields)}")
            ok = False
    kwargs: dict[str, Any] = {}
    for name, fld in fields.items():
        key_where = f"{where}.{name}" if where else name
        if name not in value:
            if fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING:
                problems.add(key_where, f"missing required key {name!r}")
                ok = False
            continue
        decoded = decode(value[name], hints[name], key_where, problems)
        if decoded is BAD:
            ok = False
            continue
        check = _FIELD_CHECKS.get((cls, name))
        message = check(decoded) if check else None
        if message:
            problems.add(key_where, message)
            ok = False
            continue
        kwargs[name] = decoded
    if not ok:
        return BAD
    built = cls(**kwargs)
    object_check = _OBJECT_CHECKS.get(cls)
    if object_check:
        found = object_check(built)
        for key, message in found:
            problems.add(f"{where}.{key}" if where else key, message)
        if found:
            return BAD
    return built


def decode_document(source: str, document: object, problems: Problems) -> dict[str, list[Any]]:
    """The decoded entries of one catalog file, per section (entries with problems left out)."""
    sections: dict[str, list[Any]] = {name: [] for name in SECTIONS}
    if not isinstance(document, dict):
        problems.add(f"{source}:(file)", f"a catalog file must be a JSON object, not {_json_kind(document)}")
        return sections
    declared = document.get("schema")
    if declared != SCHEMA_ID:
        problems.add(f"{source}:schema", f"must be {SCHEMA_ID!r}, not {declared!r}")
        return sections
    for key in document:
        if key not in _DOCUMENT_KEYS:
            problems.add(f"{source}:{key}", f"unknown section {key!r}{suggest(str(key), _DOCUMENT_KEYS)}")
    for name, cls in SECTIONS.items():
        entries = document.get(name, [])
        if not isinstance(entries, list):
            problems.add(f"{source}:{name}", f"must be a list, not {_json_kind(entries)}")
            continue
        for index, entry in enumerate(entries):
            label = _element_label(entry, index)
            decoded = decode_object(entry, cls, f"{source}:{name}[{label}]", problems)
            if decoded is not BAD:
                sections[name].append(decoded)
            elif isinstance(entry, dict):
                problems.broken.update(_ids_inside(entry))
    return sections


def _ids_inside(entry: dict[Any, Any]) -> list[str]:
    """The id of a raw entry and of the variants it holds."""
    found = [entry["id"]] if isinstance(entry.get("id"), str) else []
    variants = entry.get("variants")
    if isinstance(variants, list):
        found.extend(v["id"] for v in variants if isinstance(v, dict) and isinstance(v.get("id"), str))
    return found
