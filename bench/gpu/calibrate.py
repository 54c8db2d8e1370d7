#!/usr/bin/env python3
"""Measure ComfyUI's own peak VRAM for real model architectures with random weights.

One prepared script for a machine with an NVIDIA GPU and no internet. It drives ComfyUI's model
classes, loaders, model management, sampler and VAE code directly (no server, no nodes.py), so the
numbers are what ComfyUI itself allocates. Weights are random tensors with the exact key names,
shapes and dtypes of the real files; the shapes come from building ComfyUI's own classes on the
meta device. See bench/gpu/README.md for how to run it and what each field means.

The parent process runs one child process per *group* (one family, precision and memory policy,
several resolutions), in order of importance, and rewrites the results JSON after every point so a
timeout loses only the groups not yet run. `--smoke` runs tiny configurations on the CPU.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

GIB = 1024**3
MIB = 1024**2
POINT_TAG = "@@POINT "
GROUP_TAG = "@@GROUP "

# Each group is one child process: the same components, loaded once, run at each point in turn.
# Order = importance: a timeout drops only the tail. "sim_gib" leaves that many GiB usable on the
# card by allocating the rest up front (a ballast tensor), so ComfyUI's own free-memory logic
# sees a smaller card and streams weights; "lowvram" sets ComfyUI's --lowvram flag.
IMG = "image"
VID = "video"


def _pts(*wh_b: tuple[int, int, int]) -> list[dict[str, int]]:
    return [{"width": w, "height": h, "batch": b, "frames": 1} for w, h, b in wh_b]


def _vpts(*whf: tuple[int, int, int]) -> list[dict[str, int]]:
    return [{"width": w, "height": h, "batch": 1, "frames": f} for w, h, f in whf]


GROUPS: list[dict[str, Any]] = [
    {"id": "flux-dev-bf16", "family": "flux-dev", "precision": "bf16", "te": "fp16", "policy": "default",
     "points": _pts((1024, 1024, 1), (1536, 1536, 1)), "steps": 3},
    {"id": "flux-dev-fp8", "family": "flux-dev", "precision": "fp8_e4m3fn", "te": "fp8_e4m3fn", "policy": "default",
     "points": _pts((1024, 1024, 1), (1536, 1536, 1)), "steps": 3},
    {"id": "sdxl-fp16", "family": "sdxl", "precision": "fp16", "te": "fp16", "policy": "default",
     "points": _pts((1024, 1024, 1), (1024, 1024, 4)), "steps": 3},
    {"id": "sd15-fp16", "family": "sd15", "precision": "fp16", "te": "fp16", "policy": "default",
     "points": _pts((512, 512, 1), (768, 768, 1)), "steps": 3},
    {"id": "wan22-5b-fp16", "family": "wan22-ti2v-5b", "precision": "fp16", "te": "fp16", "policy": "default",
     "points": _vpts((832, 480, 33), (1280, 704, 33), (832, 480, 81), (1280, 704, 81)), "steps": 2, "max_s": 150},
    {"id": "sd35m-fp16", "family": "sd35-medium", "precision": "fp16", "te": "fp16", "policy": "default",
     "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "flux-dev-bf16-sim16", "family": "flux-dev", "precision": "bf16", "te": "fp16", "policy": "sim",
     "sim_gib": 16, "lowvram": False, "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "sdxl-fp16-sim4", "family": "sdxl", "precision": "fp16", "te": "fp16", "policy": "sim",
     "sim_gib": 4, "lowvram": False, "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "flux-dev-gguf-q8_0", "family": "flux-dev", "precision": "gguf_q8_0", "te": "fp8_e4m3fn",
     "policy": "default", "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "flux-dev-gguf-q4_k", "family": "flux-dev", "precision": "gguf_q4_k", "te": "fp8_e4m3fn",
     "policy": "default", "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "sdxl-fp16-sim6-lowvram", "family": "sdxl", "precision": "fp16", "te": "fp16", "policy": "sim",
     "sim_gib": 6, "lowvram": True, "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "flux-dev-fp8-sim8-lowvram", "family": "flux-dev", "precision": "fp8_e4m3fn", "te": "fp8_e4m3fn",
     "policy": "sim", "sim_gib": 8, "lowvram": True, "points": _pts((1024, 1024, 1)), "steps": 3},
    # Second run: consumer-sized cards under the default policy (no flag), so the VAE-decode peak is the
    # one a real card of that size sees, not what a 141 GB card lets the decode grab.
    {"id": "flux-dev-fp8-sim12", "family": "flux-dev", "precision": "fp8_e4m3fn", "te": "fp8_e4m3fn",
     "policy": "sim", "sim_gib": 12, "lowvram": False, "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "sdxl-fp16-sim8", "family": "sdxl", "precision": "fp16", "te": "fp16", "policy": "sim",
     "sim_gib": 8, "lowvram": False, "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "sd15-fp16-sim6", "family": "sd15", "precision": "fp16", "te": "fp16", "policy": "sim",
     "sim_gib": 6, "lowvram": False, "points": _pts((512, 512, 1), (768, 768, 1)), "steps": 3},
    {"id": "flux-dev-bf16-sim24", "family": "flux-dev", "precision": "bf16", "te": "fp16", "policy": "sim",
     "sim_gib": 24, "lowvram": False, "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "sd35m-fp16-sim12", "family": "sd35-medium", "precision": "fp16", "te": "fp16", "policy": "sim",
     "sim_gib": 12, "lowvram": False, "points": _pts((1024, 1024, 1)), "steps": 3},
    {"id": "wan22-5b-fp16-sim24", "family": "wan22-ti2v-5b", "precision": "fp16", "te": "fp16", "policy": "sim",
     "sim_gib": 24, "lowvram": False, "points": _vpts((832, 480, 33), (1280, 704, 33)), "steps": 2, "max_s": 100},
    # Third run (not yet made): where the Wan 2.2 VAE's regular decode stops falling back to tiles. Run 1 saw it
    # take 104 GiB at 832x480x33 on the full card and run out of memory at larger sizes; run 2 saw it fall back
    # on 24 GiB. Cards of 32-96 GiB bracket the memory the regular decode needs (README.md, "Third run").
    *({"id": f"wan22-5b-fp16-sim{gib}", "family": "wan22-ti2v-5b", "precision": "fp16", "te": "fp16",
       "policy": "sim", "sim_gib": gib, "lowvram": False, "points": _vpts((832, 480, 33), (832, 480, 81)),
       "steps": 1, "max_s": 90} for gib in (32, 48, 64, 96)),
]

# Smoke runs keep the code path and shrink the work: small pictures, one step, few frames.
SMOKE_POINTS = {IMG: _pts((128, 128, 1)), VID: _vpts((64, 64, 5))}


# ----------------------------------------------------------------------------------------------
# parent
# ----------------------------------------------------------------------------------------------


def _write_json(path: str, doc: dict[str, Any]) -> None:
    tmp = Path(path + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(path)


def _machine_facts() -> dict[str, Any]:
    facts: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        import pynvml

        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = pynvml.nvmlDeviceGetName(h)
        facts["gpu_name"] = name.decode() if isinstance(name, bytes) else name
        facts["gpu_memory_total_bytes"] = int(pynvml.nvmlDeviceGetMemoryInfo(h).total)
        drv = pynvml.nvmlSystemGetDriverVersion()
        facts["driver_version"] = drv.decode() if isinstance(drv, bytes) else drv
        cc = pynvml.nvmlDeviceGetCudaComputeCapability(h)
        facts["compute_capability"] = f"{cc[0]}.{cc[1]}"
        cuda_drv = pynvml.nvmlSystemGetCudaDriverVersion()
        facts["cuda_driver_version"] = f"{cuda_drv // 1000}.{(cuda_drv % 1000) // 10}"
        pynvml.nvmlShutdown()
    except Exception as exc:  # no NVIDIA driver (the CPU smoke run)
        facts["gpu_name"] = None
        facts["nvml_error"] = repr(exc)
    return facts


def run_parent(ns: argparse.Namespace) -> int:
    comfy_dir = str(Path(ns.comfy).resolve())
    version = "unknown"
    vfile = Path(comfy_dir) / "comfyui_version.py"
    if vfile.exists():
        for line in vfile.read_text().splitlines():
            if line.startswith("__version__"):
                version = line.split("=")[1].strip().strip('"')
    doc: dict[str, Any] = {
        "schema": "rigfit-comfyui-calibration/1",
        "smoke": ns.smoke,
        "started_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "comfyui": {"version": version, "commit": ns.comfy_commit, "source": ns.comfy_source},
        "comfyui_gguf": {"commit": ns.gguf_commit},
        "machine": _machine_facts(),
        "command": " ".join(sys.argv),
        "points": [],
        "groups": [],
    }
    try:
        import torch

        doc["machine"]["torch"] = torch.__version__
        doc["machine"]["torch_cuda"] = torch.version.cuda
    except Exception:
        pass
    _write_json(ns.out, doc)
    t_start = time.monotonic()
    only = set(ns.only.split(",")) if ns.only else None
    for group in GROUPS:
        if only and group["id"] not in only:
            continue
        left = ns.budget_s - (time.monotonic() - t_start)
        rec: dict[str, Any] = {"id": group["id"], "status": "skipped", "seconds": 0.0}
        doc["groups"].append(rec)
        if left < ns.min_group_s:
            rec["reason"] = f"time budget spent ({left:.0f} s left of {ns.budget_s} s)"
            _write_json(ns.out, doc)
            continue
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(group), "--comfy", comfy_dir]
        if ns.smoke:
            cmd.append("--smoke")
        if ns.gguf:
            cmd += ["--gguf", str(Path(ns.gguf).resolve())]
        print(f"== group {group['id']} ({left:.0f} s left)", flush=True)
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        tail: list[str] = []
        # a group may not starve the ones after it: its own cap, or what is left, whichever is less
        killer = threading.Timer(max(min(left, group.get("max_s", 90) * ns.cap_scale), 1.0), proc.kill)
        killer.start()
        n_points = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(POINT_TAG):
                point = json.loads(line[len(POINT_TAG):])
                doc["points"].append(point)
                n_points += 1
                _write_json(ns.out, doc)
                print(_point_summary(point), flush=True)
            elif line.startswith(GROUP_TAG):
                rec.update(json.loads(line[len(GROUP_TAG):]))
            else:
                sys.stdout.write(line)
                tail.append(line)
                del tail[:-40]
        rc = proc.wait()
        killer.cancel()
        rec["seconds"] = round(time.monotonic() - t0, 1)
        rec["returncode"] = rc
        rec["points_measured"] = n_points
        if rc == 0:
            rec["status"] = "ok"
        else:
            rec["status"] = "killed at time budget" if rc in (-9, 137) else "failed"
            rec["log_tail"] = "".join(tail[-25:])
        _write_json(ns.out, doc)
    doc["finished_utc"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    doc["wall_seconds"] = round(time.monotonic() - t_start, 1)
    _write_json(ns.out, doc)
    print(render_table(doc), flush=True)
    return 0


def _gib(v: int | None) -> str:
    return "-" if v is None else f"{v / GIB:.2f}"


def _point_summary(p: dict[str, Any]) -> str:
    parts = [f"   point {p['group']} {p['width']}x{p['height']} b{p['batch']} f{p['frames']}:"]
    for st in p["stages"]:
        parts.append(f"{st['stage']} {_gib(st.get('peak_allocated_bytes'))}/{_gib(st.get('peak_reserved_bytes'))}")
    parts.append(f"s/step {p.get('seconds_per_step')}")
    return " ".join(parts)


def render_table(doc: dict[str, Any]) -> str:
    """Markdown table of every point: per-stage peaks (allocated/reserved, GiB), NVML peak, s/step."""
    head = ("| group | model | size | frames | batch | precision | policy | text encode | diffusion | "
            "VAE decode | NVML peak | s/step |")
    lines = [head, "|" + "---|" * 12]
    for p in doc["points"]:
        st = {s["stage"]: s for s in p["stages"]}

        def cell(name: str, st: dict[str, Any] = st) -> str:
            s = st.get(name)
            if not s or s.get("peak_allocated_bytes") is None:
                return "-"
            return f"{_gib(s['peak_allocated_bytes'])} / {_gib(s['peak_reserved_bytes'])}"

        nv = [s.get("nvml_peak_used_bytes") for s in p["stages"] if s.get("nvml_peak_used_bytes") is not None]
        pol = p["policy"]["name"]
        lines.append(
            f"| {p['group']} | {p['family']} | {p['width']}x{p['height']} | {p['frames']} | {p['batch']} | "
            f"{p['precision']} | {pol} | {cell('text_encode')} | {cell('diffusion')} | {cell('vae_decode')} | "
            f"{_gib(max(nv)) if nv else '-'} | {p.get('seconds_per_step') or '-'} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# child: everything below runs in one process per group
# ----------------------------------------------------------------------------------------------


def nvml_used_now() -> int | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        return int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(0)).used)
    except Exception:
        return None


class NvmlSampler:
    """Polls NVML's used memory every few ms so each stage gets the device-level peak."""

    def __init__(self, ballast: int) -> None:
        self.ok = False
        self.ballast = ballast
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nv = pynvml
            self._h = pynvml.nvmlDeviceGetHandleByIndex(0)
            self.ok = True
        except Exception:
            return
        self._max = 0
        self._stop = False
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def used(self) -> int | None:
        if not self.ok:
            return None
        return int(self._nv.nvmlDeviceGetMemoryInfo(self._h).used) - self.ballast

    def _loop(self) -> None:
        while not self._stop:
            try:
                u = self.used()
                if u is not None and u > self._max:
                    self._max = u
            except Exception:
                pass
            time.sleep(0.005)

    def reset(self) -> None:
        self._max = self.used() or 0

    def peak(self) -> int | None:
        if not self.ok:
            return None
        return max(self._max, self.used() or 0)


