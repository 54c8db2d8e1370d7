"""``rigfit compare --hardware A --hardware B ...``: what each machine runs, side by side."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    from rigfit.cli.cmd_recommend import add_choice_options

    add_choice_options(parser)


def run(args: argparse.Namespace) -> int:
    from rigfit.cli.cmd_recommend import build_report, choices_from
    from rigfit.cli.render import emit_json
    from rigfit.core.errors import UsageError
    from rigfit.core.report import report_json
    from rigfit.shell.catalog_source import load_catalog
    from rigfit.shell.hardware_source import hardware_list

    specs = list(args.hardware or [])
    if len(specs) < 2:
        raise UsageError("compare needs at least two --hardware FILE|ID (e.g. --hardware rtx4060-8gb "
                         "--hardware rtx4070-12gb)")
    catalog = load_catalog(tuple(args.catalog or ()))
    choices = choices_from(args)
    reports = [build_report(catalog, hw, choices, args.comfyui) for hw in hardware_list(specs)]
    if args.json:
        docs = [report_json(r, catalog) for r in reports]
        for spec, doc in zip(specs, docs, strict=True):
            doc["profile"] = spec
        emit_json({"schema": "rigfit.comparison/1", "machines": docs})
        return 0
    from rich.table import Table

    from rigfit.cli.recommend_view import gib, status_text
    from rigfit.cli.render import console
    from rigfit.core.quant import label

    table = Table(title="What each machine runs", header_style="bold")
    table.add_column("preset")
    for spec, rep in zip(specs, reports, strict=True):
        table.add_column(f"{spec}\n{gib(rep.device.vram_bytes)} {rep.device.backend}", overflow="fold")
    for i, result in enumerate(reports[0].presets):
        row = [result.preset.id]
        for rep in reports:
            r = rep.presets[i]
            main = next((c for c in r.components if c.companion_of is None), None)
            what = f"{main.model.id} {label(main.variant)}" if main is not None and r.status != "excluded" else ""
            need = f" {gib(r.budget.required_bytes)}" if r.budget is not None else ""
            row.append(f"{status_text(r.status)}{need}\n{what}")
        table.add_row(*row)
    console().print(table)
    return 0
