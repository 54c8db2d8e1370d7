"""``rigfit install PLAN --comfyui DIR --only models`` as a user runs it: a real process, a real local server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures.fileserver import Fault, FileServer, sha256_hex


def _rigfit(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    full_env.update({"RIGFIT_HOME": str(tmp / "home"), **(env or {})})
    return subprocess.run([sys.executable, "-m", "rigfit", *args], capture_output=True, text=True, env=full_env,
                          timeout=120, stdin=subprocess.DEVNULL)


def _write_plan(tmp: Path, files: list[dict[str, Any]]) -> Path:
    path = tmp / "plan.json"
    path.write_text(json.dumps({"schema": "rigfit.plan/1", "files": files}))
    return path


def _entry(srv: FileServer, name: str, data: bytes, *, folder: str = "vae", sha: bool = True) -> dict[str, Any]:
    srv.add(f"/{name}", data)
    return {"url": srv.url(f"/{name}"), "filename": name, "folder": folder, "bytes": len(data),
            "sha256": sha256_hex(data) if sha else None}


def test_install_models_downloads_verifies_and_reports_json(server: FileServer, tmp_path: Path) -> None:
    a, b = os.urandom(300_000), os.urandom(100_000)
    plan = _write_plan(tmp_path, [_entry(server, "ae.safetensors", a), _entry(server, "l.safetensors", b,
                                                                                folder="loras", sha=False)])
    result = _rigfit(tmp_path, "install", str(plan), "--comfyui", str(tmp_path / "ComfyUI"), "--only", "models",
                     "--json", "--jobs", "2", "--segments", "3")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "rigfit.install/1"
    models = doc["steps"]["models"]
    assert models["ok"] is True and models["downloaded_bytes"] == len(a) + len(b)
    assert models["store"] == str(tmp_path / "home" / "data" / "store")
    assert [(f["status"], f["verified_by"], f["how"]) for f in models["files"]] == [
        ("downloaded", "sha256", "hardlink"), ("downloaded", "size", "hardlink")]
    assert (tmp_path / "ComfyUI" / "models" / "vae" / "ae.safetensors").read_bytes() == a
    assert (tmp_path / "ComfyUI" / "models" / "loras" / "l.safetensors").read_bytes() == b
    again = _rigfit(tmp_path, "install", str(plan), "--comfyui", str(tmp_path / "ComfyUI"), "--only", "models",
                    "--json")
    assert [f["status"] for f in json.loads(again.stdout)["steps"]["models"]["files"]] == ["present", "present"]


def test_models_dir_moves_the_store_and_the_table_output_names_each_file(server: FileServer, tmp_path: Path) -> None:
    plan = _write_plan(tmp_path, [_entry(server, "x.safetensors", os.urandom(10_000))])
    result = _rigfit(tmp_path, "install", str(plan), "--comfyui", str(tmp_path / "C"), "--only", "models",
                     "--models-dir", str(tmp_path / "elsewhere"), "--yes")
    assert result.returncode == 0, result.stderr
    assert "downloaded" in result.stdout and "vae/x.safetensors" in result.stdout
    assert list((tmp_path / "elsewhere" / "objects" / "sha256").rglob("*"))
    assert not (tmp_path / "home" / "data" / "store").exists()


def test_a_failed_file_gives_exit_1_and_the_others_still_arrive(server: FileServer, tmp_path: Path) -> None:
    good = os.urandom(20_000)
    entries = [_entry(server, "good.safetensors", good), _entry(server, "gone.safetensors", b"x")]
    server.fault("/gone.safetensors", Fault("status", status=404))
    result = _rigfit(tmp_path, "install", str(_write_plan(tmp_path, entries)), "--comfyui", str(tmp_path / "C"),
                     "--only", "models", "--json")
    assert result.returncode == 1
    files = json.loads(result.stdout)["steps"]["models"]["files"]
    assert [f["status"] for f in files] == ["downloaded", "failed"]
    assert "HTTP 404" in files[1]["error"]
    assert (tmp_path / "C" / "models" / "vae" / "good.safetensors").read_bytes() == good


def test_hf_endpoint_and_token_reach_the_mirror(server: FileServer, tmp_path: Path) -> None:
    """A huggingface.co URL in the plan is fetched from HF_ENDPOINT, with HF_TOKEN (the mirror is HF)."""
    data = os.urandom(30_000)
    path = "/org/repo/resolve/main/m.safetensors"
    server.add(path, data)
    plan = _write_plan(tmp_path, [{"url": "https://huggingface.co" + path, "filename": "m.safetensors",
                                   "folder": "checkpoints", "bytes": len(data), "sha256": sha256_hex(data)}])
    result = _rigfit(tmp_path, "install", str(plan), "--comfyui", str(tmp_path / "C"), "--only", "models",
                     "--json", env={"HF_ENDPOINT": server.url(""), "HF_TOKEN": "hf_abc"})
    assert result.returncode == 0, result.stderr
    assert {r.headers.get("authorization") for r in server.requests(path)} == {"Bearer hf_abc"}


def test_gated_model_without_token_says_what_to_do(server: FileServer, tmp_path: Path) -> None:
    path = "/black-forest-labs/FLUX.1-dev/resolve/main/flux1-dev.safetensors"
    server.add(path, b"x")
    server.fault(path, Fault("status", status=401))
    plan = _write_plan(tmp_path, [{"url": "https://huggingface.co" + path, "filename": "flux1-dev.safetensors",
                                   "folder": "diffusion_models", "bytes": 1, "sha256": None}])
    result = _rigfit(tmp_path, "install", str(plan), "--comfyui", str(tmp_path / "C"), "--only", "models",
                     env={"HF_ENDPOINT": server.url("")})
    assert result.returncode == 1
    assert "https://huggingface.co/black-forest-labs/FLUX.1-dev" in result.stdout
    assert "HF_TOKEN" in result.stdout


def test_not_enough_space_refuses_before_the_first_byte(server: FileServer, tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        plan = _write_plan(tmp_path, [_entry(server, "big.safetensors", os.urandom(2_000_000))])
        result = _rigfit(tmp_path, "install", str(plan), "--comfyui", str(tmp_path / "C"), "--only", "models",
                         "--models-dir", str(mount))
        assert result.returncode == 1
        assert "not enough free space" in result.stderr and "--models-dir" in result.stderr
        assert server.log == []
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--only", "bogus"], "invalid choice"),
        (["--only", "models", "--jobs", "0"], "--jobs must be between"),
    ],
    ids=["unknown-step", "zero-jobs"],
)
def test_bad_steps_and_options_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    plan = _write_plan(tmp_path, [])
    result = _rigfit(tmp_path, "install", str(plan), "--comfyui", str(tmp_path / "C"), *args)
    assert result.returncode == 2 and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_install_without_a_plan_takes_the_recommendation_options_and_refuses_a_bad_one(tmp_path: Path) -> None:
    """With no plan file the recommendation options build the plan, so their bad input is exit 2 as well."""
    result = _rigfit(tmp_path, "install", "--comfyui", str(tmp_path / "C"), "--only", "models",
                     "--hardware", "rtx4060-8gb", "--preset", "no-such-preset")
    assert result.returncode == 2 and "no-such-preset" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"schema": "rigfit.plan/1", "files": [{"url": "file:///etc/passwd", "filename": "../x",
                                                            "folder": "vae"}]}), "and 1 more"),
    ],
    ids=["not-json", "unsafe-entries"],
)
def test_malformed_or_unsafe_plan_exits_2_with_one_line(tmp_path: Path, content: str, needle: str) -> None:
    (tmp_path / "plan.json").write_text(content)
    result = _rigfit(tmp_path, "install", str(tmp_path / "plan.json"), "--comfyui", str(tmp_path / "C"),
                     "--only", "models")
    assert result.returncode == 2 and needle in result.stderr
    assert result.stderr.count("\n") == 1


def test_missing_plan_file_exits_2(tmp_path: Path) -> None:
    result = _rigfit(tmp_path, "install", str(tmp_path / "nope.json"), "--comfyui", str(tmp_path / "C"),
                     "--only", "models")
    assert result.returncode == 2 and "cannot read plan" in result.stderr


def test_bad_hf_endpoint_exits_2(tmp_path: Path) -> None:
    plan = _write_plan(tmp_path, [])
    result = _rigfit(tmp_path, "install", str(plan), "--comfyui", str(tmp_path / "C"), "--only", "models",
                     env={"HF_ENDPOINT": "http://mirror.example.com"})
    assert result.returncode == 2 and "HF_ENDPOINT" in result.stderr
