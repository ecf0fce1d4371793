"""The details pane: the selected row over the last minutes, in pictures, and what it runs.

CPU and memory are sparklines of the samples the app already reads once a second
(``Session.rows()``); the pane keeps HISTORY of them per row whether it is open or not
(a few floats a second: no polling of its own). Exits and restarts come from the core's
events the app hands it. What the row runs (``Session.launch``, secrets masked by the
core) is asked once per row; a PostgreSQL's or Redis's own figures (``Session.insight``)
every INSIGHT_EVERY seconds at most, in a thread worker, only while the pane is open on
that service. Closed, the pane costs the app nothing but those appends.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from itertools import pairwise
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Label, Sparkline, Static

from devenv.events import Event, ServiceExited, ServiceFailed
from devenv.state import State, Status
from devenv.supervisor.events import ProcessCrashed, ProcessExited, ProcessRestarting
from devenv.tui.status_table import NONE, format_bytes, format_cpu

if TYPE_CHECKING:
    from devenv.services.insight import Figures, Launch
    from devenv.session import Session

HISTORY = 300  # samples kept per row: 5 minutes at the app's one a second
EVENTS_KEPT = 100  # exits and restarts kept per row
BUCKET = 10.0  # seconds per bar of the exits picture (30 bars: the 5 minutes)
STATEMENT_WIDTH = 70  # characters of a statement shown


def happening(event: Event) -> tuple[str, str] | None:
    """What ``event`` adds to a row's exits-and-restarts history: ("exit" | "restart",
    a few words), or None for an event that is neither."""
    match event:
        case ProcessExited(returncode=code):
            return "exit", _exit_words(code)
        case ProcessRestarting(attempt=attempt):
            return "restart", f"restart {attempt}"
        case ProcessCrashed(restarts=restarts):
            return "exit", f"crashed after {restarts} restarts"
        case ServiceExited(returncode=code, restart_in=restart_in):
            words = _exit_words(code) if code is not None else "exited"
            return "exit", words if restart_in is None else f"{words}, restarting"
        case ServiceFailed(message=message):
            return "exit", f"failed: {message}"
    return None


def timeline(samples: list[float]) -> list[float]:
    """``samples`` on the graphs' HISTORY-long axis, the newest at the right; before the first
    one, their least value (the lowest bar): a graph starts flat, not from zero, and a
    flat one stays the same picture as it fills."""
    if not samples:
        return []
    return [min(samples)] * (HISTORY - len(samples)) + samples


def columns(data: list[float], width: int) -> list[float]:
    """``data`` as at most ``width`` values, one a column of the graph: the largest of the
    samples that fall in each (a spike is never averaged away)."""
    if width <= 0 or len(data) <= width:
        return list(data)
    step = len(data) / width
    edges = [int(i * step) for i in range(width + 1)]
    return [max(data[start : max(end, start + 1)]) for start, end in pairwise(edges)]


def picture(values: Iterable[float]) -> tuple[int, ...]:
    """The bar heights (0-7) a sparkline draws for ``values``, scaled from their least to their
    most, as Textual's Sparkline scales them."""
    values = list(values)
    low, high = min(values, default=0.0), max(values, default=0.0)
    if high == low:
        return (0,) * len(values)
    return tuple(int((value - low) / (high - low) * 7) for value in values)


def _exit_words(code: int) -> str:
    if code < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited {code}"


