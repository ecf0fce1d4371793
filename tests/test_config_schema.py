"""The declaration of devenv.toml's keys (devenv.config.schema) and the model the loader fills
(devenv.config.model) cannot drift apart: every declared key has a field and every field a key,
the dataclasses' defaults are the declared ones, and every declared type has a check."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import pytest

from devenv.config import model, schema
from devenv.config.checks import Checks, Document

# Each table and the dataclass its keys fill, with the fields that no key of that table fills
# (they come from elsewhere: the Procfile, the table's own name, the loader) and the keys that
# fill a field of another name.
MODELS = [
    (schema.ROOT, model.Config, {"root", "source"}, {}),
    (schema.PROJECT, model.ProjectConfig, set(), {}),
    (schema.SERVICE, model.ServiceConfig, {"name", "bundled"}, {}),
    (schema.DATABASE, model.DatabaseConfig, set(), {}),
    (schema.PROCESS, model.ProcessConfig, {"name", "command"}, {}),
    # One of http, tcp and log is the probe's kind, its value the target.
    (
        schema.READY,
        model.ReadyProbe,
        set(),
        {"http": "target", "tcp": "target", "log": "target"},
    ),
    (schema.ENVIRONMENT, model.EnvironmentConfig, set(), {}),
    (schema.LOCKFILES, model.LockfilesConfig, set(), {}),
    (schema.ONBOARDING, model.OnboardingConfig, set(), {"step": "own_steps"}),
    (schema.FIRST_CHANGE, model.FirstChange, set(), {}),
    (schema.STEP, model.OnboardingStep, set(), {}),
    (schema.HOOKS, model.HooksConfig, set(), {}),
]
NOT_KEYS = {("processes.<name>.ready", "kind")}  # the field set by which probe key is given


def test_every_table_is_checked_here() -> None:
    checked = {table.header for table, *_ in MODELS} | {schema.PROD.header}
    assert checked == {table.header for table in schema.TABLES}


@pytest.mark.parametrize(("table", "cls", "elsewhere", "renamed"), MODELS, ids=lambda v: str(v))
def test_every_key_has_a_field_and_every_field_a_key(
    table: schema.Table, cls: type, elsewhere: set[str], renamed: dict[str, str]
) -> None:
    fields = {f.name for f in dataclasses.fields(cls)}
    filled = {renamed.get(name, name) for name in table.names}
    not_keys = {field for header, field in NOT_KEYS if header == table.header}
    assert filled - fields == set(), f"[{table.header}] keys the model has no field for"
    assert fields - filled - elsewhere - not_keys == set(), (
        f"{cls.__name__} fields no key of [{table.header}] fills"
    )


def test_prod_names_the_runtimes_and_any_service() -> None:
    assert schema.PROD.names == schema.PROD_RUNTIMES == ("python", "node")
    assert [key.name for key in schema.PROD.keys if key.name.startswith("<")] == ["<service>"]


def _normal(value: object) -> object:
    """A TOML default and a dataclass default compared as the same kind of thing."""
    if isinstance(value, list | tuple):
        return tuple(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


@pytest.mark.parametrize(("table", "cls", "elsewhere", "renamed"), MODELS, ids=lambda v: str(v))
def test_the_models_defaults_are_the_declared_ones(
    table: schema.Table, cls: type, elsewhere: set[str], renamed: dict[str, str]
) -> None:
    """A config built by hand (tests, devenv init) gets what a file without the key gets."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in table.keys:
        field = fields.get(renamed.get(key.name, key.name))
        if field is None or key.name in renamed:
            continue
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            continue  # the loader always sets it
        if key.has_value_default:
            assert _normal(default) == _normal(key.default), f"{table.header}.{key.name}"
        elif not key.has_value_default and key.default is not schema.REQUIRED:
            assert default in (None, (), {}), f"{table.header}.{key.name}: {default!r}"


def test_every_key_has_a_declared_type_and_a_doc_line() -> None:
    for table in schema.TABLES:
        assert table.doc and "\n" not in table.doc
        for key in table.keys:
            assert isinstance(key.type, tuple) or key.type in schema.TYPES, key
            assert key.doc and "\n" not in key.doc, key
        assert len(set(table.names)) == len(table.names), table.header


def test_every_type_has_a_check_but_the_ones_their_own_code_checks(tmp_path: Path) -> None:
    check = Checks(Document(tmp_path / "devenv.toml"))
    for kind in schema.TYPES:
        if kind in schema.OWN_TYPES:
            with pytest.raises(KeyError):
                check.reader(kind)
        else:
            assert callable(check.reader(kind))
    assert check.reader(("a", "b"))("b", ("k",)) == "b"


def test_a_missing_table_stands_for_its_declared_default(tmp_path: Path) -> None:
    """The shared {} and [] defaults are handed out as copies."""
    given = schema.ROOT.key("project").given({})
    assert given == {}
    given["name"] = "changed"
    assert schema.ROOT.key("project").default == {}
