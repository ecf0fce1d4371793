"""The banner under the header about the project's packages: what drifted, a sync's progress,
why a sync failed. Hidden while the packages match the lockfiles and nothing is installing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Label, Static

from devenv.tui.sync_progress import SyncProgress

SYNC_KEY = "S"


class DriftBanner(Vertical):
    """Shows what the app sets; state as CSS classes: ``-shown``, ``-syncing``, ``-failed``."""

    summaries: reactive[tuple[str, ...]] = reactive(tuple)
    """What differs from the lockfiles, one line per lockfile; empty when nothing does."""
    offer_key: reactive[bool] = reactive(False)
    """Whether to name the key that syncs (on_drift = "ask", or after a failed sync)."""
    syncing: reactive[bool] = reactive(False)
    """An install runs now: its progress shows instead of the key."""
    reason: reactive[str] = reactive("")
    """Why the running install runs ("first start: installing requirements.lock", ...)."""
    error: reactive[str] = reactive("")
    """Why the last sync failed (the core's message, which says what state things are in)."""

    def compose(self) -> ComposeResult:
        yield Label(id="drift-title")
        yield Static(id="drift-lines")
        yield Static(id="drift-error")
        yield SyncProgress(id="sync-progress")

    @property
    def progress(self) -> SyncProgress:
        return self.query_one("#sync-progress", SyncProgress)

    def watch_summaries(self) -> None:
        self._show()

    def watch_offer_key(self) -> None:
        self._show()

    def watch_syncing(self) -> None:
        self._show()

    def watch_reason(self) -> None:
        self._show()

    def watch_error(self) -> None:
        self._show()

    def _show(self) -> None:
        syncing, failed = self.syncing, bool(self.error) and not self.syncing
        self.set_class(bool(self.summaries or syncing or self.error), "-shown")
        self.set_class(syncing, "-syncing")
        self.set_class(failed, "-failed")
        self.query_one("#drift-title", Label).update(self._title(failed))
        lines = self.query_one("#drift-lines", Static)
        # Content, not markup: summaries and errors quote package names and commands.
        lines.update(Content("\n".join(self.summaries)))
        lines.display = bool(self.summaries)
        error = self.query_one("#drift-error", Static)
        error.update(Content(self.error))
        error.display = failed
        self.progress.display = syncing

    def _title(self, failed: bool) -> Content:
        if self.syncing:
            why = f" ({self.reason})" if self.reason else ""
            return Content.styled(f"Installing the project's packages{why}…", "bold")
        title = "The sync failed" if failed else "Dependencies differ from the lockfiles"
        parts = [Content.styled(title, "bold")]
        if self.offer_key:
            what = "try again" if failed else "sync deps"
            parts += [
                Content("  "),
                Content.styled(f" {SYNC_KEY} ", "bold reverse @click=app.sync_deps"),
                Content.styled(f" {what}", "@click=app.sync_deps"),
            ]
        return Content.assemble(*parts)
