"""`rigfit deps check` against a wheelhouse of tiny wheels built here, with the real uv, offline.

The wheels carry only METADATA (numpy 1 and 2, four OpenCV variants, onnxruntime builds, a fake torch with a
``+cpu`` local version, torchvision/xformers pinned to torch releases, ...). Each clash the resolver must
settle or report is built from node-pack folders with requirements.txt or pyproject.toml.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rigfit.cli.main import main
from rigfit.core.errors import ResolveError
from rigfit.core.normalize import Target
from rigfit.shell.resolver import Sources, resolve_lock, uv_binary

OPENCV = ("opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless")
WHEELS: list[tuple[str, str, tuple[str, ...]]] = [
    ("numpy", "1.26.4", ()), ("numpy", "2.1.0", ()),
    ("torch", "2.7.1", ()), ("torch", "2.13.0", ()), ("torch", "2.13.0+cpu", ()), ("torch", "2.14.0", ()),
    ("torchvision", "0.28.0", ("torch==2.13.0",)), ("torchvision", "0.29.0", ("torch>=2.14.0",)),
    ("torchaudio", "2.11.0", ("torch==2.13.0",)),
    ("xformers", "0.0.33", ("torch==2.13.0",)), ("xformers", "0.0.34", ("torch==2.14.0",)),
    ("kornia", "0.8.0", ("torch>=2.0", "numpy")),
    ("oldlib", "1.0", ("numpy<2",)), ("newlib", "1.0", ("numpy>=2",)),
    ("transformers", "4.49.0", ("numpy",)), ("transformers", "4.50.3", ("numpy",)),
    ("ultra", "1.0", ("opencv-python>=4.6",)), ("rembgish", "1.0", ("opencv-python-headless",)),
    ("onnxruntime", "1.20.0", ()), ("onnxruntime-gpu", "1.20.0", ()), ("onnxruntime-directml", "1.20.0", ()),
    *((cv, "4.11.0.86", ("numpy>=1.21",)) for cv in OPENCV),
    *((cv, "4.12.0.88", ("numpy>=2",)) for cv in OPENCV),
]


def _write_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...]) -> None:
    """A valid wheel with METADATA, WHEEL and RECORD only: enough for a resolver and an installer."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    files = {f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
             + "".join(f"Requires-Dist: {r}\n" for r in requires),
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    digest = {p: base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b"=").decode()
              for p, t in files.items()}
    files[f"{info}/RECORD"] = "".join(f"{p},sha256={digest[p]},{len(t)}\n" for p, t in files.items()) \
        + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(folder / f"{dist}-{version}-py3-none-any.whl", "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheelhouse")
    for name, version, requires in WHEELS:
        _write_wheel(folder, name, version, requires)
    return folder


