"""Reading one config file and checking its values.

``Document`` reads the file and turns a key into an error on the right line;
``Checks`` reads typed values (strings, ports, paths, versions, ...), each
failure a ``ConfigError`` at the value's key.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, NoReturn, TypeGuard, TypeVar

from devenv.config.model import Scalar
from devenv.config.schema import Key
from devenv.config.tomlpos import KeyPath, find_nearest_line, format_key
from devenv.config.versions import Version, VersionConstraint
from devenv.errors import ConfigError, did_you_mean

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENTIFIER_MAX = 63
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TWICE = ("Cannot overwrite a value", "Cannot declare")

T = TypeVar("T")


class Document:
    """One config file: its text, for line numbers, and how errors name it."""

    def __init__(self, path: Path, prefix: KeyPath = ()) -> None:
        self.path = path
        self.root = path.parent
        self.shown = Path(path.name)
        self.prefix = prefix
        self.text = ""
        self.pyproject: dict[str, Any] | None = None

    def parse(self) -> dict[str, Any]:
        self.text = read_text(self.path, self.shown)
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as err:
            raise self._syntax_error(str(err)) from None

    def _syntax_error(self, message: str) -> ConfigError:
        match = _TOML_POSITION.search(message)
        line = column = None
        if match is not None:
            line, column = int(match.group(1)), int(match.group(2))
            message = message[: match.start()]
        if line is not None and message.startswith(_TWICE):
            twice = self._defined_twice(line)
            if twice is not None:
                return ConfigError(f"invalid TOML: {twice}", path=self.shown, line=line)
        return ConfigError(f"invalid TOML: {message}", path=self.shown, line=line, column=column)

    def _defined_twice(self, line: int) -> str | None:
        """What tomllib's "Cannot overwrite a value" or "Cannot declare ... twice" at ``line``
        is about, in words: the key or table, and the line it was first defined on."""
        from devenv.config.tomlpos import definitions

        defined = [key for number, key in definitions(self.text) if number == line]
        if not defined:
            return None
        key = defined[-1]
        first = next((n for n, k in definitions(self.text) if k == key and n < line), None)
        if first is None:
            return None
        header = self.text.splitlines()[line - 1].lstrip().startswith("[")
        if header:
            return (
                f"table [{format_key(key)}] is declared twice (first on line {first}); "
                "merge the two into one"
            )
        return f"{format_key(key)} is set twice (first on line {first}); keep one of them"

    def error(self, key: KeyPath, message: str, *, at: KeyPath | None = None) -> ConfigError:
        """An error about ``key``, on the line of ``at`` (default: ``key``)."""
        line = find_nearest_line(self.text, key if at is None else at, self.prefix)
        if line is None and self.prefix:  # [tool.devenv] itself
            line = find_nearest_line(self.text, self.prefix)
        full = (*self.prefix, *key)
        return ConfigError(message, path=self.shown, line=line, key=format_key(full) or None)

    def fail(self, key: KeyPath, message: str, *, at: KeyPath | None = None) -> NoReturn:
        raise self.error(key, message, at=at)

    def relative(self, path: Path) -> Path:
        try:
            return path.relative_to(self.root)
        except ValueError:
            return path


def read_text(path: Path, shown: Path) -> str:
    """A config file's text (a UTF-8 BOM dropped); ConfigError naming ``shown`` when it is a
    folder, a dangling symlink, unreadable, or not UTF-8 (with the line of the first bad byte).
    """
    if path.is_dir():
        raise ConfigError("is a folder; expected a file", path=shown)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if path.is_symlink():
            raise ConfigError(
                f"is a symbolic link to '{os.readlink(path)}', which does not exist; fix or "
                "remove the link",
                path=shown,
            ) from None
        raise ConfigError("cannot read it: No such file or directory", path=shown) from None
    except OSError as err:
        raise ConfigError(f"cannot read it: {err.strerror or err}", path=shown) from None
    return decode_utf8(data, shown)


def decode_utf8(data: bytes, shown: Path | str) -> str:
    """``data`` as text (a UTF-8 BOM dropped); ConfigError naming ``shown`` and the line of
    the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ConfigError(
            f"is not UTF-8 text (byte 0x{data[err.start]:02x} on this line); save it as UTF-8",
            path=shown,
            line=line,
        ) from None


# ---------------------------------------------------------------- value checks


