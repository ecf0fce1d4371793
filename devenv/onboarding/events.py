"""What the onboarding emits while it runs, for a face to render (``name`` is the step's id).

They go through the same ``Emit`` callback as devenv's other events, from the
thread that runs the onboarding (a TUI posts them to its own loop).
"""

from __future__ import annotations

from dataclasses import dataclass

from devenv.events import Event
from devenv.onboarding.model import StepView


@dataclass(frozen=True)
class StepStarted(Event):
    """The step is being checked (and done, when its check says so)."""


@dataclass(frozen=True)
class StepOutput(Event):
    """A line of what a step runs (the tests, the services starting, the push)."""

    line: str


@dataclass(frozen=True)
class StepChanged(Event):
    """The step's view changed: a new state, message, time, or it started or stopped waiting."""

    step: StepView


@dataclass(frozen=True)
class PersonAwaited(Event):
    """The onboarding waits for the person: ``instruction`` says what to do."""

    instruction: str


@dataclass(frozen=True)
class OnboardingFinished(Event):
    """Every step is done: each step's time and the total time to first ship."""

    steps: tuple[StepView, ...]
    total_seconds: float
