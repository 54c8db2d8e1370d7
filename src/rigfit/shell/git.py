"""The few git operations the installer needs: clone at a ref or commit, read HEAD, check a checkout is clean.

Everything runs through ``rigfit.shell.runner`` with a timeout; a failure is an ``InstallError`` that quotes
git's last line. Prompts are disabled so a private or missing repository fails instead of waiting for input.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rigfit.core.errors import InstallError
from rigfit.shell.runner import Completed, run

TIMEOUT = 900.0
_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "echo", "LC_ALL": "C"}


def _git(*args: str, cwd: Path | None = None, timeout: float = TIMEOUT) -> Completed:
    return run(["git", *args], timeout=timeout, cwd=cwd, env=_ENV)


def _check(done: Completed, what: str) -> str:
    if not done.ok:
        raise InstallError(f"{what} failed: {done.describe_failure()}")
    return done.stdout.strip()


def head(repo: Path) -> str | None:
    """The commit checked out in ``repo``; None when it is not a git checkout."""
    done = _git("rev-parse", "HEAD", cwd=repo, timeout=30)
    return done.stdout.strip() if done.ok else None


def is_dirty(repo: Path) -> bool:
    done = _git("status", "--porcelain", "--untracked-files=no", cwd=repo, timeout=60)
    return bool(done.ok and done.stdout.strip())


def clone_at(source: str, dest: Path, ref: str | None) -> str:
    """Clone ``source`` into ``dest`` (which must not exist) and check out ``ref``; returns the commit.

    The clone lands in a sibling temporary folder first and is renamed into place, so an interrupted clone
    never leaves a half-filled ``dest`` that a re-run would mistake for a finished one.
    """
    staging = dest.with_name(f".{dest.name}.cloning")
    if staging.exists():
        shutil.rmtree(staging)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _check(_git("clone", "--quiet", "--no-checkout", source, str(staging)), f"git clone {source}")
    if ref:
        # A branch or tag name resolves through origin; a commit id resolves as is.
        for candidate in (f"origin/{ref}", ref):
            if _git(
                "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}", cwd=staging, timeout=30
            ).ok:
                ref = candidate
                break
        else:
            _check(_git("fetch", "--quiet", "origin", ref, cwd=staging), f"git fetch {ref} from {source}")
            ref = "FETCH_HEAD"
    wanted = ref or "HEAD"
    _check(_git("checkout", "--quiet", "--detach", wanted, cwd=staging), f"git checkout {wanted}")
    commit = _check(_git("rev-parse", "HEAD", cwd=staging, timeout=30), "git rev-parse")
    if not dest.exists():
        staging.rename(dest)
        return commit
    # ``dest`` exists already (it holds rigfit's own ``.rigfit`` state): move the checkout in, ``main.py``-style
    # marker files last, so a half-moved tree never looks finished.
    children = sorted(staging.iterdir(), key=lambda p: (p.suffix == ".py" and p.parent == staging, p.name))
    for child in children:
        target = dest / child.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        child.rename(target)
    staging.rmdir()
    return commit


def checkout(repo: Path, ref: str) -> str:
    """Move an existing checkout to ``ref`` (fetching it when unknown); returns the commit."""
    if not _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=repo, timeout=30).ok:
        _check(_git("fetch", "--quiet", "origin", ref, cwd=repo), f"git fetch {ref} in {repo}")
    _check(_git("checkout", "--quiet", "--detach", ref, cwd=repo), f"git checkout {ref} in {repo}")
    return _check(_git("rev-parse", "HEAD", cwd=repo, timeout=30), "git rev-parse")
