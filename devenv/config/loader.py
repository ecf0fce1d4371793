"""Building a ``Config`` from a config file: ``load_config`` and ``load_project``."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

from devenv.config.checks import Checks, Document, read_text, show
from devenv.config.discovery import (
    PYPROJECT_FILE,
    PYPROJECT_PREFIX,
    bundled_service_names,
    detect_lockfiles,
    devenv_table,
    find_config,
    read_pyproject_quietly,
)
from devenv.config.model import (
    Config,
    DatabaseConfig,
    EnvironmentConfig,
    HooksConfig,
    LockfilesConfig,
    ProjectConfig,
    ServiceConfig,
)
from devenv.config.onboarding import load_onboarding
from devenv.config.processes import ProcessesReader
from devenv.config.schema import (
    DATABASE,
    DATABASES_SERVICE,
    ENVIRONMENT,
    HOOKS,
    LOCKFILES,
    PROD,
    PROJECT,
    ROOT,
    SERVICE,
)
from devenv.config.tomlpos import KeyPath, format_key
from devenv.config.versions import Version
from devenv.errors import ConfigError, did_you_mean
from devenv.resources import services_dir

_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def load_project(start: Path | None = None) -> Config:
    """Find the project's config from ``start`` (default: the current folder) and load it."""
    return load_config(find_config(start if start is not None else Path.cwd()))


def load_config(path: Path) -> Config:
    """Read and check devenv.toml or pyproject.toml ([tool.devenv]), its Procfile and the
    syntax of its .env (a recipe is checked when its service is used: devenv.services.recipes)."""
    path = path.parent.resolve() / path.name  # a symlinked devenv.toml is reported as itself
    is_pyproject = path.name == PYPROJECT_FILE
    doc = Document(path, prefix=PYPROJECT_PREFIX if is_pyproject else ())
    data = doc.parse()
    if is_pyproject:
        doc.pyproject = data  # its [project].name is the default project name
        data = devenv_table(doc, data)
    return _Loader(doc, data).load()


def error_at(config: Config, key: KeyPath, message: str) -> ConfigError:
    """A ConfigError about ``key`` in ``config``'s file, on the key's line: for a mistake seen
    only once the project runs (a ``$VAR`` in a process's env that nothing sets)."""
    is_pyproject = config.source.name == PYPROJECT_FILE
    doc = Document(config.source, prefix=PYPROJECT_PREFIX if is_pyproject else ())
    with contextlib.suppress(ConfigError):
        doc.text = read_text(config.source, doc.shown)
    return doc.error(key, message)


# ---------------------------------------------------------------- the sections


