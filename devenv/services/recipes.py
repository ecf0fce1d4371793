"""Service recipes: ``services/*.toml``, or a project's own.

A recipe is data: how to find a server's binaries on Linux and macOS, how to
read its version, how to install it, its default port, readiness probe and
config template. ``driver`` names the Python code that runs PostgreSQL or
Redis; a recipe without a driver is run by the generic runner from its
``[run]`` table, so a team can add memcached or mailpit without Python::

    name = "memcached"
    title = "Memcached"
    default_port = 11211
    [binaries]
    server = "memcached"
    [version]
    command = ["{server}", "--version"]
    pattern = 'memcached (\\d+(?:\\.\\d+)*)'
    [install]
    apt = "apt-get install memcached"
    [readiness]
    kind = "tcp"
    [run]
    command = ["{server}", "-l", "127.0.0.1", "-p", "{port}"]
    [env]
    MEMCACHED_URL = "127.0.0.1:{port}"

Finding a recipe's binaries on this machine is ``devenv.services.installations``'.

Only the standard library is imported here: the CLI loads this on every start.
"""

from __future__ import annotations

import re
import signal
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from devenv.config.checks import Checks, Document, show
from devenv.config.tomlpos import KeyPath
from devenv.errors import did_you_mean
from devenv.resources import templates_dir

if TYPE_CHECKING:
    from devenv.config.model import ServiceConfig

DRIVERS = ("postgres", "redis")
SYSTEMS = ("linux", "macos")
MANAGERS = ("apt", "dnf", "brew")
READINESS_KINDS = ("sql", "ping", "tcp", "command")
DRIVER_READINESS = {"sql": "postgres", "ping": "redis"}  # kinds that need a driver
# Placeholders every template may use; the binary roles ({server}, {client}, ...) too.
PLACEHOLDERS = ("port", "socket", "data_dir", "bindir")

TOP_KEYS = (
    "name",
    "title",
    "default_port",
    "driver",
    "binaries",
    "search",
    "version",
    "install",
    "install_version",
    "readiness",
    "config",
    "run",
    "env",
)
VERSION_KEYS = ("command", "pattern")
READINESS_KEYS = ("kind", "query", "command", "timeout")
CONFIG_KEYS = ("template", "hba")
RUN_KEYS = ("command", "stop_signal")

DEFAULT_VERSION_COMMAND: tuple[str, ...] = ("{server}", "--version")
DEFAULT_VERSION_PATTERN = r"(\d+(?:\.\d+)+)"

