"""What happens to supervised processes: frozen dataclasses, past tense, ``name`` = "web.1".

Each is declared as devenv.events' are (devenv.records: eq, hash and repr written once, and
a docstring each), as cheap to import, and behaves as a plain ``@dataclass(frozen=True)``.

Every state change of a process is one of these, passed to the supervisor's
``emit``. ``state`` (a class attribute) is the state the process is in after
the event, ``None`` for an event that changes no state. An exit emits
``ProcessExited`` and then, unless the state stays "exited" (restart "never",
non-zero code), one of ``ProcessRestarting``, ``ProcessCompleted``,
``ProcessCrashed`` or ``ProcessStopped``: a subscriber that keeps the last
event's ``state`` always shows the right one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from devenv.events import Event
from devenv.state import State


@dataclass(frozen=True, eq=False, repr=False)
class ProcessWaiting(Event):
    """It waits for its dependencies (``waiting_for``: "migrate completed", "postgres ready")."""

    state: ClassVar[State | None] = State.WAITING
    waiting_for: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class ProcessStarting(Event):
    """It is being spawned: ``command`` is what its shell runs."""

    state: ClassVar[State | None] = State.STARTING
    command: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class ProcessStarted(Event):
    """It was spawned and runs as ``pid`` (the leader of its own process group)."""

    state: ClassVar[State | None] = State.RUNNING
    pid: int


@dataclass(frozen=True, eq=False, repr=False)
class ProcessReady(Event):
    """Its readiness probe passed, ``seconds`` after it was started (only with a probe)."""

    state: ClassVar[State | None] = State.READY
    pid: int
    seconds: float = 0.0


@dataclass(frozen=True, eq=False, repr=False)
class ProcessProbeTimedOut(Event):
    """The probe did not pass within its timeout: it stays "running", never "ready"."""

    state: ClassVar[State | None] = None
    probe: str  # "http http://127.0.0.1:5000/", "tcp 5000", "log ^listening"
    timeout: float


@dataclass(frozen=True, eq=False, repr=False)
class ProcessExited(Event):
    """The process exited (``returncode`` < 0: killed by that signal; 127: it could not start)."""

    state: ClassVar[State | None] = State.EXITED
    pid: int | None
    returncode: int


@dataclass(frozen=True, eq=False, repr=False)
class ProcessCompleted(Event):
    """It exited with code 0 and is not restarted (a one-off task such as a migration)."""

    state: ClassVar[State | None] = State.COMPLETED


@dataclass(frozen=True, eq=False, repr=False)
class ProcessRestarting(Event):
    """Restart number ``attempt`` (in the current window) comes after ``delay`` seconds."""

    state: ClassVar[State | None] = State.BACKOFF
    attempt: int
    delay: float


@dataclass(frozen=True, eq=False, repr=False)
class ProcessCrashed(Event):
    """It kept failing: ``restarts`` restarts in a row, none lasting; it is not spawned again."""

    state: ClassVar[State | None] = State.CRASHED
    restarts: int


@dataclass(frozen=True, eq=False, repr=False)
class ProcessDependencyFailed(Event):
    """It will not start: ``dependency`` crashed or exited (``reason`` says which, for people)."""

    state: ClassVar[State | None] = State.CRASHED
    dependency: str
    reason: str


@dataclass(frozen=True, eq=False, repr=False)
class ProcessStopped(Event):
    """Stopped on request (the user, or devenv stopping); never restarted on its own."""

    state: ClassVar[State | None] = State.STOPPED
    pid: int | None = None


@dataclass(frozen=True, eq=False, repr=False)
class ProcessSignalled(Event):
    """The user sent ``signal`` ("SIGHUP") to its process group."""

    state: ClassVar[State | None] = None
    pid: int
    signal: str