class DetailsPane(VerticalScroll):
    """The selected row's details; hidden until ``open``. The app feeds it every sample
    (``add_rows``) and event (``add_event``) and tells it which row is selected (``show``)."""

    INSIGHT_EVERY = 2.0
    """Seconds at least between two questions to the shown service's server."""

    DEFAULT_CSS: ClassVar[str] = """
    DetailsPane {
        display: none;
        height: 1fr;
        border-top: solid $primary-muted;
        padding: 0 1;
        scrollbar-size-vertical: 1;
        &.-open { display: block; }
    }
    DetailsPane #details-title { text-style: bold; height: 1; }
    DetailsPane .graph { height: 1; }
    DetailsPane .graph-label { width: 9; color: $text-muted; }
    DetailsPane .graph Sparkline { width: 1fr; }
    DetailsPane .graph-value { width: 28; padding-left: 1; text-wrap: nowrap; }
    DetailsPane #details-exits > .sparkline--max-color { color: $error; }
    DetailsPane #details-exits > .sparkline--min-color { color: $success 30%; }
    /* A long value (PATH) is cut at the edge, not wrapped over the lines below it. */
    DetailsPane #details-body { margin-top: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    class LaunchRead(Message, bubble=False):
        """``Session.launch`` answered for ``name`` (or ``error`` says why not)."""

        def __init__(self, name: str, launch: Launch | None, error: str = "") -> None:
            super().__init__()
            self.name, self.launch, self.error = name, launch, error

    class FiguresRead(Message, bubble=False):
        """``Session.insight`` answered for ``name``."""

        def __init__(self, name: str, figures: Figures | None) -> None:
            super().__init__()
            self.name, self.figures = name, figures

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._session: Session | None = None
        self._now = 0.0  # the time of the last sample or event: the exits picture ends there
        self.shown: str | None = None
        """The row the pane is about (None: closed)."""
        self._rows: dict[str, Status] = {}
        self._cpu: dict[str, deque[float]] = {}
        self._rss: dict[str, deque[float]] = {}
        self._events: dict[str, deque[tuple[float, str, str]]] = {}
        self._launches: dict[str, Launch | str] = {}  # str: why it could not be read
        self._figures: dict[str, Figures | None] = {}
        self._asked_at = float("-inf")  # time.monotonic() of the last insight question
        self._said: dict[str, str | Content] = {}  # what each text widget shows now
        self._parts: str = "none"  # its widgets: "none", "mounting", "mounted"

    def compose(self) -> ComposeResult:
        # Nothing yet: its widgets (a third of the dashboard's) come with the first open,
        # off the path of the dashboard's first frame.
        return iter(())

    def _widgets(self) -> Iterable[Widget]:
        yield Label(id="details-title")
        for key, label in (("cpu", "CPU"), ("rss", "Memory"), ("exits", "Exits")):
            yield Horizontal(
                Label(label, classes="graph-label"),
                Sparkline([], id=f"details-{key}"),
                Label(id=f"details-{key}-value", classes="graph-value"),
                classes="graph",
            )
        yield Static(id="details-body")

    async def _mount_widgets(self) -> None:
        await self.mount_all(self._widgets())
        self._parts = "mounted"
        self._render_all()

    # -- what the app tells it -----------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.shown is not None

    def attach(self, session: Session) -> None:
        """The session to ask what a row runs and what its server says."""
        self._session = session

    def open(self, name: str) -> None:
        # What could not be read last time is asked again (a placeholder, an error).
        self._launches = {n: got for n, got in self._launches.items() if not isinstance(got, str)}
        if self._parts == "none":
            self._parts = "mounting"
            self.call_later(self._mount_widgets)  # then drawn
        self.add_class("-open")
        self.show(name)

    def close(self) -> None:
        self.shown = None
        self.remove_class("-open")

    def show(self, name: str) -> None:
        """Be about the row ``name`` (while open)."""
        if name != self.shown:
            self.shown = name
            self._asked_at = float("-inf")
            self.scroll_home(animate=False)
        self._ask()
        self._render_all()

    def add_rows(self, rows: Iterable[Status], when: float) -> None:
        """One sample of every row (the app's once-a-second ``Session.rows()``), taken at
        ``when`` (epoch)."""
        self._now = max(self._now, when)
        before = _worded(self._rows.get(self.shown)) if self.shown is not None else None
        for row in rows:
            self._rows[row.name] = row
            if row.pid and row.cpu_percent is None and row.rss is None:
                continue  # running, not sampled yet: unknown, not zero
            self._cpu.setdefault(row.name, deque(maxlen=HISTORY)).append(row.cpu_percent or 0.0)
            self._rss.setdefault(row.name, deque(maxlen=HISTORY)).append(float(row.rss or 0))
        if self.shown is not None:
            self._ask()
            self._render_graphs()
            if _worded(self._rows.get(self.shown)) != before:  # not each second's numbers
                self._render_body()

    def add_event(self, event: Event, when: float) -> None:
        """An event of the core, at ``when`` (epoch): an exit or a restart goes into its row's
        history."""
        found = happening(event)
        if found is None:
            return
        self._now = max(self._now, when)
        kind, words = found
        self._events.setdefault(event.name, deque(maxlen=EVENTS_KEPT)).append((when, kind, words))
        if event.name == self.shown:
            self._render_all()

    def history(self, name: str) -> tuple[list[float], list[float]]:
        """The CPU (%) and memory (bytes) samples kept of ``name``, oldest first."""
        return list(self._cpu.get(name, ())), list(self._rss.get(name, ()))

    # -- asking the session (thread workers) -------------------------------------------

    def _ask(self) -> None:
        name, session = self.shown, self._session
        if name is None or session is None:
            return
        if name not in self._launches:
            self._launches[name] = "…"
            self._read_launch(session, name)
        row = self._rows.get(name)
        if not _serving(row) or (name in self._figures and self._figures[name] is None):
            return  # not up, or a service devenv has no figures of
        if time.monotonic() - self._asked_at < self.INSIGHT_EVERY:
            return
        if any(w.group == "insight" and not w.is_finished for w in self.workers):
            return  # a slow server: one question at a time
        self._asked_at = time.monotonic()
        self._read_figures(session, name)

    @work(thread=True, exit_on_error=False, group="launch", description="details")
    def _read_launch(self, session: Session, name: str) -> None:
        from devenv.errors import DevenvError

        try:
            self.post_message(self.LaunchRead(name, session.launch(name)))
        except DevenvError as error:
            self.post_message(self.LaunchRead(name, None, str(error)))

    @work(thread=True, exit_on_error=False, group="insight", description="server figures")
    def _read_figures(self, session: Session, name: str) -> None:
        self.post_message(self.FiguresRead(name, session.insight(name)))

    @on(LaunchRead)
    def _launch_read(self, message: LaunchRead) -> None:
        self._launches[message.name] = message.launch or message.error
        if message.name == self.shown:
            self._render_body()

    @on(FiguresRead)
    def _figures_read(self, message: FiguresRead) -> None:
        self._figures[message.name] = message.figures
        if message.name == self.shown:
            self._render_body()

    # -- rendering ------------------------------------------------------------------------

    def _render_all(self) -> None:
        self._render_graphs()
        self._render_body()

    def _render_graphs(self) -> None:
        name = self.shown
        if name is None or self._parts != "mounted":
            return
        row = self._rows.get(name)
        title = f"{name} · {row.kind} · {row.state}" if row else name
        self._say("#details-title", title)
        cpu, rss = self.history(name)
        self._graph(
            "cpu",
            timeline(cpu),
            f"{format_cpu(row.cpu_percent if row else None)} now, "
            f"max {format_cpu(max(cpu, default=None))}",
        )
        self._graph(
            "rss",
            timeline(rss),
            f"{format_bytes(row.rss if row else None)} now, "
            f"max {format_bytes(int(max(rss)) if rss else None)}",
        )
        events = self._events.get(name, ())
        now = self._now
        bars = [0.0] * int(HISTORY / BUCKET)
        for when, kind, _ in events:
            age = now - when
            if kind == "exit" and 0 <= age < HISTORY:
                bars[len(bars) - 1 - int(age // BUCKET)] += 1
        exits = sum(1 for _, kind, _ in events if kind == "exit")
        restarts = row.restarts if row is not None and row.restarts is not None else None
        said = f"{exits} exits" + (f", {restarts} restarts" if restarts is not None else "")
        self._graph("exits", bars, said)

    def _graph(self, key: str, data: list[float], value: str) -> None:
        spark = self.query_one(f"#details-{key}", Sparkline)
        # One value a column, and drawn again only when a bar changes height: a quiet
        # process's flat graph is not repainted every second.
        bars = columns(data, spark.size.width)
        if spark.data is None or picture(spark.data) != picture(bars):
            spark.data = bars
        self._say(f"#details-{key}-value", value)

    def _say(self, selector: str, text: str | Content) -> None:
        # An update lays the screen out again: only when the words changed, not every second.
        if self._said.get(selector) != text:
            self._said[selector] = text
            self.query_one(selector, Static).update(text)

    def _render_body(self) -> None:
        name = self.shown
        if name is None or self._parts != "mounted":
            return
        row = self._rows.get(name)
        parts: list[Content] = []
        for when, _, words in list(self._events.get(name, ()))[-3:]:
            stamp = time.strftime("%H:%M:%S", time.localtime(when))
            parts.append(
                _line("Last", f"{stamp} {words}") if not parts else _line("", f"{stamp} {words}")
            )
        launch = self._launches.get(name)
        command = launch.command if launch is not None and not isinstance(launch, str) else None
        parts.append(_line("Command", command or (row.detail if row else "") or NONE))
        parts.append(_line("Ports", _ports(row)))
        log = self._session.log_path(name) if self._session is not None else None
        parts.append(_line("Log", str(log) if log else NONE))
        if isinstance(launch, str):
            parts.append(_line("Env", launch))
        elif launch is not None:
            label = "Gives" if row is not None and row.kind == "service" else "Env"
            for i, (key, value) in enumerate(launch.env):
                parts.append(_line(label if i == 0 else "", f"{key}={value}"))
            if not launch.env:
                parts.append(_line(label, NONE))
        if _serving(row):  # a server that is down has no figures: older ones would mislead
            parts += _figures_lines(self._figures.get(name))
        self._say("#details-body", Content("\n").join(parts))


def _ports(row: Status | None) -> str:
    """A service's port; the ports a process was seen listening on (not the PORT it was given:
    a worker is given one and never opens it)."""
    if row is None:
        return NONE
    if row.kind == "service":
        return str(row.port) if row.port else NONE
    listening = ", ".join(map(str, row.ports or ()))
    if row.port and not listening:
        return f"none seen listening (given PORT={row.port})"
    return listening or NONE


def _worded(row: Status | None) -> tuple[object, ...] | None:
    """What the pane's words say of ``row`` (its numbers are the graphs')."""
    if row is None:
        return None
    return row.kind, row.state, row.port, row.ports, row.detail, row.restarts


def _serving(row: Status | None) -> bool:
    return row is not None and row.kind == "service" and row.state == State.READY


def _line(label: str, text: str) -> Content:
    return Content.assemble((f"{label:<9}", "$text-muted"), text)


def _figures_lines(figures: Figures | None) -> list[Content]:
    from devenv.services.insight import PostgresFigures, RedisFigures, Unavailable

    if figures is None:
        return []
    lines = [Content("")]
    if isinstance(figures, Unavailable):
        return [*lines, _line("Server", figures.reason)]
    if isinstance(figures, PostgresFigures):
        states = ", ".join(f"{state} {count}" for state, count in figures.by_state)
        connections = f"{figures.connections}/{figures.max_connections}"
        lines.append(_line("Conns", connections + (f" ({states})" if states else "")))
        sizes = " · ".join(f"{db} {format_bytes(size)}" for db, size in figures.databases)
        lines.append(_line("Sizes", sizes or NONE))
        if figures.statements is None:
            lines.append(_line("Slowest", figures.statements_note))
        for i, statement in enumerate(figures.statements or ()):
            query = statement.query
            if len(query) > STATEMENT_WIDTH:
                query = query[: STATEMENT_WIDTH - 1] + "…"
            said = f"{statement.mean_ms:8.1f} ms × {statement.calls:<5} {query}"
            lines.append(_line("Slowest" if i == 0 else "", said))
        if figures.statements == ():
            lines.append(_line("Slowest", "no statements yet"))
    elif isinstance(figures, RedisFigures):
        limit = format_bytes(figures.maxmemory) if figures.maxmemory else "no limit"
        memory = f"{format_bytes(figures.used_memory)} (peak {format_bytes(figures.peak_memory)}"
        lines.append(_line("Memory", f"{memory}, {limit})"))
        lines.append(_line("Ops/s", f"{figures.ops_per_sec} · {figures.clients} clients"))
        keys = " · ".join(f"{db} {count}" for db, count in figures.keys)
        lines.append(_line("Keys", keys or "none"))
    return lines
