"""TOML lockfiles (uv.lock, poetry.lock, pdm.lock) read fast: ``load_lock_toml(path, tool)``.

tomllib is pure Python and a lockfile is mostly file names and hashes, so the
text is first slimmed (``slim``: lines that are certainly whole values nobody
here reads are dropped), then read by ``parse_simple``,
a line reader for the plain TOML lock tools write: ``[table]`` and ``[[array]]``
headers, ``key = value`` with strings, integers, booleans, one-line inline tables
and arrays, and arrays of one-line values over several lines. It returns what
tomllib would, or None as soon as it meets anything else (a multi-line string, a
dotted key, a date, a duplicate key...), and then tomllib reads the file. A file
that is not TOML raises LockfileError with tomllib's line.

A 515-package uv.lock (2.3 MB): tomllib on the whole text ~290 ms, on the slimmed
text ~37 ms, this way ~20 ms.
"""

from __future__ import annotations

import re
from pathlib import Path

from devenv.environment.lockfiles import parse_toml, read_text


def load_lock_toml(path: Path, tool: str) -> dict:
    """The lockfile's TOML, with file lists, descriptions and extras' lists emptied."""
    text = read_text(path, tool=tool)
    slimmed = slim(text)
    data = parse_simple(slimmed)
    if data is not None:
        return data
    import tomllib

    try:
        return tomllib.loads(slimmed)
    except tomllib.TOMLDecodeError:
        return parse_toml(path, text, tool)  # the whole text's error, at its line


# ---------------------------------------------------------------- slimming

_STRING = r'"(?:[^"\\\n]|\\.)*"'
_ARRAY_OF_STRINGS = re.compile(rf"[A-Za-z0-9_.-]+ = \[(?:{_STRING}(?:, )?)*\]")
_SCALAR = re.compile(rf"(?:description|python-versions|summary|requires_python) = {_STRING}\s*")
# uv's sdist, and a registry or URL source (what no source means to the uv reader).
_SOURCE = re.compile(r"(?:sdist|source) = \{ ?(?:url|registry) = .*")
# Inline tables are one line by TOML's rules: an indented line starting with one is
# an element of a multi-line array (files = [...], wheels = [...]).
_FILE_ELEMENT = ("{file = ", "{ file = ", "{url = ", "{ url = ")
_FILE_ELEMENT_LINES = re.compile(r"\n[ \t]+\{ ?(?:file|url) = [^\n]*")
_FILE_ARRAYS = ("files = [", "wheels = [")


def slim(text: str) -> str:
    """``text`` without the lines of files, wheels, sdists, registry sources, descriptions,
    Python requirements, ``optional = false`` and poetry's extras, nor blank lines: the
    same meaning for the readers (tests/test_lockfiles.py compares every field they use).
    Line numbers change: errors are reported from the whole text."""
    # The bulk first, in C: most lines are file elements.
    lines = _FILE_ELEMENT_LINES.sub("", text).split("\n")
    extras = False  # in poetry's [package.extras]: one-line arrays of strings
    array = None  # the line of a "files = [" whose elements are all blanked so far
    for index, line in enumerate(lines):
        first = line[:1]
        if not first:
            continue
        if first in (" ", "\t"):
            if line.lstrip().startswith(_FILE_ELEMENT):
                lines[index] = ""
        elif first == "[":
            extras = line == "[package.extras]"
        elif extras:
            if _ARRAY_OF_STRINGS.fullmatch(line):
                lines[index] = ""
        elif line in _FILE_ARRAYS:
            array = index
        elif line == "]":
            if array is not None:
                lines[array] = lines[index] = ""
                array = None
        elif line == "optional = false" or (
            first in "dpsr" and (_SCALAR.fullmatch(line) or _SOURCE.fullmatch(line))
        ):
            lines[index] = ""
        if array is not None and index > array and lines[index]:
            array = None  # an element that stays: so does the array
    return "\n".join(filter(None, lines))


# ---------------------------------------------------------------- the plain subset


