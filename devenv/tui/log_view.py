"""The log pane: one source's lines, or all of them prefixed with their name; filterable.

Lines are kept here (bounded) as well as in the ``Log``, so switching the
source or changing the filter re-fills the ``Log`` without asking the core. The
combined view's prefixes are padded to the longest name seen; a longer one
re-fills it, so every line lines up whatever order names became known in.

What a caller may rely on:

- each source's name has its own colour, devenv's own lines (``OwnLine``) carry a
  ``»`` marker and a dim style, the filter's matches are marked (``log_styles``);
- a filter that hides every line says so ("no line matches `xyz`");
- while the view is scrolled up, arriving lines are counted ("N new lines ↓ End"),
  and End (or a click on the count) goes to the last line and follows again; a
  resize never stops the following (only scrolling up does);
- ``clear`` clears the view, never the data: a filter still reads every kept line,
  and with a filter set it clears the filter first;
- a service's log (``seed``: its server's own log file) is merged with devenv's
  lines about it by time, every line in one ``HH:MM:SS`` stamp;
- a flood costs the screen a bounded amount: of one ``add_lines`` batch at most
  DRAWN_AT_ONCE lines are drawn (the last, and devenv's own), after a note of how many
  were not; a view shown again draws its last REFILL_AT_ONCE lines at once and every
  kept line right after that frame.
"""

from __future__ import annotations

import collections
import heapq
import time
from collections.abc import Iterable
from typing import Final

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Label, Log

from devenv.supervisor.proclog import LogLine, OwnLine
from devenv.tui.log_styles import OWN, LineStyles

MAX_LINES = 10_000
DRAWN_AT_ONCE = 1_000
"""At most this many of the lines one ``add_lines`` brings are drawn (the last ones), after a
note of how many were not: a flood (100k lines a second) would spend the UI's time drawing
lines no one can read, and keys would wait. Every line is kept: any refill draws it."""
KEPT_HOW = "the filter, or the view shown again, shows them"
REFILL_AT_ONCE = 500
"""A view changed (``a``, a row, the filter cleared) shows its last this many lines at once
and the earlier ones after that frame: a key answers before thousands of lines are formatted."""


# One kept line: (seq, time, name, text, own). ``seq`` orders what arrived (0: a line read
# from a file); ``own``: devenv's. A plain tuple: a NamedTuple costs half as much again per
# line of a flood (100k lines/s).
Entry = tuple[int, float | None, str, str, bool]
SEQ: Final = 0
WHEN: Final = 1
NAME: Final = 2
TEXT: Final = 3
OWN_: Final = 4


class TailLog(Log):
    """Textual's ``Log`` whose End goes to the last line at once: an animated scroll ends
    where the last line was when it began, short of the lines that came meanwhile; and whose
    width is measured at once, cheaply."""

    def action_scroll_end(self) -> None:
        self.scroll_end(animate=False)

    # Textual declares it as a @work thread worker; Log calls it as a plain method, which is
    # what this override is (run on the UI thread, not a worker), hence the ignore.
    def _update_size(self, updates: int, lines: list[str]) -> None:  # type: ignore[override]
        # Textual's Log measures each write's lines in a thread worker, whose description is
        # the repr of every line (made on this thread), and whose measuring holds the GIL: in
        # a flood (thousands of lines a write) that doubled the cost of a write and delayed
        # keys. Plain lines (ASCII, no tab or control code: a cell a character) are measured
        # here at C speed; the others as Log does.
        if not lines:
            return
        plain = "".join(lines)
        if plain.isascii() and plain.isprintable():
            width = max(map(len, lines))
        else:
            process = self._process_line
            width = max(cell_len(process(line)) for line in lines)
        self._update_maximum_width(updates, width)