@pytest.fixture(scope="session", autouse=True)
def _uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A private uv cache, and no index settings inherited from the machine running the tests."""
    saved = {k: os.environ.get(k) for k in ("UV_CACHE_DIR", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL")}
    os.environ["UV_CACHE_DIR"] = str(tmp_path_factory.mktemp("uv-cache"))
    for key in ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL"):
        os.environ.pop(key, None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("profiles")
    gpu = {"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4060", "vram_bytes": 8585740288,
           "compute_capability": "8.9", "architecture": "ada", "driver_version": "580.95",
           "cuda_driver_version": "13.0", "unified_memory": False}
    docs = {"nvidia": {"schema": "rigfit.hardware/1", "os": "linux", "arch": "x86_64", "ram_bytes": 2**35, "gpus": [gpu]},
            "cpu": {"schema": "rigfit.hardware/1", "os": "linux", "arch": "x86_64", "ram_bytes": 2**34, "gpus": []}}
    paths = {}
    for key, doc in docs.items():
        paths[key] = folder / f"{key}.json"
        paths[key].write_text(json.dumps(doc), encoding="utf-8")
    return paths


def make_packs(root: Path, **packs: str) -> list[str]:
    """Node-pack folders: a value starting with '[project]' is a pyproject.toml, else a requirements.txt."""
    dirs = []
    for name, text in packs.items():
        folder = root / name
        folder.mkdir(parents=True)
        filename = "pyproject.toml" if text.startswith("[project]") else "requirements.txt"
        (folder / filename).write_text(text, encoding="utf-8")
        dirs.append(str(folder))
    return dirs


def deps_check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["deps", "check", *args, "--json"])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else {})


@pytest.fixture
def check(capsys: pytest.CaptureFixture[str], wheelhouse: Path, profiles: dict[str, Path], tmp_path: Path) -> Any:
    def _check(*extra: str, hardware: str = "nvidia", **packs: str) -> tuple[int, dict[str, Any]]:
        dirs = make_packs(tmp_path / "packs", **packs)
        return deps_check(capsys, *dirs, "--find-links", str(wheelhouse), "--hardware", str(profiles[hardware]),
                          *extra)
    return _check


def names(lock: list[str]) -> dict[str, str]:
    return dict(line.split("==", 1) for line in lock)


def test_clean_set_resolves_with_one_opencv_and_torch_untouched(check: Any) -> None:
    code, doc = check(KJNodes="numpy\nkornia\nopencv-python-headless>=4.7\n",
                      Impact="[project]\nname='impact'\ndependencies=['opencv-python', 'transformers']\n")
    assert code == 0, doc
    assert doc["schema"] == "rigfit.deps/1"
    assert doc["conflicts"] == [] and doc["refused_lines"] == []
    lock = names(doc["lock"])
    assert [n for n in lock if n.startswith("opencv")] == ["opencv-python"]
    assert "torch" not in lock  # the torch build is installed from its own index, never from this lock
    assert "torch==2.13.0+cpu" in doc["torch"]["pins"]
    assert lock["kornia"] == "0.8.0"


def test_numpy_clash_is_attributed_to_exactly_the_two_packs(check: Any) -> None:
    code, doc = check(LayerStyle="numpy<2.0\nopencv-contrib-python\n", Bystander="numpy\nkornia\n",
                      NewNode="[project]\nname='x'\ndependencies=['numpy>=2.0']\n")
    assert code == 1
    [conflict] = doc["conflicts"]
    assert conflict["packs"] == ["LayerStyle", "NewNode"]
    assert conflict["packages"] == ["numpy"]
    assert "LayerStyle needs numpy<2.0" in conflict["detail"] and "NewNode needs numpy>=2.0" in conflict["detail"]
    assert doc["lock"] == []


def test_every_conflict_is_found_not_only_the_first(check: Any) -> None:
    code, doc = check(Old="numpy<2\n", New1="numpy>=2\n", New2="newlib\n")
    assert code == 1
    assert [c["packs"] for c in doc["conflicts"]] == [["Old", "New1"], ["Old", "New2"]]
    assert doc["conflicts"][1]["packages"][0] in {"newlib", "numpy"}


def test_conflict_through_a_dependency_names_the_packs_not_the_library(check: Any) -> None:
    code, doc = check(UsesOldlib="oldlib\n", WantsNumpy2="numpy>=2\n", Other="kornia\n")
    assert code == 1
    [conflict] = doc["conflicts"]
    assert conflict["packs"] == ["UsesOldlib", "WantsNumpy2"]
    assert "numpy" in conflict["packages"]


@pytest.mark.parametrize(
    ("line", "package"),
    [pytest.param("torch==2.7.1", "torch", id="direct-downgrade"),
     pytest.param("torchvision>=0.29", "torchvision", id="through-torchvision"),
     pytest.param("xformers==0.0.34", "xformers", id="xformers-for-another-torch")],
)
def test_a_pack_can_never_change_torch(check: Any, line: str, package: str) -> None:
    code, doc = check(Downgrader=f"{line}\n", Fine="numpy\n")
    assert code == 1
    [conflict] = doc["conflicts"]
    assert conflict["packs"] == ["Downgrader"]
    assert conflict["against"] == ["the torch build"]
    assert package in conflict["packages"]


def test_torch_family_members_a_pack_adds_follow_the_torch_build(check: Any) -> None:
    code, doc = check(Video="torch>=2.0\ntorchvision\nxformers\n")
    assert code == 0, doc
    lock = names(doc["lock"])
    assert lock["xformers"] == "0.0.33"  # the build for torch 2.13, not the newest
    assert "torch" not in lock


def test_opencv_variants_pulled_in_by_dependencies_are_reduced_to_one(check: Any) -> None:
    code, doc = check(Detect="ultra\n", Rembg="rembgish\n")
    assert code == 0, doc
    assert [n for n in names(doc["lock"]) if n.startswith("opencv")] == ["opencv-python"]
    assert any("OpenCV" in note for note in doc["notes"])


def test_all_four_opencv_variants_collapse_to_contrib(check: Any) -> None:
    packs = {f"P{i}": f"{cv}\n" for i, cv in enumerate(OPENCV)}
    code, doc = check(**packs)
    assert code == 0, doc
    assert [n for n in names(doc["lock"]) if n.startswith("opencv")] == ["opencv-contrib-python"]


@pytest.mark.parametrize(("hardware", "chosen"), [("nvidia", "onnxruntime-gpu"), ("cpu", "onnxruntime")])
def test_onnxruntime_build_follows_the_hardware(check: Any, hardware: str, chosen: str) -> None:
    code, doc = check(ReActor="onnxruntime>=1.16\n", Other="onnxruntime-gpu\n", hardware=hardware)
    assert code == 0, doc
    assert [n for n in names(doc["lock"]) if n.startswith("onnxruntime")] == [chosen]


def test_hostile_lines_are_refused_and_the_rest_still_resolves(check: Any) -> None:
    text = ("numpy\n--extra-index-url https://evil.example/simple\n-e .\ngit+https://example.com/x.git\n"
            "evil @ https://example.com/evil-1.0-py3-none-any.whl\nnot a requirement!\n")
    code, doc = check(Hostile=text)
    assert code == 1
    refused = {(r["line"], r["kind"]) for r in doc["refused_lines"]}
    assert refused == {(2, "source"), (3, "direct-url"), (4, "direct-url"), (5, "direct-url"), (6, "malformed")}
    assert all(r["pack"] == "Hostile" for r in doc["refused_lines"])
    assert doc["conflicts"] == [] and "numpy==2.1.0" in doc["lock"]


def test_human_report_names_packs_and_refused_lines(capsys: pytest.CaptureFixture[str], wheelhouse: Path,
                                                  profiles: dict[str, Path], tmp_path: Path) -> None:
    dirs = make_packs(tmp_path, A="numpy<2\n-i https://evil.example/simple\n", B="numpy>=2\n")
    code = main(["deps", "check", *dirs, "--find-links", str(wheelhouse), "--hardware", str(profiles["nvidia"])])
    out = capsys.readouterr().out
    assert code == 1
    assert "A needs numpy<2" in out and "B needs numpy>=2" in out
    assert "A/requirements.txt:2" in out


@pytest.mark.parametrize(
    "args",
    [pytest.param(["/no/such/pack"], id="missing-folder"),
     pytest.param(["{pack}", "--index-url", "not a url"], id="bad-index-url"),
     pytest.param(["{pack}", "--find-links", "/no/such/wheels"], id="missing-wheelhouse"),
     pytest.param([], id="nothing-to-check")],
)
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]) -> None:
    pack = tmp_path / "P"
    pack.mkdir()
    code = main(["deps", "check", *[a.format(pack=pack) for a in args]])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err


def test_installation_python_and_torch_are_the_target(capsys: pytest.CaptureFixture[str], wheelhouse: Path,
                                                    profiles: dict[str, Path], tmp_path: Path) -> None:
    """With --comfyui, the venv's own torch (2.13.0+cpu) and ComfyUI's requirements.txt are the fixed side."""
    comfy = tmp_path / "ComfyUI"
    (comfy / "custom_nodes").mkdir(parents=True)
    (comfy / "requirements.txt").write_text("torch\ntransformers>=4.50.3\nnumpy\n", encoding="utf-8")
    uv = uv_binary()
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(comfy / ".venv")], check=True, timeout=120)
    subprocess.run([uv, "pip", "install", "-q", "--python", str(comfy / ".venv" / "bin" / "python"), "--no-index",
                    "--find-links", str(wheelhouse), "torch==2.13.0+cpu", "torchvision"], check=True, timeout=120)
    make_packs(comfy / "custom_nodes", Florence2="transformers<=4.49.0\n", Fine="numpy\n")
    code, doc = deps_check(capsys, "--comfyui", str(comfy), "--find-links", str(wheelhouse),
                           "--hardware", str(profiles["nvidia"]))
    assert code == 1
    assert doc["python"] == ".".join(str(part) for part in sys.version_info[:3])
    assert doc["torch"]["pins"] == ["torch==2.13.0+cpu", "torchvision==0.28.0"]
    [conflict] = doc["conflicts"]
    assert conflict["packs"] == ["Florence2"] and conflict["against"] == ["ComfyUI"]
    assert "ComfyUI requires transformers>=4.50.3" in conflict["detail"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def simple_index(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PEP 503 index of the wheelhouse, served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("index")
    by_project: dict[str, list[Path]] = {}
    for wheel in wheelhouse.glob("*.whl"):
        by_project.setdefault(wheel.name.split("-")[0].replace("_", "-").lower(), []).append(wheel)
    for project, wheels in by_project.items():
        (root / "simple" / project).mkdir(parents=True)
        links = "".join(f'<a href="/files/{w.name}">{w.name}</a>\n' for w in wheels)
        (root / "simple" / project / "index.html").write_text(f"<html><body>{links}</body></html>")
    (root / "files").symlink_to(wheelhouse)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()


def test_index_url_and_uv_environment_are_honoured(capsys: pytest.CaptureFixture[str], simple_index: str,
                                                  profiles: dict[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    dirs = make_packs(tmp_path, A="oldlib\n")
    code, doc = deps_check(capsys, *dirs, "--index-url", simple_index, "--hardware", str(profiles["cpu"]))
    assert code == 0, doc
    assert "numpy==1.26.4" in doc["lock"]
    monkeypatch.setenv("UV_INDEX_URL", simple_index)
    code, doc = deps_check(capsys, *dirs, "--hardware", str(profiles["cpu"]))
    assert code == 0, doc
    assert "oldlib==1.0" in doc["lock"]


def test_resolve_lock_for_declared_requirements(wheelhouse: Path) -> None:
    """The function the plan calls: pack id → lines in, pinned lines out; conflicts raise naming the packs."""
    sources = Sources(find_links=(str(wheelhouse),))
    target = Target("linux", "x86_64", "nvidia", "3.11")
    build = {"torch": "2.13.0+cpu", "torchvision": "0.28.0"}
    lock = resolve_lock({"comfyui-gguf": ["numpy<2", "onnxruntime"], "kj": ["kornia"]}, target, build,
                        sources=sources)
    assert "numpy==1.26.4" in lock and "onnxruntime-gpu==1.20.0" in lock
    assert not any(line.startswith(("torch==", "nodepack-")) for line in lock)
    with pytest.raises(ResolveError, match="a needs numpy<2; b needs numpy>=2"):
        resolve_lock({"a": ["numpy<2"], "b": ["numpy>=2"]}, target, build, sources=sources)
    with pytest.raises(ResolveError, match="changes where packages come from"):
        resolve_lock({"a": ["--index-url https://evil.example/simple"]}, target, build, sources=sources)


def test_one_pack_with_two_problems_gets_both_reported(check: Any) -> None:
    """After a conflict the blamed pack's line is taken out, not the whole pack, so its next conflict shows."""
    code, doc = check(Old="numpy<2\n", NewNode="numpy>=2.0\ntorch==2.7.1\nkornia\n")
    assert code == 1
    assert sorted(tuple(c["packs"]) for c in doc["conflicts"]) == [("NewNode",), ("Old", "NewNode")]
    assert sorted(line for r in doc["relaxed"] for line in r["lines"]) == ["numpy>=2.0", "torch==2.7.1"]
    assert doc["set_aside"] == []


