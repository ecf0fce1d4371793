"""What a loaded config holds: frozen dataclasses, one field per key of devenv.config.schema.

Every class here has a docstring: without one, ``dataclass()`` writes one from the class's
signature when the module is imported (~0.1 ms a class, on every command).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from devenv.config.schema import DEFAULT_SHIP
from devenv.config.versions import Version, VersionConstraint
from devenv.records import Record

Scalar = str | int | float | bool


@dataclass(frozen=True, eq=False, repr=False)
class ProjectConfig(Record):
    """[project]: the name, and the Procfile and .env files (absolute paths)."""

    name: str
    procfile: Path  # absolute; may not exist when it was not set explicitly
    env_file: Path  # absolute; optional file in honcho's .env format


@dataclass(frozen=True, eq=False, repr=False)
class DatabaseConfig(Record):
    """One [[services.postgres.databases]] entry: a database, its owner role, what to add."""

    name: str
    owner: str
    extensions: tuple[str, ...] = ()
    init_sql: Path | None = None  # absolute


@dataclass(frozen=True, eq=False, repr=False)
class ServiceConfig(Record):
    """[services.NAME]: a native server (PostgreSQL, Redis, a recipe) the project runs."""

    name: str
    recipe: Path  # the bundled recipe, or the project's own (absolute)
    bundled: bool
    version: VersionConstraint | None = None
    port: int | None = None  # None: the recipe's default port
    prod_like: bool = False
    settings: Mapping[str, Scalar] = field(default_factory=lambda: MappingProxyType({}))
    databases: tuple[DatabaseConfig, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Dependency(Record):
    """One ``depends_on`` entry of a process: a service or process, and when it counts."""

    name: str
    kind: Literal["service", "process"]
    condition: Literal["started", "ready", "completed"]


@dataclass(frozen=True, eq=False, repr=False)
class ReadyProbe(Record):
    """A process's ``ready`` probe: when it counts as ready (a URL, a port, a log line)."""

    kind: Literal["http", "tcp", "log"]
    target: str | int  # http: URL (may contain $PORT); tcp: port; log: regex
    timeout: float = 30.0


@dataclass(frozen=True, eq=False, repr=False)
class ProcessConfig(Record):
    """[processes.NAME] with its Procfile line: a command devenv supervises."""

    name: str
    command: str
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    restart: Literal["on-failure", "always", "never"] = "on-failure"
    max_restarts: int = 5
    depends_on: tuple[Dependency, ...] = ()
    ready: ReadyProbe | None = None
    stop_timeout: float = 5.0
    concurrency: int = 1
    # Lockfiles whose sync restarts this process; None: decided by its command (a process that
    # runs in the virtualenv restarts after a Python sync, one that runs node after a Node one).
    restart_on: tuple[Path, ...] | None = None


@dataclass(frozen=True, eq=False, repr=False)
class EnvironmentConfig(Record):
    """[environment]: the project's own virtualenv, and what to do when it drifts."""

    venv: Path  # absolute; default <root>/.venv
    python: str | None = None  # a version request for uv ("3.11"); None: from the project's files
    on_drift: Literal["ask", "warn", "sync"] | None = None  # None: ask in the TUI, warn elsewhere


@dataclass(frozen=True, eq=False, repr=False)
class LockfilesConfig(Record):
    """[lockfiles]: which lockfiles are watched, and the command that syncs each."""

    watch: tuple[Path, ...] = ()  # absolute
    sync: Mapping[Path, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, eq=False, repr=False)
class FirstChange(Record):
    """[onboarding.first_change]: the small change a newcomer makes on the first day."""

    title: str
    file: Path  # absolute
    hint: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class OnboardingStep(Record):
    """A project's own onboarding step ([[onboarding.step]]): done when ``check`` exits 0."""

    id: str
    title: str
    check: str
    action: str | None = None
    hint: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class OnboardingConfig(Record):
    """[onboarding]; its keys and the built-in steps are in devenv.config.onboarding."""

    test: str | None  # None only when the "tests" step is not in ``steps``
    lint: str | None = None
    ship: str = DEFAULT_SHIP
    first_change: FirstChange | None = None
    health: str | None = None  # None: the first process's ready.http
    pr: str | None = None
    webhook: str | None = None
    steps: tuple[str, ...] = ()  # the ids in order (built-in and own); () only when built by hand
    own_steps: tuple[OnboardingStep, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class HooksConfig(Record):
    """[hooks]: commands run once the services are ready."""

    after_ready: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Config(Record):
    """A project's whole config, as loaded by ``load_project``; nothing in it changes."""

    root: Path  # the project folder (absolute)
    source: Path  # devenv.toml or pyproject.toml (absolute)
    project: ProjectConfig
    services: Mapping[str, ServiceConfig]
    processes: Mapping[str, ProcessConfig]  # every Procfile process type, in file order
    lockfiles: LockfilesConfig
    prod: Mapping[str, Version]  # service name, "python" or "node" -> version
    onboarding: OnboardingConfig | None
    hooks: HooksConfig
    environment: EnvironmentConfig
