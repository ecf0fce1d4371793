"""The help screen (``?`` or F1): every key of the dashboard, grouped, with what each does.

Its content is ``devenv.tui.keys.help_sections`` of the app's BINDINGS: a key added to the
app is on this screen without a second list to keep. Esc, ``?`` or F1 closes it.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label

from devenv.tui.keys import HelpEntry

NARROW = 70
"""Below this many columns the sections are in one column (and scroll), not two."""


class HelpScreen(ModalScreen[None]):
    """The sections given, in two columns when the terminal is wide enough."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1", "dismiss", "Close"),
        Binding("q", "app.quit", "Quit"),  # (a modal screen hides the app's own keys)
    ]

    def __init__(self, sections: list[tuple[str, list[HelpEntry]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        # One key column's width for every section: their texts line up.
        width = max((len(e.keys) for _, entries in self.sections for e in entries), default=0)
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "Keys"
            with VerticalScroll(id="help-body"), Horizontal(id="help-columns"):
                for column in _columns(self.sections):
                    with Vertical(classes="help-column"):
                        for title, entries in column:
                            yield Label(title, classes="help-title")
                            # A grid: a line that wraps stays beside its key.
                            with Grid(classes="help-keys"):
                                for entry in entries:
                                    yield Label(entry.keys.ljust(width), classes="help-key")
                                    yield Label(entry.does, classes="help-does")
            yield Label("Esc, ? or F1 closes · Ctrl+P finds any action by name", id="help-hint")

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#help-columns").set_class(event.size.width < NARROW, "-narrow")


def _columns(
    sections: list[tuple[str, list[HelpEntry]]],
) -> list[list[tuple[str, list[HelpEntry]]]]:
    """The sections in two columns of about the same height, in order."""
    heights = [len(entries) + 2 for _, entries in sections]  # its title, a blank line after
    left, filled = 0, 0
    while left < len(sections) and filled + heights[left] / 2 <= sum(heights) / 2:
        filled += heights[left]
        left += 1
    return [column for column in (sections[:left], sections[left:]) if column]
