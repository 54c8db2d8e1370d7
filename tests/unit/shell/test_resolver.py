"""Collecting a node pack's requirements from its folder, and the index options handed to uv."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigfit.shell.resolver import Sources, collect_pack


def pack(tmp_path: Path, **files: str | bytes) -> Path:
    folder = tmp_path / "ComfyUI-Foo"
    folder.mkdir()
    for name, content in files.items():
        path = folder / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def test_requirements_and_pyproject_are_both_read_with_their_files(tmp_path: Path) -> None:
    folder = pack(tmp_path, **{"requirements.txt": "numpy<2\n",
                               "pyproject.toml": '[project]\nname="foo"\ndependencies=["gguf>=0.13"]\n'})
    screened, notes = collect_pack(folder)
    assert [(d.origin.source, str(d.requirement)) for d in screened.declared] == [
        ("requirements.txt", "numpy<2"), ("pyproject.toml", "gguf>=0.13")]
    assert notes == ()


def test_install_py_is_noted_and_never_run(tmp_path: Path) -> None:
    folder = pack(tmp_path, **{"install.py": "raise SystemExit('must not run')\n"})
    screened, notes = collect_pack(folder)
    assert screened.declared == ()
    assert any("install.py" in note for note in notes)


def test_utf16_requirements_file_is_read(tmp_path: Path) -> None:
    """Windows editors save requirements.txt as UTF-16 with a BOM; pip reads it, so must rigfit."""
    folder = pack(tmp_path, **{"requirements.txt": "numpy>=1.26\n".encode("utf-16")})
    screened, _ = collect_pack(folder)
    assert [str(d.requirement) for d in screened.declared] == ["numpy>=1.26"]


def test_includes_are_refused_unless_allowed_and_never_leave_the_pack(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("evil\n", encoding="utf-8")
    folder = pack(tmp_path, **{"requirements.txt": "-r extra/more.txt\n-r ../outside.txt\n",
                               "extra__more.txt": "einops\n-r more.txt\n"})
    refused, _ = collect_pack(folder)
    assert [r.kind for r in refused.refused] == ["include", "include"]
    allowed, notes = collect_pack(folder, allow_unsafe=True)
    assert [(d.origin.source, str(d.requirement)) for d in allowed.declared] == [("extra/more.txt", "einops")]
    assert sum("skipped" in note for note in notes) == 2  # the escape and the repeated include


@pytest.mark.parametrize(
    ("sources", "env", "args"),
    [
        pytest.param(Sources(find_links=("/w",)), {}, ["--no-index", "--find-links", "/w"], id="wheelhouse-offline"),
        pytest.param(Sources("https://m.example/simple", ("/w",)), {},
                     ["--index-url", "https://m.example/simple", "--find-links", "/w"], id="mirror-plus-wheels"),
        pytest.param(Sources(find_links=("/w",)), {"UV_INDEX_URL": "https://m.example/simple"},
                     ["--find-links", "/w"], id="env-index-kept"),
        pytest.param(Sources(offline=True), {}, ["--offline"], id="offline"),
        pytest.param(Sources(), {}, [], id="defaults"),
    ],
)
def test_index_options(sources: Sources, env: dict[str, str], args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert sources.args() == args


@pytest.mark.parametrize("offline", [True, False])
def test_the_planned_torch_question_honours_offline(offline: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """`rigfit plan --offline` asks the torch index from uv's cache only: uv gets --offline with the index URL."""
    from rigfit.core.normalize import Target
    from rigfit.shell import resolver
    from rigfit.shell.runner import Completed

    for key in ("UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        monkeypatch.delenv(key, raising=False)
    seen: list[tuple[str, ...]] = []

    def record(argv: list[str], **_: object) -> Completed:
        seen.append(tuple(argv))
        return Completed(tuple(argv), 0, "torch==2.13.0+cu130\ntorchvision==0.28.0+cu130\n", "", 0.0)

    monkeypatch.setattr(resolver, "run", record)
    pins = resolver.planned_torch(Target("linux", accelerator="nvidia"), "https://download.pytorch.org/whl/cu130",
                                  "<2.15", Sources(offline=offline))
    assert pins == {"torch": "2.13.0+cu130", "torchvision": "0.28.0+cu130"}
    argv = seen[0]
    assert argv[argv.index("--index-url") + 1] == "https://download.pytorch.org/whl/cu130"
    assert ("--offline" in argv) is offline
