"""The wizard's one adapter onto rigfit's core and shell: the same functions the CLI calls, turned into the
values the pages show (``rigfit.gui.views``). No Qt here; the blocking calls run on a ``worker.Job``.

Every decision stays where the CLI finds it: hardware (``shell.hardware_source``), the catalog
(``shell.catalog_source``), variants and their verdicts (``core.quant``), presets and budgets
(``core.recommend``), storage (``core.storage``), the plan (``core.plan_builder``), known dependency clashes
(``core.normalize``), the install (``shell.install.run_install``, with the downloader's progress events), the
checks (``shell.doctor``) and the launch command (``rigfit launch``'s).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rigfit.core.errors import RigfitError
from rigfit.core.hardware import Gpu, Hardware
from rigfit.core.units import format_bytes
from rigfit.gui.views import (
    BudgetSegment,
    BudgetView,
    Choices,
    ComponentView,
    DoctorCheck,
    InstallResult,
    MachineView,
    NodePackView,
    PlanFileView,
    PlanView,
    PresetView,
    ProfileChoice,
    Progress,
    QuantOption,
    Question,
    RecommendationView,
    StorageView,
)

if TYPE_CHECKING:
    from rigfit.core.catalog.schema import Catalog
    from rigfit.core.quant import Device
    from rigfit.core.recommend import PresetResult
    from rigfit.core.report import Report

Emit = Callable[[object], None]


def _gib(n: int | None) -> str:
    return format_bytes(n, binary=True)


class Services:
    """``hardware``/``catalog``: what ``--hardware`` and ``--catalog`` gave ``rigfit gui``."""

    def __init__(self, *, hardware: Sequence[str] = (), catalog: Sequence[str] = ()) -> None:
        self.hardware_specs = list(hardware)
        self.catalog_paths = tuple(catalog)
        self._catalog: Catalog | None = None

    # ---- hardware ---------------------------------------------------------------------------------------
    def profiles(self) -> tuple[ProfileChoice, ...]:
        from rigfit.shell.hardware_source import embedded_profiles

        out = []
        for pid, hw in embedded_profiles().items():
            gpu = hw.primary_gpu
            what = f"{gpu.name}, {_gib(gpu.vram_bytes)}" if gpu else f"no GPU, {_gib(hw.ram_bytes)} RAM"
            out.append(ProfileChoice(pid, f"{pid} — {what}"))
        return tuple(out)

    def load_hardware(self, profile_id: str = "") -> Hardware:
        """An embedded profile by id; "" for ``--hardware``/``RIGFIT_HARDWARE`` or a probe of this machine."""
        from rigfit.shell.hardware_source import load_hardware, load_profile

        return load_profile(profile_id) if profile_id else load_hardware(self.hardware_specs or None)

    def what_if(self, hw: Hardware, *, vram_bytes: int | None, ram_bytes: int | None) -> Hardware:
        """The machine with other memory sizes. Without a GPU, a VRAM size stands for an NVIDIA Ada card of that
        size — the reference card ``rigfit recommend`` uses for "which GPU would unlock what"."""
        gpus = list(hw.gpus)
        primary = hw.primary_gpu
        if vram_bytes is not None and primary is not None:
            gpus[gpus.index(primary)] = primary._replace(vram_bytes=vram_bytes, free_vram_bytes=None)
        elif vram_bytes:
            gpus.append(Gpu("nvidia", f"NVIDIA GPU with {_gib(vram_bytes)} (Ada)", vram_bytes, "8.9", "ada",
                            None, None, False))
        return hw._replace(gpus=tuple(gpus), ram_bytes=ram_bytes if ram_bytes is not None else hw.ram_bytes)

    def machine_view(self, hw: Hardware, *, edited: bool = False) -> MachineView:
        gpu = hw.primary_gpu
        rows: list[tuple[str, str]] = []
        if gpu is None:
            title = "No GPU found — CPU only"
            rows.append(("GPU", "none (rigfit recommends what runs on the CPU)"))
        else:
            title = f"{gpu.name} · {_gib(gpu.vram_bytes)}"
            rows.append(("GPU", gpu.name + (f" (+{len(hw.gpus) - 1} more)" if len(hw.gpus) > 1 else "")))
            rows.append(("VRAM", _gib(gpu.vram_bytes) + (" (share of unified memory)" if gpu.unified_memory else "")))
            arch = (gpu.architecture or "unknown").capitalize()
            if gpu.compute_capability:
                arch += f", compute capability {gpu.compute_capability}"
            rows.append(("Architecture", arch))
            driver = gpu.driver_version or "unknown"
            if gpu.cuda_driver_version:
                driver += f" (CUDA {gpu.cuda_driver_version})"
            rows.append(("Driver", driver))
        rows.append(("RAM", _gib(hw.ram_bytes)))
        if hw.cpu is not None and hw.cpu.model:
            rows.append(("CPU", hw.cpu.model + (f", {hw.cpu.cores} cores" if hw.cpu.cores else "")))
        if hw.disk is not None:
            kind = {True: "spinning disk", False: "SSD", None: "disk type unknown"}[hw.disk.rotational]
            rows.append(("Disk", f"{format_bytes(hw.disk.free_bytes)} free on {hw.disk.path} ({kind})"))
        rows.append(("System", f"{hw.os} {hw.arch}"))
        return MachineView(title, tuple(rows), (gpu.vram_bytes or 0) if gpu else 0, hw.ram_bytes or 0,
                           gpu is not None, edited, tuple(hw.warnings))

    # ---- recommendation ---------------------------------------------------------------------------------
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from rigfit.shell.catalog_source import load_catalog

            self._catalog = load_catalog(self.catalog_paths)
        return self._catalog

    def _engine_choices(self, catalog: Catalog, device: Device, choices: Choices) -> Any:
        from rigfit.core import recommend as rec
        from rigfit.core.quant import QuantChoice, judge

        # A per-model choice made for another machine ("what if") is dropped when this one cannot run it.
        per_model = tuple(
            (m, v) for m, v in choices.variants
            if v in catalog.variants and judge(catalog.variants[v], device, lora=choices.lora, explicit=True).runnable
        )
        return rec.Choices(tuple(catalog.presets), choices.lora, choices.commercial, choices.experimental,
                           QuantChoice(None, per_model, None))

    def _report(self, hw: Hardware, choices: Choices, selected: Sequence[str]) -> Report:
        from rigfit.core import report as rep
        from rigfit.core.quant import device_of
        from rigfit.core.recommend import recommend, training, unlocks
        from rigfit.core.storage import smaller_alternatives, storage

        catalog = self.catalog()
        device = device_of(hw)
        engine_choices = self._engine_choices(catalog, device, choices)
        results = recommend(catalog, device, engine_choices)
        runnable = [c for r in results if r.preset.id in selected and r.status in ("fits", "offload")
                    for c in r.components]
        disk = hw.disk
        st = storage(runnable, {}, disk.free_bytes if disk else None, disk.rotational if disk else None,
                     smaller_alternatives(runnable, catalog.models, device))
        return rep.build_report(hw, device, results, st, training(device),
                                unlocks(catalog, device, results, engine_choices), catalog=catalog)

    def recommend(self, hw: Hardware, choices: Choices) -> RecommendationView:
        from rigfit.core.quant import device_of
        from rigfit.core.report import report_json

        catalog = self.catalog()
        runnable_ids = set(choices.presets)
        report = self._report(hw, choices, tuple(runnable_ids))
        # A selected preset that no longer runs (another machine, the commercial toggle) is deselected.
        selected = tuple(r.preset.id for r in report.presets
                         if r.preset.id in runnable_ids and r.status in ("fits", "offload"))
        if set(selected) != runnable_ids:
            report = self._report(hw, choices, selected)
        document = report_json(report, catalog)
        device = device_of(hw)
        presets = tuple(
            self._preset_view(r, doc, catalog, device, choices, r.preset.id in selected)
            for r, doc in zip(report.presets, document["presets"], strict=True)
        )
        st = report.storage
        storage_view = StorageView(st.download_bytes, st.free_bytes, hw.disk.path if hw.disk else "the target disk",
                                   st.ssd_recommended, hw.disk.rotational if hw.disk else None)
        return RecommendationView(presets, storage_view, document)

    def _preset_view(self, r: PresetResult, doc: dict[str, Any], catalog: Catalog, device: Device,
                     choices: Choices, selected: bool) -> PresetView:
        from rigfit.core.quant import judge

        components = []
        for c in r.components:
            options = tuple(
                QuantOption(v.id, _variant_label(v), sum(f.bytes or 0 for f in v.files) or None, verdict.runnable,
                            verdict.reason)
                for v in c.model.variants
                for verdict in (judge(v, device, lora=choices.lora, explicit=True),)
            )
            components.append(ComponentView(c.role, c.model.id, c.model.name, c.variant.id, _variant_label(c.variant),
                                            sum(f.bytes or 0 for f in c.variant.files), c.reason, options))
        licences = sorted({c.model.license for c in r.components})
        closed = [lic for lic in licences if lic in catalog.licenses and not catalog.licenses[lic].commercial]
        names = "; ".join(catalog.licenses[lic].name if lic in catalog.licenses else lic for lic in licences)
        note = "licence: —" if not licences else "non-commercial licence" if closed else "commercial use allowed"
        overhead = sum(catalog.node_packs[n].vram_overhead_bytes for n in r.nodes if n in catalog.node_packs)
        return PresetView(
            r.preset.id, r.preset.name, r.preset.description, r.preset.category, r.status, r.preset.maturity, note,
            names, not closed, selected, tuple(components), tuple(r.nodes), self._budget_view(r, overhead, device),
            int(doc.get("ram_required_bytes") or 0), int(doc.get("disk_bytes") or 0),
            tuple(doc.get("launch_args") or ()), tuple(r.warnings), tuple(doc.get("reasons") or ()),
            _headline(r),
        )

    @staticmethod
    def _budget_view(r: PresetResult, overhead: int, device: Device) -> BudgetView:
        budget = r.budget
        if budget is None or not budget.stages:
            return BudgetView((), 0, 0, device.vram_bytes, r.status)
        # The stage that sets the requirement: its resident weights, the node packs' share of them, and the
        # rest (activations, ComfyUI's reserves, the CUDA context) as working memory.
        peak = max(budget.stages, key=lambda s: s.need_bytes)
        nodes = overhead if peak.name in ("diffusion", "run") else 0
        models = max(0, peak.weights_bytes - nodes)
        working = max(0, budget.required_bytes - models - nodes)
        segments = tuple(s for s in (BudgetSegment("models", "models", models),
                                     BudgetSegment("nodes", "node packs", nodes),
                                     BudgetSegment("working", "working", working)) if s.bytes)
        return BudgetView(segments, budget.required_bytes, budget.min_bytes, budget.available_bytes, r.status)

    # ---- plan -------------------------------------------------------------------------------------------
    def build_plan(self, hw: Hardware, choices: Choices) -> PlanView:
        from rigfit.core.normalize import Target, normalize
        from rigfit.core.plan import plan_to_json
        from rigfit.core.plan_builder import build_plan
        from rigfit.core.requirements import screen_declarations

        catalog = self.catalog()
        report = self._report(hw, choices, choices.presets)
        chosen = [r for r in report.presets if r.preset.id in choices.presets]
        report = replace(report, presets=tuple(chosen),
                         launch=tuple(la for r, la in zip(report.presets, report.launch, strict=True)
                                      if r.preset.id in choices.presets))
        plan, notes = build_plan(report, catalog, torch_index=self._torch_index(hw))
        packs = [catalog.node_packs[p.id] for p in plan.node_packs if p.id in catalog.node_packs]
        screened = screen_declarations({p.id: p.requirements for p in packs})
        gpu = hw.primary_gpu
        target = Target(hw.os, hw.arch, gpu.vendor if gpu else "cpu")
        settled = normalize(screened.declared, target, {})
        warnings = tuple(dict.fromkeys(w for r in chosen for w in r.warnings)) + tuple(
            n for n in notes if "torch_index" not in n)
        estimates = {(f.folder, f.filename): f.bytes for r in chosen for c in r.components for f in c.variant.files}
        files = tuple(PlanFileView(f.filename, f.folder, f.bytes, f.sha256,
                                   None if f.bytes is not None else estimates.get((f.folder, f.filename)))
                      for f in plan.files)
        return PlanView(
            files=files,
            node_packs=tuple(NodePackView(p.id, p.repo, p.commit, bool(getattr(catalog.node_packs.get(p.id),
                                                                                "install_script", False)))
                             for p in plan.node_packs),
            requirements=tuple(sorted({str(d.requirement.name) for d in settled.declared})),
            conflicts=settled.notes + tuple(f"{r.origin.pack}: {r.text} — {r.reason}" for r in screened.refused),
            launch_args=plan.launch_args,
            warnings=warnings,
            total_bytes=plan.total_bytes,
            approx_bytes=sum(f.approx_bytes or 0 for f in files),
            document=plan_to_json(plan),
        )

    @staticmethod
    def _torch_index(hw: Hardware) -> str | None:
        from rigfit.core.torch_index import torch_index_for

        index = torch_index_for(hw)
        url = getattr(index, "url", None)
        return url if isinstance(url, str) else None

    def save_plan(self, plan: PlanView, path: str) -> None:
        """Write ``plan.json`` (temporary file, then replace: never a half-written plan)."""
        out = Path(path).expanduser()
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(plan.document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(out)

    @staticmethod
    def free_space(folder: str) -> int | None:
        """Free bytes on the drive that holds ``folder`` (or would: its nearest existing parent)."""
        import shutil

        if not folder:
            return None
        path = Path(folder).expanduser().absolute()
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            return shutil.disk_usage(path).free
        except OSError:
            return None

    def default_folders(self) -> tuple[str, str]:
        from rigfit.shell.paths import data_dir

        return str(Path.home() / "ComfyUI"), str(data_dir() / "store")

    # ---- install, doctor, launch --------------------------------------------------------------------------
    def install(self, plan: PlanView, comfyui: str, models: str, emit: Emit, cancel: threading.Event,
                steps: Sequence[str] = ()) -> InstallResult:
        """``rigfit install``'s steps (all of them, or ``steps``) into ``comfyui``, models into the store at
        ``models``. Resumable: a cancelled or failed run keeps its finished steps and partial files."""
        from rigfit.core.install_state import STEPS
        from rigfit.core.plan import parse_plan
        from rigfit.shell.install import InstallEvent, InstallOptions, run_install

        def on_event(event: InstallEvent) -> None:
            download = (event.data or {}).get("event")
            if download is not None:
                emit(_download_progress(download))
            elif event.kind == "step-start":
                emit(Progress(message=f"step {event.message}"))
            elif event.kind != "download" or event.message:
                emit(Progress(message=event.message))

        def confirm_script(pack: str) -> bool:
            question = Question("Run an install script?",
                                f"The node pack {pack} comes with an install.py that runs with full rights in "
                                "ComfyUI's Python environment. Run it?")
            emit(question)
            return question.wait(cancel)

        chosen = tuple(s for s in STEPS if s in (steps or STEPS))
        options = InstallOptions(only=chosen, models_dir=Path(models).expanduser() if models else None)
        parsed = parse_plan(plan.document, source="the wizard's plan")
        total = plan.total_bytes
        try:
            report = run_install(parsed, Path(comfyui), options=options, on_event=on_event, cancel=cancel,
                                 confirm_install_script=confirm_script)
        except RigfitError as exc:
            if not cancel.is_set():
                raise
            return InstallResult(True, 0, total, 0, len(plan.files),
                                 f"Cancelled ({exc}). Resume continues with the partial files and the steps left.")
        names = ", ".join(s["step"] for s in report.steps if s.get("action") == "ran") or "nothing left to do"
        return InstallResult(False, total, total, len(plan.files), len(plan.files),
                             f"Installed ({names}): {len(plan.files)} model files, {format_bytes(total)}.")

    def doctor(self, comfyui: str, hw: Hardware | None) -> tuple[DoctorCheck, ...]:
        """``rigfit doctor``: the install's files, node packs, Python and workflows, against the plan it used."""
        from rigfit.core.doctor_checks import expect_gpu
        from rigfit.shell.doctor import run_doctor

        gpu = hw.primary_gpu if hw is not None else None
        expected = expect_gpu(gpu.vendor, gpu.name, gpu.compute_capability) if gpu else expect_gpu(None, None, None)
        return tuple(DoctorCheck(f.name, f.status, f.message + (f" — {f.fix}" if f.fix and f.status == "fail" else ""))
                     for f in run_doctor(Path(comfyui), expected))

    def launch_command(self, comfyui: str) -> tuple[list[str], str]:
        """The command line ``rigfit launch`` runs (ComfyUI's venv Python, main.py, the recorded flags) and the
        folder to run it in."""
        from rigfit.cli.cmd_launch import command_line

        argv = command_line(comfyui, [])
        return argv, str(Path(argv[1]).parent)


