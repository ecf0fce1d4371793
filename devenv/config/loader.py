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
    DATABASE_KEYS,
    DATABASES_SERVICE,
    DEFAULT_VENV,
    ENVIRONMENT_KEYS,
    HOOKS_KEYS,
    LOCKFILES_KEYS,
    ON_DRIFT,
    PROD_RUNTIMES,
    PROJECT_KEYS,
    SERVICE_KEYS,
    TOP_KEYS,
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
        self.data = self.check.table(data, (), TOP_KEYS)

    def load(self) -> Config:
        project = self._project(self.data.get("project", {}))
        self._check_env_file(project)
        services = self._services(self.data.get("services", {}))
        self._check_ports(services)
        processes = ProcessesReader(self.doc, self.check).load(
            self.data.get("processes", {}), project, services
        )
        lockfiles = self._lockfiles(self.data.get("lockfiles", {}))
        return Config(
            root=self.root,
            source=self.doc.path,
            project=project,
            services=MappingProxyType(services),
            processes=MappingProxyType(processes),
            lockfiles=lockfiles,
            prod=MappingProxyType(self._prod(self.data.get("prod", {}), services)),
            onboarding=load_onboarding(self.doc, self.check, self.data.get("onboarding")),
            hooks=self._hooks(self.data.get("hooks", {})),
            environment=self._environment(self.data.get("environment", {})),
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
        table = self.check.table(value, key, DATABASE_KEYS)
        if "name" not in table:
            self.doc.fail(key, 'missing name = "..." (the database\'s name)')
        name = self.check.identifier(table["name"], (*key, "name"))
        if name in ("template0", "template1"):
            self.doc.fail(
                (*key, "name"),
                f"'{name}' is PostgreSQL's own template database; choose another name",
            )
        owner = self.check.identifier(table.get("owner", name), (*key, "owner"))
        extensions = self.check.strings(table.get("extensions", []), (*key, "extensions"))
        init_sql = self.check.optional(table, "init_sql", key, self.check.existing_file)
        return DatabaseConfig(name=name, owner=owner, extensions=extensions, init_sql=init_sql)

    # [environment], [lockfiles], [prod], [onboarding], [hooks]

    def _environment(self, value: object) -> EnvironmentConfig:
        key: KeyPath = ("environment",)
        table = self.check.table(value, key, ENVIRONMENT_KEYS)
        venv = Path(
            os.path.normpath(self.check.path(table.get("venv", DEFAULT_VENV), (*key, "venv")))
        )
        if venv == self.root or self.root not in venv.parents:
            self.doc.fail(
                (*key, "venv"),
                f"the virtualenv must be a folder inside the project, got {show(table['venv'])}",
            )
        python = self.check.optional(table, "python", key, self.check.string)
        on_drift = table.get("on_drift")
        if on_drift is not None and on_drift not in ON_DRIFT:
            expected = ", ".join(f"'{choice}'" for choice in ON_DRIFT)
            self.doc.fail((*key, "on_drift"), f"expected one of {expected}, got {show(on_drift)}")
        return EnvironmentConfig(venv=venv, python=python, on_drift=on_drift)

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

    def _hooks(self, value: object) -> HooksConfig:
        key: KeyPath = ("hooks",)
        table = self.check.table(value, key, HOOKS_KEYS)
        return HooksConfig(
            after_ready=self.check.strings(table.get("after_ready", []), (*key, "after_ready"))
        )
