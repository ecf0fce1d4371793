"""A running install of the project's packages: a bar of its steps and the command running now."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar


class SyncProgress(Horizontal):
    """``[bar] 2/2 uv pip sync …``; the app sets the three values from the sync's events.

    The bar (``#sync-bar``) is there only while this is on screen: Textual's ProgressBar
    runs its timers (a 15 Hz pulse while the total is unknown, a 1 s update) even hidden,
    and the dashboard idles with this banner hidden nearly always.
    """

    total: reactive[int] = reactive(0)
    """How many steps the sync runs (0: not known yet, the bar waits)."""
    done: reactive[int] = reactive(0)
    """How many of them have finished."""
    command: reactive[str] = reactive("")
    """The step running now, as the core displays it."""

    def compose(self) -> ComposeResult:
        yield Label(id="sync-step")

    @property
    def bar(self) -> ProgressBar | None:
        """The bar, while this is on screen."""
        bars = self.query(ProgressBar)
        return bars.first() if bars else None

    def on_show(self) -> None:
        if self.bar is None:
            bar = ProgressBar(show_eta=False, id="sync-bar")
            self.mount(bar, before=0)
            self._update_bar(bar)

    def on_hide(self) -> None:
        if (bar := self.bar) is not None:
            bar.remove()

    def _update_bar(self, bar: ProgressBar | None) -> None:
        if bar is not None:
            # None makes the bar pulse: the steps are being planned.
            bar.update(total=self.total or None, progress=self.done)

    def watch_total(self) -> None:
        self._update_bar(self.bar)
        self._show_step()

    def watch_done(self) -> None:
        self._update_bar(self.bar)
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
