"""Plumbing for the bad-input corpus (tests/test_bad_inputs*.py): build a project from a table
of files, run the real ``devenv`` on it, and check that the answer is one a person can act on.

A case's files are ``{relative path: content}``; content is text, bytes, or one of the
markers below for what plain text cannot say (a folder, a symlink, a mode).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Folder:
    """A folder (empty) where the table puts it."""


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target`` (which may not exist)."""

    target: str


@dataclass(frozen=True)
class Mode:
    """A file with ``content`` and permission bits ``mode`` (0o000: unreadable)."""

    content: str | bytes
    mode: int


Content = str | bytes | Folder | Link | Mode


def write_files(root: Path, files: Mapping[str, Content]) -> None:
    """Create ``files`` below ``root``; parents are made as needed."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Folder):
            path.mkdir(exist_ok=True)
        elif isinstance(content, Link):
            path.symlink_to(content.target)
        elif isinstance(content, Mode):
            _write(path, content.content)
            path.chmod(content.mode)
        else:
            _write(path, content)


def _write(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def project(root: Path, files: Mapping[str, Content]) -> Path:
    """A project at ``root`` with ``files``; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, files)
    return root


# Root reads and writes anything; without these two capabilities it obeys file modes like any
# other account, so "unreadable" and "read-only" cases mean the same as on a laptop.
_SETPRIV = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


def as_a_user_prefix() -> list[str]:
    """What to put before a command so that file modes apply to it; skips the test if nothing
    can (root without setpriv)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file modes cannot be made to apply")
    return _SETPRIV


_DROPPED = ("PORT", "DATABASE_URL", "REDIS_URL", "XDG_STATE_HOME")


def environ(**extra: str) -> dict[str, str]:
    """This environment without what would change devenv's answers (a PORT, a PGHOST, the
    state folder: see ``run``), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED and not k.startswith("PG")}
    env.update(extra)
    return env


def run(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    modes_apply: bool = False,
    **kw,
) -> subprocess.CompletedProcess:
    """The real ``devenv ARGS`` in ``cwd``; ``modes_apply``: as an account that file modes
    bind (see ``as_a_user_prefix``)."""
    prefix = as_a_user_prefix() if modes_apply else []
    env = dict(env) if env is not None else environ()
    # Each case's own state folder: devenv's per-user registry of port blocks holds a block for
    # every project folder that still exists, and a corpus makes hundreds of them.
    env.setdefault("XDG_STATE_HOME", str(Path(cwd).parent / ".xdg-state"))
    return subprocess.run(
        [*prefix, sys.executable, "-m", "devenv", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        **kw,
    )


def assert_answered(result: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    """Exit code ``code``, every needle in the output (stderr + stdout, case-sensitive), and
    no traceback anywhere."""
    output = result.stderr + result.stdout
    shown = (
        f"exit code {result.returncode}\n--- stderr\n{result.stderr}\n--- stdout\n{result.stdout}"
    )
    assert "Traceback" not in output, shown
    assert "internal error" not in output, shown
    missing = [needle for needle in needles if needle not in output]
    assert not missing, f"missing {missing}\n{shown}"
    assert result.returncode == code, shown


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The error's text: stderr's lines that start with ``devenv:``, joined."""
    return " ".join(line for line in result.stderr.splitlines() if line.startswith("devenv"))
