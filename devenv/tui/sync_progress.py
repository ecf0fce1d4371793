"""A running install of the project's packages: a bar of its steps and the command running now."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar


class SyncProgress(Horizontal):
    """``[bar] 2/2 uv pip sync …``; the app sets the three values from the sync's events."""

    total: reactive[int] = reactive(0)
    """How many steps the sync runs (0: not known yet, the bar waits)."""
    done: reactive[int] = reactive(0)
    """How many of them have finished."""
    command: reactive[str] = reactive("")
    """The step running now, as the core displays it."""

    def compose(self) -> ComposeResult:
        yield ProgressBar(show_eta=False, id="sync-bar")
        yield Label(id="sync-step")

    @property
    def bar(self) -> ProgressBar:
        return self.query_one("#sync-bar", ProgressBar)

    def watch_total(self, total: int) -> None:
        # None makes the bar pulse: the steps are being planned.
        self.bar.update(total=total or None)
        self._show_step()

    def watch_done(self, done: int) -> None:
        self.bar.update(progress=done)
        self._show_step()

    def watch_command(self) -> None:
        self._show_step()

    def _show_step(self) -> None:
        if not self.total:
            text = self.command
        elif self.done >= self.total:
            text = f"{self.total}/{self.total} done"
        else:
            text = f"{self.done + 1}/{self.total} {self.command}"
        # Content, not markup: a command may hold brackets (pip install "pkg[extra]").
        self.query_one("#sync-step", Label).update(Content(text))
