"""What to run: the Procfile's processes expanded the way honcho does, with their environment.

``honcho.environ`` does the Procfile conventions (``web.1``, ``web.2``;
``PORT`` = base + 100 per process type + instance); this module adds what
devenv knows: the services' variables, ``.env``, and devenv.toml's per-process
settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

from devenv.config import Config, Dependency, ReadyProbe
from devenv.config.dotenv import Dotenv
from devenv.errors import ConfigError
from devenv.records import Record

DEFAULT_BASE_PORT = 5000  # honcho's and foreman's


@dataclass(frozen=True, eq=False, repr=False)  # Record: a frozen dataclass's, cheaper
class ProcessSpec(Record):
    """One process to supervise (an instance of a Procfile process type)."""

    name: str  # "web.1"
    kind: str  # "web": the Procfile type, as devenv.toml and depends_on name it
    command: str
    env: Mapping[str, str]  # the child's whole environment
    cwd: Path
    restart: str = "on-failure"
    max_restarts: int = 5
    depends_on: tuple[Dependency, ...] = ()
    ready: ReadyProbe | None = None
    stop_timeout: float = 5.0
    port: int | None = None


def read_env_file(config: Config, environ: Mapping[str, str] | None = None) -> Dotenv:
    """The project's ``.env`` (see devenv.config.dotenv), its ``$VAR`` references expanded from
    the lines above and ``environ`` (default: this environment); a missing file is empty."""
    from devenv.config import dotenv

    path = config.project.env_file
    shown = _shown(config, path)
    assignments = dotenv.read(path, shown)
    return dotenv.resolve(assignments, shown, os.environ if environ is None else environ)


def _shown(config: Config, path: Path) -> Path:
    try:
        return path.relative_to(config.root)
    except ValueError:
        return path


def _with_port(probe: ReadyProbe | None, port: int | None) -> ReadyProbe | None:
    if probe is None or port is None or not isinstance(probe.target, str):
        return probe
    target = re.sub(r"\$\{PORT\}|\$PORT\b", str(port), probe.target)
    return replace(probe, target=target)


def port_offsets(config: Config) -> list[int]:
    """The offsets from the base PORT that the Procfile's instances use (honcho's scheme)."""
    return [
        100 * index + instance
        for index, process in enumerate(config.processes.values())
        for instance in range(process.concurrency)
    ]


def explicit_base_port(config: Config, base_env: Mapping[str, str] | None = None) -> bool:
    """True when PORT is set in the environment or .env: then it is the base, as in honcho."""
    from devenv.config import dotenv

    base = os.environ if base_env is None else base_env
    path = config.project.env_file
    return "PORT" in base or any(a.name == "PORT" for a in dotenv.read(path, _shown(config, path)))


def build_specs(
    config: Config,
    service_env: Mapping[str, str],
    base_env: Mapping[str, str] | None = None,
    *,
    base_port: int | None = None,
) -> list[ProcessSpec]:
    """Every process instance to run, in Procfile order.

    ``base_port`` is the first PORT when neither the environment nor ``.env``
    sets one (devenv gives each project its own; honcho always uses 5000).
    The environment, later entries winning: devenv's own (``base_env``,
    default ``os.environ``), ``.env``, the services' variables (so an app
    always talks to the project's own servers), the process's ``env`` from
    devenv.toml, then ``PORT`` and ``HONCHO_PROCESS_NAME`` as honcho sets them.
    """
    from honcho.environ import expand_processes

    base = dict(os.environ if base_env is None else base_env)
    dotenv = read_env_file(config, {**base, **service_env})
    shared = {**base, **dotenv.values, **service_env}
    port = _base_port(shared, dotenv, base_port)
    shared.pop("PORT", None)
    processes = {name: p.command for name, p in config.processes.items()}
    concurrency = {name: p.concurrency for name, p in config.processes.items()}
    specs = []
    for params in expand_processes(processes, concurrency=concurrency, env=shared, port=port):
        kind = params.name.rsplit(".", 1)[0]
        proc = config.processes[kind]
        env = {**params.env, **_process_env(config, kind, params.env)}
        specs.append(
            ProcessSpec(
                name=params.name,
                kind=kind,
                command=params.cmd,
                env=MappingProxyType(env),
                cwd=config.root,
                restart=proc.restart,
                max_restarts=proc.max_restarts,
                depends_on=proc.depends_on,
                ready=_with_port(proc.ready, int(env["PORT"])),
                stop_timeout=proc.stop_timeout,
                port=int(env["PORT"]),
            )
        )
    return specs


def _base_port(shared: Mapping[str, str], dotenv: Dotenv, default: int | None) -> int:
    """The first PORT: .env's or the environment's when set (honcho's rule), else ``default``."""
    if "PORT" not in shared:
        return default or DEFAULT_BASE_PORT
    value = shared["PORT"]
    port = _port_number(value)
    if port is not None:
        return port
    message = f"expected a port number from 1 to 65535, got {value!r}"
    if "PORT" in dotenv.values:
        raise ConfigError(message, path=dotenv.shown, line=dotenv.lines["PORT"], key="PORT")
    raise ConfigError(
        f"the environment variable PORT is {value!r}; the processes' ports start there, so it "
        "must be a port number from 1 to 65535 (or unset it: devenv then picks the ports)"
    )


def _port_number(value: str) -> int | None:
    text = value.strip()
    if not text.isdigit() or not 0 < int(text) < 65536:
        return None
    return int(text)


def _process_env(config: Config, kind: str, environ: Mapping[str, str]) -> dict[str, str]:
    """[processes.KIND] env, each value's ``$VAR`` expanded from the process's environment and
    the keys above it; a PORT set there wins over honcho's."""
    from devenv.config import error_at
    from devenv.config.expand import ExpandError, expand

    variables = dict(environ)
    result = {}
    for name, value in config.processes[kind].env.items():
        key = ("processes", kind, "env", name)
        try:
            variables[name] = result[name] = expand(value, variables)
        except ExpandError as err:
            raise error_at(config, key, str(err)) from None
        if name == "PORT" and _port_number(result[name]) is None:
            raise error_at(
                config, key, f"expected a port number from 1 to 65535, got {result[name]!r}"
            )
    return result
