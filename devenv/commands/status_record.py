"""What the full ``devenv status`` records for the next one's fast path (commands.status_fast).

After gathering its report, the full path writes ``.devenv/state/status.json``
(mode 0600, atomically; only when that folder exists): the report's parts that do not
depend on what runs (each service's version, data folder, log, port when it is not
running, its pid record; the lockfiles' drift; the ``[prod]`` comparisons), and the
stamp of every input those came from: the config file, Procfile, .env, recipes,
init_sql, the project folder (files appearing in it), every place the servers'
binaries are looked for and the binaries found, the lockfiles and their includes,
the virtualenv parts the drift fingerprint covers, ``.devenv/deps.json``,
``ports.json``, devenv's own status code; and the environment (hashed), the
working folder and the effective uid. Nothing is recorded when a part cannot be
stamped cheaply (a service whose status failed, a lockfile whose drift was not
answered from its fingerprint, a node lockfile, ``[prod]`` python without a
virtualenv, ``[prod]`` node, a ``[prod]`` entry with an install hint, a running
server asked for its version, a search
pattern with wildcards in more than one folder), when an input was modified too
recently for its stamp to be trusted, or when writing fails: the next status is
then the full one again.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
from typing import TYPE_CHECKING

from devenv.commands import status_fast
from devenv.project.stamps import stamp
from devenv.project.startplan import NOT_NOW

if TYPE_CHECKING:
    from devenv.environment.drift import Drift
    from devenv.environment.parity import Parity
    from devenv.services.base import Service
    from devenv.services.recipes import Recipe
    from devenv.services.stack import Stack

# A file modified less than this before the gathering began may change again within the
# same timestamp tick: its stamp is not trusted (the fingerprint's "racy" rule, for ticks).
RACY_NS = 100_000_000


def record_report(
    stack: Stack, report: dict, deps: dict[str, Drift], parity: dict[str, Parity], began_ns: int
) -> None:
    """Write the record for ``report`` (gathered from ``stack`` since ``began_ns``), or remove
    a stale one when this report cannot be recorded. Never raises for a file it cannot write."""
    state = stack.layout.state
    if not os.path.isdir(state):
        return  # never creates .devenv in a project that has none
    target = os.path.join(state, status_fast.RECORD)
    try:
        record = _record(stack, report, deps, parity)
    except NOT_NOW:  # a record is only a shortcut: without it the next status is full
        record = None
    if record is not None and not _racy(record["stamps"], began_ns):
        from devenv.files import write_atomic

        with contextlib.suppress(OSError):
            write_atomic(target, json.dumps(record), mode=0o600)
        return
    with contextlib.suppress(OSError):
        os.unlink(target)


def _racy(stamps: dict, began_ns: int) -> bool:
    return any(s is not None and max(s[0], s[3]) > began_ns - RACY_NS for s in stamps.values())


def _record(
    stack: Stack, report: dict, deps: dict[str, Drift], parity: dict[str, Parity]
) -> dict | None:
    from devenv import __version__

    config, layout = stack.config, stack.layout
    if any("error" in info for info in report["services"].values()):
        return None
    inputs: list[str | os.PathLike[str]] = [
        *_config_paths(config),  # the config file, Procfile, .env, recipes, init_sql, ...
        layout.ports_file,
        "/etc/passwd",  # the service account (privileges.service_user)
        *config.lockfiles.watch,
        *_own_files(),
    ]
    services: dict[str, dict] = {}
    for name in config.services:
        service = stack.service(name)
        recipe, svc_config = service.ctx.recipe, service.ctx.config
        found = _binary_places(recipe)
        if found is None:
            return None
        inputs += found
        inputs += [str(path) for path in service.ctx.installation.binaries.values()]
        adopts = _adopts(service)
        if adopts is None:
            return None
        remembered = stack.ports.remembered(name)
        services[name] = {
            "adopts": adopts,
            "pid_file": str(service.pid_file),
            "data_dir": str(service.data_dir),
            "log": str(service.log_file),
            "version": service.version,
            "port": svc_config.port or remembered or recipe.default_port or 0,
            "remembered": remembered,
            "server": str(service.ctx.installation.server),
        }
    deps_inputs = _deps_inputs(stack, deps)
    if deps_inputs is None:
        return None
    inputs += deps_inputs
    variants = {}
    for name, p in parity.items():
        if p.hint:
            return None  # an install hint depends on the package managers found on PATH
        if name == "python" and p.source == "venv":
            inputs += [os.path.join(config.environment.venv, "pyvenv.cfg")]
        elif name in services and p.source == "binaries":
            variants[name] = "stopped"
        elif name in services and p.source == "server":
            pid = report["services"][name].get("pid")
            if not pid or not status_fast.runs_binary(pid, services[name]["server"]):
                return None  # the server was asked: a fast path cannot ask it
            variants[name] = "running"
        else:
            return None  # node, uv's Python, a service without binaries: not stamped cheaply
    return {
        "format": status_fast.FORMAT,
        "devenv": __version__,
        "cwd": os.path.realpath(os.getcwd()),
        "root": os.path.realpath(config.root),
        "euid": os.geteuid(),
        "env": status_fast.environment_digest(),
        "stamps": {str(path): stamp(path) for path in inputs},
        "stack_file": str(layout.stack_file),
        "processes_file": str(layout.base / "processes.json"),
        "services": services,
        "deps": report["deps"],
        "parity": report["parity"],
        "parity_variants": variants,
        "lines": report["lines"],
    }


def _adopts(service: Service) -> list[list[str]] | None:
    """What ``service.find_running`` looks at when it has no pid record (it may adopt a server
    running without one): ``["postmaster", path]`` (PostgreSQL's postmaster.pid names a live
    process), ``["socket", path]`` (Redis's socket accepts a connection); None for a service
    class whose ``find_running`` the fast path does not know."""
    from devenv.services.base import Service
    from devenv.services.postgres import PostgresService
    from devenv.services.redis import RedisService

    if isinstance(service, PostgresService):
        return [["postmaster", str(service.data_dir / "postmaster.pid")]]
    if isinstance(service, RedisService):
        return [["socket", str(service.socket_path)]]
    if type(service).find_running is Service.find_running:
        return []
    return None


def _config_paths(value: object) -> list[str]:
    """Every path the config holds (the files it was read from or checked to exist)."""
    import dataclasses
    from collections.abc import Mapping
    from pathlib import Path

    if isinstance(value, Path):
        return [str(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return [p for f in fields for p in _config_paths(getattr(value, f.name))]
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in (*_config_paths(k), *_config_paths(v))]
    if isinstance(value, tuple | list):
        return [p for item in value for p in _config_paths(item)]
    return []


def _own_files() -> list[str]:
    """devenv's modules whose code makes the report: an edited checkout changes the output."""
    import devenv.commands.services
    import devenv.commands.status_view
    import devenv.state

    modules = (devenv.commands.services, devenv.commands.status_view, devenv.state, status_fast)
    return [str(module.__file__) for module in modules] + [__file__]


def _binary_places(recipe: Recipe) -> list[str] | None:
    """Every path whose change could make find_installation find another server: each PATH
    folder's and each search folder's server and binaries (and those beside the real file a
    link names), and the folders a search pattern's wildcard lists. None for a pattern with
    wildcards in more than one folder."""
    system = os.uname().sysname.lower()  # as installations finds it
    system = {"darwin": "macos"}.get(system, system)
    path = os.environ.get("PATH", os.defpath)
    folders = [entry for entry in path.split(os.pathsep) if entry]
    places: list[str] = []
    for pattern in recipe.search.get(system, ()):
        parts = pattern.split("/")
        wild = [i for i, part in enumerate(parts) if glob.has_magic(part)]
        if not wild:
            folders.append(pattern)
            continue
        if len(wild) > 1:
            return None
        top = "/".join(parts[: wild[0]]) or "/"
        places.append(top)
        for match in sorted(glob.glob("/".join(parts[: wild[0] + 1]))):
            places.append(match)
            rest = match
            for part in parts[wild[0] + 1 :]:
                rest = os.path.join(rest, part)
                places.append(rest)
        folders += sorted(glob.glob(pattern))
    names = [recipe.server, *recipe.binaries.values()]
    for folder in folders:
        server = os.path.join(folder, recipe.server)
        places.append(server)
        if os.path.exists(server):
            real = os.path.dirname(os.path.realpath(server))
            places += [os.path.join(where, name) for where in (folder, real) for name in names]
    return places


def _deps_inputs(stack: Stack, deps: dict[str, Drift]) -> list[str] | None:
    """What the drift fingerprints cover, when every lockfile's drift was answered from its
    fingerprint (else None: a drift computed now was stored, and is answered so next time)."""
    from devenv.environment.installed import site_packages
    from devenv.environment.project import ProjectEnv

    env = ProjectEnv.from_config(stack.config)
    if not deps:
        return []
    places: list[str] = [str(env.state_file)]
    for drift in deps.values():
        if not drift.details.get("cached") or env.ecosystem(drift.lockfile) != "python":
            return None
        places += [str(drift.lockfile), *(str(p) for p in drift.details.get("includes", ()))]
    site = site_packages(env.venv)
    places += [
        str(env.venv),
        os.path.join(env.venv, "lib"),
        os.path.join(env.venv, "pyvenv.cfg"),
        *([str(site)] if site is not None else []),
    ]
    lib = os.path.join(env.venv, "lib")
    with contextlib.suppress(OSError):  # site_packages() picks among these
        places += [os.path.join(lib, name, "site-packages") for name in sorted(os.listdir(lib))]
    return places
