"""The Procfile and [processes.*]: commands, restarts, dependencies and ready probes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from devenv.config.checks import Checks, Document, env_text, show
from devenv.config.model import (
    Dependency,
    ProcessConfig,
    ProjectConfig,
    ReadyProbe,
    ServiceConfig,
)
from devenv.config.procfile import ProcfileEntry, parse_procfile
from devenv.config.schema import CONDITIONS, PROCESS, READY, READY_PROBES
from devenv.config.tomlpos import KeyPath
from devenv.errors import ConfigError, did_you_mean


class ProcessesReader:
    """Reads every Procfile process type, with its [processes.<name>] table if any."""

    def __init__(self, doc: Document, check: Checks) -> None:
        self.doc = doc
        self.check = check

    def load(
        self, value: object, project: ProjectConfig, services: dict[str, ServiceConfig]
    ) -> dict[str, ProcessConfig]:
        procfile = self._procfile(project)
        return self._processes(value, project, procfile, services)

    def _procfile(self, project: ProjectConfig) -> dict[str, ProcfileEntry]:
        path = project.procfile
        if not path.is_file() and not path.is_symlink() and not path.exists():
            return {}  # no Procfile: no processes (a folder or a dangling link is reported)
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
        table = self.check.table(value, key, PROCESS.names)
        env = self.check.read(table, key, PROCESS.key("env"), self._env)
        restart = self.check.read(table, key, PROCESS.key("restart"))
        depends_on = self.check.read(
            table,
            key,
            PROCESS.key("depends_on"),
            lambda value, _: self._depends_on(name, value, procfile, services),
        )
        ready = self.check.read(table, key, PROCESS.key("ready"), self._ready)
        return ProcessConfig(
            name=name,
            command=command,
            env=MappingProxyType(env),
            restart=restart,
            max_restarts=self.check.read(table, key, PROCESS.key("max_restarts")),
            depends_on=depends_on,
            ready=ready,
            stop_timeout=self.check.read(table, key, PROCESS.key("stop_timeout")),
            concurrency=self.check.read(table, key, PROCESS.key("concurrency")),
            restart_on=self.check.read(table, key, PROCESS.key("restart_on"), self._restart_on),
        )

    def _env(self, value: object, key: KeyPath) -> dict[str, str]:
        """Variable names a process can be given, values without NUL, $ references that can be
        expanded (whether each is set is known only at start: build_specs checks it)."""
        from devenv.config.expand import ExpandError, check

        env = {}
        for name, item in self.check.scalars(value, key).items():
            if not name or "=" in name or "\0" in name:
                self.doc.fail(
                    (*key, name),
                    f"{show(name)} is not an environment variable name (no '=', not empty)",
                )
            text = env_text(item)
            if "\0" in text:
                self.doc.fail((*key, name), "a value cannot hold a NUL character (\\u0000)")
            try:
                check(text)
            except ExpandError as err:
                self.doc.fail((*key, name), str(err))
            if name == "PORT" and "$" not in text and not _is_port(text):
                self.doc.fail(
                    (*key, name), f"expected a port number from 1 to 65535, got {show(text)}"
                )
            env[name] = text
        return env

    def _restart_on(self, value: object, key: KeyPath) -> tuple[Path, ...]:
        """Lockfile names, relative to the project root; [] means never restarted by a sync."""
        return tuple(
            self.check.path(name, (*key, i))
            for i, name in enumerate(self.check.strings(value, key))
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
                f"expected a list of names or a table of name = condition, got {show(value)}",
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
        # The matching choice itself, so that its type is one of CONDITIONS.
        chosen = next((choice for choice in CONDITIONS if choice == condition), None)
        if chosen is None:
            expected = ", ".join(f"'{c}'" for c in CONDITIONS)
            self.doc.fail(key, f"expected one of {expected}, got {show(condition)}")
        if chosen == "completed" and kind == "service":
            self.doc.fail(
                key,
                f"'completed' is only for processes; '{name}' is a service, "
                "use 'ready' or 'started'",
            )
        return Dependency(name=name, kind=kind, condition=chosen)

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
        table = self.check.table(value, key, READY.names)
        probes = [name for name in READY_PROBES if name in table]
        if len(probes) != 1:
            got = " and ".join(probes) if probes else "none"
            self.doc.fail(key, f"expected exactly one of http, tcp or log, got {got}")
        kind = probes[0]
        own = {"http": self._url, "log": self._regex}
        target = self.check.read(table, key, READY.key(kind), own.get(kind))
        timeout = self.check.read(table, key, READY.key("timeout"))
        return ReadyProbe(kind=kind, target=target, timeout=timeout)

    def _url(self, value: object, key: KeyPath) -> str:
        url = self.check.string(value, key, "a URL")
        scheme, _, rest = url.partition("://")
        if scheme not in ("http", "https") or not rest.split("/", 1)[0]:
            self.doc.fail(
                key,
                f"expected a URL starting with http:// or https:// and a host, got {show(url)}",
            )
        return url

    def _regex(self, value: object, key: KeyPath) -> str:
        pattern = self.check.string(value, key, "a regular expression")
        try:
            re.compile(pattern)
        except re.error as err:
            self.doc.fail(key, f"not a valid regular expression ({err}): {show(pattern)}")
        return pattern


def _is_port(text: str) -> bool:
    return text.strip().isdigit() and 0 < int(text) < 65536


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
