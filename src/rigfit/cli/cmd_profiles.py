"""``rigfit profiles [--json]``: the embedded hardware profiles, usable as ``--hardware ID``."""

from __future__ import annotations

import argparse

SCHEMA = "rigfit.profiles/1"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Use an id with any command: rigfit recommend --hardware rtx4060-8gb"


def run(args: argparse.Namespace) -> int:
    from rigfit.cli import render
    from rigfit.core.hardware import hardware_to_json
    from rigfit.shell.hardware_source import embedded_profiles

    profiles = embedded_profiles()
    if args.json:
        render.emit_json({"schema": SCHEMA, "profiles": [
            {"id": pid, "hardware": hardware_to_json(hw)} for pid, hw in profiles.items()]})
        return 0
    from rich.table import Table

    from rigfit.core.units import format_bytes

    table = Table(title=f"{len(profiles)} hardware profiles (use with --hardware ID)")
    for column in ("id", "GPU", "VRAM", "arch", "RAM"):
        table.add_column(column, justify="right" if column in ("VRAM", "RAM") else "left")
    for pid, hw in profiles.items():
        gpu = hw.primary_gpu
        table.add_row(
            pid, gpu.name if gpu else "none (CPU only)",
            format_bytes(gpu.vram_bytes, binary=True) if gpu else "-",
            (gpu.architecture or "?") if gpu else "-", format_bytes(hw.ram_bytes, binary=True))
    render.console().print(table)
    return 0
