"""``rigfit install`` end to end as a user runs it (the CLI, in a process), offline, on real local parts: a ComfyUI stand-in and two node packs in bare git
repositories served over HTTP, a hand-written wheelhouse (fake torch and friends), model files from the
Range-capable test file server, real ``uv`` and ``git``. Then ``rigfit doctor`` (also ``--live``), interruption
at every step, a killed install, two installs at once, and a node pack that asks for another torch."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.comfyui_world import World, build_world, json_dump
from fixtures.fileserver import FileServer

pytestmark = pytest.mark.slow

OBJECT_INFO = Path(__file__).resolve().parents[2] / "src" / "rigfit" / "data" / "comfyui" / "object_info-0.3.64.json"
CKPT = hashlib.sha256(b"checkpoint").digest() * 128  # 4 KiB
UPSCALER = b"upscaler-weights" * 64


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, list[dict[str, Any]]]]:
    root = tmp_path_factory.mktemp("world")
    world = build_world(root, OBJECT_INFO)
    with world.git, FileServer() as files:
        files.add("/ckpt.safetensors", CKPT)
        files.add("/4x.pth", UPSCALER)
        plan_files = [
            {"url": files.url("/ckpt.safetensors"), "filename": "v1-5-pruned-emaonly-fp16.safetensors",
             "folder": "checkpoints", "bytes": len(CKPT), "sha256": hashlib.sha256(CKPT).hexdigest()},
            {"url": files.url("/4x.pth"), "filename": "4x-UltraSharp.pth", "folder": "upscale_models",
             "bytes": len(UPSCALER), "sha256": None},
        ]  # fmt: skip
        yield world, plan_files


@pytest.fixture
def env(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Offline uv with a private cache, rigfit's data in the test folder, a CPU-only hardware profile."""
    cache = tmp_path_factory.getbasetemp() / "uv-cache"
    profile = json_dump(tmp_path / "cpu.json", {"schema": "rigfit.hardware/1", "os": "linux", "arch": "x86_64",
                                                "ram_bytes": 16 * 2**30, "gpus": []})  # fmt: skip
    values = {
        "RIGFIT_HOME": str(tmp_path / "home"),
        "UV_CACHE_DIR": str(cache),
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "RIGFIT_HARDWARE": str(profile),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("RIGFIT_FAIL_AT_STEP", raising=False)
    return values


def install(world: World, plan: Path, comfyui: Path, *, only: tuple[str, ...] = (), allow: bool = False,
            fail_at: str | None = None, wait: bool = True) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:  # fmt: skip
    argv = [sys.executable, "-m", "rigfit", "install", str(plan), "--comfyui", str(comfyui), "--json",
            "--comfyui-source", world.git.url("ComfyUI"), "--comfyui-ref", "master", "--find-links", str(world.wheels),
            *(["--allow-install-scripts"] if allow else []), *(["--only", *only] if only else [])]  # fmt: skip
    env = {**os.environ, **({"RIGFIT_FAIL_AT_STEP": fail_at} if fail_at else {})}
    if not wait:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)


def rigfit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rigfit", *args], capture_output=True, text=True, timeout=180
    )


def doctor(comfyui: Path, *extra: str) -> dict[str, Any]:
    done = rigfit("doctor", "--comfyui", str(comfyui), "--json", *extra)
    doc = json.loads(done.stdout)
    assert (done.returncode == 0) == doc["ok"], done.stderr
    return doc


def freeze(comfyui: Path) -> str:
    from rigfit.shell.venv import uv_binary

    python = comfyui / ".venv" / "bin" / "python"
    return subprocess.run([uv_binary(), "pip", "freeze", "--python", str(python)], capture_output=True, text=True,
                          check=True, timeout=60).stdout  # fmt: skip


@pytest.fixture
def plan_file(world: tuple[World, list[dict[str, Any]]], tmp_path: Path) -> Path:
    w, files = world
    return json_dump(tmp_path / "plan.json", w.plan(files))


