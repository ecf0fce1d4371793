"""Real virtualenvs for tests, made by uv from small local wheels (tests/wheels.py): no network.

``make_venv(folder, {"alpha": "1.0"})`` gives a venv holding exactly those
packages, in about 0.2 s; ``install(venv, {...})`` makes it hold exactly another set
(``uv pip sync``: installs, upgrades, downgrades and removes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.wheels import build_wheel


def uv_bin() -> str:
    import uv

    return uv.find_uv_bin()


def _uv(*args: object) -> None:
    # No cache (each test's wheels differ), and never a download of an interpreter.
    env = dict(os.environ, UV_NO_CACHE="1", UV_PYTHON_DOWNLOADS="never")
    result = subprocess.run(
        [uv_bin(), *map(str, args)], env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"uv {args[:2]} failed:\n{result.stdout}{result.stderr}")


def install(venv: Path, packages: Mapping[str, str]) -> None:
    """Make ``venv`` hold exactly ``packages`` (name -> version), wheels built beside it."""
    wheels = venv.parent / f"{venv.name}-wheels"
    for name, version in packages.items():
        build_wheel(wheels, name, version)
    wheels.mkdir(parents=True, exist_ok=True)
    requirements = venv.parent / f"{venv.name}-sync.txt"
    requirements.write_text("".join(f"{n}=={v}\n" for n, v in packages.items()))
    python = venv / "bin" / "python"
    _uv("pip", "sync", "-q", "--python", python, "--no-index", "--find-links", wheels, requirements)


def make_venv(venv: Path, packages: Mapping[str, str], python: str | None = None) -> Path:
    """A venv at ``venv`` (``python``, default this interpreter) holding ``packages``."""
    _uv("venv", "-q", "--python", python or sys.executable, venv)
    if packages:
        install(venv, packages)
    return venv
