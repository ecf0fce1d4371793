"""What the workers and the core's callbacks tell the app, as Textual messages.

Workers and the core's threads never touch widgets: they ``post_message`` one
of these (thread-safe) and the app renders it on its own loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from devenv.events import Event
from devenv.state import Status

if TYPE_CHECKING:
    from devenv.session import StopStep


class CoreEvent(Message):
    """An event of the core (a service starting, a hook's output, a process exiting, ...)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class SessionStarted(Message):
    """``Session.start`` returned: services ready, processes launched."""

    def __init__(self, urls: dict[str, str], names: list[str]) -> None:
        super().__init__()
        self.urls = urls
        self.names = names


class RowsSampled(Message):
    """A fresh ``Session.rows()``."""

    def __init__(self, rows: list[Status]) -> None:
        super().__init__()
        self.rows = rows


class TailLoaded(Message):
    """Lines of a service's log file, (time or None, text) each, for its log view: its last
    lines (``more`` False: they replace what the view had of the file), or the lines written
    since (``more``)."""

    def __init__(
        self, name: str, lines: list[tuple[float | None, str]], more: bool = False
    ) -> None:
        super().__init__()
        self.name = name
        self.lines = lines
        self.more = more


class ControlDone(Message):
    """A restart, stop or start finished; ``text`` says what happened."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class StopProgress(Message):
    """How the stop goes: a step ``Session.stop`` reached, or the app's own ``text``."""

    def __init__(self, text: str, step: StopStep | None = None) -> None:
        super().__init__()
        self.text = text
        self.step = step

    @classmethod
    def of(cls, step: StopStep) -> StopProgress:
        return cls(str(step), step)


class SessionStopped(Message):
    """Everything is stopped (or was killed): the app may exit."""


class SyncDone(Message):
    """``Session.sync`` returned; ``in_sync``: the packages match the lockfiles now."""

    def __init__(self, in_sync: bool) -> None:
        super().__init__()
        self.in_sync = in_sync


class ParityChecked(Message):
    """The local versions compared with prod's: (name, what to show, state, message) each."""

    def __init__(self, parity: tuple[tuple[str, str, str, str], ...]) -> None:
        super().__init__()
        self.parity = parity
