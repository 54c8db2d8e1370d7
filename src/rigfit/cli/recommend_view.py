"""Rich tables for ``recommend``, ``compare`` and ``estimate`` (printed through ``render.console()``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rigfit.cli.render import console
from rigfit.core.units import GIB, format_bytes

if TYPE_CHECKING:
    from rich.table import Table

    from rigfit.core.budget import Budget
    from rigfit.core.catalog.schema import Catalog
    from rigfit.core.estimate import Estimate
    from rigfit.core.quant import Device
    from rigfit.core.recommend import PresetResult
    from rigfit.core.report import Report

STATUS_STYLE = {"fits": "bold green", "offload": "bold yellow", "unsupported": "bold red", "excluded": "dim"}


def gib(n: int | None) -> str:
    return "?" if n is None else f"{n / GIB:.1f} GiB"


def vram_bar(required: int | None, available: int, width: int = 24) -> str:
    """``[█████████░░░]`` filled by required/available; red past the card's size."""
    if required is None or available <= 0:
        return ""
    ratio = required / available
    filled = min(width, round(ratio * width))
    style = "green" if ratio <= 1 else "red"
    over = " +" if ratio > 1 else ""
    return f"[{style}]{'█' * filled}[/]{'░' * (width - filled)}{over} {gib(required)} / {gib(available)}"


def status_text(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, '')}]{status}[/]"


def _device_line(device: Device) -> str:
    if device.backend == "cpu":
        return f"No GPU found: CPU only, {gib(device.ram_bytes)} RAM"
    return f"{device.name} ({device.architecture or device.backend}), {gib(device.vram_bytes)} VRAM, " \
           f"{gib(device.ram_bytes)} RAM"


def components_table(result: PresetResult) -> Table:
    from rich.table import Table

    from rigfit.core.bundle import file_bytes
    from rigfit.core.quant import label

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("role", "model", "variant", "download", "why"):
        table.add_column(col, overflow="fold")
    for c in result.components:
        why = c.reason
        if c.step_down and c.companion_of is None:
            why += f" (step down: {c.step_down})"
        unknown = any(f.bytes is None for f in c.variant.files)
        size = "unknown" if unknown and not file_bytes(c.variant) else format_bytes(file_bytes(c.variant))
        table.add_row(c.role, c.model.id, label(c.variant), size + ("+?" if unknown and size != "unknown" else ""),
                      why)
    return table


def show_preset(r: PresetResult, device: Device, launch: Sequence[str]) -> None:
    from rigfit.core.storage import preset_bytes

    out = console()
    out.print(f"\n[bold]{r.preset.name}[/] ({r.preset.id}) — {status_text(r.status)}, {r.preset.maturity}")
    b = r.budget
    if r.components:
        out.print(components_table(r))
    if b is not None and device.backend != "cpu":
        out.print(f"  VRAM {vram_bar(b.required_bytes, device.vram_bytes)}  (runs from {gib(b.min_bytes)} "
                  f"with offloading)")
    if b is not None:
        out.print(f"  RAM {gib(b.ram_required_bytes)}   disk {format_bytes(preset_bytes(r.components))}"
                  + (f"   launch: {' '.join(launch)}" if launch else ""))
    for reason in r.reasons:
        if reason.code not in {"variant"}:
            out.print(f"  • {reason.text}")
    for w in r.warnings:
        out.print(f"  [yellow]! {w}[/]")


def show_report(report: Report, catalog: Catalog) -> None:
    out = console()
    out.print(f"[bold]{_device_line(report.device)}[/]")
    for r, la in zip(report.presets, report.launch, strict=True):
        show_preset(r, report.device, la.args)
    st = report.storage
    out.print("\n[bold]Storage[/] (each file once, presets that run): "
              f"{format_bytes(st.total_bytes)}{' (approx.)' if st.approximate else ''}"
              + (f", {format_bytes(st.present_bytes)} already installed" if st.present_bytes else "")
              + (f", {format_bytes(st.free_bytes)} free" if st.free_bytes is not None else ""))
    for note in st.notes:
        out.print(f"  • {note}")
    for alt in st.alternatives[:5]:
        out.print(f"  • {alt.model}: {alt.current} → {alt.smaller} saves {format_bytes(alt.saves_bytes)}")
    if report.training:
        out.print(f"\n[bold]Training[/] this machine could do: {'; '.join(report.training)}")
    elif report.device.backend == "cpu":
        out.print("\n[bold]Training[/]: needs a GPU (SD1.5 LoRA from 8 GB of VRAM)")
    if report.unlocks or report.runs_from:
        out.print("\n[bold]A bigger GPU would unlock[/]:")
        full, runs = dict(report.unlocks), dict(report.runs_from)
        for tier in sorted({*full, *runs}):
            parts = []
            slow = [p for p in runs.get(tier, ()) if p not in full.get(tier, ())]
            if slow:
                parts.append(f"runs (offloading): {', '.join(slow)}")
            if tier in full:
                parts.append(f"full speed: {', '.join(full[tier])}")
            out.print(f"  {tier} GB — " + "; ".join(parts))


def show_estimate(est: Estimate, device: Device) -> None:
    from rich.table import Table

    out = console()
    b: Budget = est.budget
    w = est.workload
    out.print(f"[bold]{est.model}[/] {est.variant_label} at {w.width}×{w.height}"
              + (f", {w.frames} frames" if w.frames > 1 else "") + (f", batch {w.batch}" if w.batch > 1 else "")
              + f" on {_device_line(device)}: {status_text(b.status)}")
    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("stage", "weights", "working", "needs (full speed)", "least (offload)", "peak (VRAM to spare)"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    for s in b.stages:
        table.add_row(s.name, gib(s.weights_bytes), gib(s.activation_bytes), gib(s.need_bytes), gib(s.min_bytes),
                      gib(s.peak_bytes))
    out.print(table)
    out.print("  components: " + ", ".join(f"{c.role} {c.model.id} ({c.variant.id})" for c in est.components))
    out.print(f"  VRAM {vram_bar(b.required_bytes, device.vram_bytes)}; RAM {gib(b.ram_required_bytes)}")
    for note in b.notes:
        out.print(f"  • {note}")
