"""The one state model: what a service or a supervised process is doing, as one frozen record.

``State`` holds every state a service or process can be in; its values are the
words ``devenv status --json`` and ``.devenv/processes.json`` write, so a
``State`` compares equal to (and is JSON-encoded as) its plain string. ``Status``
is one service's or process's status at one moment, built by the core from what
happened (its events, its pid); every view (``Service.status``,
``Stack.status``, ``ServiceWatcher.snapshot``, ``Supervisor.snapshot``, the
state file, the dashboard, ``devenv status``) is this record or its
``as_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Literal


class State(StrEnum):
    """Every state of a service or a process (see devenv.supervisor.core, devenv.services.watch)."""

    WAITING = "waiting"  # a process waits for its dependencies
    STARTING = "starting"
    RUNNING = "running"  # a process runs (it has no readiness probe, or it has not passed yet)
    READY = "ready"
    BACKOFF = "backoff"  # down, started again after a delay
    EXITED = "exited"  # a process exited non-zero and is not restarted (restart "never")
    COMPLETED = "completed"  # a process exited 0 and is not restarted (a one-off task)
    CRASHED = "crashed"  # kept failing (or a dependency did): not started again
    STOPPED = "stopped"  # on request, or not running
    FAILED = "failed"  # a service whose start (or status) failed
    UNKNOWN = "unknown"  # a record that says no state devenv knows

    @classmethod
    def of(cls, value: object) -> State:
        """The state ``value`` names; UNKNOWN for anything else (a damaged record)."""
        try:
            return cls(str(value)) if isinstance(value, str) else cls.UNKNOWN
        except ValueError:
            return cls.UNKNOWN


# A process in one of these is over: nothing will run it again unless a person does.
FINISHED = frozenset({State.COMPLETED, State.EXITED, State.CRASHED})
# A process over, and not well: the supervisor's exit code is 1, its dependants never start.
PROCESS_FAILED = frozenset({State.EXITED, State.CRASHED})
# What the dashboard counts as up, and as down whatever the kind.
UP = frozenset({State.READY, State.RUNNING, State.COMPLETED})
DOWN = frozenset({State.FAILED, State.CRASHED, State.EXITED})

Kind = Literal["service", "process"]

_SAMPLED = ("cpu_percent", "rss", "ports", "uptime")


@dataclass(frozen=True)
class Status:
    """One service or process, as it is now. Fields that do not apply to its kind are None.

    ``as_json()`` is the shape README documents for ``devenv status --json`` (and the
    entries of ``.devenv/processes.json``).
    """

    name: str
    kind: Kind
    state: State
    pid: int | None = None
    port: int | None = None
    restarts: int | None = None  # automatic restarts since it was last started by a person
    # services
    version: str | None = None
    data_dir: str | None = None
    log: str | None = None
    error: str | None = None  # why its status could not be known (state "failed")
    # processes
    process_type: str | None = None  # the Procfile type ("web" for web.1); "kind" in JSON
    command: str | None = None  # its Procfile command
    pgid: int | None = None
    started_at: float | None = None  # epoch
    exit_code: int | None = None
    # sampled by the running devenv (devenv.supervisor.stats); None until sampled
    cpu_percent: float | None = None
    rss: int | None = None
    ports: tuple[int, ...] | None = None
    uptime: float | None = None

    @classmethod
    def of_process_record(cls, name: str, entry: dict[str, Any]) -> Status:
        """A process as ``as_json()`` (and devenv.supervisor.procstate) recorded it. The file is
        a cache anything may have damaged: values are taken as found, an unknown state is
        UNKNOWN, ports that are not a list are dropped."""
        ports = entry.get("ports")
        return cls(
            name,
            "process",
            State.of(entry.get("state")),
            pid=entry.get("pid"),
            port=entry.get("port"),
            restarts=entry.get("restarts"),
            process_type=entry.get("kind"),
            pgid=entry.get("pgid"),
            started_at=entry.get("started_at"),
            exit_code=entry.get("exit_code"),
            cpu_percent=entry.get("cpu_percent"),
            rss=entry.get("rss"),
            ports=tuple(ports) if isinstance(ports, list) else None,
            uptime=entry.get("uptime"),
        )

    @property
    def detail(self) -> str:
        """A line for people: a service's version, a process's command."""
        return self.version or self.command or ""

    def with_sample(self, sample: dict[str, Any] | None) -> Status:
        """This status with the numbers a sampler took of its pid (none when they were
        taken of another pid: not sampled since it restarted)."""
        if not sample or self.pid is None or sample.get("pid") != self.pid:
            return self
        ports = sample.get("ports")
        return replace(
            self,
            cpu_percent=sample.get("cpu_percent"),
            rss=sample.get("rss"),
            ports=None if ports is None else tuple(ports),
            uptime=sample.get("uptime"),
        )

    def as_json(self) -> dict[str, Any]:
        """The documented JSON shape of this status (state as its string)."""
        if self.kind == "service":
            entry: dict[str, Any] = {
                "state": str(self.state),
                "pid": self.pid,
                "port": self.port,
                "version": self.version,
            }
            if self.error is not None:
                entry["error"] = self.error
            else:
                entry.update(data_dir=self.data_dir, log=self.log)
            return entry
        entry = {
            "state": str(self.state),
            "pid": self.pid,
            "pgid": self.pgid,
            "restarts": self.restarts,
            "started_at": self.started_at,
            "exit_code": self.exit_code,
            "kind": self.process_type,
            "port": self.port,
        }
        for key in _SAMPLED:
            value = getattr(self, key)
            if value is not None:
                entry[key] = list(value) if key == "ports" else value
        return entry
