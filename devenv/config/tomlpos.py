"""Where a key is defined in TOML source text, so that errors can name the line.

tomllib gives values without positions; this is a small, forgiving scanner
over the text. A key path is a tuple of table keys (str) and array-of-tables
indices (int, 0-based): ``("services", "postgres", "databases", 1, "name")``.
It understands ``[table]`` and ``[[array.of.tables]]`` headers, dotted and
quoted keys, and skips multi-line strings and arrays. It never raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence

KeyPart = str | int
KeyPath = tuple[KeyPart, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_key(path: Sequence[KeyPart]) -> str:
    """Render a key path for people: ``services.postgres.databases[1].name``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        shown = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
        text += f".{shown}" if text else shown
    return text


def find_line(source: str, path: Sequence[KeyPart], prefix: Sequence[KeyPart] = ()) -> int | None:
    """The 1-based line where ``prefix + path`` is defined, or None.

    A key defined only implicitly (``[a.b]`` defines ``a``) is found at its
    first use. ``prefix`` is ``("tool", "devenv")`` for pyproject.toml.
    """
    try:
        return _find(source, (*prefix, *path))
    except Exception:
        return None


def find_nearest_line(
    source: str, path: Sequence[KeyPart], prefix: Sequence[KeyPart] = ()
) -> int | None:
    """Like ``find_line``, falling back to the closest enclosing key that is found.

    A key inside an inline table (``settings = { a = 1 }``) is reported at the
    line of ``settings``.
    """
    for end in range(len(path), 0, -1):
        line = find_line(source, path[:end], prefix)
        if line is not None:
            return line
    return None


def _find(source: str, target: KeyPath) -> int | None:
    first_inside = None
    for line, defined in definitions(source):
        if defined == target:
            return line
        if first_inside is None and defined[: len(target)] == target:
            first_inside = line
    return first_inside


def definitions(source: str) -> Iterator[tuple[int, KeyPath]]:
    """Yield (line, key path) for every table header and ``key = value`` line."""
    table: KeyPath = ()
    arrays: dict[KeyPath, int] = {}
    value = _ValueScanner()
    for number, line in enumerate(source.splitlines(), start=1):
        if value.open:
            value.feed(line)
            continue
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("[["):
            table = _array_header(text[2:], arrays) or table
            yield number, table
        elif text.startswith("["):
            table = _table_header(text[1:], arrays) or table
            yield number, table
        else:
            parsed = _parse_key(text, 0)
            if parsed is None:
                continue
            parts, end = parsed
            if text[end : end + 1] == "=":
                yield number, table + parts
                value.feed(text[end + 1 :])


def _resolve(parts: Sequence[str], arrays: dict[KeyPath, int]) -> KeyPath:
    """Add the current element index after every array of tables in ``parts``."""
    resolved: KeyPath = ()
    for part in parts:
        resolved += (part,)
        if resolved in arrays:
            resolved += (arrays[resolved],)
    return resolved


def _table_header(text: str, arrays: dict[KeyPath, int]) -> KeyPath | None:
    parsed = _parse_key(text, 0)
    if parsed is None:
        return None
    return _resolve(parsed[0], arrays)


def _array_header(text: str, arrays: dict[KeyPath, int]) -> KeyPath | None:
    parsed = _parse_key(text, 0)
    if parsed is None:
        return None
    parts = parsed[0]
    array = (*_resolve(parts[:-1], arrays), parts[-1])
    arrays[array] = arrays.get(array, -1) + 1
    return (*array, arrays[array])


def _parse_key(text: str, pos: int) -> tuple[tuple[str, ...], int] | None:
    """Parse a (dotted, maybe quoted) key at ``pos``; return its parts and the next position."""
    parts: list[str] = []
    while True:
        pos = _skip_spaces(text, pos)
        parsed = _parse_simple_key(text, pos)
        if parsed is None:
            return None
        part, pos = parsed
        parts.append(part)
        pos = _skip_spaces(text, pos)
        if text[pos : pos + 1] != ".":
            return tuple(parts), pos
        pos += 1


def _parse_simple_key(text: str, pos: int) -> tuple[str, int] | None:
    quote = text[pos : pos + 1]
    if quote == "'":
        end = text.find("'", pos + 1)
        return None if end < 0 else (text[pos + 1 : end], end + 1)
    if quote == '"':
        end = _end_of_basic_string(text, pos + 1)
        if end < 0:
            return None
        raw = text[pos : end + 1]
        try:
            return json.loads(raw), end + 1
        except ValueError:
            return raw[1:-1], end + 1
    match = _BARE_KEY.match(text, pos)
    return None if match is None else (match.group(), match.end())


def _end_of_basic_string(text: str, pos: int) -> int:
    """Index of the closing '"' of a basic string whose content starts at ``pos``, or -1."""
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == '"':
            return pos
        pos += 1
    return -1


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


class _ValueScanner:
    """Follows a value over lines: open brackets and multi-line strings."""

    def __init__(self) -> None:
        self.depth = 0
        self.multiline: str | None = None  # '"""' or "'''" while inside one

    @property
    def open(self) -> bool:
        return self.depth > 0 or self.multiline is not None

    def feed(self, text: str) -> None:
        pos = 0
        while pos < len(text):
            if self.multiline is not None:
                pos = self._close_multiline(text, pos)
                continue
            pos = self._step(text, pos)

    def _close_multiline(self, text: str, pos: int) -> int:
        delimiter = self.multiline
        assert delimiter is not None
        while pos < len(text):
            if delimiter == '"""' and text[pos] == "\\":
                pos += 2
                continue
            if text.startswith(delimiter, pos):
                end = pos + 3
                while text[end : end + 1] == delimiter[0]:  # up to two quotes may end the content
                    end += 1
                self.multiline = None
                return end
            pos += 1
        return pos

    def _step(self, text: str, pos: int) -> int:
        char = text[pos]
        if char == "#":
            return len(text)
        if text.startswith('"""', pos) or text.startswith("'''", pos):
            self.multiline = text[pos : pos + 3]
            return pos + 3
        if char == '"':
            end = _end_of_basic_string(text, pos + 1)
            return len(text) if end < 0 else end + 1
        if char == "'":
            end = text.find("'", pos + 1)
            return len(text) if end < 0 else end + 1
        if char in "[{":
            self.depth += 1
        elif char in "]}":
            self.depth = max(0, self.depth - 1)
        return pos + 1
