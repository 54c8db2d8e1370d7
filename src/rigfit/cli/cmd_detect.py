"""``rigfit detect [--json] [--path DIR]``: what rigfit knows about this machine (or a ``--hardware`` profile)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rigfit.core.hardware import Gpu, Hardware


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", metavar="DIR",
                        help="report free space and disk type where models will go (default: rigfit's data folder)")
    parser.add_argument("--save-raw", metavar="DIR",
                        help="also write every raw probe output to DIR (for bug reports and test data)")


def run(args: argparse.Namespace) -> int:
    from rigfit.cli import render
    from rigfit.core.hardware import hardware_to_json
    from rigfit.shell.hardware_source import ENV, load_hardware

    if args.hardware or os.environ.get(ENV, "").strip() or not args.save_raw:
        hw = load_hardware(args.hardware, disk_path=args.path)
    else:
        from rigfit.shell.probes import probe_hardware_logged

        hw, log = probe_hardware_logged(args.path)
        _save_raw(args.save_raw, log.raw, hardware_to_json(hw))
    if args.json:
        render.emit_json(hardware_to_json(hw))
        return 0
    _print_table(hw)
    for message in hw.warnings:
        render.warn(message)
    return 0


def _save_raw(folder: str, raw: dict[str, str], document: dict[str, object]) -> None:
    import json
    from pathlib import Path

    from rigfit.core.errors import UsageError

    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, text in raw.items():
            (target / name.replace("/", "-")).write_text(text, encoding="utf-8")
        (target / "rigfit-detect.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--save-raw {folder}: cannot write there ({exc.strerror or exc})") from exc


def _gpu_line(gpu: Gpu) -> str:
    from rigfit.core.units import format_bytes

    parts = [f"{format_bytes(gpu.vram_bytes, binary=True)}{' shared' if gpu.unified_memory else ''}"]
    if gpu.architecture:
        parts.append(gpu.architecture)
    if gpu.compute_capability:
        parts.append(f"compute {gpu.compute_capability}")
    if gpu.gfx_target:
        parts.append(gpu.gfx_target)
    if gpu.cores:
        parts.append(f"{gpu.cores} GPU cores")
    if gpu.driver_version:
        parts.append(f"driver {gpu.driver_version}")
    if gpu.cuda_driver_version:
        parts.append(f"CUDA {gpu.cuda_driver_version}")
    return f"{gpu.name} ({', '.join(parts)})"


def _print_table(hw: Hardware) -> None:
    from rich.table import Table

    from rigfit.cli.render import console
    from rigfit.core.units import format_bytes

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("System", f"{hw.os} {hw.arch}")
    if hw.cpu is not None:
        cores = f", {hw.cpu.cores} cores" if hw.cpu.cores else ""
        table.add_row("CPU", f"{hw.cpu.model or 'unknown model'}{cores}")
    table.add_row("RAM", format_bytes(hw.ram_bytes, binary=True))
    if not hw.gpus:
        table.add_row("GPU", "none found: models run on the CPU (slow)")
    for i, gpu in enumerate(hw.gpus):
        label = "GPU" if len(hw.gpus) == 1 else f"GPU {i}"
        table.add_row(label, _gpu_line(gpu))
    if hw.disk is not None:
        kind = {True: "spinning disk (HDD)", False: "SSD", None: "disk type unknown"}[hw.disk.rotational]
        table.add_row("Disk", f"{format_bytes(hw.disk.free_bytes, binary=True)} free at {hw.disk.path}, {kind}")
    console().print(table)
