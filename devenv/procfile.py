"""Read a Procfile with line numbers, so that mistakes name the line.

Every line is checked here; the commands themselves come from
``honcho.environ.parse_procfile`` so that devenv reads a Procfile exactly as
``honcho start`` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from honcho.environ import PROCFILE_LINE
from honcho.environ import parse_procfile as honcho_parse_procfile

from devenv.errors import ConfigError


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
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"is not UTF-8 text ({err.reason})", path=shown) from None
    except OSError as err:
        raise ConfigError(f"cannot read it: {err.strerror or err}", path=shown) from None


def _check_lines(text: str, shown: Path) -> dict[str, int]:
    """Validate every line; return each process name with its line number."""
    names: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = PROCFILE_LINE.match(line)
        if match is None:
            raise ConfigError(f"expected 'name: command', got '{line}'", path=shown, line=number)
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
