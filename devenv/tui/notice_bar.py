"""What devenv says in passing ("web.1 restarted", "Copied DATABASE_URL", the start's notices),
in a bar of the dashboard's own between the table and the log pane.

A floating toast covers something wherever it sits: at the bottom the newest log lines and the
error panel's cause, at the top right the table's last columns and the details pane. The bar is
part of the layout instead: while it shows notices the log pane is that much shorter (and still
shows its newest lines), and nothing is covered.

A caller may rely on:

- ``add(notice)`` (a ``Note``) shows it at once, newest last, for ``notice.timeout`` seconds;
  the same words said again while shown are shown once, their time started again;
- at most ``MAX_SHOWN`` notices at a time: a new one pushes out the oldest;
- ``clear()`` removes them all (a failed start: nothing to read but its cause);
- ``notices`` is what the bar shows now, oldest first;
- no timer runs while the bar is empty (an idle dashboard does no work for it).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.containers import Vertical
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.timer import Timer
from textual.widgets import Static

MAX_SHOWN = 3


@dataclass(frozen=True)
class Note:
    """One thing said: ``title`` may be empty; ``severity`` is Textual's (information, warning,
    error); ``timeout`` is seconds on screen."""

    message: str
    title: str = ""
    severity: SeverityLevel = "information"
    timeout: float = 5.0

    def content(self) -> Content:
        # Plain text, never markup: a message quotes config keys ("[services.redis]").
        if not self.title:
            return Content(self.message)
        return Content.assemble((self.title, "bold"), ": ", self.message)


class NoticeBar(Vertical):
    """The dashboard's notices, one ``Static`` each (CSS classes ``-information``,
    ``-warning``, ``-error``); hidden while there is none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: list[tuple[Note, Static, Timer]] = []

    @property
    def notices(self) -> list[Note]:
        return [notice for notice, _, _ in self._shown]

    def add(self, notice: Note) -> None:
        for said, widget, timer in list(self._shown):
            if (said.title, said.message) == (notice.title, notice.message):
                self._forget(said, widget, timer)
        while len(self._shown) >= MAX_SHOWN:
            self._forget(*self._shown[0])
        widget = Static(notice.content(), classes=f"notice -{notice.severity}")
        timer = self.set_timer(notice.timeout, lambda: self._expired(widget))
        self._shown.append((notice, widget, timer))
        self.mount(widget)
        self.add_class("-shown")

    def clear(self) -> None:
        for entry in list(self._shown):
            self._forget(*entry)

    def _expired(self, widget: Static) -> None:
        for entry in self._shown:
            if entry[1] is widget:
                self._forget(*entry)
                return

    def _forget(self, notice: Note, widget: Static, timer: Timer) -> None:
        timer.stop()
        self._shown = [entry for entry in self._shown if entry[1] is not widget]
        widget.remove()
        if not self._shown:
            self.remove_class("-shown")
