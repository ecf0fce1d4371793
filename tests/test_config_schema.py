"""The declaration of devenv.toml's keys (devenv.config.schema) and the model the loader fills
(devenv.config.model) cannot drift apart: every declared key has a field and every field a key,
the dataclasses' defaults are the declared ones, every declared type has a check, and leaving
out any key of a project that sets them all changes what is loaded."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from devenv.config import load_config, model, schema
from devenv.config.checks import Checks, Document
from devenv.errors import ConfigError

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
IDS = [table.header or "top level" for table, *_ in MODELS]
NOT_KEYS = {("processes.<name>.ready", "kind")}  # the field set by which probe key is given


def test_every_table_is_checked_here() -> None:
    checked = {table.header for table, *_ in MODELS} | {schema.PROD.header}
    assert checked == {table.header for table in schema.TABLES}


@pytest.mark.parametrize(("table", "cls", "elsewhere", "renamed"), MODELS, ids=IDS)
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


@pytest.mark.parametrize(("table", "cls", "elsewhere", "renamed"), MODELS, ids=IDS)
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


# ---------------------------------------------------------------- every key is read

# A project that sets every declared key, each to something other than its default.
FULL: dict[str, Any] = {
    "project": {"name": "shop", "procfile": "Procfile.dev", "env_file": "dev.env"},
    "services": {
        "postgres": {
            "version": ">=14,<17",
            "port": 5433,
            "prod_like": True,
            "settings": {"work_mem": "64MB"},
            "databases": [
                {
                    "name": "shop",
                    "owner": "owner",
                    "extensions": ["pg_trgm"],
                    "init_sql": "db/init.sql",
                }
            ],
        },
        "memcached": {"recipe": "devenv/memcached.toml"},
    },
    "processes": {
        "web": {
            "env": {"DEBUG": "1"},
            "restart": "always",
            "max_restarts": 2,
            "depends_on": {"postgres": "ready", "migrate": "completed"},
            "ready": {"http": "http://127.0.0.1:$PORT/health", "timeout": 10},
            "stop_timeout": 2,
            "concurrency": 2,
            "restart_on": ["uv.lock"],
        }
    },
    "environment": {"venv": "env", "python": "3.12", "on_drift": "sync"},
    "lockfiles": {"watch": ["requirements.lock"], "sync": {"uv.lock": "make deps"}},
    "prod": {"postgres": "15.4", "python": "3.11", "node": "20"},
    "onboarding": {
        "test": "pytest",
        "lint": "ruff check .",
        "ship": "git push",
        "health": "http://127.0.0.1:$PORT/up",
        "pr": "gh pr create --fill",
        "webhook": "https://hooks.example.com/shipped",
        "steps": ["prerequisites", "sample-data", "branch", "first-change", "tests"],
        "first_change": {"title": "Change it", "file": "greeting.py", "hint": "Edit it."},
        "step": [
            {
                "id": "sample-data",
                "title": "Load the sample data",
                "check": "test -s data.db",
                "action": "make data",
                "hint": "It takes a minute.",
            }
        ],
    },
    "hooks": {"after_ready": ["python -m migrate"]},
}
# The other two probes, each in a project otherwise like FULL.
PROBES = [{"tcp": 8000, "timeout": 10}, {"log": "listening on", "timeout": 10}]
FILES = {
    "Procfile.dev": "web: python -m http.server $PORT\nmigrate: true\n",
    "dev.env": "A=1\n",
    "db/init.sql": "SELECT 1;\n",
    "devenv/memcached.toml": "",  # a recipe is read when its service is used, not here
    "greeting.py": "GREETING = 'hi'\n",
    "requirements.lock": "",
    "uv.lock": "",
}
HEADERS = {table.header: table for table in schema.TABLES}


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _write(root: Path, data: dict[str, Any]) -> Path:
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    config = root / "devenv.toml"
    config.write_text("".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in data.items()))
    return config


def _header(path: tuple[str | int, ...]) -> str:
    """The declared table a dict at ``path`` in the data is, as its header."""
    parts = [part for part in path if isinstance(part, str)]
    is_databases = parts[:3] == ["services", schema.DATABASES_SERVICE, "databases"]
    if parts[:1] in (["services"], ["processes"]) and len(parts) > 1 and not is_databases:
        parts[1] = "<name>"
    return ".".join(parts)


def _keys(value: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """(table header, declared key name, path in the data) for every declared key set."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _keys(item, (*path, index))
        return
    if not isinstance(value, dict):
        return
    if path in (("services",), ("processes",)):  # names of the user's choosing
        for name, item in value.items():
            yield from _keys(item, (*path, name))
        return
    table = HEADERS.get(_header(path))
    if table is None:  # a value that is a table (env, settings, depends_on, sync)
        return
    for name, item in value.items():
        declared = name if name in table.names else "<service>"  # [prod]
        yield table.header, declared, (*path, name)
        yield from _keys(item, (*path, name))


def _without(data: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    holder: Any = data
    for part in path[:-1]:
        holder = holder[part]
    del holder[path[-1]]
    return data


def _with_probe(probe: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(FULL)
    data["processes"]["web"]["ready"] = probe
    return data


def test_the_full_project_sets_every_declared_key() -> None:
    set_keys = {
        (header, name)
        for data in (FULL, *map(_with_probe, PROBES))
        for header, name, _ in _keys(data)
    }
    declared = {(table.header, key.name) for table in schema.TABLES for key in table.keys}
    assert declared - set_keys == set()


@pytest.mark.parametrize("data", [FULL, *map(_with_probe, PROBES)], ids=["full", "tcp", "log"])
def test_every_declared_key_is_read(tmp_path: Path, data: dict[str, Any]) -> None:
    """Leaving out any key of a project that sets them all (none to its default) changes the
    loaded config, or is an error: no declared key is ignored by the loader."""
    full = load_config(_write(tmp_path, data))
    ignored = []
    for header, name, path in _keys(data):
        try:
            loaded = load_config(_write(tmp_path, _without(data, path)))
        except ConfigError:
            continue
        if loaded == full:
            ignored.append(f"{header}.{name}")
    assert ignored == []
