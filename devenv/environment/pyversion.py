"""Which Python the project's virtualenv is made with, and where that request comes from."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from devenv.config import Config


@dataclass(frozen=True)
class PythonRequest:
    """A version request as uv reads it ("3.11", ">=3.10"), and the file and key it came from."""

    request: str
    source: str  # "devenv.toml [environment] python", ".python-version", ...


def python_request(config: Config) -> PythonRequest | None:
    """The project's Python, in order: [environment] python (as written), .python-version,
    runtime.txt (Heroku's ``python-3.11.6``), [prod] python, pyproject's requires-python.
    An exact patch release is asked for as its minor ("3.11"). None: any Python uv finds."""
    if config.environment.python:
        return PythonRequest(config.environment.python, f"{config.source.name} [environment]")
    for name, prefix in ((".python-version", ""), ("runtime.txt", "python-")):
        found = _first_line(config.root / name)
        if found.startswith(prefix) and found[len(prefix) :]:
            return PythonRequest(_minor(found[len(prefix) :]), name)
    if "python" in config.prod:
        prod = _minor(str(config.prod["python"]))
        return PythonRequest(prod, f"{config.source.name} [prod] python")
    requires = _requires_python(config)
    if requires:
        return PythonRequest(requires, "pyproject.toml requires-python")
    return None


def _first_line(path: Path) -> str:
    """The first line that is not empty or a comment (pyenv and uv allow comments)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line
    return ""


def _minor(version: str) -> str:
    """ "3.11.6" -> "3.11": any installed 3.11 makes the venv (parity notes the patch
    difference) rather than uv downloading that exact patch release."""
    parts = version.split(".")
    if len(parts) > 2 and all(part.isdigit() for part in parts):
        return ".".join(parts[:2])
    return version


def _requires_python(config: Config) -> str | None:
    try:
        data = tomllib.loads((config.root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    project = data.get("project")
    value = project.get("requires-python") if isinstance(project, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def satisfies(version: str, request: str) -> bool:
    """Whether an interpreter ``version`` ("3.11.7") fulfils ``request`` ("3.11", ">=3.10", "3")."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        have = Version(version)
    except InvalidVersion:
        return False
    request = request.strip()
    if request[:1].isdigit():
        wanted = request.split(".")
        return [str(part) for part in have.release[: len(wanted)]] == wanted
    try:
        return have in SpecifierSet(request)
    except InvalidSpecifier:
        return False
