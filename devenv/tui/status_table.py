"""The dashboard's table: one row per service and process, keyed by name, updated in place."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from devenv.events import (
    Event,
    HookFinished,
    HookStarted,
    ServiceExited,
    ServiceFailed,
    ServiceReady,
    ServiceStarting,
    ServiceStopped,
    StepDone,
)
from devenv.state import State, Status
from devenv.supervisor import events as proc
from devenv.tui.column_widths import set_column_widths
from devenv.tui.columns import COLUMNS, HEALTH_WIDTH, NUMERIC, layout

# State -> theme variable. Colour is never the only signal: the state is written out.
STATE_COLOURS = {
    State.READY: "success",
    State.RUNNING: "success",
    State.STARTING: "warning",
    State.WAITING: "warning",
    State.BACKOFF: "warning",
    State.FAILED: "error",
    State.CRASHED: "error",
    State.EXITED: "error",
}
DIM_STATES = frozenset({State.STOPPED, State.COMPLETED})

NONE = "–"

# What a Health text says of the state: one the row's state contradicts is not shown ("stopped |
# starting", "running | ready 0.3s"). Events and sampled rows are a second apart at most; the
# next one agrees again. Texts not listed here (a setup step, an error's first line) may go
# with any state.
HEALTH_SAYS = (
    ("starting", frozenset({State.STARTING, State.WAITING})),
    ("waits", frozenset({State.WAITING})),
    ("waiting", frozenset({State.WAITING})),
    ("up", frozenset({State.RUNNING})),
    ("ready ", frozenset({State.READY})),
    ("ok", frozenset({State.READY})),
    ("adopted", frozenset({State.READY, State.STARTING})),
    ("not ready", frozenset({State.RUNNING})),
    ("retry", frozenset({State.BACKOFF})),
    ("down, retry", frozenset({State.BACKOFF})),
    ("gave up", frozenset({State.CRASHED, State.FAILED})),
    ("exit", frozenset({State.EXITED, State.BACKOFF, State.CRASHED, State.FAILED})),
    ("hook", frozenset({State.READY})),
)


def agreeing_health(state: str, health: str) -> str:
    """``health`` when it agrees with ``state`` (see HEALTH_SAYS), else nothing."""
    for prefix, states in HEALTH_SAYS:
        if health == prefix.strip() or health.startswith(prefix):
            return health if State.of(state) in states else ""
    return health


def port_of(row: Status) -> str:
    """What the Port column says: a service's port while its server runs; for a process, the
    lowest port it was seen listening on ("5000+" when more), never a PORT it was only given."""
    if row.kind == "service":
        return NONE if row.port is None or row.pid is None else str(row.port)
    if not row.ports:
        return NONE
    return f"{min(row.ports)}+" if len(row.ports) > 1 else str(row.ports[0])


def format_uptime(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    seconds = int(seconds)
    # Never seconds: a cell that changes every second repaints the whole table every
    # second (DataTable.update_cell clears its caches), the bulk of an idle UI's CPU.
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def format_bytes(size: int | None) -> str:
    """At most 5 characters: "512B", "2.0K", "23.4M", "512M", "1.5G"."""
    if size is None:
        return NONE
    value = float(size)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1000 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" or value >= 100 else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_cpu(percent: float | None) -> str:
    """At most 5 characters: "0.3%", "12.3%", "250%"."""
    if percent is None:
        return NONE
    return f"{percent:.1f}%" if percent < 99.95 else f"{percent:.0f}%"


def health_from_event(event: Event, current: str = "") -> str | None:
    """What the Health column says after ``event`` (short: it may get 10 columns), or None.

    ``current`` is what it says now: a setup step reported after the service is
    ready (creating its databases) does not replace "ok".
    """
    match event:
        case ServiceStarting():
            return "starting"
        case StepDone(step=step):
            return None if current.startswith(("ok", "adopted")) else step
        case ServiceReady(seconds=seconds, adopted=adopted):
            return "adopted" if adopted else f"ok {seconds * 1000:.0f}ms"
        case ServiceExited(returncode=code, restart_in=None):
            return "gave up" if code is None else f"exit {code}, gave up"
        case ServiceExited(returncode=code, restart_in=delay, attempt=attempt):
            died = "down" if code is None else f"exit {code}"
            return f"{died}, retry {delay:g}s #{attempt}"
        case ServiceFailed(message=message):
            return message.splitlines()[0] if message else "failed"
        case ServiceStopped():
            return ""
        case HookStarted(command=command):
            return f"hook: {command}"
        case HookFinished(returncode=code):
            return "ok" if code == 0 else f"hook exit {code}"
        case proc.ProcessWaiting(waiting_for=waiting_for):
            return "waits: " + ", ".join(waiting_for) if waiting_for else "waiting"
        case proc.ProcessStarted():
            return "up"
        case proc.ProcessReady(seconds=seconds):
            return f"ready {seconds:.1f}s"
        case proc.ProcessProbeTimedOut(probe=probe):
            return f"not ready: {probe}"
        case proc.ProcessExited(returncode=code):
            return f"exit {code}"
        case proc.ProcessRestarting(attempt=attempt, delay=delay):
            return f"retry {delay:g}s #{attempt}"
        case proc.ProcessCrashed():
            return "gave up"
        case proc.ProcessDependencyFailed(reason=reason):
            return reason
        case proc.ProcessCompleted() | proc.ProcessStopped():
            return ""
    return None


class StatusTable(DataTable):
    """Services then processes; ``show_rows`` touches only the cells that changed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._cells: dict[str, tuple[tuple[str, str], ...]] = {}
        self._name_width = COLUMNS[0][2]
        self._health_width = HEALTH_WIDTH[0]
        self._shown: tuple[str, ...] = ()  # the keys of the columns on screen

    def on_mount(self) -> None:
        self._fit_columns()

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Lay the columns out for the table's width (see ``layout``): a change of the columns
        shown rebuilds the table from the cells kept; otherwise only widths change."""
        # Before its first layout the table has no width: the terminal's is what it will get
        # (it spans the screen), so the columns are right from the start, not rebuilt.
        width = self.scrollable_content_region.width or self.app.size.width
        widths = layout(width, self._name_width, self._health_width, 2 * self.cell_padding)
        shown = tuple(widths)
        if shown == self._shown:
            set_column_widths(self, widths)
            return
        selected = self.selected_name
        self.clear(columns=True)
        self._shown = shown
        for key, label, _ in COLUMNS:
            if key in widths:
                text = Text(label, justify="right") if key in NUMERIC else Text(label)
                self.add_column(text, key=key, width=widths[key])
        for name, cells in self._cells.items():
            self.add_row(*self._row_cells(cells), key=name)
        if selected is not None and selected in self._cells:
            self.move_cursor(row=self.get_row_index(selected))

    def _row_cells(self, cells: tuple[tuple[str, str], ...]) -> list[Text]:
        return [self._styled(key, value) for key, value in cells if key in self._shown]

    @property
    def selected_name(self) -> str | None:
        """The name of the row under the cursor, or None when the table is empty."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def show_rows(self, rows: list[Status], health: dict[str, str]) -> bool:
        """Bring the table up to date with ``rows``; return whether anything changed.

        Call inside ``app.batch_update()`` so many changed cells make one repaint.
        """
        changed = False
        seen = set()
        cells_of = {row.name: self._cells_of(row, health.get(row.name, "")) for row in rows}
        name_width = min(max([COLUMNS[0][2], *(len(name) for name in cells_of)]), 24)
        health_width = max([0, *(len(dict(cells)["health"]) for cells in cells_of.values())])
        if (name_width, health_width) != (self._name_width, self._health_width):
            self._name_width, self._health_width = name_width, health_width
            self._fit_columns()
        for row in rows:
            seen.add(row.name)
            cells = cells_of[row.name]
            old = self._cells.get(row.name)
            if old == cells:
                continue
            changed = True
            self._cells[row.name] = cells
            if old is None:
                self.add_row(*self._row_cells(cells), key=row.name)
                continue
            for (key, value), (_, before) in zip(cells, old, strict=True):
                if value != before and key in self._shown:
                    self.update_cell(row.name, key, self._styled(key, value))
        for name in [name for name in self._cells if name not in seen]:
            changed = True
            del self._cells[name]
            self.remove_row(name)
        return changed

    @staticmethod
    def _cells_of(row: Status, health: str) -> tuple[tuple[str, str], ...]:
        values = {
            "name": row.name,
            "state": row.state,
            "health": agreeing_health(row.state, health),
            "pid": NONE if row.pid is None else str(row.pid),
            "port": port_of(row),
            "cpu": format_cpu(row.cpu_percent),
            "rss": format_bytes(row.rss),
            "restarts": NONE if row.restarts is None else str(row.restarts),
            "uptime": format_uptime(row.uptime),
            "detail": row.detail,
        }
        return tuple((key, values[key]) for key, _, _ in COLUMNS)

    def _styled(self, key: str, value: str) -> Text:
        if key == "state":
            return Text(value, style=self._state_style(value))
        if key == "name":
            return Text(value, style="bold")
        if key in NUMERIC:
            return Text(value, justify="right")
        return Text(value, overflow="ellipsis", no_wrap=True)

    def _state_style(self, state: str) -> Style:
        if state in DIM_STATES:
            return Style(dim=True)
        variable = STATE_COLOURS.get(State.of(state))
        colour = self.app.theme_variables.get(variable) if variable else None
        return Style(color=colour, bold=True) if colour else Style()
