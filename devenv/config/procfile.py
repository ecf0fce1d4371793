"""Read a Procfile with line numbers, so that mistakes name the line.

Every line is checked here; the commands themselves come from
``honcho.environ.parse_procfile`` so that devenv reads a Procfile exactly as
``honcho start`` does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from honcho.environ import PROCFILE_LINE
from honcho.environ import parse_procfile as honcho_parse_procfile

from devenv.errors import ConfigError

_NAME = re.compile(r"[A-Za-z0-9_-]+")  # as honcho's PROCFILE_LINE


class ProcfileEntry(NamedTuple):
    line: int
    command: str


def parse_procfile(path: Path, display: Path | str | None = None) -> dict[str, ProcfileEntry]:
    """Process types of the Procfile at ``path``, in file order.

    ``display`` is how the file is named in errors (default: its file name).
    Raises ``ConfigError`` for an unreadable file, a line that is not
    ``name: command``, or a name used twice.
    """
    shown = Path(display) if display is not None else Path(path.name)
    text = _read(path, shown)
    lines = _check_lines(text, shown)
    commands = honcho_parse_procfile(text).processes
    return {name: ProcfileEntry(line, commands[name]) for name, line in lines.items()}


def _read(path: Path, shown: Path) -> str:
    # Imported here: devenv.config imports this module while it loads.
    from devenv.config.checks import read_text

    return read_text(path, shown)


def _check_lines(text: str, shown: Path) -> dict[str, int]:
    """Validate every line; return each process name with its line number."""
    names: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = PROCFILE_LINE.match(line)
        if match is None:
            raise ConfigError(_why_not(line), path=shown, line=number)
        name, command = match.group(1), match.group(2)
        if not command.strip():
            raise ConfigError(f"process '{name}' has an empty command", path=shown, line=number)
        if name in names:
            raise ConfigError(
                f"process '{name}' is defined twice, on lines {names[name]} and {number}",
                path=shown,
                line=number,
            )
        names[name] = number
    return names


def _why_not(line: str) -> str:
    """Why a Procfile line is not ``name: command``, and what to write instead."""
    name, colon, _ = line.partition(":")
    if colon and name and not name[0].isspace() and " " not in name and not _NAME.fullmatch(name):
        return (
            f"'{name}' is not a process name: use letters, digits, '_' and '-' "
            "(honcho numbers the instances itself: web.1, web.2)"
        )
    return f"expected 'name: command', got '{line}'"