def test_torch_pins_and_an_interpreter_can_be_given(capsys: pytest.CaptureFixture[str], wheelhouse: Path,
                                                   profiles: dict[str, Path], tmp_path: Path) -> None:
    dirs = make_packs(tmp_path, A="torchvision\n")
    base = [*dirs, "--find-links", str(wheelhouse), "--hardware", str(profiles["cpu"])]
    code, doc = deps_check(capsys, *base, "--torch", "torch==2.13.0", "--python", sys.executable)
    assert code == 0, doc
    assert doc["python"] == ".".join(str(part) for part in sys.version_info[:3])
    assert doc["torch"]["pins"] == ["torch==2.13.0"]
    assert "torchvision==0.28.0" in doc["lock"]
    assert main(["deps", "check", *base, "--torch", "numpy==1.0"]) == 2


def test_conflicts_the_declared_specifiers_prove_cost_no_resolution_of_their_own(check: Any) -> None:
    """numpy<2 against numpy>=2 and a torch pin against the build are taken out before uv runs: one run for
    everything left, one beside it for the pack whose numpy line was taken out, checked alone."""
    code, doc = check(Old="numpy<2\n", NewNode="numpy>=2.0\ntorch==2.7.1\nkornia\n", Fine="kornia\n")
    assert code == 1
    assert sorted(tuple(c["packs"]) for c in doc["conflicts"]) == [("NewNode",), ("Old", "NewNode")]
    assert doc["resolver_runs"] == 2
    numpy_conflict = next(c for c in doc["conflicts"] if c["packages"] == ["numpy"])
    assert "Old needs numpy<2" in numpy_conflict["detail"] and "NewNode needs numpy>=2.0" in numpy_conflict["detail"]