def test_install_builds_the_folder_and_doctor_passes(world, env, plan_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A fresh install clones ComfyUI and the packs at their commits, builds the venv with the planned torch,
    places the models, writes launch scripts and a starter workflow that validates; doctor (and --live) pass."""
    w, _ = world
    comfyui = tmp_path / "ComfyUI"
    done = install(w, plan_file, comfyui)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert list(report["steps"]) == ["comfyui", "python", "nodes", "models", "config", "workflows"]
    assert [s["action"] for s in report["steps"].values()] == ["ran"] * 6
    assert report["workflows"] == ["rigfit-lightweight"] and report["install_scripts_not_run"] == ["pack-b"]
    for pack in ("pack-a", "pack-b"):
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=comfyui / "custom_nodes" / pack, capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
        assert head == w.commits[pack]
    frozen = freeze(comfyui)
    assert "torch==2.5.0" in frozen and "packdep==1.0.0" in frozen and "requests==1.0.0" in frozen
    assert not (comfyui / "custom_nodes" / "pack-b" / "installed.marker").exists()  # install.py not allowed
    assert (comfyui / "models" / "checkpoints" / "v1-5-pruned-emaonly-fp16.safetensors").read_bytes() == CKPT
    ui = json.loads((comfyui / "user/default/workflows/rigfit-lightweight.json").read_text())
    assert ui["version"] == 0.4 and {n["type"] for n in ui["nodes"]} >= {
        "CheckpointLoaderSimple",
        "UpscaleModelLoader",
    }
    assert "main.py --cpu" in (comfyui / "run_comfyui.sh").read_text()
    doc = doctor(comfyui, "--live")
    statuses = {c["name"]: c["status"] for c in doc["checks"]}
    assert doc["ok"] and statuses["torch sees the GPU"] == "skip"
    assert statuses["workflow rigfit-lightweight (live)"] == "ok"
    launch = rigfit("launch", "--comfyui", str(comfyui), "--print", "--", "--port", "9999")
    assert launch.stdout.split()[-3:] == ["--cpu", "--port", "9999"]
    started = rigfit(
        "launch", "--comfyui", str(comfyui), "--", "--quick-test-for-ci"
    )  # really exec's main.py
    assert started.returncode == 0, started.stderr

    # A no-op re-run skips every step.
    again = install(w, plan_file, comfyui)
    assert again.returncode == 0, again.stderr
    steps_again = json.loads(again.stdout)["steps"]
    redone = {k: s["reason"] for k, s in steps_again.items() if s["action"] == "ran"}
    assert redone == {"models": "checking"}  # one stat per model file; nothing else runs

    # Doctor notices damage and names the fix; the re-run it suggests repairs it (from the store, no download).
    checkpoint = comfyui / "models" / "checkpoints" / "v1-5-pruned-emaonly-fp16.safetensors"
    checkpoint.unlink()
    broken = doctor(comfyui)
    failed = {c["name"]: c["fix"] for c in broken["checks"] if c["status"] == "fail"}
    assert failed["model files"] == "run `rigfit install --only models`"
    assert "workflow rigfit-lightweight" in failed
    repaired = install(w, plan_file, comfyui, only=("models",))
    assert repaired.returncode == 0, repaired.stderr
    steps = json.loads(repaired.stdout)["steps"]
    assert steps["models"]["reason"] == "changed on disk" and checkpoint.read_bytes() == CKPT
    assert doctor(comfyui)["ok"]

    # A deleted venv is rebuilt, with the node packs' requirements back in it.
    shutil.rmtree(comfyui / ".venv")
    rebuilt = install(w, plan_file, comfyui)
    assert rebuilt.returncode == 0, rebuilt.stderr
    ran = {k for k, s in json.loads(rebuilt.stdout)["steps"].items() if s["action"] == "ran"}
    assert ran == {"python", "nodes", "models"} and "packdep==1.0.0" in freeze(comfyui)


@pytest.mark.parametrize("step", ["comfyui", "python", "nodes", "models", "config", "workflows"])
def test_interrupted_at_each_step_a_rerun_finishes(
    world, env, plan_file: Path, tmp_path: Path, step: str
) -> None:  # type: ignore[no-untyped-def]
    """A failure injected at a step stops the install (exit 1, the step named); the re-run redoes that step,
    skips the ones before it, and ends in an install that doctor accepts."""
    w, _ = world
    comfyui = tmp_path / "ComfyUI"
    first = install(w, plan_file, comfyui, fail_at=step)
    assert first.returncode == 1 and f"{step}: failure injected" in first.stderr
    second = install(w, plan_file, comfyui)
    assert second.returncode == 0, second.stderr
    steps = {k: s["action"] for k, s in json.loads(second.stdout)["steps"].items()}
    order = ["comfyui", "python", "nodes", "models", "config", "workflows"]
    assert all(steps[s] == "skipped" for s in order[: order.index(step)] if s != "models")  # models: a check
    assert steps[step] == "ran"
    assert doctor(comfyui)["ok"]


def test_killed_install_resumes(world, env, plan_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL in the middle (after ComfyUI is cloned) leaves no lock behind; the next run finishes."""
    w, _ = world
    comfyui = tmp_path / "ComfyUI"
    proc = install(w, plan_file, comfyui, wait=False)
    assert isinstance(proc, subprocess.Popen)
    deadline = time.monotonic() + 60
    journal = comfyui / ".rigfit" / "install.json"
    while time.monotonic() < deadline and not (journal.exists() and '"comfyui"' in journal.read_text()):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = install(w, plan_file, comfyui)
    assert done.returncode == 0, done.stderr
    assert doctor(comfyui)["ok"]


def test_a_second_install_into_the_same_folder_refuses(world, env, plan_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """While one install holds the folder, another one stops at once with a clear message (exit 1)."""
    w, _ = world
    comfyui = tmp_path / "ComfyUI"
    (comfyui / ".rigfit").mkdir(parents=True)
    import fcntl

    with open(comfyui / ".rigfit" / "install.lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        held.write("pid 4242, started earlier\n")
        held.flush()
        done = install(w, plan_file, comfyui)
    assert done.returncode == 1
    assert "another rigfit install is running" in done.stderr and "pid 4242" in done.stderr


def test_pack_asking_for_another_torch_fails_and_leaves_the_environment(world, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A node pack that needs torch 9.9 cannot be resolved with the installed torch 2.5: the nodes step fails,
    names the pack, and the venv and custom_nodes/ are as before."""
    w, files = world
    comfyui = tmp_path / "ComfyUI"
    good = json_dump(tmp_path / "good.json", w.plan(files))
    assert install(w, good, comfyui).returncode == 0
    before = freeze(comfyui)
    bad = json_dump(tmp_path / "bad.json", w.plan(files, packs=("pack-a", "pack-b", "pack-bad")))
    done = install(w, bad, comfyui, only=("nodes",))
    assert done.returncode == 1
    assert "pack-bad" in done.stderr and "torch" in done.stderr
    assert freeze(comfyui) == before
    assert not (
        comfyui / "custom_nodes" / "pack-bad"
    ).exists()  # the refused pack is not left for ComfyUI to load
    assert (comfyui / "custom_nodes" / "pack-a").is_dir()


def test_install_scripts_run_only_when_allowed(world, env, plan_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    w, _ = world
    comfyui = tmp_path / "ComfyUI"
    done = install(w, plan_file, comfyui, allow=True)
    assert done.returncode == 0, done.stderr
    assert (comfyui / "custom_nodes" / "pack-b" / "installed.marker").read_text() == "ran"
    assert json.loads(done.stdout)["install_scripts_not_run"] == []


def test_an_existing_comfyui_is_used_not_cloned(world, env, plan_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A folder that already holds ComfyUI (here without git) is detected by its comfyui_version.py and kept;
    --only comfyui also writes the starter workflows."""
    w, _ = world
    comfyui = tmp_path / "Existing"
    comfyui.mkdir()
    (comfyui / "main.py").write_text("# a ComfyUI the user installed\n")
    (comfyui / "comfyui_version.py").write_text('__version__ = "0.3.60"\n')
    done = install(w, plan_file, comfyui, only=("comfyui",))
    assert done.returncode == 0, done.stderr
    assert not (comfyui / ".git").exists() and (comfyui / "main.py").read_text().startswith(
        "# a ComfyUI the user"
    )
    report = json.loads(done.stdout)
    assert report["comfyui_version"] == "0.3.60"
    assert {k for k, s in report["steps"].items() if s["action"] == "ran"} == {"comfyui", "workflows"}
    assert (comfyui / "user/default/workflows/rigfit-lightweight.api.json").is_file()


def test_a_torch_the_family_cannot_follow_fails_and_restores(world, env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A plan moving torch to 9.9.0, which no torchvision in the index accepts: the python step fails on the
    resolution and the environment is exactly what it was (the freeze taken before the step)."""
    w, files = world
    comfyui = tmp_path / "ComfyUI"
    assert install(w, json_dump(tmp_path / "good.json", w.plan(files)), comfyui).returncode == 0
    before = freeze(comfyui)
    moved = w.plan(files)
    moved["python"]["requirements"] = ["torch==9.9.0"]
    done = install(w, json_dump(tmp_path / "moved.json", moved), comfyui)
    assert done.returncode == 1 and "installing torch failed" in done.stderr
    assert freeze(comfyui) == before


def test_doctor_and_launch_refuse_a_folder_rigfit_did_not_install(tmp_path: Path) -> None:
    """Bad input, one line, exit 2 (doctor); a missing ComfyUI is an operation failure, exit 1 (launch)."""
    done = rigfit("doctor", "--comfyui", str(tmp_path))
    assert (
        done.returncode == 2 and "not installed by rigfit" in done.stderr and "Traceback" not in done.stderr
    )
    launched = rigfit("launch", "--comfyui", str(tmp_path))
    assert launched.returncode == 1 and "main.py is missing" in launched.stderr


def test_install_from_recommendation_options_builds_the_plan_itself(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No PLAN.json: the plan `rigfit plan` would write for these options is installed (here only the starter
    workflows step, into an empty folder: it notes that ComfyUI comes with the comfyui step) and kept for doctor."""
    comfyui = tmp_path / "C"
    done = rigfit("install", "--comfyui", str(comfyui), "--hardware", "rtx4060-8gb", "--preset", "lightweight",
                  "--only", "workflows", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["steps"]["workflows"]["action"] == "ran"
    plan = json.loads((comfyui / ".rigfit" / "plan.json").read_text())
    assert plan["schema"] == "rigfit.plan/1" and [p["id"] for p in plan["presets"]] == ["lightweight"]
