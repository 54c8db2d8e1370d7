"""Disk: bytes per preset and for the whole selection, each file counted once, against free space.

Files already installed (same folder, name and size; same sha256 where both sides know it) are not counted
again. The shell lists the ComfyUI models folder; the decisions are made here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rigfit.core.bundle import Chosen, file_bytes
from rigfit.core.catalog.schema import CatalogFile, Model
from rigfit.core.folders import canonical_folder
from rigfit.core.quant import Device, label, rank_variants

# Sequential read rates used for the SSD advice (typical SATA HDD vs NVMe SSD).
HDD_BYTES_PER_S = 150 * 10**6
SSD_BYTES_PER_S = 2000 * 10**6


@dataclass(frozen=True, slots=True)
class InstalledFile:
    folder: str
    filename: str
    bytes: int
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Alternative:
    """A smaller variant for one component, and the bytes it saves."""

    model: str
    current: str
    smaller: str
    saves_bytes: int


@dataclass(frozen=True, slots=True)
class Storage:
    total_bytes: int  # every file of the selection, each once
    present_bytes: int  # of which already installed
    download_bytes: int  # what is left to download
    free_bytes: int | None
    fits: bool | None  # None when free space is unknown
    ssd_recommended: bool
    approximate: bool  # some sizes are estimates
    alternatives: tuple[Alternative, ...]
    notes: tuple[str, ...]


def _key(folder: str, filename: str) -> tuple[str, str]:
    return canonical_folder(folder), filename


def unique_files(components: Iterable[Chosen]) -> tuple[CatalogFile, ...]:
    """The files of ``components``, each (folder, name) once, in first-seen order."""
    seen: dict[tuple[str, str], CatalogFile] = {}
    for c in components:
        for f in c.variant.files:
            seen.setdefault(_key(f.folder, f.filename), f)
    return tuple(seen.values())


def is_present(f: CatalogFile, installed: Mapping[tuple[str, str], InstalledFile]) -> bool:
    have = installed.get(_key(f.folder, f.filename))
    if have is None or f.bytes is None:
        return False
    if f.bytes_exact and have.bytes != f.bytes:
        return False
    if not f.bytes_exact and abs(have.bytes - f.bytes) > f.bytes * 0.02:
        return False
    return not (f.sha256 and have.sha256 and f.sha256 != have.sha256)


def index_installed(files: Iterable[InstalledFile]) -> dict[tuple[str, str], InstalledFile]:
    return {_key(f.folder, f.filename): f for f in files}


def preset_bytes(components: Sequence[Chosen]) -> int:
    return sum(f.bytes or 0 for f in unique_files(components))


def smaller_alternatives(components: Sequence[Chosen], models: Mapping[str, Model], device: Device,
                         ) -> tuple[Alternative, ...]:
    """For each chosen variant, the next smaller variant that runs here, with the bytes it saves."""
    out: list[Alternative] = []
    seen: set[str] = set()
    for c in components:
        if c.variant.id in seen:
            continue
        seen.add(c.variant.id)
        model = models.get(c.model.id, c.model)
        current = file_bytes(c.variant)
        smaller = [v for v, _ in rank_variants(model.variants, device) if file_bytes(v) < current]
        if smaller:
            nxt = max(smaller, key=file_bytes)
            out.append(Alternative(c.model.id, label(c.variant), label(nxt), current - file_bytes(nxt)))
    out.sort(key=lambda a: -a.saves_bytes)
    return tuple(out)


def storage(components: Sequence[Chosen], installed: Mapping[tuple[str, str], InstalledFile],
            free_bytes: int | None, rotational: bool | None, alternatives: Sequence[Alternative] = ()) -> Storage:
    """The selection's storage against the target disk."""
    files = unique_files(components)
    total = sum(f.bytes or 0 for f in files)
    present = sum(f.bytes or 0 for f in files if is_present(f, installed))
    download = total - present
    approximate = any(not f.bytes_exact or f.bytes is None for f in files)
    fits = None if free_bytes is None else download <= free_bytes
    notes: list[str] = []
    if rotational and total >= 10**9:
        notes.append(
            f"the target disk is a spinning disk: loading {total / 1e9:.1f} GB of models takes about "
            f"{total / HDD_BYTES_PER_S / 60:.1f} min there against {total / SSD_BYTES_PER_S:.0f} s from an NVMe SSD; "
            "put the models on an SSD")
    alts: tuple[Alternative, ...] = ()
    if fits is False and free_bytes is not None:
        short = download - free_bytes
        notes.append(f"needs {download / 1e9:.1f} GB, {free_bytes / 1e9:.1f} GB free: {short / 1e9:.1f} GB short")
        alts = tuple(alternatives)
    return Storage(total, present, download, free_bytes, fits, rotational is not False, approximate, alts,
                   tuple(notes))
