#!/usr/bin/env python3
"""rigfit's budget model against ComfyUI's measured peaks (bench/gpu/results/*.json, from calibrate.py).

Each measured point is one family/precision/size run through ComfyUI's own model management; each stage
(text encode, diffusion, VAE decode) has torch's peak counters. On a big card ComfyUI leaves earlier models
resident, so a stage's own peak is its counter minus the bytes of the other models loaded during it. That is
compared with rigfit's stage peak (weights + activations) without the CUDA context, which torch's counters do
not see.

Run: ``.venv/bin/python bench/gpu/budget_fit.py [RESULTS.json ...]`` prints predicted vs measured per stage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "gpu" / "results"

# calibrate.py family → catalog model; (family, precision) → variant; (family, te precision) → companions.
MODEL = {"flux-dev": "flux1-dev", "sdxl": "sdxl-base", "sd15": "sd15", "wan22-ti2v-5b": "wan22-ti2v-5b",
         "sd35-medium": "sd35-medium"}
VARIANT = {
    ("flux-dev", "bf16"): "flux1-dev-bf16", ("flux-dev", "fp8_e4m3fn"): "flux1-dev-fp8-e4m3fn",
    ("flux-dev", "gguf_q8_0"): "flux1-dev-gguf-q8_0", ("flux-dev", "gguf_q4_k"): "flux1-dev-gguf-q4_k_s",
    ("sdxl", "fp16"): "sdxl-base-fp16", ("sd15", "fp16"): "sd15-fp16",
    ("wan22-ti2v-5b", "fp16"): "wan22-ti2v-5b-fp16", ("sd35-medium", "fp16"): "sd35-medium-fp16",
}
COMPANIONS = {
    ("flux-dev", "fp16"): ("t5xxl-fp16", "clip-l-fp16", "flux-ae-fp32"),
    ("flux-dev", "fp8_e4m3fn"): ("t5xxl-fp8-e4m3fn", "clip-l-fp16", "flux-ae-fp32"),
    ("wan22-ti2v-5b", "fp16"): ("umt5-xxl-fp16", "wan22-vae-fp32"),
    ("wan22-ti2v-5b", "fp8_e4m3fn"): ("umt5-xxl-fp8-scaled", "wan22-vae-fp32"),
    ("sd35-medium", "fp16"): ("clip-l-fp16", "clip-g-fp16", "t5xxl-fp16"),
    ("sd35-medium", "fp8_e4m3fn"): ("clip-l-fp16", "clip-g-fp16", "t5xxl-fp8-e4m3fn"),
}
STAGES = ("text_encode", "diffusion", "vae_decode")


@dataclass(frozen=True)
class Measured:
    group: str
    family: str
    precision: str
    te: str
    width: int
    height: int
    frames: int
    batch: int
    stage: str
    bytes: int  # the stage's own peak: torch peak allocated minus the other models resident meanwhile
    raw_bytes: int  # torch peak allocated as recorded
    reserved_bytes: int | None
    policy: str

    @property
    def label(self) -> str:
        size = f"{self.width}x{self.height}" + (f"x{self.frames}" if self.frames > 1 else "")
        return f"{self.group} {size} b{self.batch} {self.stage}"


def _kind(entry: dict[str, Any], weights: dict[str, Any]) -> str | None:
    total = entry.get("total_bytes")
    for kind, key in (("text_encode", "text_encoders_model_bytes"), ("diffusion", "diffusion_model_bytes"),
                      ("vae_decode", "vae_model_bytes")):
        if total is not None and total == weights.get(key):
            return kind
    return None


def _others(stage: dict[str, Any], weights: dict[str, Any]) -> int:
    """Bytes on the GPU that belong to other stages' models during ``stage`` (the larger of before/after)."""
    most: dict[str, int] = {}
    for entry in (*stage.get("models_loaded_before", ()), *stage.get("models_loaded_after", ())):
        kind = _kind(entry, weights)
        if kind is None or kind == stage["stage"] or "cuda" not in str(entry.get("device", "")):
            continue
        most[kind] = max(most.get(kind, 0), int(entry.get("loaded_bytes") or 0))
    return sum(most.values())


def points(docs: Iterable[dict[str, Any]]) -> list[Measured]:
    out: list[Measured] = []
    for doc in docs:
        if doc.get("smoke"):
            continue
        for p in doc.get("points", ()):
            if p.get("error") or p["family"] not in MODEL:
                continue
            policy = p.get("policy", {}).get("name", "")
            for st in p["stages"]:
                if st["stage"] not in STAGES or st.get("peak_allocated_bytes") is None or st.get("error"):
                    continue
                raw = int(st["peak_allocated_bytes"])
                if raw <= 0:  # ran on the CPU (text encoders under --lowvram)
                    continue
                out.append(Measured(p["group"], p["family"], p["precision"], p["text_encoder_precision"],
                                    p["width"], p["height"], p["frames"], p["batch"], st["stage"],
                                    raw - _others(st, p["weights"]), raw, st.get("peak_reserved_bytes"), policy))
    return out


# Measured points left out of the fit, with the reason.
EXCLUDED = {
    ("wan22-ti2v-5b", "vae_decode"): "ComfyUI's regular Wan 2.2 VAE decode took 104 GiB at 832x480x33 and ran "
                                     "the 141 GB card out of memory at the larger sizes (then tiled): what it "
                                     "grabs when memory is free, not a need rigfit models",
}