def show(value: object) -> str:
    """A value as the user wrote it, for 'got ...' in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return str(value)
    return f"a {type(value).__name__}"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


def env_text(value: Scalar) -> str:
    """A scalar as an environment variable's text (booleans as TOML spells them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Checks:
    """Typed reads of values; each failure is a ConfigError at the value's key."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def mapping(self, value: object, key: KeyPath) -> dict[str, Any]:
        """A table whose keys are the user's names (services, env, settings, ...)."""
        if not isinstance(value, dict):
            self.doc.fail(key, f"expected a table, got {show(value)}")
        return value

    def read(
        self,
        table: dict[str, Any],
        key: KeyPath,
        spec: Key,
        read: Callable[[Any, KeyPath], Any] | None = None,
    ) -> Any:
        """The value of ``spec``'s key in ``table`` (at ``key``), checked as its declared type,
        or by ``read`` for the types whose reader knows more; its declared default when absent
        (checked too: a path is made absolute); None when absent without one."""
        value = spec.given(table)
        if value is None:  # TOML has no null: absent
            return None
        if read is None:
            read = self.reader(spec.type)
        return read(value, (*key, spec.name))

    def reader(self, kind: str | tuple[str, ...]) -> Callable[[Any, KeyPath], Any]:
        """The check for a type of devenv.config.schema.TYPES (KeyError for its OWN_TYPES,
        which the code reading such a key checks), or for one of the strings of a tuple."""
        if isinstance(kind, tuple):
            return lambda value, key: self.choice(value, key, kind)
        return _READERS[kind](self)

    def table(self, value: object, key: KeyPath, allowed: Collection[str]) -> dict[str, Any]:
        """A table with a fixed set of keys."""
        value = self.mapping(value, key)
        for name in value:
            if name not in allowed:
                hint = did_you_mean(name, allowed)
                self.doc.fail(key, f"unknown key '{name}'{hint}", at=(*key, name))
        return value

    def string(self, value: object, key: KeyPath, what: str = "a string") -> str:
        if not isinstance(value, str) or not value.strip():
            got = "an empty string" if value == "" else show(value)
            self.doc.fail(key, f"expected {what}, got {got}")
        return value

    def optional(
        self, table: dict[str, Any], name: str, key: KeyPath, read: Callable[[Any, KeyPath], T]
    ) -> T | None:
        """``read(table[name])``, or None when the key is absent."""
        return read(table[name], (*key, name)) if name in table else None

    def command(self, value: object, key: KeyPath) -> str:
        return self.string(value, key, "a shell command")

    def choice(self, value: object, key: KeyPath, choices: Collection[str]) -> str:
        if not isinstance(value, str) or value not in choices:
            expected = ", ".join(f"'{choice}'" for choice in choices)
            self.doc.fail(key, f"expected one of {expected}, got {show(value)}")
        return value

    def boolean(self, value: object, key: KeyPath) -> bool:
        if not isinstance(value, bool):
            self.doc.fail(key, f"expected true or false, got {show(value)}")
        return value

    def integer(self, value: object, key: KeyPath, low: int, high: int | None = None) -> int:
        if not _is_int(value) or value < low or (high is not None and value > high):
            expected = f"from {low} to {high}" if high is not None else f">= {low}"
            self.doc.fail(key, f"expected an integer {expected}, got {show(value)}")
        return value

    def seconds(self, value: object, key: KeyPath) -> float:
        # TOML has inf and nan: neither is a timeout anyone means.
        if not _is_number(value) or not 0 < value < math.inf:
            self.doc.fail(key, f"expected a number of seconds > 0, got {show(value)}")
        return float(value)

    def port(self, value: object, key: KeyPath) -> int:
        return self.integer(value, key, 1, 65535)

    def strings(self, value: object, key: KeyPath) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.doc.fail(key, f"expected a list of strings, got {show(value)}")
        return tuple(self.string(item, (*key, index)) for index, item in enumerate(value))

    def scalars(self, value: object, key: KeyPath) -> dict[str, Scalar]:
        value = self.mapping(value, key)
        for name, item in value.items():
            if not _is_scalar(item):
                self.doc.fail(
                    (*key, name), f"expected a string, number or boolean, got {show(item)}"
                )
        return value

    def path(self, value: object, key: KeyPath) -> Path:
        return self.doc.root / self.string(value, key, "a path")

    def existing_file(self, value: object, key: KeyPath) -> Path:
        path = self.path(value, key)
        if path.is_dir():
            self.doc.fail(key, f"'{value}' is a folder; expected a file")
        if not path.is_file():
            self.doc.fail(
                key, f"file '{value}' does not exist (paths are relative to the project folder)"
            )
        return path

    def version_constraint(self, value: object, key: KeyPath) -> VersionConstraint:
        text = self.string(value, key, 'a version constraint string like "15" or ">=14,<17"')
        try:
            return VersionConstraint.parse(text)
        except ValueError as err:
            self.doc.fail(key, str(err))

    def version(self, value: object, key: KeyPath) -> Version:
        text = self.string(value, key, 'a version string like "15" or "7.0.11"')
        try:
            return Version.parse(text)
        except ValueError as err:
            self.doc.fail(key, str(err))

    def identifier(self, value: object, key: KeyPath) -> str:
        what = (
            "a PostgreSQL identifier (letters, digits and _, not starting with a digit, "
            f"at most {_IDENTIFIER_MAX} characters)"
        )
        text = self.string(value, key, what)
        if not _IDENTIFIER.fullmatch(text) or len(text) > _IDENTIFIER_MAX:
            self.doc.fail(key, f"expected {what}, got {show(text)}")
        return text


# The check of each type of devenv.config.schema.TYPES but its OWN_TYPES.
_READERS: dict[str, Callable[[Checks], Callable[[Any, KeyPath], Any]]] = {
    "string": lambda c: c.string,
    "command": lambda c: c.command,
    "path": lambda c: c.path,
    "file": lambda c: c.existing_file,
    "boolean": lambda c: c.boolean,
    "integer >= 0": lambda c: lambda value, key: c.integer(value, key, 0),
    "integer >= 1": lambda c: lambda value, key: c.integer(value, key, 1),
    "port": lambda c: c.port,
    "seconds": lambda c: c.seconds,
    "list of strings": lambda c: c.strings,
    "table": lambda c: c.mapping,
    "table of scalars": lambda c: c.scalars,
    "version": lambda c: c.version,
    "version constraint": lambda c: c.version_constraint,
    "identifier": lambda c: c.identifier,
}
