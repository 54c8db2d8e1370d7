"""The catalog's wire format: which sections a file has, and the value checks the grammar cannot express.

The grammar itself is ``schema.py`` (decoded by ``decode.Decoder``). Here: the field checks (ids, URLs,
hashes, commits, sizes, file names and folders) and object checks (format vs quant, exact sizes, presets),
and the decoding of one whole catalog document into its sections.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from rigfit.core.catalog import schema
from rigfit.core.catalog.decode import BAD, Decoder, Problems, element_label, json_kind, suggest
from rigfit.core.folders import filename_problem, folder_problem

__all__ = [
    "FIGURES",
    "SCHEMA_ID",
    "SECTIONS",
    "FigureEntry",
    "Problems",
    "decode_document",
    "https_problem",
    "suggest",
]

SCHEMA_ID: Final = "rigfit.catalog/1"
SECTIONS: Final = {
    "licenses": schema.License,
    "models": schema.Model,
    "node_packs": schema.NodePack,
    "presets": schema.Preset,
}
# Top-level keys besides the sections: the format id and a free-text note about the file's sources.
# "figures": published figures added to models defined anywhere (a measurements file beside the catalog):
# each entry is a PublishedFigure with the id of its model under "model"; it is appended, never replaces.
FIGURES: Final = "figures"
_DOCUMENT_KEYS: Final = ("schema", "notes", *SECTIONS, FIGURES)
# Fields the loader fills in itself; a catalog file may not set them.
_LOADER_FIELDS: Final = frozenset({(schema.Variant, "model")})

_ID = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,79}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_HTTPS = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$")
_GGUF_QUANT = re.compile(r"^(Q[2-8]_(K(_[SML])?|[01])|IQ[1-4]_(XXS|XS|S|M|NL)|F16|BF16|F32)$")
_FP8_QUANT = frozenset({"e4m3fn", "e4m3fn_scaled", "e5m2", "e5m2_scaled", "mixed"})


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

_DECODER: Final = Decoder(vars(schema), _FIELD_CHECKS, _OBJECT_CHECKS, _LOADER_FIELDS)


@dataclass(frozen=True, slots=True)
class FigureEntry:
    """One entry of a ``figures`` section: where it was, the model it belongs to, the figure."""

    where: str
    model: str
    figure: schema.PublishedFigure


def decode_document(source: str, document: object, problems: Problems) -> dict[str, list[Any]]:
    """The decoded entries of one catalog file, per section (entries with problems left out)."""
    sections: dict[str, list[Any]] = {name: [] for name in (*SECTIONS, FIGURES)}
    if not isinstance(document, dict):
        problems.add(f"{source}:(file)", f"a catalog file must be a JSON object, not {json_kind(document)}")
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
            problems.add(f"{source}:{name}", f"must be a list, not {json_kind(entries)}")
            continue
        for index, entry in enumerate(entries):
            label = element_label(entry, index)
            decoded = _DECODER.object(entry, cls, f"{source}:{name}[{label}]", problems)
            if decoded is not BAD:
                sections[name].append(decoded)
            elif isinstance(entry, dict):
                problems.broken.update(_ids_inside(entry))
    sections[FIGURES] = _figures(source, document.get(FIGURES, []), problems)
    return sections


def _figures(source: str, entries: object, problems: Problems) -> list[FigureEntry]:
    if not isinstance(entries, list):
        problems.add(f"{source}:{FIGURES}", f"must be a list, not {json_kind(entries)}")
        return []
    found: list[FigureEntry] = []
    for index, entry in enumerate(entries):
        where = f"{source}:{FIGURES}[{index}]"
        if not isinstance(entry, dict):
            problems.add(where, f"must be an object, not {json_kind(entry)}")
            continue
        model = entry.get("model")
        if not isinstance(model, str) or not model:
            problems.add(f"{where}.model", "name the model the figure belongs to (a model id)")
            continue
        rest = {key: value for key, value in entry.items() if key != "model"}
        figure = _DECODER.object(rest, schema.PublishedFigure, where, problems)
        if figure is not BAD:
            found.append(FigureEntry(where, model, figure))
    return found


def _ids_inside(entry: dict[Any, Any]) -> list[str]:
    """The id of a raw entry and of the variants it holds."""
    found = [entry["id"]] if isinstance(entry.get("id"), str) else []
    variants = entry.get("variants")
    if isinstance(variants, list):
        found.extend(v["id"] for v in variants if isinstance(v, dict) and isinstance(v.get("id"), str))
    return found
