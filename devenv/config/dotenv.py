"""The project's ``.env``, read the way a shell or dotenv user expects.

One ``NAME=value`` a line, with:

- ``export NAME=value`` (the ``export`` is dropped), spaces around ``=``;
- blank lines and ``# comments``; in an unquoted value ``#`` after a space starts a comment;
- unquoted values taken as written (``A=it's fine``, ``A=hello world``), trailing spaces dropped;
- ``'single quotes'``: literal, no ``$`` expansion, may span lines;
- ``"double quotes"``: ``\\n``, ``\\t``, ``\\r``, ``\\"``, ``\\\\`` and ``\\$``, may span lines;
- ``$NAME``, ``${NAME}``, ``${NAME:-default}`` expanded (unquoted and in double quotes) from
  the lines above, the services' variables and the environment; ``$$`` or ``\\$`` is a literal
  ``$`` (see devenv.config.expand);
- a UTF-8 BOM and CRLF line ends are accepted.

A line that cannot be read is a ConfigError naming the file, the line and what to do. (honcho's
own parser, which this replaces, drops such lines, or the spaces in a value, without a word.)

Only the standard library: the config loader checks the file on every command.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devenv.config.checks import decode_utf8
from devenv.config.expand import ExpandError, check, expand
from devenv.errors import ConfigError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$$"}


@dataclass(frozen=True)
class Assignment:
    """One ``NAME=value`` of a .env file; where ``expands``, a literal ``$`` is ``$$``."""

    name: str
    value: str
    line: int
    expands: bool = True  # False: single-quoted, taken as written


@dataclass(frozen=True)
class Dotenv:
    """A .env file's variables, expanded, and the line each was set on (the last one)."""

    values: dict[str, str]
    lines: dict[str, int]
    shown: Path


def read(path: Path, shown: Path | str | None = None) -> tuple[Assignment, ...]:
    """The assignments of the .env at ``path``; a file that does not exist is empty.

    A folder, a dangling symlink, an unreadable or non-UTF-8 file, or a line that cannot be
    read is a ConfigError naming ``shown`` (default: the file's name).
    """
    shown = Path(shown) if shown is not None else Path(path.name)
    if path.is_symlink() and not path.exists():
        raise ConfigError(
            f"is a symbolic link to '{_readlink(path)}', which does not exist; fix or remove "
            "the link",
            path=shown,
        )
    if path.is_dir():
        raise ConfigError("is a folder; expected a file of NAME=value lines", path=shown)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ()
    except OSError as err:
        raise ConfigError(f"cannot read it: {err.strerror or err}", path=shown) from None
    return parse(decode_utf8(data, shown), shown)


def _readlink(path: Path) -> str:
    import os

    try:
        return os.readlink(path)
    except OSError:
        return "?"


def parse(text: str, shown: Path | str = ".env") -> tuple[Assignment, ...]:
    """Every assignment of .env ``text``, in order; ConfigError for a line it cannot read."""
    return tuple(_Parser(text.removeprefix("\ufeff"), Path(shown)).assignments())


def resolve(assignments: tuple[Assignment, ...], shown: Path, environ: Mapping[str, str]) -> Dotenv:
    """The variables, each value expanded from the lines above it and then ``environ``."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for item in assignments:
        if item.expands:
            try:
                value = expand(item.value, {**environ, **values})
            except ExpandError as err:
                raise ConfigError(str(err), path=shown, line=item.line, key=item.name) from None
        else:
            value = item.value
        values[item.name] = value
        lines[item.name] = item.line
    return Dotenv(values, lines, shown)


def export_lines(variables: Mapping[str, str]) -> list[str]:
    """One ``export NAME=value`` line a variable (``devenv env``, the TUI's copy), quoted so
    that a POSIX shell's ``eval`` and direnv get each value back as it is, ``$`` and all."""
    import shlex

    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]


class _Parser:
    def __init__(self, text: str, shown: Path) -> None:
        self.lines = text.splitlines()
        self.shown = shown
        self.index = 0

    def fail(self, line: int, message: str, key: str | None = None) -> ConfigError:
        return ConfigError(message, path=self.shown, line=line, key=key)

    def assignments(self):
        while self.index < len(self.lines):
            number = self.index + 1
            line = self.lines[self.index].strip()
            self.index += 1
            if not line or line.startswith("#"):
                continue
            yield self._assignment(line, number)

    def _assignment(self, line: str, number: int) -> Assignment:
        head, equals, rest = line.partition("=")
        name = head.strip()
        if name.startswith("export") and name[6:7].isspace():
            name = name[6:].strip()
        if not equals:
            shown = line if len(line) <= 40 else line[:37] + "..."
            raise self.fail(
                number,
                f"expected NAME=value, got '{shown}' (a comment starts with #)",
            )
        if not name:
            raise self.fail(number, "expected NAME=value: there is no name before '='")
        if not _NAME.fullmatch(name):
            raise self.fail(
                number,
                f"'{name}' is not a variable name (letters, digits and _, not starting with a "
                "digit)",
            )
        value, expands = self._value(rest.lstrip(), rest, number, name)
        if "\0" in value:
            raise self.fail(number, "a value cannot hold a NUL character", name)
        if expands:
            try:
                check(value)
            except ExpandError as err:
                raise self.fail(number, str(err), name) from None
        return Assignment(name, value, number, expands)

    def _value(self, value: str, raw: str, number: int, name: str) -> tuple[str, bool]:
        if value[:1] in ("'", '"'):
            return self._quoted(value, number, name)
        comment = re.search(r"\s#", raw)
        if comment is not None:
            raw = raw[: comment.start()]
        return raw.strip().replace("\\$", "$$"), True

    def _quoted(self, value: str, number: int, name: str) -> tuple[str, bool]:
        quote, text, pos = value[0], value, 1
        out: list[str] = []
        while True:
            if pos >= len(text):
                if self.index >= len(self.lines):
                    raise self.fail(
                        number,
                        f"the value opens a {quote} that is never closed; add the closing "
                        f"{quote}"
                        + (', or write \\" inside double quotes' if quote == '"' else ""),
                        name,
                    )
                out.append("\n")  # a quoted value may span lines
                text, pos = self.lines[self.index], 0
                self.index += 1
                continue
            char = text[pos]
            if char == quote:
                break
            if quote == '"' and char == "\\" and pos + 1 < len(text):
                escaped = text[pos + 1]
                out.append(_ESCAPES.get(escaped, "\\" + escaped))
                pos += 2
                continue
            out.append(char)
            pos += 1
        after = text[pos + 1 :].strip()
        if after and not after.startswith("#"):
            raise self.fail(
                number,
                f"unexpected text after the closing quote: '{after}' (quote the whole value, "
                "or put a space before a # comment)",
                name,
            )
        return "".join(out), quote == '"'
