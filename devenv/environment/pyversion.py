"""Which Python the project's virtualenv is made with, and where that request comes from."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from devenv.config import Config


@dataclass(frozen=True)
class PythonRequest:
    """A version request as uv reads it ("3.11", ">=3.10"), and the file and key it came from."""

    request: str
    source: str  # "devenv.toml [environment] python", ".python-version", ...


def python_request(config: Config) -> PythonRequest | None:
    """The project's Python, in order: [environment] python, .python-version, [prod] python,
    pyproject's requires-python. None: any Python 3 uv finds (devenv's own first)."""
    if config.environment.python:
        return PythonRequest(config.environment.python, f"{config.source.name} [environment]")
    pinned = config.root / ".python-version"
    try:
        first = pinned.read_text(encoding="utf-8").split("\n", 1)[0].strip()
    except (OSError, UnicodeDecodeError):
        first = ""
    if first and not first.startswith("#"):
        return PythonRequest(first, ".python-version")
    if "python" in config.prod:
        return PythonRequest(str(config.prod["python"]), f"{config.source.name} [prod] python")
    requires = _requires_python(config)
    if requires:
        return PythonRequest(requires, "pyproject.toml requires-python")
    return None


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
