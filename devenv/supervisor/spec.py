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
from devenv.errors import ConfigError

DEFAULT_BASE_PORT = 5000  # honcho's and foreman's


@dataclass(frozen=True)
class ProcessSpec:
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


def read_env_file(path: Path) -> dict[str, str]:
    """Variables from a ``.env`` file (honcho's format); a missing file is empty."""
    from honcho.environ import parse

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read it: {err}", path=path) from None
    return parse(text)


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
    base = os.environ if base_env is None else base_env
    return "PORT" in base or "PORT" in read_env_file(config.project.env_file)


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
    dotenv = read_env_file(config.project.env_file)
    shared = {**base, **dotenv, **service_env}
    port = int(shared.get("PORT", base_port or DEFAULT_BASE_PORT))
    shared.pop("PORT", None)
    processes = {name: p.command for name, p in config.processes.items()}
    concurrency = {name: p.concurrency for name, p in config.processes.items()}
    specs = []
    for params in expand_processes(processes, concurrency=concurrency, env=shared, port=port):
        kind = params.name.rsplit(".", 1)[0]
        proc = config.processes[kind]
        env = {**params.env, **proc.env}  # a PORT set in devenv.toml wins over honcho's
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
