"""The command palette's devenv commands: every titled key of the app's BINDINGS (devenv.tui.keys)
that applies now, plus one per connection URL. Textual's own commands are not offered."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider

from devenv.tui.keys import Key

if TYPE_CHECKING:
    from devenv.tui.app import DevenvApp


class DevenvCommands(Provider):
    """devenv's actions, by name, for ``ctrl+p``."""

    @property
    def _app(self) -> DevenvApp:
        return self.app  # type: ignore[return-value] # Provider.app is an App; ours is a DevenvApp

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app = self._app
        for title, action, keys, does in palette(type(app).BINDINGS, app.get_key_display):
            if app.onboarding.check_action(action) is False or not app.applies(action):
                continue  # e.g. psql in a project without postgres, s on a stopped row
            yield title, f"{keys} · {does}", getattr(app, f"action_{action}")
        for name in app.urls:
            yield f"Copy {name}", app.urls[name], partial(app.action_copy_url, name)

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


def palette(
    bindings: Iterable[BindingType], key_display: Callable[[Binding], str]
) -> list[tuple[str, str, str, str]]:
    """(title, action, keys, what it does) of each ``Key`` with a title in ``bindings`` (an
    app's BINDINGS), in their order: the palette's entries, one per action."""
    entries: dict[str, tuple[str, str, str, str]] = {}
    for declared in bindings:
        if isinstance(declared, Key) and declared.title and declared.action not in entries:
            keys = ", ".join(key_display(b) for b in Binding.make_bindings([declared]))
            entries[declared.action] = (declared.title, declared.action, keys, declared.tooltip)
    return list(entries.values())
