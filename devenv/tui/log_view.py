"""The log pane: one source's lines, or all of them prefixed with their name; filterable.

Lines are kept here (bounded) as well as in the ``Log``, so switching the
source or changing the filter re-fills the ``Log`` without asking the core. The
combined view's prefixes are padded to the longest name seen; a longer one
re-fills it, so every line lines up whatever order names became known in.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, Label, Log

MAX_LINES = 10_000


class LogView(Vertical):
    """A ``Log`` with a title and a filter ``Input``."""

    source: reactive[str | None] = reactive(None, init=False)
    """The name whose lines are shown; None shows every source, each line prefixed."""
    filter_text: reactive[str] = reactive("", init=False)
    """Only lines containing this (case-insensitively) are shown."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._all: collections.deque[tuple[str, str]] = collections.deque(maxlen=MAX_LINES)
        self._by_name: dict[str, collections.deque[str]] = {}
        self._width = 6
        self._following = True

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-bar"):
            yield Label(self._title(), id="log-title")
            yield Input(placeholder="/ filter", id="log-filter")
        yield Log(max_lines=MAX_LINES, id="log")

    @property
    def output(self) -> Log:
        return self.query_one("#log", Log)

    def on_mount(self) -> None:
        # Following the tail is a state of its own, changed only by scrolling: when the
        # pane shrinks (the table above gains rows) the end moves away from the scroll
        # position without anyone having scrolled up.
        self.watch(self.output, "scroll_y", self._scrolled, init=False)
        # A first line too long for the pane brings the horizontal scrollbar, which takes
        # the last row: the pane is one row shorter without any Resize.
        self.watch(self.output, "show_horizontal_scrollbar", self._room_changed, init=False)

    def _scrolled(self) -> None:
        self._following = self.output.is_vertical_scroll_end

    def _room_changed(self) -> None:
        if self._following:
            self.output.scroll_end(animate=False)

    def on_resize(self) -> None:
        self._room_changed()

    def set_names(self, names: Iterable[str]) -> None:
        """Known source names: the combined view pads its prefixes to the longest."""
        if self._widen(names) and self.source is None and self._all:
            self._refill(follow=self._following)

    def _widen(self, names: Iterable[str]) -> bool:
        width = max([self._width, *(len(name) for name in names)])
        widened, self._width = width > self._width, width
        return widened

    def add_lines(self, lines: Iterable[tuple[str, str]]) -> None:
        """Append ``(name, text)`` lines; those the current view shows go to the ``Log`` at once."""
        batch = list(lines)
        source, needle = self.source, self.filter_text.lower()
        widened = self._widen(name for name, _ in batch)
        self._all.extend(batch)
        for name, text in batch:
            store = self._by_name.get(name)
            if store is None:
                store = self._by_name[name] = collections.deque(maxlen=MAX_LINES)
            store.append(text)
        if widened and source is None:
            self._refill(follow=self._following)  # the earlier lines' prefixes, padded anew
            return
        shown: list[str] = []
        for name, text in batch:
            line = self._prefix(name, text) if source is None else text if name == source else None
            if line is not None and (not needle or needle in line.lower()):
                shown.append(line)
        if shown:
            log = self.output
            following = self._following
            pruned = len(log.lines) + len(shown) > MAX_LINES
            log.write_lines(shown, scroll_end=following)
            if pruned:
                # Log refreshes only the rows of the new lines' old indices; once it prunes
                # its first lines at the tail, those are off screen and nothing repaints.
                log.refresh()
            if following:
                # Log's own scroll is ignored while it has no scrollbar yet (a first batch
                # taller than the pane): scroll again once the layout has caught up.
                log.scroll_end(animate=False)

    def seed(self, name: str, lines: list[str]) -> None:
        """Put ``lines`` (older than anything received) before ``name``'s own lines."""
        store = self._by_name.setdefault(name, collections.deque(maxlen=MAX_LINES))
        store.extendleft(reversed(lines[-MAX_LINES:]))
        if self.source == name:
            self._refill()

    def clear(self) -> None:
        """Forget the lines of the current view (all of them in the combined view)."""
        if self.source is None:
            self._all.clear()
            self._by_name.clear()
        else:
            self._by_name.pop(self.source, None)
        self.output.clear()

    def focus_filter(self) -> None:
        self.query_one("#log-filter", Input).focus()

    def _prefix(self, name: str, text: str) -> str:
        # "09:30:01 text" -> "09:30:01 web.1  | text", like honcho start.
        stamp, sep, rest = text.partition(" ")
        if sep and len(stamp) == 8 and stamp[2] == ":" and stamp[5] == ":":
            return f"{stamp} {name:<{self._width}} | {rest}"
        return f"{name:<{self._width}} | {text}"

    def _title(self) -> str:
        return "Logs: all" if self.source is None else f"Logs: {self.source}"

    def _refill(self, follow: bool = True) -> None:
        if self.source is None:
            lines = [self._prefix(name, text) for name, text in self._all]
        else:
            lines = list(self._by_name.get(self.source, ()))
        needle = self.filter_text.lower()
        log = self.output
        log.clear()
        shown = [line for line in lines if needle in line.lower()] if needle else lines
        log.write_lines(shown, scroll_end=False)
        if follow:
            log.scroll_end(animate=False)

    def watch_source(self) -> None:
        self.query_one("#log-title", Label).update(self._title())
        self._refill()

    def watch_filter_text(self) -> None:
        self._refill()

    @on(Input.Changed, "#log-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value

    @on(Input.Submitted, "#log-filter")
    def _filter_submitted(self) -> None:
        self.output.focus()