_ROLE = re.compile(r"[a-z][a-z0-9_]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _frozen(mapping: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Recipe:
    """One service recipe, checked. Templates use ``{placeholder}``s: the binary roles and
    ``PLACEHOLDERS``."""

    name: str
    source: Path
    binaries: Mapping[str, str]  # role -> binary name; "server" always
    title: str = ""  # for people: "PostgreSQL"; default: the name
    default_port: int | None = None
    driver: str | None = None  # "postgres", "redis", or None: the generic runner
    search: Mapping[str, tuple[str, ...]] = field(default_factory=_frozen)  # system -> globs
    version_command: tuple[str, ...] = DEFAULT_VERSION_COMMAND
    version_pattern: str = DEFAULT_VERSION_PATTERN  # one group: the version
    install: Mapping[str, str] = field(default_factory=_frozen)  # manager -> command
    # manager -> command for one major version, "{major}" in it ("brew install postgresql@{major}")
    install_version: Mapping[str, str] = field(default_factory=_frozen)
    readiness: Mapping[str, Any] = field(default_factory=lambda: _frozen({"kind": "tcp"}))
    config_template: str | None = None  # relative to devenv.resources.templates_dir()
    hba: str | None = None  # relative to templates_dir()
    run_command: tuple[str, ...] = ()  # generic recipes only
    stop_signal: str = "SIGTERM"
    env: Mapping[str, str] = field(default_factory=_frozen)  # name -> template

    @property
    def server(self) -> str:
        return self.binaries["server"]

    def template_path(self, which: str = "config") -> Path | None:
        """The config template (``which="config"``) or hba file, or None."""
        name = self.config_template if which == "config" else self.hba
        return templates_dir() / name if name else None


# ---------------------------------------------------------------- loading


def load_recipe(path: Path) -> Recipe:
    """Read and check a recipe; every mistake is a ConfigError naming file, line and key."""
    doc = Document(path)
    doc.shown = path
    data = doc.parse()
    return _RecipeLoader(doc, data).load()


def recipe_for(service: ServiceConfig) -> Recipe:
    """The recipe of a configured service (bundled, or the project's own)."""
    path = service.recipe
    try:
        st = path.stat()
    except OSError:
        return load_recipe(path)  # reports the problem
    return _cached_recipe(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=32)
def _cached_recipe(path: Path, mtime_ns: int, size: int) -> Recipe:
    return load_recipe(path)


class _RecipeLoader:
    def __init__(self, doc: Document, data: dict[str, Any]) -> None:
        self.doc = doc
        self.check = Checks(doc)
        if "description" in data:  # read by nothing: a recipe's messages name its title
            doc.fail(
                ("description",),
                'no longer read: remove this line (title = "..." names the service in messages)',
            )
        self.data = self.check.table(data, (), TOP_KEYS)

    def load(self) -> Recipe:
        data, check = self.data, self.check
        name = check.optional(data, "name", (), check.string) or self.doc.path.stem
        title = check.optional(data, "title", (), check.string) or name
        default_port = check.optional(data, "default_port", (), check.port)
        driver = self._driver()
        binaries = self._binaries()
        roles = tuple(binaries)
        version_command, version_pattern = self._version(roles)
        run_command, stop_signal = self._run(driver, roles)
        config = check.table(data.get("config", {}), ("config",), CONFIG_KEYS)
        return Recipe(
            name=name,
            source=self.doc.path,
            title=title,
            default_port=default_port,
            driver=driver,
            binaries=_frozen(binaries),
            search=_frozen(self._search()),
            version_command=version_command,
            version_pattern=version_pattern,
            install=_frozen(self._install()),
            install_version=_frozen(self._install("install_version")),
            readiness=_frozen(self._readiness(driver, roles)),
            config_template=self._template(config, "template"),
            hba=self._template(config, "hba"),
            run_command=run_command,
            stop_signal=stop_signal,
            env=_frozen(self._env(roles)),
        )

    def _driver(self) -> str | None:
        if "driver" not in self.data:
            return None
        driver = self.check.string(self.data["driver"], ("driver",))
        if driver not in DRIVERS:
            self.doc.fail(
                ("driver",),
                f"unknown driver '{driver}'{did_you_mean(driver, DRIVERS)}; devenv has drivers "
                f"for {_choices(DRIVERS)} (leave driver out to run the service from [run])",
            )
        return driver

    def _binaries(self) -> dict[str, str]:
        key: KeyPath = ("binaries",)
        if "binaries" not in self.data:
            self.doc.fail(key, 'missing; add [binaries] with server = "the server binary"', at=())
        table = self.check.mapping(self.data["binaries"], key)
        binaries: dict[str, str] = {}
        for role, value in table.items():
            if not _ROLE.fullmatch(role):
                self.doc.fail(
                    (*key, role),
                    f"role {show(role)} must be lower-case letters, digits and '_' "
                    "(it is also a {placeholder})",
                )
            if role in PLACEHOLDERS:
                self.doc.fail((*key, role), f"'{role}' is a placeholder name; choose another role")
            name = self.check.string(value, (*key, role), "a binary name")
            if "/" in name:
                self.doc.fail((*key, role), f"expected a binary name without '/', got {name!r}")
            binaries[role] = name
        if "server" not in binaries:
            self.doc.fail(key, 'the server binary is missing; add server = "..."')
        return {"server": binaries.pop("server"), **binaries}

    def _search(self) -> dict[str, tuple[str, ...]]:
        key: KeyPath = ("search",)
        table = self.check.table(self.data.get("search", {}), key, SYSTEMS)
        return {
            system: self.check.strings(globs, (*key, system)) for system, globs in table.items()
        }

    def _version(self, roles: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        key: KeyPath = ("version",)
        table = self.check.table(self.data.get("version", {}), key, VERSION_KEYS)
        command = DEFAULT_VERSION_COMMAND
        if "command" in table:
            command = self._command(table["command"], (*key, "command"), (*roles, "bindir"))
        pattern = DEFAULT_VERSION_PATTERN
        if "pattern" in table:
            pattern = self.check.string(table["pattern"], (*key, "pattern"), "a regular expression")
            try:
                groups = re.compile(pattern).groups
            except re.error as err:
                self.doc.fail((*key, "pattern"), f"invalid regular expression: {err}")
            if groups != 1:
                self.doc.fail(
                    (*key, "pattern"),
                    f"expected a regular expression with one group (the version), "
                    f"got {groups} groups",
                )
        return command, pattern

    def _install(self, name: str = "install") -> dict[str, str]:
        key: KeyPath = (name,)
        table = self.check.table(self.data.get(name, {}), key, MANAGERS)
        commands = {m: self.check.command(cmd, (*key, m)) for m, cmd in table.items()}
        if name == "install_version":
            for manager, command in commands.items():
                if "{major}" not in command:
                    self.doc.fail((*key, manager), "expected {major} in the command")
        return commands

    def _readiness(self, driver: str | None, roles: tuple[str, ...]) -> dict[str, Any]:
        key: KeyPath = ("readiness",)
        table = self.check.table(self.data.get("readiness", {}), key, READINESS_KEYS)
        kind = self.check.string(table.get("kind", "tcp"), (*key, "kind"))
        if kind not in READINESS_KINDS:
            self.doc.fail(
                (*key, "kind"),
                f"unknown readiness kind '{kind}'{did_you_mean(kind, READINESS_KINDS)}; "
                f"expected {_choices(READINESS_KINDS)}",
            )
        needs = DRIVER_READINESS.get(kind)
        if needs is not None and driver != needs:
            self.doc.fail(
                (*key, "kind"),
                f"readiness kind '{kind}' needs driver = \"{needs}\"; a recipe without a driver "
                "uses 'tcp' or 'command'",
            )
        readiness: dict[str, Any] = {"kind": kind}
        for name in table:
            if name == "kind":
                continue
            allowed = {"query": "sql", "command": "command"}.get(name)
            if allowed is not None and kind != allowed:
                self.doc.fail((*key, name), f"'{name}' is only for kind = \"{allowed}\"")
        if kind == "command":
            if "command" not in table:
                self.doc.fail(key, 'kind = "command" needs command = ["...", ...]')
            readiness["command"] = self._command(
                table["command"], (*key, "command"), (*roles, *PLACEHOLDERS)
            )
        if "query" in table:
            readiness["query"] = self.check.string(table["query"], (*key, "query"), "SQL")
        if "timeout" in table:
            readiness["timeout"] = self.check.seconds(table["timeout"], (*key, "timeout"))
        return readiness

    def _template(self, config: dict[str, Any], name: str) -> str | None:
        key: KeyPath = ("config", name)
        if name not in config:
            return None
        text = self.check.string(config[name], key, "a path")
        if not (templates_dir() / text).is_file():
            self.doc.fail(key, f"'{text}' is not a file in devenv's templates folder")
        return text

    def _run(self, driver: str | None, roles: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        key: KeyPath = ("run",)
        if "run" not in self.data:
            if driver is None:
                self.doc.fail(
                    key,
                    "missing; a recipe without a driver needs [run] with "
                    'command = ["{server}", ...]',
                    at=(),
                )
            return (), "SIGTERM"
        table = self.check.table(self.data["run"], key, RUN_KEYS)
        if "command" not in table:
            if driver is None:
                self.doc.fail(key, 'command is missing; add command = ["{server}", ...]')
            command: tuple[str, ...] = ()
        else:
            command = self._command(table["command"], (*key, "command"), (*roles, *PLACEHOLDERS))
        stop = "SIGTERM"
        if "stop_signal" in table:
            stop = self.check.string(table["stop_signal"], (*key, "stop_signal"), "a signal name")
            names = [sig.name for sig in signal.Signals if not sig.name.startswith("SIG_")]
            if stop not in names:
                self.doc.fail(
                    (*key, "stop_signal"),
                    f"unknown signal '{stop}'{did_you_mean(stop, names)}; "
                    "expected a name like SIGTERM or SIGINT",
                )
        return command, stop

    def _env(self, roles: tuple[str, ...]) -> dict[str, str]:
        key: KeyPath = ("env",)
        table = self.check.mapping(self.data.get("env", {}), key)
        env: dict[str, str] = {}
        for name, value in table.items():
            if not _ENV_NAME.fullmatch(name):
                self.doc.fail((*key, name), f"{show(name)} is not an environment variable name")
            text = self.check.string(value, (*key, name))
            self._placeholders(text, (*key, name), (*roles, *PLACEHOLDERS))
            env[name] = text
        return env

    def _command(self, value: object, key: KeyPath, allowed: tuple[str, ...]) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            got = "an empty list" if value == [] else show(value)
            self.doc.fail(key, f'expected a list of arguments like ["{{server}}", ...], got {got}')
        command = self.check.strings(value, key)
        for index, part in enumerate(command):
            self._placeholders(part, (*key, index), allowed, at=key)
        return command

    def _placeholders(
        self, text: str, key: KeyPath, allowed: tuple[str, ...], *, at: KeyPath | None = None
    ) -> None:
        try:
            fields = list(string.Formatter().parse(text))
        except ValueError:
            self.doc.fail(
                key, f"unbalanced braces in {text!r}; write {{{{ and }}}} for literal braces", at=at
            )
        for _literal, name, spec, conversion in fields:
            if name is None:
                continue
            if name in allowed and (spec or conversion):
                shown = "{" + name + (f"!{conversion}" if conversion else "")
                shown += (f":{spec}" if spec else "") + "}"
                self.doc.fail(
                    key,
                    f"placeholder '{shown}' cannot have a format or conversion; write '{{{name}}}'",
                    at=at,
                )
            if name not in allowed:
                shown = "{" + name + "}"
                self.doc.fail(
                    key,
                    f"unknown placeholder '{shown}'{did_you_mean(name, allowed)}; "
                    f"expected {_choices(['{' + a + '}' for a in allowed])}",
                    at=at,
                )


def _choices(items: tuple[str, ...] | list[str]) -> str:
    quoted = [f"'{item}'" for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


# ---------------------------------------------------------------- installations