class LogView(Vertical):
    """A ``Log`` with a title, a filter ``Input`` and the notes about what it shows."""

    source: reactive[str | None] = reactive(None, init=False)
    """The name whose lines are shown; None shows every source, each line prefixed."""
    filter_text: reactive[str] = reactive("", init=False)
    """Only lines containing this (case-insensitively) are shown."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._all: collections.deque[Entry] = collections.deque(maxlen=MAX_LINES)
        self._by_name: dict[str, collections.deque[Entry]] = {}
        self._files: dict[str, list[Entry]] = {}
        self._seq = 0
        # What Ctrl+L hid, per view (None: all): lines up to this seq, file lines up to
        # this time. Hidden from the view only: a filter still reads them.
        self._cleared: dict[str | None, tuple[int, float]] = {}
        self._width = 6
        self._following = True
        self._unseen = 0
        self._styles = LineStyles()
        self._clock_cache: tuple[int, str] = (-1, "")
        self._focus_before: Widget | None = None
        self._refills = 0  # a refill's rest is written only if no other refill came since

    def compose(self) -> ComposeResult:
        with Horizontal(id="log-bar"):
            yield Label(self._title(), id="log-title")
            yield Input(placeholder="/ filter", id="log-filter")
        yield Label("", id="log-empty")
        log = TailLog(max_lines=MAX_LINES, highlight=True, id="log")
        log.highlighter = self._styles
        yield log
        yield Label("", id="log-more")

    @property
    def output(self) -> Log:
        return self.query_one("#log", Log)

    def texts(self, name: str) -> list[str]:
        """The kept lines of ``name`` as they arrived (their text only), oldest first."""
        return [entry[TEXT] for entry in self._by_name.get(name, ())]

    def on_mount(self) -> None:
        # Following the tail is a state of its own, left only by scrolling up: when the
        # pane shrinks (a resize, the table above gaining rows) the end moves away from the
        # scroll position without anyone having scrolled, and when it grows the position
        # is moved back to the new end: neither is a person leaving the tail.
        self.watch(self.output, "scroll_y", self._scrolled, init=False)
        # A first line too long for the pane brings the horizontal scrollbar, which takes
        # the last row: the pane is one row shorter without any Resize.
        self.watch(self.output, "show_horizontal_scrollbar", self._room_changed, init=False)

    def _scrolled(self, old: float, new: float) -> None:
        log = self.output
        if log.is_vertical_scroll_end:
            self._follow_again()
        elif new < old:
            self._following = False

    def _follow_again(self) -> None:
        self._following = True
        if self._unseen:
            self._unseen = 0
            self._show_notes()

    def keep_following(self) -> None:
        """While following, be at the last line: cheap, for a timer that runs anyway. A pane
        that shrank while the table above filled sometimes gets no Resize (seen at 80x24),
        and would sit short of its last lines until the next line arrives."""
        log = self.output
        grabbed = log.is_vertical_scrollbar_grabbed
        if self._following and not grabbed and not log.is_vertical_scroll_end:
            log.scroll_end(animate=False, immediate=True)

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
        self._styles.width = width
        return widened

    def add_lines(self, lines: Iterable[tuple[str, LogLine]]) -> None:
        """Append ``(name, line)`` lines (``OwnLine`` for devenv's own); those the current
        view shows go to the ``Log`` at once, in one write."""
        seq = self._seq
        batch: list[Entry] = []
        for name, line in lines:
            seq += 1
            batch.append((seq, line.time, name, line.text, type(line) is OwnLine))
        self._seq = seq
        source, needle = self.source, self.filter_text.lower()
        widened = self._widen({entry[NAME] for entry in batch})
        self._all.extend(batch)
        by_name = self._by_name
        for entry in batch:
            store = by_name.get(entry[NAME])
            if store is None:
                store = by_name[entry[NAME]] = collections.deque(maxlen=MAX_LINES)
            store.append(entry)
        if widened and source is None:
            self._refill(follow=self._following)  # the earlier lines' prefixes, padded anew
            return
        if source is None:
            view, render = batch, self._combined
        else:
            # A service's own log lines come from its file (seed): the copies an event
            # carried (a failure's last lines) would show twice.
            merged = source in self._files
            view = [e for e in batch if e[NAME] == source and (e[OWN_] or not merged)]
            render = self._single
        if needle:
            view = [entry for entry in view if needle in render(entry).lower()]
        # Past DRAWN_AT_ONCE, the earlier lines are counted, not drawn; devenv's own (a
        # process exited, lines skipped) are drawn all the same.
        hidden = view[:-DRAWN_AT_ONCE]
        own = [entry for entry in hidden if entry[OWN_]]
        shown = [render(entry) for entry in own]
        if skipped := len(hidden) - len(own):
            note = f"… {skipped:,} lines not drawn, too many at once (kept: {KEPT_HOW})"
            shown.append(render((0, hidden[0][WHEN], "devenv", note, True)))
        shown += [render(entry) for entry in view[-DRAWN_AT_ONCE:]]
        if shown:
            self._write(shown, len(view))

    def _write(self, shown: list[str], came: int | None = None) -> None:
        """Append ``shown`` to the Log; ``came``: how many lines they stand for (a note for
        lines not drawn)."""
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
        else:
            self._unseen += len(shown) if came is None else came
        self._show_notes()

    def seed(self, name: str, lines: Iterable[tuple[float | None, str]]) -> None:
        """``name``'s own log file, ``(time or None, text)`` a line, oldest first: shown in
        ``name``'s view merged by time with devenv's lines about it (instead of the copies
        of the file an event carried). A later call replaces the earlier lines."""
        kept = collections.deque(lines, maxlen=MAX_LINES)
        self._files[name] = [(0, when, name, text, False) for when, text in kept]
        if self.source == name:
            self._refill(follow=self._following)

    def add_file_lines(self, name: str, lines: Iterable[tuple[float | None, str]]) -> None:
        """Lines written to ``name``'s own log file after those ``seed`` gave: shown in its view
        at once, after what it shows (a server writes its file in time order)."""
        entries = [(0, when, name, text, False) for when, text in lines]
        file = self._files.setdefault(name, [])
        file.extend(entries)
        if len(file) > MAX_LINES:
            del file[: len(file) - MAX_LINES]
        if self.source != name or not entries:
            return
        shown = [self._single(entry) for entry in entries]
        if needle := self.filter_text.lower():
            shown = [line for line in shown if needle in line.lower()]
        if shown:
            self._write(shown)

    def clear(self) -> str:
        """Ctrl+L: with a filter set, clear the filter ("filter"); else hide the lines the
        view shows now ("view"). No line is forgotten: a filter still finds them."""
        if self.filter_text:
            self.query_one("#log-filter", Input).value = ""
            self.filter_text = ""
            return "filter"
        entries = self._entries(self.source)
        times = (entry[WHEN] for entry in entries if entry[WHEN] is not None)
        last_time = max(times, default=float("-inf"))
        self._cleared[self.source] = (self._seq, last_time)
        self._refill()
        return "view"

    def focus_filter(self) -> None:
        """/: edit the filter; Enter gives the focus back to where it was."""
        box = self.query_one("#log-filter", Input)
        if self.app.focused is not box:
            self._focus_before = self.app.focused
        # At once, not at the next idle moment (Widget.focus): the keys typed right after "/"
        # are already queued, and went to the table, where "o", "r" or "s" are actions.
        self.screen.set_focus(box)
        box.cursor_position = len(box.value)

    # -- what the lines look like -------------------------------------------------------

    def _clock(self, when: float) -> str:
        second = int(when)
        if self._clock_cache[0] != second:
            self._clock_cache = (second, time.strftime("%H:%M:%S", time.localtime(second)))
        return self._clock_cache[1]

    def _combined(self, entry: Entry) -> str:
        # "09:30:01 web.1    | text", like honcho start; devenv's own lines have » for |.
        _, when, name, text, own = entry
        mark = OWN if own else "|"
        if when is None:
            return f"{name:<{self._width}} {mark} {text}"
        return f"{self._clock(when)} {name:<{self._width}} {mark} {text}"

    def _single(self, entry: Entry) -> str:
        _, when, _, text, own = entry
        shown = f"{OWN} {text}" if own else text
        return shown if when is None else f"{self._clock(when)} {shown}"

    def _title(self) -> str:
        return "Logs: all" if self.source is None else f"Logs: {self.source}"

    # -- what the view holds ------------------------------------------------------------

    def _entries(self, source: str | None) -> list[Entry]:
        """The lines of a view, oldest first, before the filter and Ctrl+L."""
        if source is None:
            return list(self._all)
        live = self._by_name.get(source, ())
        file = self._files.get(source)
        if file is None:
            return list(live)
        inf = float("-inf")
        own = (entry for entry in live if entry[OWN_])
        return list(heapq.merge(file, own, key=lambda e: inf if e[WHEN] is None else e[WHEN]))

    def _visible(self, entry: Entry) -> bool:
        """Not hidden by a Ctrl+L (of this view, or of all)."""
        number, at, name = entry[SEQ], entry[WHEN], entry[NAME]
        for key in (None, name):
            mark = self._cleared.get(key)
            if mark is None:
                continue
            seq, when = mark
            if number:
                if number <= seq:
                    return False
            elif at is None or at <= when:
                return False
        return True

    def _refill(self, follow: bool = True, *, whole: bool = False) -> None:
        """Write the view anew; ``whole``: every line now, else (unfiltered) the last
        REFILL_AT_ONCE now and the whole view again once the screen has shown them."""
        self._refills += 1
        entries = self._entries(self.source)
        needle = self.filter_text.lower()
        if not needle and self._cleared:
            entries = [entry for entry in entries if self._visible(entry)]
        render = self._combined if self.source is None else self._single
        if not needle and not whole and len(entries) > REFILL_AT_ONCE:
            entries = entries[-REFILL_AT_ONCE:]
            self.call_after_refresh(self._refill_rest, self._refills, follow)
        lines = [render(entry) for entry in entries]
        shown = [line for line in lines if needle in line.lower()] if needle else lines
        styles = self._styles
        styles.combined, styles.needle = self.source is None, needle
        log = self.output
        log.clear()
        log.write_lines(shown, scroll_end=False)
        if follow:
            self._follow_again()
            log.scroll_end(animate=False)
        self._show_notes()

    def _refill_rest(self, refill: int, follow: bool) -> None:
        if refill == self._refills and self.is_attached:  # else a later refill wrote it
            self._refill(follow=follow and self._following, whole=True)

    def _show_notes(self) -> None:
        empty = self.query_one("#log-empty", Label)
        nothing = bool(self.filter_text) and not self.output.lines
        if nothing:
            empty.update(f"no line matches `{self.filter_text}`")
        empty.set_class(nothing, "-shown")
        more = self.query_one("#log-more", Label)
        if self._unseen:
            lines = "line" if self._unseen == 1 else "lines"
            more.update(f"{self._unseen} new {lines} ↓ End")
        more.set_class(bool(self._unseen), "-shown")

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
        before, self._focus_before = self._focus_before, None
        target = before if before is not None and before.is_attached else self.output
        target.focus()
