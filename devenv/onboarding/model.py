"""The onboarding's records: a step, what its check saw, what a face shows, how a run ended.

A caller may rely on: ``State`` is exactly the ``state`` of ``devenv onboard
--json``; records are frozen; ``StepView.as_json()`` is the JSON shape of one step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from devenv.errors import DevenvError

if TYPE_CHECKING:
    from devenv.onboarding.context import StepContext

State = Literal["done", "todo", "failed", "skipped"]
STATES: tuple[State, ...] = ("done", "todo", "failed", "skipped")


@dataclass(frozen=True)
class Outcome:
    """What a step's check saw: its state, a sentence of what is true, and what to do next.

    ``person`` marks a "todo" that only a person can do (edit a file, set a git
    identity): the onboarding never runs the step's action for it, it waits or stops.
    """

    state: State
    message: str
    todo: str = ""
    person: bool = False

    @classmethod
    def done(cls, message: str) -> Outcome:
        return cls("done", message)

    @classmethod
    def not_yet(cls, message: str, todo: str = "", *, person: bool = False) -> Outcome:
        return cls("todo", message, todo, person)

    @classmethod
    def failed(cls, message: str, todo: str = "") -> Outcome:
        return cls("failed", message, todo)

    @classmethod
    def skipped(cls, message: str) -> Outcome:
        return cls("skipped", message)


class StepFailed(DevenvError):
    """An action could not do its step: ``message`` says why, ``todo`` what the person can do,
    ``tail`` the last lines of the command's output (the lint's complaint, the failing test)."""

    def __init__(self, message: str, todo: str = "", tail: tuple[str, ...] = ()) -> None:
        self.message = message
        self.todo = todo
        self.tail = tail
        super().__init__(message)


Check = Callable[["StepContext"], Outcome]
Action = Callable[["StepContext"], str | None]  # returns what it did, for the record


@dataclass(frozen=True)
class Step:
    """One step: ``check`` never changes anything; ``action`` does the step when the check says
    "todo" (and not ``person``). ``watch`` gives the paths whose change may complete a step the
    person does (the edit): the waiter re-checks when one changes. A ``retry_on_change``
    step that failed (the tests, the lint) is the person's to fix when they are there: it
    runs again once they save a change."""

    id: str
    title: str
    check: Check
    action: Action | None = None
    hint: str | None = None
    watch: Callable[[StepContext], tuple[Path, ...]] | None = None
    retry_on_change: bool = False  # failed, with the person there: run again once they save


@dataclass(frozen=True)
class StepView:
    """A step as a face shows it. ``running`` is true while it is being checked or done;
    ``waiting`` while the onboarding waits for the person."""

    id: str
    title: str
    state: State = "todo"
    seconds: float = 0.0
    message: str = ""
    todo: str = ""
    hint: str = ""
    tail: tuple[str, ...] = ()
    running: bool = False
    waiting: bool = False

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "state": self.state,
            "seconds": round(self.seconds, 3),
        }


Ending = Literal["done", "waiting", "failed", "cancelled"]


@dataclass(frozen=True)
class Result:
    """How a run ended: every step done, waiting for the person at ``step``, ``step`` failed,
    or cancelled (a face quit). ``steps`` are the views at that moment."""

    ending: Ending
    steps: tuple[StepView, ...]
    step: StepView | None = None
    total_seconds: float = field(default=0.0)


def duration(seconds: float) -> str:
    """``0.4 s``, ``12 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