def exclusion(m: Measured) -> str | None:
    if m.policy != "default":
        return "a simulated smaller card: the peak is ComfyUI's offload policy, not the need (used for slowdown)"
    return EXCLUDED.get((m.family, m.stage))


def slowdowns(docs: Iterable[dict[str, Any]], catalog: Any) -> list[tuple[str, float, float]]:
    """(group, measured seconds-per-step ratio sim/default, rigfit's estimated slowdown) per offload point."""
    from dataclasses import replace

    from rigfit.core.estimate import estimate_model, reference_device

    pts = [p for d in docs if not d.get("smoke") for p in d.get("points", ()) if not p.get("error")]
    out = []
    for p in pts:
        sim = p["policy"].get("sim_gib")
        if not sim or not p.get("seconds_per_step"):
            continue
        base = next((q for q in pts if q["family"] == p["family"] and q["precision"] == p["precision"]
                     and q["policy"]["name"] == "default" and (q["width"], q["height"], q["batch"], q["frames"])
                     == (p["width"], p["height"], p["batch"], p["frames"]) and q.get("seconds_per_step")), None)
        if base is None:
            continue
        device = replace(reference_device(), vram_bytes=int(sim) * 1024**3)
        est = estimate_model(catalog, device, MODEL[p["family"]], VARIANT[(p["family"], p["precision"])],
                             resolution=(p["width"], p["height"]), batch=p["batch"],
                             companions=COMPANIONS.get((p["family"], p["text_encoder_precision"]), ()))
        out.append((p["group"], p["seconds_per_step"] / base["seconds_per_step"], est.budget.slowdown or 1.0))
    return out


def figures(docs: Sequence[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    """The measured diffusion-stage peaks as catalog figures (``figures`` section of a catalog file)."""
    out = []
    for doc in docs:
        gpu = doc.get("machine", {}).get("gpu_name")
        version = doc.get("comfyui", {}).get("version")
        for m in points([doc]):
            if m.stage != "diffusion" or exclusion(m) is not None:
                continue
            size = f"{m.width}x{m.height}" + (f"x{m.frames}" if m.frames > 1 else "")
            row = f"calib-{m.group}-{size}-b{m.batch}"
            comps = COMPANIONS.get((m.family, m.te), ())
            out.append({
                "model": MODEL[m.family], "vram_bytes": m.bytes, "runtime": "comfyui", "measured": True,
                "settings": f"ComfyUI {version} diffusion stage, default memory policy, {size}, batch {m.batch}, "
                            f"{m.precision} weights, text encoders {m.te}; torch peak allocated minus the other "
                            f"stages' models left resident [{row}, torch_peak_allocated, point_value, "
                            "reliability high]",
                "source": source, "metric": "torch_peak_allocated", "gpu": gpu,
                "variant": VARIANT[(m.family, m.precision)], "components": list(comps),
                "text_encoders_resident": False, "resolution": [m.width, m.height],
                "frames": m.frames, "batch": m.batch,
            })
    return out


def load(paths: Sequence[Path] = ()) -> list[dict[str, Any]]:
    files = list(paths) or sorted(RESULTS.glob("*.json"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def predicted(catalog: Any, m: Measured) -> int:
    """rigfit's stage peak for a measured point, without the CUDA context (torch's counters exclude it)."""
    from rigfit.core.budget import CONTEXT_BYTES
    from rigfit.core.estimate import estimate_model, reference_device

    device = reference_device()
    comps = COMPANIONS.get((m.family, m.te), ())
    est = estimate_model(catalog, device, MODEL[m.family], VARIANT[(m.family, m.precision)],
                         resolution=(m.width, m.height), frames=m.frames if m.frames > 1 else None,
                         batch=m.batch, companions=comps)
    stage = est.budget.stage(m.stage)
    return 0 if stage is None else stage.peak_bytes - CONTEXT_BYTES


def table(catalog: Any, measured: Sequence[Measured]) -> str:
    gib = 1024**3
    lines = ["| point | measured GiB | predicted GiB | error |", "|---|---:|---:|---:|"]
    for m in measured:
        if m.policy != "default":
            continue
        p = predicted(catalog, m)
        why = exclusion(m)
        lines.append(f"| {m.label} | {m.bytes / gib:.2f} | {p / gib:.2f} | {(p - m.bytes) / m.bytes:+.1%}"
                     f"{' (left out: ' + why + ')' if why else ''} |")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from rigfit.shell.catalog_source import load_catalog

    if argv and argv[0] == "--write-figures":
        files = sorted(RESULTS.glob("*.json"))
        doc = {"schema": "rigfit.catalog/1",
               "notes": "ComfyUI's own peaks measured by bench/gpu/calibrate.py (written by bench/gpu/budget_fit.py "
                        "--write-figures); see bench/README.md, 'VRAM model calibration'.",
               "figures": figures(load(files), ", ".join(f"bench/gpu/results/{f.name}" for f in files))}
        target = ROOT / "src" / "rigfit" / "data" / "catalog" / "measured.json"
        target.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {target} ({len(doc['figures'])} figures)")
        return 0
    docs = load([Path(a) for a in argv])
    catalog = load_catalog(())
    print(table(catalog, points(docs)))
    print("\n| offload point | measured slowdown | rigfit's estimate |\n|---|---:|---:|")
    for group, measured, estimated in slowdowns(docs, catalog):
        print(f"| {group} | {measured:.1f}× | {estimated:.1f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