class _Loader:
    def __init__(self, doc: Document, data: dict[str, Any]) -> None:
        self.doc = doc
        self.root = doc.root
        self.check = Checks(doc)
        self.data = self.check.table(data, (), ROOT.names)

    def load(self) -> Config:
        project = self._project(self._given("project"))
        self._check_env_file(project)
        services = self._services(self._given("services"))
        self._check_ports(services)
        processes = ProcessesReader(self.doc, self.check).load(
            self._given("processes"), project, services
        )
        lockfiles = self._lockfiles(self._given("lockfiles"))
        return Config(
            root=self.root,
            source=self.doc.path,
            project=project,
            services=MappingProxyType(services),
            processes=MappingProxyType(processes),
            lockfiles=lockfiles,
            prod=MappingProxyType(self._prod(self._given("prod"), services)),
            onboarding=load_onboarding(self.doc, self.check, self._given("onboarding")),
            hooks=self._hooks(self._given("hooks")),
            environment=self._environment(self._given("environment")),
        )

    def _given(self, name: str) -> Any:
        """A top-level table as the file sets it, else its declared default."""
        return ROOT.key(name).given(self.data)

    # [project]

    def _project(self, value: object) -> ProjectConfig:
        key: KeyPath = ("project",)
        table = self.check.table(value, key, PROJECT.names)
        name = self.check.read(table, key, PROJECT.key("name"))
        if name is None:
            name = self._default_name()
        procfile = PROJECT.key("procfile")
        if procfile.name in table:
            path = self.check.read(table, key, procfile)
        else:  # the default need not exist: a project without processes
            path = self.root / procfile.default
        env_file = self.check.read(table, key, PROJECT.key("env_file"))
        return ProjectConfig(name=name, procfile=path, env_file=env_file)

    def _check_env_file(self, project: ProjectConfig) -> None:
        """A .env line that cannot be read is said by every command, before anything starts
        (references are expanded when the processes start: devenv.supervisor.spec)."""
        from devenv.config import dotenv

        dotenv.read(project.env_file, self.doc.relative(project.env_file))

    def _default_name(self) -> str:
        pyproject = self.doc.pyproject
        if pyproject is None:
            pyproject = read_pyproject_quietly(self.root / PYPROJECT_FILE)
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
        table = self.check.table(value, key, SERVICE.names)
        recipe = self._recipe(name, table, bundled)
        if "databases" in table and name != DATABASES_SERVICE:
            self.doc.fail(
                (*key, "databases"),
                f"databases can only be declared for {DATABASES_SERVICE}, not for '{name}'",
            )
        databases = self.check.read(table, key, SERVICE.key("databases"), self._databases)
        return ServiceConfig(
            name=name,
            recipe=recipe,
            bundled=name in bundled,
            version=self.check.read(table, key, SERVICE.key("version")),
            port=self.check.read(table, key, SERVICE.key("port")),
            prod_like=self.check.read(table, key, SERVICE.key("prod_like")),
            settings=MappingProxyType(self.check.read(table, key, SERVICE.key("settings"))),
            databases=databases,
        )

    def _check_ports(self, services: dict[str, ServiceConfig]) -> None:
        """Two services set to one port: the second could never start."""
        owners: dict[int, str] = {}
        for name, service in services.items():
            if service.port is None:
                continue
            if service.port in owners:
                self.doc.fail(
                    ("services", name, "port"),
                    f"port {service.port} is also services.{owners[service.port]}.port; two "
                    "servers cannot listen on one port: change one (or leave it out: devenv "
                    "picks a free one)",
                )
            owners[service.port] = name

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
                    f"service name {show(name)} must be letters, digits, '_' and '-', "
                    "starting with a letter or digit",
                )
            return self.check.read(table, key, SERVICE.key("recipe"))
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
            self.doc.fail(key, f"expected a list of tables ([[...databases]]), got {show(value)}")
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
        table = self.check.table(value, key, DATABASE.names)
        if "name" not in table:
            self.doc.fail(key, 'missing name = "..." (the database\'s name)')
        name = self.check.read(table, key, DATABASE.key("name"))
        if name in ("template0", "template1"):
            self.doc.fail(
                (*key, "name"),
                f"'{name}' is PostgreSQL's own template database; choose another name",
            )
        owner = self.check.read(table, key, DATABASE.key("owner"))
        if owner is None:
            owner = name
        extensions = self.check.read(table, key, DATABASE.key("extensions"))
        init_sql = self.check.read(table, key, DATABASE.key("init_sql"))
        return DatabaseConfig(name=name, owner=owner, extensions=extensions, init_sql=init_sql)

    # [environment], [lockfiles], [prod], [onboarding], [hooks]

    def _environment(self, value: object) -> EnvironmentConfig:
        key: KeyPath = ("environment",)
        table = self.check.table(value, key, ENVIRONMENT.names)
        venv = Path(os.path.normpath(self.check.read(table, key, ENVIRONMENT.key("venv"))))
        if venv == self.root or self.root not in venv.parents:
            self.doc.fail(
                (*key, "venv"),
                f"the virtualenv must be a folder inside the project, got {show(table['venv'])}",
            )
        python = self.check.read(table, key, ENVIRONMENT.key("python"))
        on_drift = self.check.read(table, key, ENVIRONMENT.key("on_drift"))
        return EnvironmentConfig(venv=venv, python=python, on_drift=on_drift)

    def _lockfiles(self, value: object) -> LockfilesConfig:
        key: KeyPath = ("lockfiles",)
        table = self.check.table(value, key, LOCKFILES.names)
        names = self.check.read(table, key, LOCKFILES.key("watch"))
        if names is None:
            watch = tuple(detect_lockfiles(self.root))
        else:
            watch = tuple(self.root / name for name in names)
        sync = self.check.read(table, key, LOCKFILES.key("sync"), self._sync)
        return LockfilesConfig(watch=watch, sync=MappingProxyType(sync))

    def _sync(self, value: object, key: KeyPath) -> dict[Path, str]:
        commands = self.check.mapping(value, key)
        return {
            self.root / name: self.check.command(command, (*key, name))
            for name, command in commands.items()
        }

    def _prod(self, value: object, services: dict[str, ServiceConfig]) -> dict[str, Version]:
        key: KeyPath = ("prod",)
        value = self.check.mapping(value, key)
        allowed = [*services, *PROD.names]
        for name in value:
            if name not in allowed:
                self.doc.fail(
                    key,
                    f"unknown key '{name}'{did_you_mean(name, allowed)} (expected a service "
                    "declared in [services], 'python' or 'node')",
                    at=(*key, name),
                )
        read = self.check.reader(PROD.key("<service>").type)
        return {name: read(version, (*key, name)) for name, version in value.items()}

    def _hooks(self, value: object) -> HooksConfig:
        key: KeyPath = ("hooks",)
        table = self.check.table(value, key, HOOKS.names)
        return HooksConfig(after_ready=self.check.read(table, key, HOOKS.key("after_ready")))
