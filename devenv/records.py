"""``Record``: the comparison, hash and repr ``@dataclass(frozen=True)`` generates, written once.

``dataclass()`` compiles each method it generates for each class when the class's module is
imported (~0.1 ms a method). The records every command loads (the config, the events, the
lockfiles' drift) take these three from here instead: a class declared

    @dataclass(frozen=True, eq=False, repr=False)
    class Name(Record): ...

behaves as one declared ``@dataclass(frozen=True)``: equal to an instance of the very same
class whose compared fields are equal (any other object: ``NotImplemented``), hashed on the
fields a dataclass hashes, shown as ``Name(field=value, ...)`` with the fields it shows.
"""

from __future__ import annotations

from dataclasses import Field, fields


class Record:
    """A frozen dataclass's ``__eq__``, ``__hash__`` and ``__repr__``, for its subclasses."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _values(self, "compare") == _values(other, "compare")

    def __hash__(self) -> int:
        return hash(_values(self, "hash"))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in _fields(self) if f.repr)
        return f"{self.__class__.__qualname__}({shown})"


def _fields(record: Record) -> tuple[Field[object], ...]:
    return fields(record)  # type: ignore[arg-type]  # a Record subclass is a dataclass


def _values(record: Record, which: str) -> tuple[object, ...]:
    """The values of the fields a dataclass compares, or hashes (``hash=None``: as compared)."""
    if which == "compare":
        chosen = [f for f in _fields(record) if f.compare]
    else:
        chosen = [f for f in _fields(record) if (f.compare if f.hash is None else f.hash)]
    return tuple(getattr(record, f.name) for f in chosen)
