"""Finding the project's files: the config (walking up, like git), lockfiles, bundled recipes."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from devenv.config.checks import Document, show
from devenv.config.tomlpos import KeyPath
from devenv.errors import ConfigError, DevenvError, UsageError
from devenv.resources import services_dir

CONFIG_FILE = "devenv.toml"
PYPROJECT_FILE = "pyproject.toml"
PYPROJECT_PREFIX: KeyPath = ("tool", "devenv")

LOCKFILE_NAMES = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Gemfile.lock",
    "Cargo.lock",
    "go.sum",
)
# Lockfiles found by their name's shape (fnmatch patterns), beside LOCKFILE_NAMES.
LOCKFILE_PATTERNS = ("requirements*.lock", "requirements*.txt")


def bundled_service_names() -> frozenset[str]:
    """Names of the services devenv ships a recipe for (services/*.toml)."""
    try:
        folder = services_dir()
    except FileNotFoundError as err:
        raise DevenvError(str(err)) from None
    return frozenset(path.stem for path in folder.glob("*.toml"))


def find_config(start: Path) -> Path:
    """The devenv.toml, or pyproject.toml with [tool.devenv], nearest to ``start`` going up."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        config = candidate / CONFIG_FILE
        # A folder or a dangling link named devenv.toml is a mistake to report (load_config
        # does), not a reason to look further up and find some other project's config.
        if config.is_file() or config.is_symlink() or config.exists():
            return config
        pyproject = candidate / PYPROJECT_FILE
        if pyproject.is_file() and _has_devenv_table(pyproject):
            return pyproject
    raise UsageError(
        f"no {CONFIG_FILE} (or [tool.devenv] in {PYPROJECT_FILE}) in {start} or any parent "
        "folder; run `devenv init` to create one"
    )


def detect_lockfiles(root: Path) -> list[Path]:
    """The lockfiles that exist in ``root``, sorted by name."""
    found = [root / name for name in LOCKFILE_NAMES]
    # requirements*.txt with ranges too: installed all the same, reported as not reproducible.
    for pattern in LOCKFILE_PATTERNS:
        found += root.glob(pattern)
    return sorted((path for path in found if path.is_file()), key=lambda path: path.name)


# ---------------------------------------------------------------- finding and reading files


def _has_devenv_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_bytes().decode("utf-8-sig", errors="replace")
    except PermissionError:
        return True  # let load_config say that it cannot be read
    except OSError:
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # Let load_config report the syntax error if the table seems to be there.
        return "tool.devenv" in text
    tool = data.get("tool")
    return isinstance(tool, dict) and "devenv" in tool


def devenv_table(doc: Document, data: dict[str, Any]) -> dict[str, Any]:
    """pyproject.toml's [tool.devenv] table; a ConfigError naming the file when it is absent."""
    tool = data.get("tool")
    if not isinstance(tool, dict) or "devenv" not in tool:
        raise ConfigError("has no [tool.devenv] table", path=doc.shown)
    devenv = tool["devenv"]
    if not isinstance(devenv, dict):
        doc.fail((), f"expected a table, got {show(devenv)}")
    return devenv


def read_pyproject_quietly(path: Path) -> dict[str, Any]:
    """pyproject.toml next to devenv.toml, only for the default project name."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