class _NotSimple(Exception):
    """Something outside the subset: tomllib decides."""


_PLAIN_PAIR = re.compile(r'([A-Za-z0-9_-]+) = "([^"\\\n]*)"')
_NAME_ONLY = re.compile(r'\{ name = "([^"\\\n]*)" \}(,)?')
_BLANKS = re.compile(r"[ \t]*")
_KEY_VALUE = re.compile(r'([A-Za-z0-9_-]+|"[^"\\\n]*") = ')
_BASIC = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_LITERAL = re.compile(r"'([^'\n]*)'")
_INTEGER = re.compile(r"[+-]?(?:0|[1-9](?:_?[0-9])*)")
_ESCAPE = re.compile(r'\\(?:([btnfr"\\])|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))')
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def parse_simple(text: str) -> dict | None:
    """What ``tomllib.loads(text)`` returns, for the plain subset lock tools write;
    None for anything outside it (valid TOML or not)."""
    if _CONTROL.search(text):
        return None
    try:
        return _Parser().parse(text)
    except _NotSimple:
        return None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")


class _Parser:
    def __init__(self) -> None:
        self.root: dict = {}
        self.defined: set[int] = set()  # tables opened by a [header]: not again
        self.frozen: set[int] = set()  # inline tables and arrays: never extended

    def parse(self, text: str) -> dict:
        table = self.root
        array: list | None = None  # a multi-line array being filled
        comma = True  # whether the array's last element was followed by a comma
        for line in text.split("\n"):
            if not line:
                continue
            stripped = line.strip()
            if not stripped or stripped[0] == "#":
                continue
            if array is not None:
                if stripped == "]" or stripped.startswith("] #"):
                    array = None
                    continue
                if not comma:
                    raise _NotSimple  # two elements without a comma between them
                found = _NAME_ONLY.fullmatch(stripped)
                if found is not None:  # uv's most common line, made quick
                    element = {"name": found.group(1)}
                    self.frozen.add(id(element))
                    array.append(element)
                    comma = found.group(2) is not None
                    continue
                value, end = _value(stripped, 0)
                end = _skip_blanks(stripped, end)
                comma = stripped.startswith(",", end)
                _end_of_line(stripped, end + 1 if comma else end)
                array.append(self._freeze(value))
                continue
            if stripped[0] == "[":
                table = self._header(stripped)
                continue
            found = _PLAIN_PAIR.fullmatch(stripped)
            if found is not None:  # key = "string", made quick
                key = found.group(1)
                if key in table:
                    raise _NotSimple
                table[key] = found.group(2)
                continue
            found = _KEY_VALUE.match(stripped)
            if found is None:
                raise _NotSimple
            key = _key(found.group(1))
            if key in table:
                raise _NotSimple  # a duplicate: tomllib's error to report
            rest = stripped[found.end() :]
            if rest == "[":
                array = []
                table[key] = self._freeze(array)
                comma = True
                continue
            value, end = _value(rest, 0)
            _end_of_line(rest, end)
            table[key] = self._freeze(value)
        if array is not None:
            raise _NotSimple
        return self.root

    def _freeze(self, value: object) -> object:
        if isinstance(value, dict):
            self.frozen.add(id(value))
            for item in value.values():
                self._freeze(item)
        elif isinstance(value, list):
            self.frozen.add(id(value))
            for item in value:
                self._freeze(item)
        return value

    def _header(self, line: str) -> dict:
        many = line.startswith("[[")
        found = (_TABLES_HEADER if many else _TABLE_HEADER).fullmatch(line)
        if found is None:
            raise _NotSimple
        parts = found.group(1).split(".")
        if not all(parts):
            raise _NotSimple
        table = self.root
        for part in parts[:-1]:
            node = table.setdefault(part, {})
            if id(node) in self.frozen:
                raise _NotSimple
            if isinstance(node, list):
                node = node[-1] if node else None
            if not isinstance(node, dict) or id(node) in self.frozen:
                raise _NotSimple
            table = node
        last = parts[-1]
        existing = table.get(last)
        if many:
            if existing is None:
                existing = table[last] = []
            if not isinstance(existing, list) or id(existing) in self.frozen:
                raise _NotSimple
            new: dict = {}
            existing.append(new)
            self.defined.add(id(new))
            return new
        if existing is None:
            existing = table[last] = {}
        # [a] after [a.b] made a implicitly is fine; twice, or over a value, is not.
        if (
            not isinstance(existing, dict)
            or id(existing) in self.defined
            or id(existing) in self.frozen
        ):
            raise _NotSimple
        self.defined.add(id(existing))
        return existing


