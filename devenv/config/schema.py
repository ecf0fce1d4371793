"""devenv.toml's keys, declared once: each table's keys with their type, default and meaning.

The loader checks a file against these tables (unknown keys, with a "did you
mean", and each value's type), takes its defaults from them, and the README's
key reference is written from them (devenv.config.reference). The model's
dataclasses (devenv.config.model) hold one field per key: tests/test_config_schema.py
keeps the two in step, and tests/test_config_reference.py the README.

A key's ``type`` is either a type name (``TYPES``: how the loader checks it)
or the tuple of strings it may be. Its ``default`` is a TOML value, ``None``
(unset when absent), ``REQUIRED``, or ``Derived(...)``: worked out by the
loader when absent, in the words the README shows.

Only tuples and a few small records are built here: this is imported on every
command's start path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

# The type names a key can have. The loader checks each with devenv.config.checks.Checks, but
# for OWN_TYPES: the code that reads such a key checks it itself (its message says more).
TYPES = (
    "string",
    "command",  # a shell command line
    "path",  # relative to the project folder
    "file",  # a path to a file that exists
    "boolean",
    "integer >= 0",
    "integer >= 1",
    "port",  # 1 to 65535
    "seconds",  # a number > 0
    "list of strings",
    "list of paths",
    "table",
    "table of scalars",  # strings, numbers and booleans
    "table of commands",
    "list of tables",
    "list or table",
    "version",
    "version constraint",
    "identifier",  # a PostgreSQL identifier
    "URL",  # an http:// or https:// URL with a host
    "regex",
)
OWN_TYPES = (
    "list of paths",
    "table of commands",
    "list of tables",
    "list or table",
    "URL",
    "regex",
)


class Derived:
    """A default the loader works out when the key is absent; ``says`` is how."""

    __slots__ = ("says",)

    def __init__(self, says: str) -> None:
        self.says = says

    def __repr__(self) -> str:
        return f"Derived({self.says!r})"


class Required:
    """The default of a key that must be set (``REQUIRED``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = Required()


class Key:
    """One key of a table: its name, how its value is checked, its default, one line of doc."""

    __slots__ = ("default", "doc", "name", "type")

    def __init__(self, name: str, type: str | tuple[str, ...], default: Any, doc: str) -> None:
        self.name = name  # "<service>": any name of that kind (see Table.names)
        self.type = type  # a name in TYPES, or the strings the value may be
        self.default = default  # a TOML value, None (unset), REQUIRED or Derived(...)
        self.doc = doc

    def __repr__(self) -> str:
        return f"Key({self.name!r}, {self.type!r}, {self.default!r}, {self.doc!r})"

    @property
    def has_value_default(self) -> bool:
        """True when an absent key stands for ``default`` (a TOML value)."""
        return self.default is not None and not isinstance(self.default, Derived | Required)

    def given(self, table: Mapping[str, Any]) -> Any:
        """The value ``table`` sets for this key, else its TOML default; None when neither."""
        if self.name in table:
            return table[self.name]
        if not self.has_value_default:
            return None
        # A copy: the declaration's {} and [] are shared by every load.
        return self.default.copy() if isinstance(self.default, dict | list) else self.default


class Table:
    """One table of devenv.toml: its header as the README writes it, its keys, one doc line."""

    __slots__ = ("array", "doc", "header", "keys", "names")

    def __init__(self, header: str, doc: str, keys: tuple[Key, ...], array: bool = False) -> None:
        self.header = header  # "" for the file's top level; "services.<name>" for each of a kind
        self.doc = doc
        self.keys = keys
        self.array = array  # [[header]]: a list of such tables
        # The key names the table accepts, in declared order ("<...>" ones are not names).
        self.names = tuple(key.name for key in keys if not key.name.startswith("<"))

    def __repr__(self) -> str:
        return f"Table({self.header!r})"

    def key(self, name: str) -> Key:
        """The key called ``name`` (KeyError when the table has none)."""
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(name)


# ---------------------------------------------------------------- values some keys may take

RESTART_POLICIES = ("on-failure", "always", "never")
CONDITIONS: tuple[Literal["started", "ready", "completed"], ...] = ("started", "ready", "completed")
READY_PROBES: tuple[Literal["http", "tcp", "log"], ...] = ("http", "tcp", "log")
ON_DRIFT = ("ask", "warn", "sync")
DATABASES_SERVICE = "postgres"  # the one service with [[services.<name>.databases]]
DEFAULT_SHIP = "git push -u origin HEAD"
DEFAULT_VENV = ".venv"


# ---------------------------------------------------------------- the tables

ROOT = Table(
    "",
    "the tables of `devenv.toml` (or of `[tool.devenv]` in `pyproject.toml`)",
    (
        Key("project", "table", {}, "the project's name and files"),
        Key("services", "table", {}, "the servers the project uses, one `[services.<name>]` each"),
        Key(
            "processes",
            "table",
            {},
            "how the Procfile's processes run, one `[processes.<name>]` each",
        ),
        Key(
            "environment",
            "table",
            {},
            "the project's virtualenv, and what to do when a lockfile changes",
        ),
        Key("lockfiles", "table", {}, "the lockfiles devenv watches and how they are synced"),
        Key("prod", "table", {}, "what production runs; dev is compared with it"),
        Key("onboarding", "table", None, "the first day's steps (`devenv onboard`)"),
        Key("hooks", "table", {}, "commands run once the services are ready"),
    ),
)

PROJECT = Table(
    "project",
    "the project",
    (
        Key(
            "name",
            "string",
            Derived("`[project] name` in `pyproject.toml`, else the folder's name"),
            "its name",
        ),
        Key("procfile", "file", "Procfile", "its Procfile; if set, it must exist"),
        Key(
            "env_file",
            "path",
            ".env",
            "optional variables, read like dotenv: `export`, quotes, comments, `$VAR` / "
            "`${VAR:-default}` (`$$` a literal `$`); a line that cannot be read is an error "
            "naming the line",
        ),
    ),
)

SERVICE = Table(
    "services.<name>",
    "a server: postgres and redis are bundled; another needs its own recipe",
    (
        Key(
            "version",
            "version constraint",
            Derived("any"),
            'the versions it may be: `"15"`, `"15.4"`, `">=14,<17"`, `"==15.4"`, `"~=15.2"`, '
            '`"!=16"`',
        ),
        Key(
            "port",
            "port",
            Derived("the recipe's; a free one if taken (remembered)"),
            "the port it listens on",
        ),
        Key("prod_like", "boolean", False, "true: production-like durability (fsync on)"),
        Key(
            "settings",
            "table of scalars",
            {},
            "server settings, not the ones devenv owns: postgres's `port`, "
            "`listen_addresses`, socket and file locations; redis's `port`, `bind`, `dir`, "
            "`unixsocket*`, `requirepass` (the project's password)",
        ),
        Key(
            "recipe",
            "file",
            Derived("the bundled one; required for another service"),
            "the recipe of a service devenv does not bundle, in your repository",
        ),
        Key(
            "databases",
            "list of tables",
            [],
            f"`{DATABASES_SERVICE}` only: its databases, each a "
            f"`[[services.{DATABASES_SERVICE}.databases]]`",
        ),
    ),
)

DATABASE = Table(
    f"services.{DATABASES_SERVICE}.databases",
    "a database devenv creates",
    (
        Key("name", "identifier", REQUIRED, "its name, unique"),
        Key(
            "owner",
            "identifier",
            Derived("the name"),
            "its owner role, created with LOGIN, CREATEDB and the project's password",
        ),
        Key("extensions", "list of strings", [], "extensions created in it"),
        Key("init_sql", "file", None, "SQL run once, when the database is created"),
    ),
    array=True,
)

PROCESS = Table(
    "processes.<name>",
    "a Procfile process type; every key optional",
    (
        Key(
            "env",
            "table of scalars",
            {},
            "its variables: `$VAR`, `${VAR}`, `${VAR:-default}` from the services, `.env`, "
            "`PORT` and the environment, as a shell would; `$$` is a literal `$`; a variable "
            "nothing sets is an error",
        ),
        Key(
            "restart",
            RESTART_POLICIES,
            "on-failure",
            "when it is started again after it exits",
        ),
        Key("max_restarts", "integer >= 0", 5, "restarts before the process is `crashed`"),
        Key(
            "depends_on",
            "list or table",
            [],
            'what it waits for: `{ postgres = "ready", migrate = "completed" }`, or a list of '
            "names (the conditions are below)",
        ),
        Key(
            "ready",
            "table",
            Derived("ready once started"),
            "how to tell it is ready: `[processes.<name>.ready]`",
        ),
        Key("stop_timeout", "seconds", 5, "seconds between SIGTERM and SIGKILL"),
        Key("concurrency", "integer >= 1", 1, "how many run (honcho's `web=2`)"),
        Key(
            "restart_on",
            "list of paths",
            Derived("when its command runs in the synced environment"),
            "the lockfiles whose sync restarts it; `[]`: never",
        ),
    ),
)

READY = Table(
    "processes.<name>.ready",
    "a ready probe: exactly one of http, tcp and log, and a timeout",
    (
        Key("http", "URL", None, "ready when an HTTP GET of this URL answers; it may hold `$PORT`"),
        Key("tcp", "port", None, "ready when this port takes a connection"),
        Key("log", "regex", None, "ready when a line of its output matches"),
        Key("timeout", "seconds", 30, "how long to wait for it"),
    ),
)

ENVIRONMENT = Table(
    "environment",
    "the project's virtualenv",
    (
        Key(
            "venv",
            "path",
            DEFAULT_VENV,
            "the virtualenv, a folder inside the project, made and filled by devenv",
        ),
        Key(
            "python",
            "string",
            Derived("`.python-version`, `[prod] python`, `requires-python`"),
            'its Python, a version request for uv (`"3.11"`)',
        ),
        Key(
            "on_drift",
            ON_DRIFT,
            Derived('`"ask"` in the TUI, `"warn"` without one'),
            'when a lockfile changed: `"ask"` (a key in the TUI), `"warn"`, `"sync"` (install at '
            "once)",
        ),
    ),
)

LOCKFILES = Table(
    "lockfiles",
    "the lockfiles",
    (
        Key(
            "watch",
            "list of strings",
            Derived("the lockfiles found in the root"),
            "the lockfiles devenv watches, relative to the project folder",
        ),
        Key(
            "sync",
            "table of commands",
            {},
            "rarely needed: `lockfile = command`, run instead of devenv's own installer",
        ),
    ),
)

PROD = Table(
    "prod",
    "what production runs; dev is compared with it",
    (
        Key("<service>", "version", None, "the version of a service declared in `[services]`"),
        Key("python", "version", None, "the Python version"),
        Key("node", "version", None, "the Node version"),
    ),
)
PROD_RUNTIMES = PROD.names

ONBOARDING = Table(
    "onboarding",
    "the first day: `devenv onboard`",
    (
        Key(
            "test",
            "command",
            Derived('required while `steps` has `"tests"`'),
            "the command that proves the tests pass",
        ),
        Key("lint", "command", None, "run on commit"),
        Key("ship", "command", DEFAULT_SHIP, "ships the change"),
        Key(
            "health",
            "URL",
            Derived("the first process's `ready.http`"),
            "the app's health URL; it may hold `$PORT`",
        ),
        Key("pr", "command", None, "run after the push"),
        Key(
            "webhook",
            "URL",
            None,
            "POSTed `{title, branch, person, seconds, project, commit}` once shipped",
        ),
        Key(
            "steps",
            "list of strings",
            Derived('the built-in order, own steps before `"branch"`'),
            "the ids of the steps, in the order they run (a built-in one may be left out)",
        ),
        Key("first_change", "table", None, "the first change: `[onboarding.first_change]`"),
        Key("step", "list of tables", [], "the project's own steps: `[[onboarding.step]]`"),
    ),
)

FIRST_CHANGE = Table(
    "onboarding.first_change",
    "the good first change a new hire makes",
    (
        Key("title", "string", REQUIRED, "what it is; the commit's message"),
        Key("file", "file", REQUIRED, "the file to change"),
        Key("hint", "string", None, "how, in a sentence"),
    ),
)

STEP = Table(
    "onboarding.step",
    "a step of the project's own",
    (
        Key(
            "id",
            "string",
            REQUIRED,
            'its name in `steps`: lowercase letters, digits, `-` and `_` (`"sample-data"`)',
        ),
        Key("title", "string", REQUIRED, "what the person sees"),
        Key("check", "command", REQUIRED, "done when it exits 0"),
        Key("action", "command", None, "does the step; without one the person does it (`hint`)"),
        Key("hint", "string", None, "what to do, shown with the step"),
    ),
    array=True,
)

HOOKS = Table(
    "hooks",
    "the hooks",
    (
        Key(
            "after_ready",
            "list of strings",
            [],
            "commands run in order once the services are ready, with the processes' "
            "environment (the venv, `.env`, the services' variables over it)",
        ),
    ),
)

# Every table, in the README's order.
TABLES = (
    ROOT,
    PROJECT,
    SERVICE,
    DATABASE,
    PROCESS,
    READY,
    ENVIRONMENT,
    LOCKFILES,
    PROD,
    ONBOARDING,
    FIRST_CHANGE,
    STEP,
    HOOKS,
)
