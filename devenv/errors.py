"""Errors meant for people: the CLI prints them without a traceback."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class DevenvError(Exception):
    """A problem the user can fix; ``str()`` says what and how.

    ``exit_code`` is what the CLI exits with (2 for usage and config mistakes,
    1 for everything else).
    """

    exit_code = 1


class UsageError(DevenvError):
    """A command used the wrong way (a name that does not exist, a folder that cannot be
    entered, a snapshot name that cannot be used): exit code 2, like argparse's own errors."""

    exit_code = 2


class ConfigError(DevenvError):
    """A mistake in a config file (devenv.toml, pyproject.toml, Procfile, a recipe).

    The message names the file, the line where it is known, and the key.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
        key: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.key = key
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or ``""``."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