class Ctx:
    def __init__(self, smoke: bool) -> None:
        import torch

        self.torch = torch
        self.smoke = smoke
        self.cuda = torch.cuda.is_available() and not smoke
        self.ballast_bytes = 0
        self.ballast = None
        self.nvml: NvmlSampler | None = None

    def sync(self) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()


def loaded_models() -> list[dict[str, Any]]:
    import comfy.model_management as mm

    out = []
    for lm in mm.current_loaded_models:
        patcher = lm.model
        if patcher is None:
            continue
        inner = getattr(patcher, "model", None)
        out.append({
            "model": type(inner).__name__,
            "device": str(getattr(lm, "device", "")),
            "loaded_bytes": int(patcher.loaded_size()) if hasattr(patcher, "loaded_size") else None,
            "total_bytes": int(patcher.model_size()),
        })
    return out


class WarningCollector:
    """Keeps ComfyUI's warnings (e.g. "Ran out of memory when regular VAE decoding, retrying with tiled
    VAE decoding") so each stage can say that a fallback happened."""

    def __init__(self) -> None:
        import logging

        self.messages: list[str] = []
        outer = self

        class _H(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                outer.messages.append(record.getMessage()[:300])

        handler = _H(level=logging.WARNING)
        logging.getLogger().addHandler(handler)


WARNINGS: WarningCollector | None = None


class Stage:
    """Peak statistics of one stage: reset before, read after (torch counters and NVML)."""

    def __init__(self, ctx: Ctx, name: str) -> None:
        self.ctx = ctx
        self.name = name
        self.rec: dict[str, Any] = {"stage": name}

    def __enter__(self) -> Stage:
        c = self.ctx
        c.sync()
        if c.cuda:
            t = c.torch.cuda
            try:
                t.reset_peak_memory_stats()
            except Exception as exc:  # peaks then run from the process start: say so
                self.rec["peak_reset_error"] = repr(exc)
            self.rec["allocated_before_bytes"] = t.memory_allocated() - c.ballast_bytes
            self.rec["reserved_before_bytes"] = t.memory_reserved() - c.ballast_bytes
        if c.nvml and c.nvml.ok:
            c.nvml.reset()
            self.rec["nvml_used_before_bytes"] = c.nvml.used()
        self.rec["models_loaded_before"] = loaded_models()
        self.n_warnings = len(WARNINGS.messages) if WARNINGS else 0
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        c = self.ctx
        c.sync()
        self.rec["seconds"] = round(time.perf_counter() - self.t0, 3)
        if c.cuda:
            t = c.torch.cuda
            self.rec["peak_allocated_bytes"] = t.max_memory_allocated() - c.ballast_bytes
            self.rec["peak_reserved_bytes"] = t.max_memory_reserved() - c.ballast_bytes
            self.rec["allocated_after_bytes"] = t.memory_allocated() - c.ballast_bytes
            self.rec["reserved_after_bytes"] = t.memory_reserved() - c.ballast_bytes
        else:
            self.rec["peak_allocated_bytes"] = None
            self.rec["peak_reserved_bytes"] = None
        if c.nvml and c.nvml.ok:
            self.rec["nvml_peak_used_bytes"] = c.nvml.peak()
            self.rec["nvml_used_after_bytes"] = c.nvml.used()
        self.rec["models_loaded_after"] = loaded_models()
        if WARNINGS:
            new = WARNINGS.messages[self.n_warnings:]
            self.rec["comfy_warnings"] = new
            self.rec["tiled_fallback"] = any("retrying with tiled" in m for m in new)
        if et is not None:
            self.rec["error"] = f"{et.__name__}: {ev}"


# ---------------------------------------------------------------- random state dicts


class Filler:
    """Random but cheap: one random block, copied into every tensor (memcpy speed, never zeros)."""

    def __init__(self, torch: Any) -> None:
        g = torch.Generator().manual_seed(1234)
        self.block = (torch.randn(1 << 24, generator=g) * 0.02).to(torch.float32)
        self.torch = torch
        self.cache: dict[Any, Any] = {}

    def _block(self, dtype: Any) -> Any:
        if dtype not in self.cache:
            self.cache[dtype] = self.block.to(dtype)
        return self.cache[dtype]

    def tensor(self, shape: tuple[int, ...], dtype: Any) -> Any:
        t = self.torch.empty(shape, dtype=dtype)
        flat = t.view(-1)
        src = self._block(dtype)
        n = flat.numel()
        for i in range(0, n, src.numel()):
            k = min(src.numel(), n - i)
            flat[i:i + k].copy_(src[:k])
        return t

    def raw_bytes(self, nbytes: int) -> Any:
        """Random bytes (for GGUF blocks), from the same block."""
        torch = self.torch
        src = self._block(torch.float32).view(torch.uint8)
        out = torch.empty(nbytes, dtype=torch.uint8)
        for i in range(0, nbytes, src.numel()):
            k = min(src.numel(), nbytes - i)
            out[i:i + k].copy_(src[:k])
        return out


def meta_shapes(build: Any) -> dict[str, tuple[tuple[int, ...], Any]]:
    import torch

    with torch.device("meta"):
        m = build()
    return {k: (tuple(v.shape), v.dtype) for k, v in m.state_dict().items()}


def synth(filler: Filler, shapes: dict[str, tuple[tuple[int, ...], Any]], dtype_for: Any) -> dict[str, Any]:
    return {k: filler.tensor(shape, dtype_for(k, shape)) for k, (shape, _) in shapes.items()}


def sd_bytes(sd: dict[str, Any]) -> int:
    total = 0
    for v in sd.values():
        total += v.numel() * v.element_size()
    return total


# ---------------------------------------------------------------- architectures


def unet_config(family: str, smoke: bool) -> dict[str, Any]:
    """Full configurations, as ComfyUI's model_detection derives them from the real files."""
    if family == "sd15":
        cfg = {"use_checkpoint": False, "image_size": 32, "out_channels": 4, "use_spatial_transformer": True,
               "legacy": False, "adm_in_channels": None, "in_channels": 4, "model_channels": 320,
               "num_res_blocks": [2, 2, 2, 2], "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0],
               "channel_mult": [1, 2, 4, 4], "transformer_depth_middle": 1, "use_linear_in_transformer": False,
               "context_dim": 768, "num_heads": 8, "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
               "use_temporal_attention": False, "use_temporal_resblock": False}
        return cfg
    if family == "sdxl":
        depth = [0, 0, 1, 1, 1, 1] if smoke else [0, 0, 2, 2, 10, 10]
        return {"use_checkpoint": False, "image_size": 32, "out_channels": 4, "use_spatial_transformer": True,
                "legacy": False, "num_classes": "sequential", "adm_in_channels": 2816, "in_channels": 4,
                "model_channels": 320, "num_res_blocks": [2, 2, 2], "transformer_depth": depth,
                "channel_mult": [1, 2, 4], "transformer_depth_middle": 1 if smoke else 10,
                "use_linear_in_transformer": True, "context_dim": 2048, "num_head_channels": 64,
                "transformer_depth_output": ([0, 0, 0, 1, 1, 1, 1, 1, 1] if smoke else [0, 0, 0, 2, 2, 2, 10, 10, 10]),
                "use_temporal_attention": False, "use_temporal_resblock": False}
    if family == "sd35-medium":
        depth = 2 if smoke else 24
        return {"in_channels": 16, "patch_size": 2, "out_channels": 16, "depth": depth, "input_size": None,
                "adm_in_channels": 2048,
                "context_embedder_config": {"target": "torch.nn.Linear",
                                            "params": {"in_features": 4096, "out_features": 64 * depth}},
                "num_patches": 147456, "pos_embed_max_size": 384, "qk_norm": "rms", "pos_embed_scaling_factor": None,
                "x_block_self_attn_layers": list(range(min(13, depth)))}
    if family == "flux-dev":
        return {"image_model": "flux", "in_channels": 16, "patch_size": 2, "out_channels": 16, "vec_in_dim": 768,
                "context_in_dim": 4096, "hidden_size": 3072, "mlp_ratio": 4.0, "num_heads": 24,
                "depth": 1 if smoke else 19, "depth_single_blocks": 1 if smoke else 38, "axes_dim": [16, 56, 56],
                "theta": 10000, "qkv_bias": True, "guidance_embed": True}
    if family == "wan22-ti2v-5b":
        dim = 256 if smoke else 3072
        return {"image_model": "wan2.1", "dim": dim, "out_dim": 48, "num_heads": dim // 128,
                "ffn_dim": 512 if smoke else 14336, "num_layers": 1 if smoke else 30, "patch_size": (1, 2, 2),
                "freq_dim": 256, "window_size": (-1, -1), "qk_norm": True, "cross_attn_norm": True, "eps": 1e-6,
                "in_dim": 48, "model_type": "t2v"}
    raise ValueError(family)


def diffusion_shapes(family: str, smoke: bool) -> dict[str, tuple[tuple[int, ...], Any]]:
    import comfy.model_detection

    cfg = unet_config(family, smoke)
    mc = comfy.model_detection.model_config_from_unet_config(dict(cfg))
    if mc is None:
        raise RuntimeError(f"ComfyUI matched no model config for {family}")
    shapes = meta_shapes(lambda: mc.get_model({}, ""))
    pre = "diffusion_model."
    return {k[len(pre):]: v for k, v in shapes.items() if k.startswith(pre)}


def te_shapes(family: str, te_dtype: Any) -> tuple[Any, list[dict[str, tuple[tuple[int, ...], Any]]]]:
    """ComfyUI's own text-encoder wrapper on meta, split into one state dict per encoder file."""
    import comfy.sd
    import comfy.sd1_clip
    import comfy.sdxl_clip
    import comfy.text_encoders.flux
    import comfy.text_encoders.sd3_clip
    import comfy.text_encoders.wan
    import torch

    T = comfy.sd.CLIPType
    fp16 = torch.float16
    if family == "sd15":
        clip_type, cls = T.STABLE_DIFFUSION, comfy.sd1_clip.SD1ClipModel
    elif family == "sdxl":
        clip_type, cls = T.STABLE_DIFFUSION, comfy.sdxl_clip.SDXLClipModel
    elif family == "sd35-medium":
        clip_type, cls = T.SD3, comfy.text_encoders.sd3_clip.sd3_clip(clip_l=True, clip_g=True, t5=True, dtype_t5=fp16)
    elif family == "flux-dev":
        clip_type, cls = T.FLUX, comfy.text_encoders.flux.flux_clip(dtype_t5=fp16)
    elif family == "wan22-ti2v-5b":
        clip_type, cls = T.WAN, comfy.text_encoders.wan.te(dtype_t5=fp16)
    else:
        raise ValueError(family)
    shapes = meta_shapes(lambda: cls(device="meta", dtype=fp16))
    per: dict[str, dict[str, tuple[tuple[int, ...], Any]]] = {}
    for k, v in shapes.items():
        if ".transformer." not in k:
            continue
        enc, rest = k.split(".transformer.", 1)
        per.setdefault(enc, {})[rest] = v
    return clip_type, [per[k] for k in sorted(per)]


def vae_shapes(family: str, smoke: bool) -> dict[str, tuple[tuple[int, ...], Any]]:
    import comfy.ldm.wan.vae2_2
    from comfy.ldm.models.autoencoder import AutoencoderKL, AutoencodingEngine

    kl = {"double_z": True, "z_channels": 4, "resolution": 256, "in_channels": 3, "out_ch": 3, "ch": 128,
          "ch_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_resolutions": [], "dropout": 0.0}
    if family in ("sd15", "sdxl"):
        return meta_shapes(lambda: AutoencoderKL(ddconfig=kl, embed_dim=4))
    if family in ("flux-dev", "sd35-medium"):
        cfg = dict(kl, z_channels=16)
        reg = {"target": "comfy.ldm.models.autoencoder.DiagonalGaussianRegularizer"}
        enc = {"target": "comfy.ldm.modules.diffusionmodules.model.Encoder", "params": cfg}
        dec = {"target": "comfy.ldm.modules.diffusionmodules.model.Decoder", "params": cfg}
        return meta_shapes(lambda: AutoencodingEngine(regularizer_config=reg, encoder_config=enc, decoder_config=dec))
    if family == "wan22-ti2v-5b":
        cfg = {"dim": 160, "z_dim": 48, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_scales": [],
               "temperal_downsample": [False, True, True], "dropout": 0.0}
        return meta_shapes(lambda: comfy.ldm.wan.vae2_2.WanVAE(**cfg))
    raise ValueError(family)


# ---------------------------------------------------------------- GGUF


def gguf_state_dict(filler: Filler, shapes: dict[str, tuple[tuple[int, ...], Any]], qname: str) -> dict[str, Any]:
    """What ComfyUI-GGUF's gguf_sd_loader returns for a quantized file, built in memory.

    Rules as in ComfyUI-GGUF's tools/convert.py: 1-D tensors and tensors of at most 1024 elements stay
    F32; every other tensor is quantized (to F16 where its rows do not split into whole blocks).
    Block bytes are random; the fp16 scale fields are overwritten with small finite values.
    """
    import gguf
    import torch
    from comfyui_gguf.ops import GGMLTensor

    Q = gguf.GGMLQuantizationType
    qtype = {"gguf_q8_0": Q.Q8_0, "gguf_q4_k": Q.Q4_K}[qname]
    block, tsize = gguf.GGML_QUANT_SIZES[qtype]
    scale = torch.tensor([0.01], dtype=torch.float16).view(torch.uint8)
    sd: dict[str, Any] = {}
    for k, (shape, _) in shapes.items():
        n = 1
        for s in shape:
            n *= s
        if len(shape) == 1 or n <= 1024:
            t = filler.tensor(shape, torch.float32)
            sd[k] = GGMLTensor(t, tensor_type=Q.F32, tensor_shape=torch.Size(shape))
            continue
        if shape[-1] % block != 0:
            t = filler.tensor(shape, torch.float16)
            sd[k] = GGMLTensor(t, tensor_type=Q.F16, tensor_shape=torch.Size(shape))
            continue
        rows = n // shape[-1]
        row_bytes = shape[-1] // block * tsize
        raw = filler.raw_bytes(rows * row_bytes).view(-1, tsize)
        raw[:, 0:2] = scale  # d
        if qtype == Q.Q4_K:
            raw[:, 2:4] = scale  # dmin
        sd[k] = GGMLTensor(raw.reshape(rows, row_bytes), tensor_type=qtype, tensor_shape=torch.Size(shape))
    return sd


def import_gguf(gguf_dir: str) -> Any:
    """Import ComfyUI-GGUF as a package. Its nodes.py imports ComfyUI's nodes.py only for two
    text-encoder loader INPUT_TYPES (not on the measured path), so an empty `nodes` module stands in:
    the real nodes.py pulls in the whole API layer (av, aiohttp, ...)."""
    import importlib.util
    import types

    sys.modules.setdefault("nodes", types.ModuleType("nodes"))
    spec = importlib.util.spec_from_file_location(
        "comfyui_gguf", str(Path(gguf_dir) / "__init__.py"), submodule_search_locations=[gguf_dir])
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["comfyui_gguf"] = mod
    spec.loader.exec_module(mod)
    import comfyui_gguf.nodes

    return comfyui_gguf.nodes


# ---------------------------------------------------------------- smoke shims


def install_smoke_shims() -> None:
    """CPU smoke runs only: fewer text-encoder layers, and ComfyUI's key-count based detection
    told what the full-size file would have said. Never active on a measuring run."""
    import json as _json

    orig = _json.load

    def small(f: Any, *a: Any, **k: Any) -> Any:
        cfg = orig(f, *a, **k)
        if isinstance(cfg, dict):
            if "num_layers" in cfg:
                cfg["num_layers"] = 2
                if "num_decoder_layers" in cfg:
                    cfg["num_decoder_layers"] = 2
            if cfg.get("hidden_size") == 768 and "num_hidden_layers" in cfg:
                cfg["num_hidden_layers"] = 3
        return cfg

    _json.load = small
    import comfy.sd
    import comfy.supported_models

    orig_detect = comfy.sd.detect_te_model

    def detect(sd: dict[str, Any]) -> Any:
        w = sd.get("encoder.block.0.layer.1.DenseReluDense.wi_1.weight")
        if w is not None and w.shape[-1] == 4096:
            return comfy.sd.TEModel.T5_XXL
        return orig_detect(sd)

    comfy.sd.detect_te_model = detect
    comfy.supported_models.SDXL.unet_config = {
        k: v for k, v in comfy.supported_models.SDXL.unet_config.items() if k != "transformer_depth"}


# ---------------------------------------------------------------- one group


def family_settings(family: str) -> dict[str, Any]:
    if family == "sd15":
        return {"cfg": 7.0, "sampler": "euler", "scheduler": "normal", "latent_ch": 4, "down": 8}
    if family == "sdxl":
        return {"cfg": 7.0, "sampler": "euler", "scheduler": "normal", "latent_ch": 4, "down": 8}
    if family == "sd35-medium":
        return {"cfg": 5.0, "sampler": "euler", "scheduler": "simple", "latent_ch": 16, "down": 8}
    if family == "flux-dev":
        return {"cfg": 1.0, "sampler": "euler", "scheduler": "simple", "latent_ch": 16, "down": 8, "guidance": 3.5}
    if family == "wan22-ti2v-5b":
        return {"cfg": 5.0, "sampler": "euler", "scheduler": "simple", "latent_ch": 48, "down": 16}
    raise ValueError(family)


PROMPT = ("a lighthouse on a rocky cliff at dusk, waves crashing below, warm light in the windows, "
          "dramatic clouds, highly detailed, 35mm photograph")
NEGATIVE = "blurry, low quality, watermark"


def tiny_spiece_model() -> Any:
    """A throw-away sentencepiece model, only so ComfyUI's umT5 tokenizer can be constructed: the
    real one ships inside the umt5 file, and the tokens fed to the encoder come from wan_tokens."""
    import io

    import sentencepiece as spm
    import torch

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter([PROMPT] * 20), model_writer=buf, vocab_size=40,
                                   hard_vocab_limit=False, minloglevel=2)
    return torch.frombuffer(bytearray(buf.getvalue()), dtype=torch.uint8)


