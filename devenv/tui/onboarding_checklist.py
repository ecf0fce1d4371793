"""The onboarding's checklist: one row per step, in order, keyed by the step's id.

Each row says its state in words with a mark (colour is never the only
signal), the step's title, its time, and its last message. ``current`` is the
step the onboarding is at (running, waiting for the person, or the first one
not done): a face shows what to do next for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from devenv.onboarding.model import StepView, duration
from devenv.tui.column_widths import set_column_widths

# (key, label, width); the message takes what is left.
COLUMNS = (("state", "State", 12), ("step", "Step", 36), ("time", "Time", 9), ("message", "", 0))
MESSAGE_MIN = 10
FINISHED = frozenset({"done", "skipped"})
# The state -> its words, and the theme variable that colours them.
SHOWN = {
    "done": ("✓ done", "success"),
    "todo": ("· to do", ""),
    "failed": ("✗ failed", "error"),
    "skipped": ("– skipped", ""),
    "running": ("▶ running…", "accent"),
    "waiting": ("… your turn", "warning"),
}


def shown_state(view: StepView) -> str:
    """What the State column says of ``view``: running and waiting first, then its state."""
    if view.waiting:
        return "waiting" if view.state != "failed" else "failed"
    if view.running:
        return "running"
    return view.state


def current(views: Iterable[StepView]) -> StepView | None:
    """The step the onboarding is at: the one running or waiting, else the first one not done
    or skipped; None when every step is."""
    views = list(views)
    for view in views:
        if view.running or view.waiting:
            return view
    return next((view for view in views if view.state not in FINISHED), None)


class Checklist(DataTable):
    """``show(views)`` adds the rows once, then touches only the cells that changed. Enter on a
    row posts ``RowSelected`` (the screen runs the onboarding from the current step)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Run/retry")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._cells: dict[str, tuple[str, str, str, str]] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            text = Text(label, justify="right") if key == "time" else Text(label, justify="left")
            self.add_column(text, key=key, width=width or MESSAGE_MIN)

    def on_resize(self) -> None:
        fixed = sum(width for _, _, width in COLUMNS) + 2 * self.cell_padding * len(COLUMNS)
        width = max(MESSAGE_MIN, self.scrollable_content_region.width - fixed)
        set_column_widths(self, {"message": width})

    @property
    def highlighted(self) -> str | None:
        """The id of the step under the cursor (None when there are no rows)."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def point_at(self, step_id: str) -> None:
        """Move the cursor to ``step_id``'s row."""
        if step_id in self._cells:
            self.move_cursor(row=self.get_row_index(step_id))

    def show(self, views: Iterable[StepView]) -> None:
        for view in views:
            state = shown_state(view)
            cells = (
                state,
                view.title,
                "" if view.state == "skipped" or not view.seconds else duration(view.seconds),
                view.message or ("skipped by you" if view.state == "skipped" else ""),
            )
            old = self._cells.get(view.id)
            if old == cells:
                continue
            self._cells[view.id] = cells
            if old is None:
                self.add_row(*self._styled(cells), key=view.id)
                continue
            for (key, _, _), value, new, before in zip(
                COLUMNS, self._styled(cells), cells, old, strict=True
            ):
                if new != before:
                    self.update_cell(view.id, key, value)

    def _styled(self, cells: tuple[str, str, str, str]) -> tuple[Text, ...]:
        state, title, time, message = cells
        words, variable = SHOWN.get(state, (state, ""))
        colour = self.app.theme_variables.get(variable) if variable else None
        style = Style(color=colour, bold=state != "todo") if colour else Style(dim=state != "todo")
        return (
            Text(words, style=style),
            Text(title, style="bold" if state in ("running", "waiting", "failed") else ""),
            Text(time, justify="right"),
            Text(message, overflow="ellipsis", no_wrap=True),
        )
