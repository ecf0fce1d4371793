"""What the onboarding does next: pure functions over states, no I/O.

The runner (devenv.onboarding.flow) asks these, so that the order of steps,
what a check's answer leads to, which times count and the exit codes are
testable without a repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from devenv.onboarding.model import Ending, Outcome, State

Move = Literal["next", "act", "wait", "stop", "fail"]

EXIT_CODES: Mapping[Ending, int] = {"done": 0, "waiting": 4, "failed": 1, "cancelled": 4}


def move(outcome: Outcome, *, has_action: bool, acted: bool, wait: bool) -> Move:
    """What follows a check's ``outcome``.

    Done or skipped: the next step. Failed: the run stops on it. A "todo" the
    onboarding can do (an action it has not run yet this time): act, then check
    again. A "todo" left after the action ran: the action did not do it, a
    failure. A "todo" only a person can do (or a step without an action): wait
    for them when ``wait`` (a terminal, a TUI), else stop there.
    """
    if outcome.state in ("done", "skipped"):
        return "next"
    if outcome.state == "failed":
        return "fail"
    if has_action and not outcome.person:
        return "fail" if acted else "act"
    return "wait" if wait else "stop"


def shown_state(checked: State | None, recorded: State | None, *, skipped: bool = False) -> State:
    """The state to show for a step: a skip the person chose wins; a check's answer next; a
    "todo" that failed when last run shows as failed (the person has something to fix)."""
    if skipped:
        return "skipped"
    if checked is None:
        return recorded or "todo"
    if checked == "todo" and recorded == "failed":
        return "failed"
    return checked


def counts_time(was_done: bool, now: State) -> bool:
    """Whether the seconds spent on a step this time are added to its time.

    A step already done that checks done again was only looked at: its time to
    first ship stays what it was. Anything else (doing it, redoing a step that
    came undone, waiting for the person) is time the onboarding took.
    """
    return not (was_done and now == "done")


def ending(states: Iterable[State], stopped_at: Move | None) -> Ending:
    """How a run ended, from the states of the steps it went through and where it stopped."""
    if stopped_at == "fail":
        return "failed"
    if stopped_at in ("wait", "stop"):
        return "waiting"
    return "done" if all(s in ("done", "skipped") for s in states) else "waiting"


def exit_code(how: Ending) -> int:
    """``devenv onboard --no-tui``: 0 all done, 4 waiting for the person, 1 a step failed."""
    return EXIT_CODES[how]


def total_seconds(seconds: Iterable[float]) -> float:
    return round(sum(seconds), 3)
