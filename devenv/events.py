"""What happens, as plain frozen dataclasses named in the past tense.

The core emits these through a callback (``Emit``); the console printer and
the TUI subscribe. Nothing here knows about either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base class: ``name`` is the service, process or hook it is about."""

    name: str


@dataclass(frozen=True)
class ServiceStarting(Event):
    detail: str = ""


@dataclass(frozen=True)
class StepDone(Event):
    """One bootstrap step finished (initdb, template copy, created database, ...)."""

    step: str
    seconds: float = 0.0


@dataclass(frozen=True)
class ServiceReady(Event):
    pid: int
    port: int | None
    seconds: float
    adopted: bool = False  # it was already running (a previous devenv left it)


@dataclass(frozen=True)
class ServiceFailed(Event):
    message: str
    log_tail: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceExited(ServiceFailed):
    """A running service's server died without being asked to stop (or could not be started
    again after it did); devenv.services.watch emits it under ``devenv up``.

    ``message`` says how and what follows, for people: "killed by SIGKILL (pid 4242);
    restarting in 0.5 s (attempt 1)". ``returncode`` is None when devenv is not the server's
    parent (it adopted one started earlier) or no server ran; ``restart_in`` is the wait before
    the next start, None when none follows (it kept dying: "crashed"). Being a ServiceFailed, a
    view that knows only that shows it as a failure with its log tail.
    """

    pid: int | None = None
    returncode: int | None = None
    restart_in: float | None = None
    attempt: int = 0  # restart number, in the current window, that ``restart_in`` announces


@dataclass(frozen=True)
class ServiceStopped(Event):
    pid: int | None = None


@dataclass(frozen=True)
class Notice(Event):
    """Something the user should read once (a port moved, running as another user, ...)."""

    message: str


@dataclass(frozen=True)
class HookStarted(Event):
    command: str


@dataclass(frozen=True)
class HookOutput(Event):
    line: str


@dataclass(frozen=True)
class HookFinished(Event):
    command: str
    returncode: int
    seconds: float


Emit = Callable[[Event], None]


def ignore(event: Event) -> None:
    """An ``Emit`` that drops everything."""


# -- the project's environment (devenv.environment) ------------------------------------------


@dataclass(frozen=True)
class SyncStarted(Event):
    """An install of the project's dependencies begins; ``name`` is "deps"."""

    steps: tuple[str, ...]  # what will run, one line each ("uv pip sync requirements.lock")
    reason: str = ""  # "first start: no virtualenv yet", "requirements.lock changed", ...


@dataclass(frozen=True)
class SyncStepStarted(Event):
    index: int  # 0-based
    total: int
    command: str


@dataclass(frozen=True)
class SyncOutput(Event):
    line: str


@dataclass(frozen=True)
class SyncFinished(Event):
    ok: bool
    seconds: float
    message: str = ""  # why it failed, or what it changed


@dataclass(frozen=True)
class DriftFound(Event):
    """The lockfiles and the installed packages differ; ``name`` is "deps"."""

    summaries: tuple[str, ...]  # one line per drifted lockfile
    lockfiles: tuple[str, ...]  # their names, relative to the project root


@dataclass(frozen=True)
class DriftCleared(Event):
    """Everything installed matches the lockfiles again."""