_TABLE_HEADER = re.compile(r"\[([A-Za-z0-9_.-]+)\][ \t]*(?:#.*)?")
_TABLES_HEADER = re.compile(r"\[\[([A-Za-z0-9_.-]+)\]\][ \t]*(?:#.*)?")


def _key(text: str) -> str:
    return text[1:-1] if text[0] == '"' else text


def _end_of_line(text: str, end: int) -> None:
    rest = text[end:].strip()
    if rest and rest[0] != "#":
        raise _NotSimple


def _value(text: str, start: int) -> tuple[object, int]:
    """The value at ``text[start:]`` and where it ends."""
    first = text[start : start + 1]
    if first == '"':
        found = _BASIC.match(text, start)
        if found is None or text.startswith('"""', start):
            raise _NotSimple
        return _unescape(found.group(1)), found.end()
    if first == "'":
        found = _LITERAL.match(text, start)
        if found is None or text.startswith("'''", start):
            raise _NotSimple
        return found.group(1), found.end()
    if first == "{":
        return _inline_table(text, start + 1)
    if first == "[":
        return _inline_array(text, start + 1)
    if text.startswith("true", start):
        return True, _word_end(text, start + 4)
    if text.startswith("false", start):
        return False, _word_end(text, start + 5)
    found = _INTEGER.match(text, start)
    if found is not None:
        return int(found.group(0).replace("_", "")), _word_end(text, found.end())
    raise _NotSimple  # floats, dates, times: never in a lockfile's fields devenv reads


def _word_end(text: str, end: int) -> int:
    if end < len(text) and text[end] not in " \t,]}#":
        raise _NotSimple  # 1979-05-27, 1.5, trueish...
    return end


def _inline_table(text: str, start: int) -> tuple[dict, int]:
    table: dict = {}
    index = _skip_blanks(text, start)
    if text.startswith("}", index):
        return table, index + 1
    while True:
        found = _KEY_VALUE.match(text, index)
        if found is None:
            raise _NotSimple
        key = _key(found.group(1))
        if key in table:
            raise _NotSimple
        table[key], index = _value(text, found.end())
        index = _skip_blanks(text, index)
        if text.startswith(",", index):
            index = _skip_blanks(text, index + 1)
            continue
        if text.startswith("}", index):
            return table, index + 1
        raise _NotSimple


def _inline_array(text: str, start: int) -> tuple[list, int]:
    array: list = []
    index = _skip_blanks(text, start)
    while not text.startswith("]", index):
        value, index = _value(text, index)
        array.append(value)
        index = _skip_blanks(text, index)
        if text.startswith(",", index):
            index = _skip_blanks(text, index + 1)
        elif not text.startswith("]", index):
            raise _NotSimple
    return array, index + 1


def _skip_blanks(text: str, index: int) -> int:
    found = _BLANKS.match(text, index)  # it matches the empty string too: never None
    return found.end() if found is not None else index


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def one(found: re.Match) -> str:
        if found.group(1):
            return _ESCAPES[found.group(1)]
        code = int(found.group(2) or found.group(3), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise _NotSimple
        return chr(code)

    result = _ESCAPE.sub(one, text)
    if _ESCAPE.sub("", text).count("\\"):
        raise _NotSimple  # an escape TOML does not have (or \e, new in TOML 1.1)
    return result