def wan_tokens(n_words: int) -> dict[str, Any]:
    """umT5 tokens without its sentencepiece model (that ships inside the real umt5 file only):
    random ids, the end token 1 and padding 0 to ComfyUI's 512-token minimum, as its tokenizer pads."""
    import random

    rnd = random.Random(7)
    ids = [rnd.randrange(1000, 250000) for _ in range(n_words)] + [1]
    ids += [0] * (512 - len(ids))
    return {"umt5xxl": [[(i, 1.0) for i in ids]]}


def run_child(ns: argparse.Namespace) -> int:
    group = json.loads(ns.child)
    smoke = ns.smoke
    comfy_dir = str(Path(ns.comfy).resolve())
    sys.path.insert(0, comfy_dir)
    os.chdir(comfy_dir)
    # ComfyUI's main.py imports cuda_malloc before torch: it selects PyTorch's cudaMallocAsync
    # backend by default on CUDA builds of torch >= 2. Done the same way here, so allocator
    # behaviour and reserved-memory figures match a real install.
    import cuda_malloc  # noqa: F401  (ComfyUI's own module, from the source tree)
    import torch

    ctx = Ctx(smoke)
    nvml_start = nvml_used_now() if ctx.cuda else None
    policy = {"name": group["policy"], "lowvram": bool(group.get("lowvram")), "sim_gib": group.get("sim_gib"),
              "allocator": os.environ.get("PYTORCH_CUDA_ALLOC_CONF", "native"),
              "nvml_used_at_start_bytes": nvml_start}
    if group.get("sim_gib") and ctx.cuda:
        free, total = torch.cuda.mem_get_info()
        used = total - free
        target_free = group["sim_gib"] * GIB - used
        ctx.ballast_bytes = max(0, free - target_free)
        ctx.ballast = torch.empty(ctx.ballast_bytes, dtype=torch.uint8, device="cuda")
        policy["ballast_bytes"] = ctx.ballast_bytes
        policy["free_after_ballast_bytes"] = torch.cuda.mem_get_info()[0]
        policy["name"] = f"sim{group['sim_gib']}gib" + ("+lowvram" if group.get("lowvram") else "")
    elif group["policy"] == "default":
        policy["name"] = "default"

    import logging

    # ComfyUI logs its placement decisions ("loaded partially ...", "Requested to load ...") at INFO
    logging.basicConfig(level=logging.INFO, format="%(message)s", force=True)
    global WARNINGS
    WARNINGS = WarningCollector()
    from comfy.cli_args import args

    args.cpu = not ctx.cuda
    args.lowvram = bool(group.get("lowvram"))
    import comfy.model_management as mm
    import comfy.sample
    import comfy.sd
    import comfy.utils

    if smoke:
        install_smoke_shims()
    policy["vram_state"] = mm.vram_state.name
    policy["extra_reserved_vram_bytes"] = int(mm.EXTRA_RESERVED_VRAM)
    policy["minimum_inference_memory_bytes"] = int(mm.minimum_inference_memory())
    policy["attention"] = ("pytorch" if mm.pytorch_attention_enabled() else "other")
    ctx.nvml = NvmlSampler(ctx.ballast_bytes) if ctx.cuda else None
    filler = Filler(torch)
    family = group["family"]
    fam = family_settings(family)
    print(GROUP_TAG + json.dumps({"vram_state": policy["vram_state"], "policy_name": policy["name"]}), flush=True)

    points = SMOKE_POINTS[VID if family.startswith("wan") else IMG] if smoke else group["points"]
    steps = 2 if smoke else group["steps"]
    weights: dict[str, Any] = {}
    shared: list[dict[str, Any]] = []

    # -- text encoders: their own stage (load from state dicts, tokenize, encode both prompts)
    te_dtype = torch.float8_e4m3fn if group["te"] == "fp8_e4m3fn" else torch.float16
    clip_type, te_shape_list = te_shapes(family, te_dtype)

    def te_dtype_for(k: str, shape: tuple[int, ...]) -> Any:
        # t5xxl_fp8_e4m3fn files hold every T5 encoder tensor in fp8 (ComfyUI reads the T5 dtype
        # from encoder.final_layer_norm.weight) and the token embedding in 16 bit; CLIP stays fp16.
        if te_dtype != torch.float16 and k.startswith("encoder."):
            return te_dtype
        return torch.float16

    te_sds = [synth(filler, s, te_dtype_for) for s in te_shape_list]
    if family.startswith("wan"):
        te_sds[0]["spiece_model"] = tiny_spiece_model()
    weights["text_encoders_file_bytes"] = sum(sd_bytes(s) for s in te_sds)
    with Stage(ctx, "text_encode") as st:
        clip = comfy.sd.load_text_encoder_state_dicts(state_dicts=te_sds, clip_type=clip_type)
        del te_sds
        weights["text_encoders_model_bytes"] = int(clip.patcher.model_size())
        if family.startswith("wan"):
            pos = clip.encode_from_tokens_scheduled(wan_tokens(24))
            neg = clip.encode_from_tokens_scheduled(wan_tokens(6))
        else:
            pos = clip.encode_from_tokens_scheduled(clip.tokenize(PROMPT))
            neg = clip.encode_from_tokens_scheduled(clip.tokenize(NEGATIVE if fam["cfg"] != 1.0 else ""))
        if "guidance" in fam:
            pos = [[c, dict(d, guidance=fam["guidance"])] for c, d in pos]
            neg = [[c, dict(d, guidance=fam["guidance"])] for c, d in neg]
        st.rec["text_encoder_device"] = str(clip.patcher.load_device)
    shared.append(st.rec)

    # -- diffusion model: load (shared by the points), then one sampling stage per point
    dshapes = diffusion_shapes(family, smoke)
    prec = group["precision"]
    model_options: dict[str, Any] = {}
    if prec.startswith("gguf"):
        gnodes = import_gguf(ns.gguf)
        dsd = gguf_state_dict(filler, dshapes, prec)
        weights["diffusion_file_bytes"] = sum(v.numel() * v.element_size() for v in dsd.values())
        ops = gnodes.GGMLOps()
        ops.Linear.dequant_dtype = None
        ops.Linear.patch_dtype = None
        model_options = {"custom_operations": ops}
    else:
        main_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp8_e4m3fn": torch.float8_e4m3fn}[prec]
        if prec == "fp8_e4m3fn":
            # the UNETLoader's weight_dtype "fp8_e4m3fn"; 1-D tensors stay 16 bit as in the fp8 files
            model_options = {"dtype": torch.float8_e4m3fn}

        def d_dtype_for(k: str, shape: tuple[int, ...]) -> Any:
            if main_dtype == torch.float8_e4m3fn and len(shape) < 2:
                return torch.bfloat16
            return main_dtype

        dsd = synth(filler, dshapes, d_dtype_for)
        weights["diffusion_file_bytes"] = sd_bytes(dsd)
    with Stage(ctx, "diffusion_load") as st:
        model = comfy.sd.load_diffusion_model_state_dict(dsd, model_options=model_options)
        if model is None:
            raise RuntimeError("ComfyUI did not recognise the synthesized diffusion model")
        if prec.startswith("gguf"):
            model = gnodes.GGUFModelPatcher.clone(model)
            model.patch_on_device = False
        del dsd
        weights["diffusion_model_bytes"] = int(model.model_size())
        st.rec["diffusion_dtype"] = str(model.model.get_dtype())
        st.rec["manual_cast_dtype"] = str(model.model.manual_cast_dtype)
        st.rec["model_class"] = type(model.model).__name__
    shared.append(st.rec)

    vshapes = vae_shapes(family, smoke)
    vsd = synth(filler, vshapes, lambda k, s: torch.float32 if family == "sd15" else torch.bfloat16)
    weights["vae_file_bytes"] = sd_bytes(vsd)
    with Stage(ctx, "vae_load") as st:
        vae = comfy.sd.VAE(sd=vsd)
        del vsd
        weights["vae_model_bytes"] = int(vae.patcher.model_size())
        st.rec["vae_dtype"] = str(vae.vae_dtype)
    shared.append(st.rec)

    for pt in points:
        w, h, b, fr = pt["width"], pt["height"], pt["batch"], pt["frames"]
        point: dict[str, Any] = {
            "group": group["id"], "family": family, "precision": prec, "text_encoder_precision": group["te"],
            "width": w, "height": h, "batch": b, "frames": fr, "steps": steps, "cfg": fam["cfg"],
            "sampler": fam["sampler"], "scheduler": fam["scheduler"], "policy": policy, "weights": weights,
            "stages": [dict(s, shared_with_group=True) for s in shared], "smoke": smoke,
        }
        try:
            if family.startswith("wan"):
                shape = [b, fam["latent_ch"], (fr - 1) // 4 + 1, h // fam["down"], w // fam["down"]]
            else:
                shape = [b, fam["latent_ch"], h // fam["down"], w // fam["down"]]
            latent = torch.zeros(shape)
            latent = comfy.sample.fix_empty_latent_channels(model, latent)
            noise = comfy.sample.prepare_noise(latent, 42)
            marks: list[float] = []

            def cb(step: int, x0: Any, x: Any, total: int, marks: list[float] = marks) -> None:
                ctx.sync()
                marks.append(time.perf_counter())

            with Stage(ctx, "diffusion") as st:
                t0 = time.perf_counter()
                samples = comfy.sample.sample(model, noise, steps, fam["cfg"], fam["sampler"], fam["scheduler"],
                                              pos, neg, latent, callback=cb, disable_pbar=True, seed=42)
                st.rec["first_step_seconds"] = round(marks[0] - t0, 3) if marks else None
                diffs = [marks[i + 1] - marks[i] for i in range(len(marks) - 1)]
                st.rec["step_seconds"] = [round(d, 4) for d in diffs]
                st.rec["latent_shape"] = list(latent.shape)
            point["stages"].append(st.rec)
            point["seconds_per_step"] = round(statistics.median(diffs), 4) if diffs else None
            with Stage(ctx, "vae_decode") as st:
                images = vae.decode(samples)
                st.rec["output_shape"] = list(images.shape)
            point["stages"].append(st.rec)
            del images, samples
        except Exception as exc:
            point["error"] = f"{type(exc).__name__}: {exc}"
            point["traceback"] = traceback.format_exc()[-3000:]
            print(point["traceback"], flush=True)
        print(POINT_TAG + json.dumps(point), flush=True)
        mm.soft_empty_cache()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--comfy", required=True, help="ComfyUI source tree")
    p.add_argument("--gguf", help="ComfyUI-GGUF source tree (for the GGUF groups)")
    p.add_argument("--out", default="calibration.json")
    p.add_argument("--smoke", action="store_true", help="tiny configurations on the CPU, one step")
    p.add_argument("--only", help="comma-separated group ids")
    p.add_argument("--budget-s", type=float, default=440.0, help="wall-clock budget for all groups")
    p.add_argument("--min-group-s", type=float, default=25.0, help="do not start a group with less left")
    p.add_argument("--cap-scale", type=float, default=1.0, help="multiply every group's own time cap")
    p.add_argument("--comfy-commit", default=None)
    p.add_argument("--comfy-source", default=None)
    p.add_argument("--gguf-commit", default=None)
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--list", action="store_true", help="print the group ids in run order")
    ns = p.parse_args(argv)
    if ns.list:
        for g in GROUPS:
            print(g["id"])
        return 0
    if ns.child:
        return run_child(ns)
    return run_parent(ns)


if __name__ == "__main__":
    sys.exit(main())
