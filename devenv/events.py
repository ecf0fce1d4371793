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