def test_a_declared_pair_is_not_reported_when_one_pack_fails_alone(check: Any) -> None:
    """B's numpy>=2 contradicts B's own dependency oldlib (numpy<2): the smallest failing set is B alone, not
    the pair A+B that the declared specifiers suggest; uv's explanation is used instead."""
    code, doc = check(A="numpy<2\n", B="numpy>=2\noldlib\n")
    assert code == 1
    assert [c["packs"] for c in doc["conflicts"]] == [["B"]]
    assert "numpy" in doc["conflicts"][0]["packages"]


def test_the_command_never_imports_dataclasses(wheelhouse: Path, profiles: dict[str, Path], tmp_path: Path) -> None:
    """Start-up of `rigfit deps check` is benchmarked: importing ``dataclasses`` (it pulls in ``inspect``) and
    creating frozen dataclasses cost ~20 ms of it, so its values are NamedTuples (rigfit.core's docstring)."""
    dirs = make_packs(tmp_path, A="numpy<2\n", B="[project]\nname = 'b'\ndependencies = ['numpy>=2']\n")
    argv = ["deps", "check", *dirs, "--find-links", str(wheelhouse), "--hardware", str(profiles["nvidia"]),
            "--torch", "torch==2.13.0", "--json"]
    script = ("import sys, json\nfrom rigfit.cli.main import main\n"
              f"code = main({argv!r})\n"
              "print(json.dumps([code, sorted(m for m in ('dataclasses', 'inspect') if m in sys.modules)]), "
              "file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    code, imported = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 1, done.stdout  # the pair conflicts: the whole command ran, uv included
    assert imported == []
