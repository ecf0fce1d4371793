"""The dashboard's footer: the keys that apply now, most useful first, as many as fit.

Textual's Footer lays every key out in one row and cuts the row at the screen's edge, in
the order of the bindings, so at 80 columns the last keys were simply gone and at 60 a
word was cut in two. This one keeps the order (the app's BINDINGS are declared most
useful first) and leaves out, whole, the keys that would not fit beside Ctrl+P's palette
key, which stays on the right: what is left out is on the help screen (``?``) and in the
palette. It recomposes only when the bindings change or the width lets in a different
number of keys.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer

PALETTE_EXTRA = 1
"""Columns the palette key takes beyond its text (its border on the left)."""


class KeyFooter(Footer):
    """A compact Footer that shows the keys that fit, in order, never a key cut in two."""

    def __init__(self, applies: Callable[[str], bool] = lambda action: True) -> None:
        """``applies(action)``: whether a key is worth showing now (a key for the selected
        row that would do nothing to it is left out)."""
        super().__init__(compact=True)
        self._applies = applies
        self._fitted = -1  # how many keys the last compose showed

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        palette = [key for key in keys if key.has_class("-command-palette")]
        self._fitted = self._fitting()
        shown = [k for k in keys if k not in palette and self._applies(getattr(k, "action", ""))]
        yield from shown[: self._fitted]
        yield from palette

    def _fitting(self) -> int:
        """How many of the keys Footer would show fit, in its order (the first binding of each
        action), beside the palette key."""
        app = self.app
        active = self.screen.active_bindings
        room = app.size.width
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            room -= _width(app.get_key_display(palette.binding), palette.binding.description)
            room -= PALETTE_EXTRA
        actions: dict[str, int] = {}
        for _, binding, _, _ in active.values():
            if binding.show and binding.action not in actions and self._applies(binding.action):
                actions[binding.action] = _width(app.get_key_display(binding), binding.description)
        fits = 0
        for width in actions.values():
            room -= width + 1  # compact: one column of margin after each key
            if room < 0:
                break
            fits += 1
        return fits

    async def on_resize(self, event: events.Resize) -> None:
        # Another width may let in another number of keys; the same number needs no new widgets.
        if self._fitted >= 0 and self._fitting() != self._fitted:
            await self.recompose()


def _width(key_display: str, description: str) -> int:
    """The columns a compact footer key takes: its key, a space, its description."""
    return cell_len(key_display) + (1 + cell_len(description) if description else 0)
