"""The command palette's devenv commands: every key binding's action, plus one per URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from textual.app import App

    from devenv.tui.app import DevenvApp

# (title, action name, help); the key is the action's binding in DevenvApp.BINDINGS
COMMANDS = (
    ("Restart process", "restart_process", "restart the process under the cursor"),
    ("Stop process", "stop_process", "stop the process under the cursor"),
    ("Start process", "start_process", "start the (stopped) process under the cursor"),
    ("Restart all processes", "restart_all", "restart every process"),
    ("Sync deps", "sync_deps", "install what the lockfiles pin, restart what uses it"),
    ("Open psql", "psql", "this project's PostgreSQL, in this terminal"),
    ("Open redis-cli", "redis_cli", "this project's Redis, in this terminal"),
    ("Show log file", "log_path", "where the selected row's log is written"),
    ("Copy URLs", "copy_urls", "all connection URLs, as export lines"),
    ("Filter logs", "filter", "show only the lines containing some text"),
    ("Toggle all logs", "toggle_all", "every source's lines, or only the selected row's"),
    ("Clear logs", "clear_log", "forget the lines of the current view"),
    ("Quit", "quit", "stop everything devenv started, then exit"),
)


class DevenvCommands(Provider):
    """devenv's actions, by name, for ``ctrl+p``."""

    @property
    def _app(self) -> DevenvApp:
        return self.app  # type: ignore[return-value] # Provider.app is an App; ours is a DevenvApp

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app = self._app
        keys = _keys(app)
        for title, action, help_text in COMMANDS:
            if app.check_action(action, ()) is False:
                continue  # e.g. psql in a project without postgres
            yield title, f"{keys[action]} · {help_text}", getattr(app, f"action_{action}")
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


def _keys(app: App) -> dict[str, str]:
    """Each action's key as the footer shows it, from the app's bindings (the first wins)."""
    keys: dict[str, str] = {}
    for binding in app.BINDINGS:
        if isinstance(binding, Binding):
            keys.setdefault(binding.action, app.get_key_display(binding))
    return keys
