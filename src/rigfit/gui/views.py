"""What the wizard's pages show, as frozen values: the adapter (``services``) builds them from the core's
results, and the pages only lay them out. No Qt here, so they are tested and built without a display.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ProfileChoice:
    id: str  # "" for this machine
    label: str


@dataclass(frozen=True, slots=True)
class MachineView:
    """The Welcome page: one line per fact, and the numbers the "what if" editors start from."""

    title: str  # e.g. "NVIDIA GeForce RTX 4060 · 8.0 GiB"
    rows: tuple[tuple[str, str], ...]
    vram_bytes: int  # 0 without a GPU
    ram_bytes: int
    has_gpu: bool
    edited: bool  # the numbers were changed by the user ("what if")
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Choices:
    """What the user picked on the Goals and Advanced pages (the same options as ``rigfit recommend``)."""

    presets: tuple[str, ...] = ()  # preset ids the user wants installed
    lora: bool = False
    commercial: bool = False
    experimental: bool = False
    variants: tuple[tuple[str, str], ...] = ()  # (model id, variant id): advanced per-model choices

    def variant_for(self, model: str) -> str | None:
        return next((v for m, v in self.variants if m == model), None)


@dataclass(frozen=True, slots=True)
class QuantOption:
    variant: str
    label: str  # "Q8_0", "FP8", "BF16"
    bytes: int | None
    allowed: bool
    reason: str  # why it cannot run (shown on the disabled choice), or how it runs


@dataclass(frozen=True, slots=True)
class ComponentView:
    role: str
    model: str
    model_name: str
    variant: str
    label: str
    bytes: int | None
    reason: str
    options: tuple[QuantOption, ...]


@dataclass(frozen=True, slots=True)
class BudgetSegment:
    kind: str  # models | nodes | working (activations, reserves)
    label: str
    bytes: int


@dataclass(frozen=True, slots=True)
class BudgetView:
    segments: tuple[BudgetSegment, ...]  # add up to required_bytes
    required_bytes: int
    min_bytes: int
    card_bytes: int
    status: str  # fits | offload | unsupported | excluded

    @property
    def headroom_bytes(self) -> int:
        """What is left on the card at the peak (negative: that much is streamed from RAM or does not fit)."""
        return self.card_bytes - self.required_bytes


@dataclass(frozen=True, slots=True)
class PresetView:
    id: str
    name: str
    description: str
    category: str
    status: str  # fits | offload | unsupported | excluded
    maturity: str
    licence_note: str  # short: "commercial use allowed" / "non-commercial licence"
    licence_detail: str  # the licences by name
    commercial_ok: bool
    selected: bool
    components: tuple[ComponentView, ...]
    nodes: tuple[str, ...]
    budget: BudgetView
    ram_required_bytes: int
    disk_bytes: int
    launch_args: tuple[str, ...]
    warnings: tuple[str, ...]
    reasons: tuple[str, ...]
    headline: str = ""  # the one reason that explains the status


@dataclass(frozen=True, slots=True)
class StorageView:
    total_bytes: int  # every selected file counted once
    free_bytes: int | None
    target: str  # the disk (folder) it is measured on
    ssd_recommended: bool
    rotational: bool | None

    @property
    def fits(self) -> bool:
        return self.free_bytes is None or self.total_bytes <= self.free_bytes


@dataclass(frozen=True, slots=True)
class RecommendationView:
    presets: tuple[PresetView, ...]
    storage: StorageView
    document: dict[str, Any] = field(hash=False, compare=False)  # the contract's rigfit.recommendation/1

    def preset(self, preset_id: str) -> PresetView:
        return next(p for p in self.presets if p.id == preset_id)

    @property
    def selected(self) -> tuple[PresetView, ...]:
        return tuple(p for p in self.presets if p.selected)


@dataclass(frozen=True, slots=True)
class PlanFileView:
    filename: str
    folder: str
    bytes: int | None  # exact, as the plan checks it; None when only an estimate is known
    sha256: str | None
    approx_bytes: int | None = None  # the catalog's estimate when ``bytes`` is None


@dataclass(frozen=True, slots=True)
class NodePackView:
    id: str
    repo: str
    commit: str | None
    install_script: bool


@dataclass(frozen=True, slots=True)
class PlanView:
    files: tuple[PlanFileView, ...]
    node_packs: tuple[NodePackView, ...]
    requirements: tuple[str, ...]
    conflicts: tuple[str, ...]  # each: the clash and how it was settled
    launch_args: tuple[str, ...]
    warnings: tuple[str, ...]
    total_bytes: int  # exact sizes only
    approx_bytes: int  # the estimated sizes of the rest
    document: dict[str, Any] = field(hash=False, compare=False)  # the contract's rigfit.plan/1


@dataclass(frozen=True, slots=True)
class Progress:
    """One update of a long job, as the worker turns it into Qt signals."""

    file: str | None = None  # the file this is about (None: a whole-job update)
    file_done: int = 0
    file_total: int | None = None
    done: int = 0  # all files
    total: int | None = None
    message: str | None = None  # a log line
    speed: float | None = None  # bytes per second, all files
    eta_s: float | None = None


@dataclass(frozen=True, slots=True)
class InstallResult:
    cancelled: bool
    done_bytes: int
    total_bytes: int
    files_done: int
    files_total: int
    message: str


@dataclass(frozen=True, slots=True)
class DoctorCheck:
    name: str
    status: str  # ok | warn | fail
    message: str


@dataclass(slots=True)
class Question:
    """A yes/no question from the worker (e.g. "run this node pack's install script?"); it waits for it."""

    title: str
    text: str
    answer: bool = False
    _answered: threading.Event = field(default_factory=threading.Event)

    def reply(self, answer: bool) -> None:
        self.answer = answer
        self._answered.set()

    def wait(self, cancel: threading.Event) -> bool:
        while not self._answered.wait(0.05):
            if cancel.is_set():
                return False
        return self.answer