def _variant_label(variant: Any) -> str:
    """The engine's label ("Q8_0", "FP8"), with the FP8 kind where a model has several (e4m3fn, e5m2, scaled)."""
    from rigfit.core.quant import label

    text = label(variant)
    if variant.format == "fp8" and variant.quant:
        text += " " + variant.quant.replace("_", " ")
    return text


def _headline(r: PresetResult) -> str:
    """The engine's reason for the status itself (not the per-variant notes)."""
    wanted = {"fits": ("fits",), "offload": ("budget", "offload"), "unsupported": ("unsupported", "no-candidate", "platform"),
              "excluded": ("experimental", "licence", "apple-base-chip", "no-candidate")}.get(r.status, ())
    for code in wanted:
        for reason in r.reasons:
            if reason.code == code:
                return reason.text
    return r.reasons[-1].text if r.reasons else ""


def _download_progress(event: Any) -> Progress:
    """A ``shell.download.DownloadEvent`` as the Install page's update."""
    line = {"start": f"downloading {event.label}", "done": f"verified {event.label} ({event.message})",
            "failed": f"failed {event.label}: {event.message}", "retry": f"retrying {event.label}: {event.message}",
            "restart": f"restarting {event.label}: {event.message}"}.get(event.kind)
    return Progress(event.label, event.done, event.total, event.all_done, event.all_total, line,
                    event.speed or None, event.eta_s)
