"""Where devenv's bundled data (services/ recipes, templates/) lives.

From a source checkout they are the top-level ``services/`` and ``templates/``
folders; in an installed wheel they are copied into ``devenv/_data/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the bundled folder ``name`` ("services" or "templates")."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"devenv's bundled '{name}' folder is missing (looked in {_PACKAGE / '_data'} "
        f"and {_PACKAGE.parent}); reinstall devenv"
    )


def services_dir() -> Path:
    return data_dir("services")


def templates_dir() -> Path:
    return data_dir("templates")


def render_template(template: Path, values: Mapping[str, object]) -> str:
    """The text of ``template`` with each ``{name}`` replaced by ``values[name]``.

    The one placeholder syntax of devenv's templates, the same as in recipes' commands
    (``str.format_map``): ``{{`` and ``}}`` are literal braces, and a placeholder missing
    from ``values`` is a KeyError.
    """
    return template.read_text(encoding="utf-8").format_map(values)
