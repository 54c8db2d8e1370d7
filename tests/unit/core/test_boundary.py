"""The functional core imports nothing of the shell: no CLI, GUI, processes, network, files, clock or Qt."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[3] / "src" / "rigfit" / "core"

FORBIDDEN_PREFIXES = (
    "rigfit.shell", "rigfit.cli", "rigfit.gui",
    "subprocess", "socket", "ssl", "http", "urllib", "urllib3", "httpx", "requests", "asyncio",
    "PySide6", "shiboken6", "pynvml", "rich", "platformdirs",
    "os", "shutil", "tempfile", "glob", "io", "time", "threading", "multiprocessing", "signal",
    "ctypes", "importlib.resources", "winreg",
)
FORBIDDEN_CALLS = {"open", "input", "print", "exec", "eval", "__import__"}


def _core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def _imported_names(tree: ast.AST, module: str) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                base = module.split(".")[: -node.level]
                names.append(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.append(node.module)
    return names


def _is_forbidden(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in FORBIDDEN_PREFIXES)


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_nothing_of_the_shell(path: Path) -> None:
    module = "rigfit.core." + ".".join(path.relative_to(CORE).with_suffix("").parts)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [n for n in _imported_names(tree, module) if _is_forbidden(n)]
    assert not bad, f"{path.name} imports shell-only modules: {bad}"
    calls = [
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS
    ]
    assert not calls, f"{path.name} calls I/O builtins: {calls}"


def test_importing_the_whole_core_loads_no_shell_module() -> None:
    """Transitive check: import every core module in a fresh interpreter and inspect sys.modules."""
    modules = ["rigfit.core." + ".".join(p.relative_to(CORE).with_suffix("").parts) for p in _core_files()]
    modules = [m.removesuffix(".__init__") for m in modules]
    script = (
        "import importlib, json, sys\n"
        "before = set(sys.modules)\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    # The interpreter preloads os, io and a few others; only modules the core pulled in count.
    bad = [m for m in loaded if _is_forbidden(m) and m not in sys.builtin_module_names]
    assert not bad, f"importing rigfit.core loaded: {bad}"


def test_the_checker_catches_a_forbidden_import() -> None:
    """The walker itself works: a module importing subprocess is flagged."""
    tree = ast.parse("import subprocess\nfrom ..shell import runner\n")
    names = _imported_names(tree, "rigfit.core.x")
    assert [n for n in names if _is_forbidden(n)] == ["subprocess", "rigfit.shell"]
