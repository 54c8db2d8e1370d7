"""``rigfit recommend``: which presets run on this machine, with which variants, and what they cost."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rigfit.core.catalog.schema import Catalog
    from rigfit.core.hardware import Hardware
    from rigfit.core.recommend import Choices
    from rigfit.core.report import Report
    from rigfit.core.storage import InstalledFile


def add_choice_options(parser: argparse.ArgumentParser) -> None:
    """The options ``recommend``, ``compare`` and ``plan`` share (CLI-CONTRACT.md)."""
    parser.add_argument("--preset", action="append", default=[], metavar="ID",
                        help="a preset id (repeatable; default: every default preset)")
    parser.add_argument("--lora", action="store_true", help="LoRA support is needed (rules out NF4)")
    parser.add_argument("--commercial", action="store_true", help="only licences that allow commercial use")
    parser.add_argument("--experimental", action="store_true", help="include experimental models and presets")
    parser.add_argument("--quant", action="append", default=[], metavar="TIER|MODEL=VARIANT",
                        help="advanced: a GGUF tier for every model (Q6_K) or a variant for one (flux1-dev=Q8_0)")
    fp8 = parser.add_mutually_exclusive_group()
    fp8.add_argument("--fp8", dest="fp8", action="store_true", default=None, help="prefer FP8 variants")
    fp8.add_argument("--no-fp8", dest="fp8", action="store_false", help="never choose FP8 variants")
    parser.add_argument("--comfyui", metavar="DIR", help="an existing ComfyUI: files already there are not counted")


def configure(parser: argparse.ArgumentParser) -> None:
    add_choice_options(parser)


def choices_from(args: argparse.Namespace) -> Choices:
    from rigfit.core.quant import parse_quant_args
    from rigfit.core.recommend import Choices

    return Choices(tuple(dict.fromkeys(args.preset)), bool(args.lora), bool(args.commercial),
                   bool(args.experimental), parse_quant_args(args.quant, fp8=args.fp8))


def installed_files(comfyui: str | None) -> list[InstalledFile]:
    """The model files under ``DIR/models`` (what ComfyUI lists: paths relative to each folder)."""
    import os
    from pathlib import Path

    from rigfit.core.errors import UsageError
    from rigfit.core.storage import InstalledFile

    if not comfyui:
        return []
    root = Path(comfyui).expanduser() / "models"
    if not Path(comfyui).expanduser().is_dir():
        raise UsageError(f"--comfyui {comfyui}: no such directory")
    found: list[InstalledFile] = []
    if not root.is_dir():
        return found
    for top in root.iterdir():
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            for name in filenames:
                path = Path(dirpath) / name
                try:
                    size = path.stat().st_size
                except OSError:
                    continue
                found.append(InstalledFile(top.name, path.relative_to(top).as_posix(), size))
    return found


def load(args: argparse.Namespace) -> tuple[Catalog, Hardware]:
    from rigfit.shell.catalog_source import load_catalog
    from rigfit.shell.hardware_source import load_hardware

    catalog = load_catalog(tuple(args.catalog or ()))
    hardware = load_hardware(args.hardware, disk_path=getattr(args, "comfyui", None))
    return catalog, hardware


def build_report(catalog: Catalog, hardware: Hardware, choices: Choices, comfyui: str | None) -> Report:
    from rigfit.core import report as rep
    from rigfit.core.quant import device_of
    from rigfit.core.recommend import recommend, training, unlocks
    from rigfit.core.storage import index_installed, smaller_alternatives, storage

    device = device_of(hardware)
    results = recommend(catalog, device, choices)
    runnable = [c for r in results if r.status in ("fits", "offload") for c in r.components]
    disk = hardware.disk
    alts = smaller_alternatives(runnable, catalog.models, device)
    st = storage(runnable, index_installed(installed_files(comfyui)), disk.free_bytes if disk else None,
                 disk.rotational if disk else None, alts)
    return rep.build_report(hardware, device, results, st, training(device),
                            unlocks(catalog, device, results, choices),
                            unlocks(catalog, device, results, choices, runs=True), catalog=catalog)


def run(args: argparse.Namespace) -> int:
    from rigfit.cli.render import emit_json

    catalog, hardware = load(args)
    report = build_report(catalog, hardware, choices_from(args), args.comfyui)
    if args.json:
        from rigfit.core.report import report_json

        emit_json(report_json(report, catalog))
        return 0
    from rigfit.cli.recommend_view import show_report

    show_report(report, catalog)
    return 0
