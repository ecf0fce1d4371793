"""`devenv demo DIR`: copy the bundled demo project out, as a git repository
with an "origin" to push to, so the onboarding can end with a real push.

The origin is a bare repository beside the demo (``DIR-origin.git``): no
network, no account, and `git push` works the way it will at work.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devenv.errors import DevenvError, UsageError
from devenv.resources import templates_dir

# Used only when git has no user.name / user.email configured.
_FALLBACK_IDENTITY = {"user.name": "devenv", "user.email": "devenv@localhost.invalid"}


@dataclass(frozen=True)
class Demo:
    path: Path  # the demo project, a git repository on branch main
    origin: Path  # the bare repository that is its remote "origin"


def create_demo(dest: Path) -> Demo:
    """Copy the demo project to ``dest``, commit it, and push it to a bare origin beside it.

    ``dest`` must not exist or be an empty folder. Nothing is left behind on failure.
    """
    dest = Path(dest).expanduser().resolve()
    origin = dest.with_name(f"{dest.name}-origin.git")
    _require_empty(dest, "the demo")
    _require_empty(origin, "the demo's origin repository")
    git = shutil.which("git")
    if git is None:
        raise DevenvError(f"git is not installed; install it with {_git_install_hint()}")

    created = [path for path in (dest, origin) if not path.exists()]
    try:
        shutil.copytree(
            templates_dir() / "demo",
            dest,
            ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".ruff_cache", "*.pyc"),
            dirs_exist_ok=True,
        )
        _git(git, "init", "--quiet", "--bare", str(origin))
        _git(git, "symbolic-ref", "HEAD", "refs/heads/main", cwd=origin)
        _git(git, "init", "--quiet", cwd=dest)
        _git(git, "symbolic-ref", "HEAD", "refs/heads/main", cwd=dest)
        _git(git, "add", "--all", cwd=dest)
        identity = [
            arg
            for key, value in _FALLBACK_IDENTITY.items()
            if not _git_config(git, key, cwd=dest)
            for arg in ("-c", f"{key}={value}")
        ]
        _git(git, *identity, "commit", "--quiet", "-m", "The devenv demo project", cwd=dest)
        _git(git, "remote", "add", "origin", str(origin), cwd=dest)
        _git(git, "push", "--quiet", "--set-upstream", "origin", "main", cwd=dest)
    except BaseException:
        for path in (dest, origin):
            if path in created:
                shutil.rmtree(path, ignore_errors=True)
            elif path.is_dir():  # it was empty before: empty it again
                for child in path.iterdir():
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink(missing_ok=True)
        raise
    return Demo(path=dest, origin=origin)


def _require_empty(path: Path, what: str) -> None:
    """Raise UsageError (exit 2: the DIR given is the mistake) unless ``path`` is free to use."""
    if not path.exists():
        return
    if not path.is_dir():
        raise UsageError(f"cannot create {what} at {path}: it is a file; choose another folder")
    if any(path.iterdir()):
        raise UsageError(
            f"cannot create {what} in {path}: the folder is not empty; choose another folder"
        )


def _git(git: str, *args: str, cwd: Path | None = None) -> str:
    result = subprocess.run([git, *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise DevenvError(f"git {' '.join(args)} failed in {cwd or Path.cwd()}:\n{detail}")
    return result.stdout


def _git_config(git: str, key: str, cwd: Path) -> str:
    """The configured value of ``key``, or "" when it is not set."""
    result = subprocess.run([git, "config", "--get", key], cwd=cwd, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def _git_install_hint() -> str:
    if sys.platform == "darwin":
        return "`xcode-select --install` or `brew install git`"
    if shutil.which("apt-get"):
        return "`sudo apt-get install git`"
    if shutil.which("dnf"):
        return "`sudo dnf install git`"
    return "your system's package manager"
