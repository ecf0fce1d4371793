"""The terminal UI of ``devenv up``. Importing this package imports no Textual."""

from __future__ import annotations

import sys
from operator import methodcaller
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devenv.config import Config
    from devenv.tui.app import DevenvApp


def run_tui(config: Config) -> int:
    """Run the dashboard until the user quits; return the exit code for the CLI.

    Everything is stopped when it returns. An error that kept devenv from
    starting was shown on screen; it is printed again here, plainly, so it stays
    in the terminal's scrollback.
    """
    from devenv.tui import first_paint

    # Drawn while Textual loads (~180 ms): the screen answers the command at once.
    painted = first_paint.paint(config.project.name, sys.stdout.fileno())
    ran = False
    try:
        app = _app(config)
        app.run()
        ran = True
    finally:
        if painted is not None:
            painted.close(screen_left=ran)
    if app.stop_summary is not None:  # what quitting did, kept in the terminal's scrollback
        print("\n".join(app.stop_summary.lines()))
    if app.exit_message:
        print(app.exit_message, file=sys.stderr)
    return app.return_code or 0


def _app(config: Config) -> DevenvApp:
    from devenv.supervisor.hangup import grace_for
    from devenv.tui.app import DevenvApp

    def make_session(**callbacks):
        # Imported here, by the start's worker: the first frame does not wait for the core.
        from devenv.session import Session

        return Session(config, interactive=True, **callbacks)

    return DevenvApp(
        config.project.name,
        make_session,
        handle_signals=True,
        services=tuple(config.services),
        check_parity=methodcaller("parity") if config.prod else None,  # Session.parity
        stop_grace=grace_for(process.stop_timeout for process in config.processes.values()),
    )
