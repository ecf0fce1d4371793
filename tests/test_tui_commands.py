"""The command palette's entries come from the app's bindings: one declaration of each key."""

from __future__ import annotations

from textual.app import App

from devenv.tui.app import DevenvApp
from devenv.tui.commands import palette
from devenv.tui.keys import Key


def test_every_palette_command_is_a_titled_binding_with_its_action():
    entries = palette(DevenvApp.BINDINGS, App().get_key_display)
    titled = {b.action for b in DevenvApp.BINDINGS if isinstance(b, Key) and b.title}
    assert [action for _, action, _, _ in entries] == list(
        dict.fromkeys(b.action for b in DevenvApp.BINDINGS if isinstance(b, Key) and b.title)
    )
    assert {action for _, action, _, _ in entries} == titled
    assert [
        a for _, a, _, _ in entries if not callable(getattr(DevenvApp, f"action_{a}", None))
    ] == []
    assert ("Restart all processes", "restart_all", "R", "restart every process") in entries
    # Keys of one action are named together, as the person may type either.
    assert next(keys for _, action, keys, _ in entries if action == "help") == "?, f1"
