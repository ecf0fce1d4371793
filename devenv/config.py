"""The project's config: devenv.toml, or [tool.devenv] in pyproject.toml, plus the Procfile.

``load_project()`` finds the config by walking up from the current folder
(like git) and returns an immutable ``Config``. Every mistake in a user's
file is a ``ConfigError`` naming the file, the line and the key; the schema
is described in the README and in DESIGN.md.

Only the standard library, ``honcho.environ`` and devenv modules are
imported here: the CLI loads this on every command and must stay fast.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NoReturn, TypeVar

from devenv.errors import ConfigError, DevenvError, did_you_mean
from devenv.procfile import ProcfileEntry, parse_procfile
from devenv.resources import services_dir
from devenv.tomlpos import KeyPath, find_nearest_line, format_key
from devenv.versions import Version, VersionConstraint

CONFIG_FILE = "devenv.toml"
PYPROJECT_FILE = "pyproject.toml"
PYPROJECT_PREFIX: KeyPath = ("tool", "devenv")

TOP_KEYS = ("project", "services", "processes", "lockfiles", "prod", "onboarding", "hooks")
PROJECT_KEYS = ("name", "procfile", "env_file")
SERVICE_KEYS = ("version", "port", "prod_like", "settings", "recipe", "databases")
DATABASE_KEYS = ("name", "owner", "extensions", "init_sql")
PROCESS_KEYS = (
    "env",
    "restart",
    "max_restarts",
    "depends_on",
    "ready",
    "stop_timeout",
    "concurrency",
)
READY_PROBES = ("http", "tcp", "log")
READY_KEYS = (*READY_PROBES, "timeout")
LOCKFILES_KEYS = ("watch", "sync")
ONBOARDING_KEYS = ("test", "lint", "ship", "first_change")
FIRST_CHANGE_KEYS = ("title", "file", "hint")
HOOKS_KEYS = ("after_ready",)

RESTART_POLICIES = ("on-failure", "always", "never")
CONDITIONS = ("started", "ready", "completed")
PROD_RUNTIMES = ("python", "node")
DATABASES_SERVICE = "postgres"
DEFAULT_SHIP = "git push -u origin HEAD"

LOCKFILE_NAMES = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Gemfile.lock",
    "Cargo.lock",
    "go.sum",
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENTIFIER_MAX = 63
_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")

Scalar = str | int | float | bool
T = TypeVar("T")


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class ProjectConfig:
    name: str
    procfile: Path  # absolute; may not exist when it was not set explicitly
    env_file: Path  # absolute; optional file in honcho's .env format


@dataclass(frozen=True)
class DatabaseConfig:
    name: str
    owner: str
    extensions: tuple[str, ...] = ()
    init_sql: Path | None = None  # absolute


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    recipe: Path  # the bundled recipe, or the project's own (absolute)
    bundled: bool
    version: VersionConstraint | None = None
    port: int | None = None  # None: the recipe's default port
    prod_like: bool = False
    settings: Mapping[str, Scalar] = field(default_factory=lambda: MappingProxyType({}))
    databases: tuple[DatabaseConfig, ...] = ()


@dataclass(frozen=True)
class Dependency:
    name: str
    kind: Literal["service", "process"]
    condition: Literal["started", "ready", "completed"]


@dataclass(frozen=True)
class ReadyProbe:
    kind: Literal["http", "tcp", "log"]
    target: str | int  # http: URL (may contain $PORT); tcp: port; log: regex
    timeout: float = 30.0


@dataclass(frozen=True)
class ProcessConfig:
    name: str
    command: str
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    restart: Literal["on-failure", "always", "never"] = "on-failure"
    max_restarts: int = 5
    depends_on: tuple[Dependency, ...] = ()
    ready: ReadyProbe | None = None
    stop_timeout: float = 5.0
    concurrency: int = 1


@dataclass(frozen=True)
class LockfilesConfig:
    watch: tuple[Path, ...] = ()  # absolute
    sync: Mapping[Path, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class FirstChange:
    title: str
    file: Path  # absolute
    hint: str | None = None


@dataclass(frozen=True)
class OnboardingConfig:
    test: str
    lint: str | None = None
    ship: str = DEFAULT_SHIP
    first_change: FirstChange | None = None


@dataclass(frozen=True)
class HooksConfig:
    after_ready: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    root: Path  # the project folder (absolute)
    source: Path  # devenv.toml or pyproject.toml (absolute)
    project: ProjectConfig
    services: Mapping[str, ServiceConfig]
    processes: Mapping[str, ProcessConfig]  # every Procfile process type, in file order
    lockfiles: LockfilesConfig
    prod: Mapping[str, Version]  # service name, "python" or "node" -> version
    onboarding: OnboardingConfig | None
    hooks: HooksConfig


# ---------------------------------------------------------------- public API


def bundled_service_names() -> frozenset[str]:
    """Names of the services devenv ships a recipe for (services/*.toml)."""
    try:
        folder = services_dir()
    except FileNotFoundError as err:
        raise DevenvError(str(err)) from None
    return frozenset(path.stem for path in folder.glob("*.toml"))


def find_config(start: Path) -> Path:
    """The devenv.toml, or pyproject.toml with [tool.devenv], nearest to ``start`` going up."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate / CONFIG_FILE
        pyproject = candidate / PYPROJECT_FILE
        if pyproject.is_file() and _has_devenv_table(pyproject):
            return pyproject
    raise DevenvError(
        f"no {CONFIG_FILE} (or [tool.devenv] in {PYPROJECT_FILE}) in {start} or any parent "
        "folder; run `devenv init` to create one"
    )


def load_project(start: Path | None = None) -> Config:
    """Find the project's config from ``start`` (default: the current folder) and load it."""
    return load_config(find_config(start if start is not None else Path.cwd()))


def load_config(path: Path) -> Config:
    """Read and check devenv.toml or pyproject.toml ([tool.devenv]) and its Procfile."""
    path = path.resolve()
    is_pyproject = path.name == PYPROJECT_FILE
    doc = _Document(path, prefix=PYPROJECT_PREFIX if is_pyproject else ())
    data = doc.parse()
    if is_pyproject:
        doc.pyproject = data  # its [project].name is the default project name
        data = _devenv_table(doc, data)
    return _Loader(doc, data).load()


def detect_lockfiles(root: Path) -> list[Path]:
    """The lockfiles that exist in ``root``, sorted by name."""
    found = [root / name for name in LOCKFILE_NAMES]
    found += root.glob("requirements*.lock")
    found += (path for path in root.glob("requirements*.txt") if _has_pin(path))
    return sorted((path for path in found if path.is_file()), key=lambda path: path.name)


# ---------------------------------------------------------------- finding and reading files


def _has_devenv_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # Let load_config report the syntax error if the table seems to be there.
        return "tool.devenv" in text
    tool = data.get("tool")
    return isinstance(tool, dict) and "devenv" in tool


def _has_pin(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any("==" in line.split("#", 1)[0] for line in text.splitlines())


def _devenv_table(doc: _Document, data: dict[str, Any]) -> dict[str, Any]:
    tool = data.get("tool")
    if not isinstance(tool, dict) or "devenv" not in tool:
        raise ConfigError("has no [tool.devenv] table", path=doc.shown)
    devenv = tool["devenv"]
    if not isinstance(devenv, dict):
        doc.fail((), f"expected a table, got {_show(devenv)}")
    return devenv


class _Document:
    """One config file: its text, for line numbers, and how errors name it."""

    def __init__(self, path: Path, prefix: KeyPath = ()) -> None:
        self.path = path
        self.root = path.parent
        self.shown = Path(path.name)
        self.prefix = prefix
        self.text = ""
        self.pyproject: dict[str, Any] | None = None

    def parse(self) -> dict[str, Any]:
        try:
            self.text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise ConfigError(f"is not UTF-8 text ({err.reason})", path=self.shown) from None
        except OSError as err:
            raise ConfigError(f"cannot read it: {err.strerror or err}", path=self.shown) from None
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
        return ConfigError(f"invalid TOML: {message}", path=self.shown, line=line, column=column)

    def error(self, key: KeyPath, message: str, *, at: KeyPath | None = None) -> ConfigError:
        """An error about ``key``, on the line of ``at`` (default: ``key``)."""
        line = find_nearest_line(self.text, key if at is None else at, self.prefix)
        full = (*self.prefix, *key)
        return ConfigError(message, path=self.shown, line=line, key=format_key(full) or None)

    def fail(self, key: KeyPath, message: str, *, at: KeyPath | None = None) -> NoReturn:
        raise self.error(key, message, at=at)

    def relative(self, path: Path) -> Path:
        try:
            return path.relative_to(self.root)
        except ValueError:
            return path


# ---------------------------------------------------------------- value checks


def _show(value: object) -> str:
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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


def _env_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Checks:
    """Typed reads of values; each failure is a ConfigError at the value's key."""

    def __init__(self, doc: _Document) -> None:
        self.doc = doc

    def mapping(self, value: object, key: KeyPath) -> dict[str, Any]:
        """A table whose keys are the user's names (services, env, settings, ...)."""
        if not isinstance(value, dict):
            self.doc.fail(key, f"expected a table, got {_show(value)}")
        return value

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
            got = "an empty string" if value == "" else _show(value)
            self.doc.fail(key, f"expected {what}, got {got}")
        return value

    def optional(
        self, table: dict[str, Any], name: str, key: KeyPath, read: Callable[[Any, KeyPath], T]
    ) -> T | None:
        """``read(table[name])``, or None when the key is absent."""
        return read(table[name], (*key, name)) if name in table else None

    def command(self, value: object, key: KeyPath) -> str:
        return self.string(value, key, "a shell command")

    def boolean(self, value: object, key: KeyPath) -> bool:
        if not isinstance(value, bool):
            self.doc.fail(key, f"expected true or false, got {_show(value)}")
        return value

    def integer(self, value: object, key: KeyPath, low: int, high: int | None = None) -> int:
        if not _is_int(value) or value < low or (high is not None and value > high):
            expected = f"from {low} to {high}" if high is not None else f">= {low}"
            self.doc.fail(key, f"expected an integer {expected}, got {_show(value)}")
        return value

    def seconds(self, value: object, key: KeyPath) -> float:
        if not _is_number(value) or value <= 0:
            self.doc.fail(key, f"expected a number of seconds > 0, got {_show(value)}")
        return float(value)

    def port(self, value: object, key: KeyPath) -> int:
        return self.integer(value, key, 1, 65535)

    def strings(self, value: object, key: KeyPath) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.doc.fail(key, f"expected a list of strings, got {_show(value)}")
        return tuple(self.string(item, (*key, index)) for index, item in enumerate(value))

    def scalars(self, value: object, key: KeyPath) -> dict[str, Scalar]:
        value = self.mapping(value, key)
        for name, item in value.items():
            if not _is_scalar(item):
                self.doc.fail(
                    (*key, name), f"expected a string, number or boolean, got {_show(item)}"
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
            self.doc.fail(key, f"expected {what}, got {_show(text)}")
        return text


# ---------------------------------------------------------------- the sections


class _Loader:
    def __init__(self, doc: _Document, data: dict[str, Any]) -> None:
        self.doc = doc
        self.root = doc.root
        self.check = _Checks(doc)
        self.data = self.check.table(data, (), TOP_KEYS)

    def load(self) -> Config:
        project = self._project(self.data.get("project", {}))
        services = self._services(self.data.get("services", {}))
        procfile = self._procfile(project)
        processes = self._processes(self.data.get("processes", {}), project, procfile, services)
        return Config(
            root=self.root,
            source=self.doc.path,
            project=project,
            services=MappingProxyType(services),
            processes=MappingProxyType(processes),
            lockfiles=self._lockfiles(self.data.get("lockfiles", {})),
            prod=MappingProxyType(self._prod(self.data.get("prod", {}), services)),
            onboarding=self._onboarding(self.data.get("onboarding")),
            hooks=self._hooks(self.data.get("hooks", {})),
        )

    # [project]

    def _project(self, value: object) -> ProjectConfig:
        key: KeyPath = ("project",)
        table = self.check.table(value, key, PROJECT_KEYS)
        if "name" in table:
            name = self.check.string(table["name"], (*key, "name"))
        else:
            name = self._default_name()
        if "procfile" in table:
            procfile = self.check.existing_file(table["procfile"], (*key, "procfile"))
        else:
            procfile = self.root / "Procfile"
        env_file = self.check.path(table.get("env_file", ".env"), (*key, "env_file"))
        return ProjectConfig(name=name, procfile=procfile, env_file=env_file)

    def _default_name(self) -> str:
        pyproject = self.doc.pyproject
        if pyproject is None:
            pyproject = _read_pyproject_quietly(self.root / PYPROJECT_FILE)
        project = pyproject.get("project")
        if isinstance(project, dict) and isinstance(project.get("name"), str):
            return project["name"]
        return self.root.name

    # [services.*]

    def _services(self, value: object) -> dict[str, ServiceConfig]:
        value = self.check.mapping(value, ("services",))
        bundled = bundled_service_names()
        return {name: self._service(name, table, bundled) for name, table in value.items()}

    def _service(self, name: str, value: object, bundled: frozenset[str]) -> ServiceConfig:
        key: KeyPath = ("services", name)
        table = self.check.table(value, key, SERVICE_KEYS)
        recipe = self._recipe(name, table, bundled)
        databases: tuple[DatabaseConfig, ...] = ()
        if "databases" in table:
            if name != DATABASES_SERVICE:
                self.doc.fail(
                    (*key, "databases"),
                    f"databases can only be declared for {DATABASES_SERVICE}, not for '{name}'",
                )
            databases = self._databases(table["databases"], (*key, "databases"))
        return ServiceConfig(
            name=name,
            recipe=recipe,
            bundled=name in bundled,
            version=self.check.optional(table, "version", key, self.check.version_constraint),
            port=self.check.optional(table, "port", key, self.check.port),
            prod_like=self.check.boolean(table.get("prod_like", False), (*key, "prod_like")),
            settings=MappingProxyType(
                self.check.scalars(table.get("settings", {}), (*key, "settings"))
            ),
            databases=databases,
        )

    def _recipe(self, name: str, table: dict[str, Any], bundled: frozenset[str]) -> Path:
        key: KeyPath = ("services", name)
        if "recipe" in table:
            if name in bundled:
                self.doc.fail(
                    (*key, "recipe"),
                    f"'{name}' is bundled with devenv; recipe is only for services it does not "
                    "bundle (remove this line)",
                )
            if not _SERVICE_NAME.fullmatch(name):
                self.doc.fail(
                    key,
                    f"service name {_show(name)} must be letters, digits, '_' and '-', "
                    "starting with a letter or digit",
                )
            return self.check.existing_file(table["recipe"], (*key, "recipe"))
        if name not in bundled:
            self.doc.fail(
                ("services",),
                f"unknown service '{name}'{did_you_mean(name, bundled)} (a service that devenv "
                'does not bundle needs recipe = "path/to/recipe.toml")',
                at=key,
            )
        return services_dir() / f"{name}.toml"

    def _databases(self, value: object, key: KeyPath) -> tuple[DatabaseConfig, ...]:
        if not isinstance(value, list):
            self.doc.fail(key, f"expected a list of tables ([[...databases]]), got {_show(value)}")
        databases: list[DatabaseConfig] = []
        for index, item in enumerate(value):
            database = self._database(item, (*key, index))
            for other_index, other in enumerate(databases):
                if other.name == database.name:
                    self.doc.fail(
                        (*key, index, "name"),
                        f"database '{database.name}' is declared twice "
                        f"(also {format_key((key[-1], other_index))})",
                    )
            databases.append(database)
        return tuple(databases)

    def _database(self, value: object, key: KeyPath) -> DatabaseConfig:
        table = self.check.table(value, key, DATABASE_KEYS)
        if "name" not in table:
            self.doc.fail(key, 'missing name = "..." (the database\'s name)')
        name = self.check.identifier(table["name"], (*key, "name"))
        owner = self.check.identifier(table.get("owner", name), (*key, "owner"))
        extensions = self.check.strings(table.get("extensions", []), (*key, "extensions"))
        init_sql = self.check.optional(table, "init_sql", key, self.check.existing_file)
        return DatabaseConfig(name=name, owner=owner, extensions=extensions, init_sql=init_sql)

    # the Procfile and [processes.*]

    def _procfile(self, project: ProjectConfig) -> dict[str, ProcfileEntry]:
        if not project.procfile.is_file():
            return {}
        return parse_procfile(project.procfile, self.doc.relative(project.procfile))

    def _processes(
        self,
        value: object,
        project: ProjectConfig,
        procfile: dict[str, ProcfileEntry],
        services: dict[str, ServiceConfig],
    ) -> dict[str, ProcessConfig]:
        value = self.check.mapping(value, ("processes",))
        shown = self.doc.relative(project.procfile)
        for name in value:
            self._check_process_name(name, project.procfile, procfile)
        for name, entry in procfile.items():
            if name in services:
                raise ConfigError(
                    f"process '{name}' has the name of a service declared in "
                    f"{self.doc.shown}; rename one of them",
                    path=shown,
                    line=entry.line,
                )
        processes = {
            name: self._process(name, entry.command, value.get(name, {}), procfile, services)
            for name, entry in procfile.items()
        }
        self._check_cycles(processes)
        return processes

    def _check_process_name(
        self, name: str, path: Path, procfile: dict[str, ProcfileEntry]
    ) -> None:
        key: KeyPath = ("processes", name)
        shown = self.doc.relative(path)
        if not path.is_file():
            self.doc.fail(
                key,
                f"there is no {shown} to take process '{name}' from; create {shown} with a "
                f"line '{name}: <command>', or remove [processes.{name}]",
            )
        if name not in procfile:
            known = f"{shown} has: {', '.join(procfile)}" if procfile else f"{shown} is empty"
            self.doc.fail(
                key,
                f"'{name}' is not a process type in {shown}{did_you_mean(name, procfile)} "
                f"({known})",
            )

    def _process(
        self,
        name: str,
        command: str,
        value: object,
        procfile: dict[str, ProcfileEntry],
        services: dict[str, ServiceConfig],
    ) -> ProcessConfig:
        key: KeyPath = ("processes", name)
        table = self.check.table(value, key, PROCESS_KEYS)
        env = self.check.scalars(table.get("env", {}), (*key, "env"))
        restart = table.get("restart", "on-failure")
        if restart not in RESTART_POLICIES:
            expected = ", ".join(f"'{policy}'" for policy in RESTART_POLICIES)
            self.doc.fail((*key, "restart"), f"expected one of {expected}, got {_show(restart)}")
        depends_on: tuple[Dependency, ...] = ()
        if "depends_on" in table:
            depends_on = self._depends_on(name, table["depends_on"], procfile, services)
        ready = self.check.optional(table, "ready", key, self._ready)
        return ProcessConfig(
            name=name,
            command=command,
            env=MappingProxyType({k: _env_text(v) for k, v in env.items()}),
            restart=restart,
            max_restarts=self.check.integer(
                table.get("max_restarts", 5), (*key, "max_restarts"), 0
            ),
            depends_on=depends_on,
            ready=ready,
            stop_timeout=self.check.seconds(table.get("stop_timeout", 5), (*key, "stop_timeout")),
            concurrency=self.check.integer(table.get("concurrency", 1), (*key, "concurrency"), 1),
        )

    def _depends_on(
        self,
        process: str,
        value: object,
        procfile: dict[str, ProcfileEntry],
        services: dict[str, ServiceConfig],
    ) -> tuple[Dependency, ...]:
        key: KeyPath = ("processes", process, "depends_on")
        if isinstance(value, list):
            names = self.check.strings(value, key)
            pairs = [((*key, index), name, None) for index, name in enumerate(names)]
        elif isinstance(value, dict):
            pairs = [((*key, name), name, condition) for name, condition in value.items()]
        else:
            self.doc.fail(
                key,
                f"expected a list of names or a table of name = condition, got {_show(value)}",
            )
        seen: set[str] = set()
        dependencies = []
        for item_key, name, condition in pairs:
            if name in seen:
                self.doc.fail(item_key, f"'{name}' is listed twice")
            seen.add(name)
            dependencies.append(
                self._dependency(process, item_key, name, condition, procfile, services)
            )
        return tuple(dependencies)

    def _dependency(
        self,
        process: str,
        key: KeyPath,
        name: str,
        condition: object,
        procfile: dict[str, ProcfileEntry],
        services: dict[str, ServiceConfig],
    ) -> Dependency:
        if name == process:
            self.doc.fail(key, f"process '{process}' cannot depend on itself")
        if name in services:
            kind: Literal["service", "process"] = "service"
        elif name in procfile:
            kind = "process"
        else:
            known = [*services, *procfile]
            self.doc.fail(
                key,
                f"unknown name '{name}' (expected a service declared in [services] or a "
                f"process type in the Procfile){did_you_mean(name, known)}",
            )
        if condition is None:
            condition = "ready" if kind == "service" else "started"
        if condition not in CONDITIONS:
            expected = ", ".join(f"'{c}'" for c in CONDITIONS)
            self.doc.fail(key, f"expected one of {expected}, got {_show(condition)}")
        if condition == "completed" and kind == "service":
            self.doc.fail(
                key,
                f"'completed' is only for processes; '{name}' is a service, "
                "use 'ready' or 'started'",
            )
        return Dependency(name=name, kind=kind, condition=condition)

    def _check_cycles(self, processes: dict[str, ProcessConfig]) -> None:
        graph = {
            name: [dep.name for dep in process.depends_on if dep.kind == "process"]
            for name, process in processes.items()
        }
        cycle = _find_cycle(graph)
        if cycle:
            self.doc.fail(
                ("processes", cycle[0], "depends_on"),
                f"dependency cycle: {' -> '.join(cycle)}",
            )

    def _ready(self, value: object, key: KeyPath) -> ReadyProbe:
        table = self.check.table(value, key, READY_KEYS)
        probes = [name for name in READY_PROBES if name in table]
        if len(probes) != 1:
            got = " and ".join(probes) if probes else "none"
            self.doc.fail(key, f"expected exactly one of http, tcp or log, got {got}")
        kind = probes[0]
        probe_key = (*key, kind)
        target: str | int
        if kind == "http":
            target = self._url(table[kind], probe_key)
        elif kind == "tcp":
            target = self.check.port(table[kind], probe_key)
        else:
            target = self._regex(table[kind], probe_key)
        timeout = self.check.seconds(table.get("timeout", 30), (*key, "timeout"))
        return ReadyProbe(kind=kind, target=target, timeout=timeout)

    def _url(self, value: object, key: KeyPath) -> str:
        url = self.check.string(value, key, "a URL")
        scheme, _, rest = url.partition("://")
        if scheme not in ("http", "https") or not rest.split("/", 1)[0]:
            self.doc.fail(
                key,
                f"expected a URL starting with http:// or https:// and a host, got {_show(url)}",
            )
        return url

    def _regex(self, value: object, key: KeyPath) -> str:
        pattern = self.check.string(value, key, "a regular expression")
        try:
            re.compile(pattern)
        except re.error as err:
            self.doc.fail(key, f"not a valid regular expression ({err}): {_show(pattern)}")
        return pattern

    # [lockfiles], [prod], [onboarding], [hooks]

    def _lockfiles(self, value: object) -> LockfilesConfig:
        key: KeyPath = ("lockfiles",)
        table = self.check.table(value, key, LOCKFILES_KEYS)
        if "watch" in table:
            names = self.check.strings(table["watch"], (*key, "watch"))
            watch = tuple(self.root / name for name in names)
        else:
            watch = tuple(detect_lockfiles(self.root))
        commands = self.check.mapping(table.get("sync", {}), (*key, "sync"))
        sync = {
            self.root / name: self.check.command(command, (*key, "sync", name))
            for name, command in commands.items()
        }
        return LockfilesConfig(watch=watch, sync=MappingProxyType(sync))

    def _prod(self, value: object, services: dict[str, ServiceConfig]) -> dict[str, Version]:
        key: KeyPath = ("prod",)
        value = self.check.mapping(value, key)
        allowed = [*services, *PROD_RUNTIMES]
        for name in value:
            if name not in allowed:
                self.doc.fail(
                    key,
                    f"unknown key '{name}'{did_you_mean(name, allowed)} (expected a service "
                    "declared in [services], 'python' or 'node')",
                    at=(*key, name),
                )
        return {name: self.check.version(version, (*key, name)) for name, version in value.items()}

    def _onboarding(self, value: object) -> OnboardingConfig | None:
        if value is None:
            return None
        key: KeyPath = ("onboarding",)
        table = self.check.table(value, key, ONBOARDING_KEYS)
        if "test" not in table:
            self.doc.fail(key, 'missing test = "..." (the command that proves the tests pass)')
        return OnboardingConfig(
            test=self.check.command(table["test"], (*key, "test")),
            lint=self.check.optional(table, "lint", key, self.check.command),
            ship=self.check.command(table.get("ship", DEFAULT_SHIP), (*key, "ship")),
            first_change=self.check.optional(table, "first_change", key, self._first_change),
        )

    def _first_change(self, value: object, key: KeyPath) -> FirstChange:
        table = self.check.table(value, key, FIRST_CHANGE_KEYS)
        for required in ("title", "file"):
            if required not in table:
                self.doc.fail(key, f'missing {required} = "..."')
        return FirstChange(
            title=self.check.string(table["title"], (*key, "title")),
            file=self.check.existing_file(table["file"], (*key, "file")),
            hint=self.check.optional(table, "hint", key, self.check.string),
        )

    def _hooks(self, value: object) -> HooksConfig:
        key: KeyPath = ("hooks",)
        table = self.check.table(value, key, HOOKS_KEYS)
        return HooksConfig(
            after_ready=self.check.strings(table.get("after_ready", []), (*key, "after_ready"))
        )


def _read_pyproject_quietly(path: Path) -> dict[str, Any]:
    """pyproject.toml next to devenv.toml, only for the default project name."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as [a, b, ..., a], or None; nodes are visited in graph order."""
    done: set[str] = set()
    for start in graph:
        cycle = _walk(graph, start, [], done)
        if cycle:
            return cycle
    return None


def _walk(
    graph: Mapping[str, Iterable[str]], node: str, path: list[str], done: set[str]
) -> list[str] | None:
    if node in path:
        return [*path[path.index(node) :], node]
    if node in done:
        return None
    for nxt in graph.get(node, ()):
        cycle = _walk(graph, nxt, [*path, node], done)
        if cycle:
            return cycle
    done.add(node)
    return None
