"""A ``Finding``: one thing init chose (or noticed), and where in the project it saw why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """``what`` is the kind ("service", "prod", "hook", "venv", ...), ``value`` the choice
    ("postgres", "3.11", "python manage.py migrate"), ``file`` the project-relative path it
    was found in, ``word`` the text there that proves it, ``line`` 1-based when known, and
    ``reason`` a short sentence for people."""

    what: str
    value: str
    file: str
    word: str
    line: int | None = None
    reason: str = ""

    @property
    def where(self) -> str:
        """``file:line`` (or the file alone)."""
        return f"{self.file}:{self.line}" if self.line else self.file

    def comment(self) -> str:
        """The short form for a comment in devenv.toml: ``found in FILE: WORD`` (``found in
        FILE`` when the file itself is the evidence)."""
        if self.word in (self.file, self.file.rsplit("/", 1)[-1]):
            return f"found in {self.file}"
        return f"found in {self.file}: {self.word}"

    def why(self) -> str:
        """One line for ``devenv init --dry-run``'s list of reasons."""
        text = f"{self.what} {self.value}: {self.where}"
        if self.word not in (self.file, self.file.rsplit("/", 1)[-1]):
            text += f": {self.word}"
        return f"{text} ({self.reason})" if self.reason else text


def line_of(text: str, index: int) -> int:
    """The 1-based line of the character at ``index`` in ``text``."""
    return text.count("\n", 0, index) + 1
