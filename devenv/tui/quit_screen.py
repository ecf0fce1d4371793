"""The modal shown while devenv stops everything on the way out."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class QuitScreen(ModalScreen[None]):
    """Progress of ``Session.stop``; q or Ctrl+C again kills everything at once."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Kill now", priority=True),
        Binding("ctrl+c", "app.quit", "Kill now", priority=True),
        Binding("escape", "app.close", "Hide", show=False),  # the stop goes on; the header says
    ]

    def __init__(self, project: str) -> None:
        super().__init__()
        self._project = project
        self._lines: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Label(f"Stopping {self._project}…", id="quit-title")
            yield Static("", id="quit-progress")
            yield Label("q or Ctrl+C again: kill everything now", id="quit-hint")

    def progress(self, text: str) -> None:
        """Show ``text`` as the latest step (the last few stay visible)."""
        self._lines = [*self._lines, text][-6:]
        self.query_one("#quit-progress", Static).update("\n".join(self._lines))

    def forcing(self) -> None:
        self.query_one("#quit-title", Label).update(f"Killing {self._project}…")
        self.query_one("#quit-hint", Label).update("sending SIGKILL to every process group")
        self.add_class("-forcing")
