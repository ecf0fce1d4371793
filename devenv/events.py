"""What happens, as plain frozen dataclasses named in the past tense.

The core emits these through a callback (``Emit``); the console printer and
the TUI subscribe. Nothing here knows about either. The project's environment's
events (installs, drift) are defined in devenv.environment.events and given here
by name too. Every event has a docstring: without one, ``dataclass()`` writes one
from the class's signature when the module is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devenv.records import Record


@dataclass(frozen=True, eq=False, repr=False)
class Event(Record):
    """Base class: ``name`` is the service, process or hook it is about."""

    name: str


@dataclass(frozen=True, eq=False, repr=False)
class ServiceStarting(Event):
    """A service's server is being started; ``detail`` says which version, on which port."""

    detail: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class StepDone(Event):
    """One bootstrap step finished (initdb, template copy, created database, ...)."""

    step: str
    seconds: float = 0.0


@dataclass(frozen=True, eq=False, repr=False)
class ServiceReady(Event):
    """A service's server answers; ``seconds`` since its start began."""

    pid: int
    port: int | None
    seconds: float
    adopted: bool = False  # it was already running (a previous devenv left it)


@dataclass(frozen=True, eq=False, repr=False)
class ServiceFailed(Event):
    """A service's server could not be started (or failed): ``message`` says how, ``log_tail``
    holds its log's last lines."""

    message: str
    log_tail: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
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


@dataclass(frozen=True, eq=False, repr=False)
class ServiceStopped(Event):
    """A service's server was stopped (``pid``: the one that ran, if any)."""

    pid: int | None = None


@dataclass(frozen=True, eq=False, repr=False)
class Notice(Event):
    """Something the user should read once (a port moved, running as another user, ...)."""

    message: str


@dataclass(frozen=True, eq=False, repr=False)
class HookStarted(Event):
    """An ``after_ready`` hook's command began."""

    command: str


@dataclass(frozen=True, eq=False, repr=False)
class HookOutput(Event):
    """One line a hook printed."""

    line: str


@dataclass(frozen=True, eq=False, repr=False)
class HookFinished(Event):
    """A hook's command exited with ``returncode`` after ``seconds``."""

    command: str
    returncode: int
    seconds: float


Emit = Callable[[Event], None]


def ignore(event: Event) -> None:
    """An ``Emit`` that drops everything."""


# The project's environment's events (SyncStarted, ..., DriftCleared) are defined in
# devenv.environment.events and given here on first use (PEP 562), so that loading this
# module does not create them.
_ENVIRONMENT = frozenset(
    {"SyncStarted", "SyncStepStarted", "SyncOutput", "SyncFinished", "DriftFound", "DriftCleared"}
)

if TYPE_CHECKING:  # for type checkers, the names as if defined here
    from devenv.environment.events import DriftCleared as DriftCleared
    from devenv.environment.events import DriftFound as DriftFound
    from devenv.environment.events import SyncFinished as SyncFinished
    from devenv.environment.events import SyncOutput as SyncOutput
    from devenv.environment.events import SyncStarted as SyncStarted
    from devenv.environment.events import SyncStepStarted as SyncStepStarted
else:

    def __getattr__(name: str) -> type[Event]:
        if name in _ENVIRONMENT:
            from devenv.environment import events

            return getattr(events, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
