"""devenv.records.Record gives the records it serves exactly what @dataclass(frozen=True) would:
each of them is checked against a twin made by dataclasses itself from the same fields."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pytest

from devenv.records import Record

MODULES = [
    "devenv.events",
    "devenv.environment.events",
    "devenv.config.model",
    "devenv.environment.model",
    "devenv.environment.parity",
    "devenv.services.installations",
]


def records() -> list[type]:
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            ours = isinstance(value, type) and value.__module__ == name
            if ours and dataclasses.is_dataclass(value):
                found.append(value)
    return found


def twin(cls: type) -> type:
    """The same fields in a class that dataclasses itself makes frozen, with its own methods."""
    specs = []
    for f in dataclasses.fields(cls):
        kw = {"compare": f.compare, "hash": f.hash, "repr": f.repr}
        if f.default is not dataclasses.MISSING:
            kw["default"] = f.default
        if f.default_factory is not dataclasses.MISSING:
            kw["default_factory"] = f.default_factory
        specs.append((f.name, object, dataclasses.field(**kw)))
    made = dataclasses.make_dataclass(cls.__name__, specs, frozen=True)
    made.__qualname__ = cls.__qualname__
    return made


def outcome(action):
    try:
        return action()
    except TypeError as err:  # an unhashable field: both must refuse alike
        return type(err)


def test_the_records_all_derive_from_record():
    found = records()
    assert len(found) >= 30
    assert [cls.__name__ for cls in found if not issubclass(cls, Record)] == []
    # None generates its own methods again (which would only cost time at import).
    assert [c.__name__ for c in found if {"__eq__", "__repr__", "__hash__"} & set(vars(c))] == []


@pytest.mark.parametrize("cls", records(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_a_record_behaves_as_its_frozen_dataclass_twin(cls):
    other = twin(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    values = {name: f"{name}-value" for name in names}
    record, copy, made = cls(**values), cls(**values), other(**values)
    assert repr(record) == repr(made)
    assert record == copy
    assert record.__ne__(copy) is False
    assert outcome(lambda: hash(record)) == outcome(lambda: hash(made))
    assert record != made  # another class, as a dataclass is never equal to one
    assert record.__eq__(made) is NotImplemented
    for f in dataclasses.fields(cls):
        changed = cls(**{**values, f.name: "else"})
        assert (record == changed) == (other(**values) == other(**{**values, f.name: "else"}))
        assert (record == changed) is (not f.compare)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.name = "x"  # type: ignore[misc]
    assert dataclasses.replace(record) == record


def test_records_with_real_values_compare_hash_and_show_as_before():
    from devenv.environment.model import Drift, Wrong
    from devenv.events import ServiceExited, ServiceFailed

    exited = ServiceExited("pg", "died", ("last",), pid=3)
    assert repr(exited) == (
        "ServiceExited(name='pg', message='died', log_tail=('last',), pid=3, returncode=None,"
        " restart_in=None, attempt=0)"
    )
    assert exited != ServiceFailed("pg", "died", ("last",))
    assert {exited, ServiceExited("pg", "died", ("last",), pid=3)} == {exited}
    wrong = (Wrong("a", "1", "2"),)
    a = Drift(Path("r.lock"), "drift", wrong=wrong, details={"cached": True})
    b = Drift(Path("r.lock"), "drift", wrong=wrong, details={})
    assert a == b and hash(a) == hash(b)  # details are compare=False
    assert "details={'cached': True}" in repr(a)
