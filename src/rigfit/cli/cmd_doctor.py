"""``rigfit doctor --comfyui DIR [--json] [--live]``: check an install against its plan; exit 1 on any failure.

The GPU torch must see comes from ``--hardware`` / ``RIGFIT_HARDWARE`` when given, else from probing this
machine: a profile without a GPU skips the GPU checks with "no GPU expected".
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--comfyui", metavar="DIR", required=True, help="the ComfyUI folder rigfit installed")
    parser.add_argument("--live", action="store_true",
                        help="also start ComfyUI on 127.0.0.1 (a free port), read /object_info and check the "
                             "starter workflows against it")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rigfit.cli import render
    from rigfit.core.doctor_checks import expect_gpu, summary
    from rigfit.shell.doctor import run_doctor
    from rigfit.shell.hardware_source import load_hardware

    gpu = load_hardware(args.hardware).primary_gpu
    expected = (
        expect_gpu(gpu.vendor, gpu.name, gpu.compute_capability) if gpu else expect_gpu(None, None, None)
    )
    comfyui = Path(args.comfyui)
    findings = run_doctor(comfyui, expected, live=args.live)
    ok, counts = summary(findings)
    if args.json:
        render.emit_json({
            "schema": "rigfit.doctor/1",
            "comfyui": str(comfyui.expanduser().absolute()),
            "ok": ok,
            "counts": counts,
            "checks": [f.to_json() for f in findings],
        })  # fmt: skip
        return 0 if ok else 1
    console = render.console()
    marks = {
        "ok": "[green]ok[/]  ",
        "warn": "[yellow]warn[/]",
        "fail": "[red]FAIL[/]",
        "skip": "[dim]skip[/]",
    }
    for f in findings:
        console.print(f"{marks[f.status]} {f.name}: {f.message}", markup=True)
        if f.fix and f.status == "fail":
            console.print(f"       fix: {f.fix}", markup=False)
    verdict = "all checks passed" if ok else f"{counts['fail']} check(s) failed"
    console.print(f"{verdict} ({counts['ok']} ok, {counts['skip']} skipped)")
    return 0 if ok else 1
