"""Versions ("15", "7.0.11") and version constraints ("15", ">=14,<17", "~=15.2").

A bare version and ``==`` are prefix matches: "15" allows 15.0 and 15.4.1,
"15.4" allows 15.4 and 15.4.2 but not 15.40. ``!=`` excludes by prefix too.
``~=15.2`` means ">=15.2 and 15.*". Comparisons (``<``, ``<=``, ``>``, ``>=``)
pad the shorter version with zeros, so 15 == 15.0.

Parse errors are ``ValueError`` with a plain message for people; the config
layer turns them into a ``ConfigError`` that names the file and line.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

_VERSION = re.compile(r"\d+(?:\.\d+)*")
_CLAUSE = re.compile(r"(~=|==|!=|>=|<=|>|<)?\s*(.*)")
_EXAMPLES = 'something like "15", "15.4", ">=14,<17", "==15.4", "~=15.2" or "!=16"'


@dataclass(frozen=True, order=True)
class Version:
    """A release number: dot-separated non-negative integers."""

    parts: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse exactly ``"15"``, ``"7.0.11"``; anything else is a ``ValueError``."""
        text = text.strip()
        if not _VERSION.fullmatch(text):
            raise ValueError(
                f"'{text}' is not a version; expected numbers separated by dots, like 15 or 7.0.11"
            )
        return cls(tuple(int(part) for part in text.split(".")))

    @classmethod
    def search(cls, text: str) -> Version:
        """Find the first version in a tool's output, e.g. "15.4 (Debian 15.4-1)" -> 15.4."""
        match = _VERSION.search(text)
        if match is None:
            raise ValueError(f"no version number in '{text.strip()}'")
        return cls.parse(match.group())

    @property
    def major(self) -> int:
        return self.parts[0]

    def __str__(self) -> str:
        return ".".join(str(part) for part in self.parts)


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def _has_prefix(version: tuple[int, ...], prefix: tuple[int, ...]) -> bool:
    return _padded(version, prefix)[0][: len(prefix)] == prefix


_COMPARE: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Clause:
    """One comparison of a constraint: ``op`` is "==", "!=", "~=", ">=", "<=", ">" or "<"."""

    op: str
    version: Version

    def matches(self, version: Version) -> bool:
        mine = self.version.parts
        if self.op == "==":
            return _has_prefix(version.parts, mine)
        if self.op == "!=":
            return not _has_prefix(version.parts, mine)
        if self.op == "~=":
            return _has_prefix(version.parts, mine[:-1]) and _COMPARE[">="](
                *_padded(version.parts, mine)
            )
        return _COMPARE[self.op](*_padded(version.parts, mine))

    def allows_major(self, major: int) -> bool:
        """Whether some version whose first number is ``major`` could match."""
        mine = self.version.parts
        if self.op in ("==", "~="):
            return major == mine[0]
        if self.op == "!=":
            return len(mine) > 1 or major != mine[0]
        if self.op in (">", ">="):
            return major >= mine[0]
        if self.op == "<" and not any(mine[1:]):
            return major < mine[0]
        return major <= mine[0]


@dataclass(frozen=True)
class VersionConstraint:
    """A comma-separated list of clauses that must all match; ``str()`` gives back the text."""

    text: str
    clauses: tuple[Clause, ...]

    @classmethod
    def parse(cls, text: str) -> VersionConstraint:
        text = text.strip()
        if not text:
            raise ValueError(f"empty version constraint; expected {_EXAMPLES}")
        clauses = tuple(_parse_clause(text, piece.strip()) for piece in text.split(","))
        return cls(text, clauses)

    def matches(self, version: str | Version) -> bool:
        """Whether ``version`` ("15.4", or tool output such as "15.4 (Debian)") is allowed."""
        if isinstance(version, str):
            version = Version.search(version)
        return all(clause.matches(version) for clause in self.clauses)

    def allows_major(self, major: int) -> bool:
        """Whether some version with this major number could match (to pick install folders)."""
        return all(clause.allows_major(major) for clause in self.clauses)

    def __str__(self) -> str:
        return self.text


def _parse_clause(whole: str, piece: str) -> Clause:
    match = _CLAUSE.fullmatch(piece)
    assert match is not None  # the pattern matches any text
    op, rest = match.group(1) or "==", match.group(2).strip()
    if not piece:
        raise ValueError(f"'{whole}' has an empty part between commas; expected {_EXAMPLES}")
    if not _VERSION.fullmatch(rest):
        raise ValueError(f"'{whole}' is not a version constraint; expected {_EXAMPLES}")
    version = Version.parse(rest)
    if op == "~=" and len(version.parts) < 2:
        raise ValueError(f"'{whole}': ~= needs at least two numbers, like ~=15.2")
    return Clause(op, version)
