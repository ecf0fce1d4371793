"""The command palette's keys come from the app's bindings: one declaration of each key."""

from __future__ import annotations

from textual.binding import Binding

from devenv.tui.app import DevenvApp
from devenv.tui.commands import COMMANDS


def test_every_palette_command_has_a_binding():
    bound = {b.action for b in DevenvApp.BINDINGS if isinstance(b, Binding)}
    assert [action for _, action, _ in COMMANDS if action not in bound] == []
