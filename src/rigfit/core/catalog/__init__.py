"""The catalog: models, their variants and files, node packs and presets, as validated frozen values."""

from __future__ import annotations

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

__all__ = [
    "Catalog",
    "CatalogFile",
    "License",
    "MemoryFacts",
    "Model",
    "NodePack",
    "Preset",
    "PresetComponent",
    "PublishedFigure",
    "Requirement",
    "Runtime",
    "Variant",
]
