"""Snapshots of the TUI's main screens, on a fake Session with fixed rows and log lines.

Regenerate after a deliberate change with ``pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs in tests/__snapshots__/ before committing.

Each ``run_before`` waits for the state its picture is of (tests.test_tui.drawn: the
condition true, the log pane at its end, the screen laid out and holding still), never
for a time: a picture taken before the screen caught up (a scroll to the end is done after
the next refresh) made these tests fail a suite run in three to six (issue 11).
"""

from __future__ import annotations

import asyncio
import time

from devenv.errors import DevenvError
from devenv.events import ServiceFailed, ServiceStarting
from devenv.tui.quit_screen import QuitScreen
from tests.test_tui import dashboard_row, drawn, make_app, settle


def test_dashboard_80x24(snap_compare):
    app, _ = make_app()

    async def run_before(pilot):
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_dashboard_120x36(snap_compare):
    app, _ = make_app()

    async def run_before(pilot):
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_dashboard_60x20(snap_compare):
    """Too narrow for every column: Detail, Uptime, Rst and PID go whole, nothing is cut."""
    app, _ = make_app()

    async def run_before(pilot):
        await settle(app, pilot)

    assert snap_compare(app, terminal_size=(60, 20), run_before=run_before)


def test_dashboard_160x45_one_process_selected(snap_compare):
    app, _ = make_app()

    async def run_before(pilot):
        await settle(app, pilot)
        app.table.move_cursor(row=3)
        await pilot.press("enter")
        view = app.log_view
        await drawn(pilot, view.output, lambda: view.source == "web.1" == app.table.selected_name)

    assert snap_compare(app, terminal_size=(160, 45), run_before=run_before)


def test_dashboard_filtered(snap_compare):
    app, _ = make_app()

    async def run_before(pilot):
        await settle(app, pilot)
        await pilot.press("slash", *"job")
        view = app.log_view

        def filtered() -> bool:
            lines = view.output.lines
            return view.filter_text == "job" and len(lines) == 2 and all("job" in t for t in lines)

        await drawn(pilot, view.output, filtered)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_start_error(snap_compare):
    rows = [
        dashboard_row("postgres", "service", "failed", None, 5432, None, None, None, None, "15.4"),
        dashboard_row("redis", "service", "stopped", None, 6379, None, None, None, None, "7.0.15"),
    ]
    message = (
        "postgres: port 5432 (set in devenv.toml, line 7, key services.postgres.port) "
        "is taken by postgres (pid 812, user postgres).\n"
        "Stop that server, or remove `port` from devenv.toml to let devenv choose a free one."
    )
    app, _ = make_app(
        rows=rows,
        start_events=[
            ServiceStarting("postgres", "PostgreSQL 15.4"),
            ServiceFailed("postgres", "port 5432 is taken by postgres (pid 812)"),
        ],
        start_error=DevenvError(message),
    )

    async def run_before(pilot):
        await settle(app, pilot)
        await drawn(pilot, app.log_view.output, lambda: app.error_panel.has_class("-shown"))

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class UntilExit:
    """A stop gate that holds the fake's ``stop`` half-way until the app exits."""

    def __init__(self) -> None:
        self.app = None
        self.released = False

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.released and self.app.return_code is None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def set(self) -> None:
        self.released = True


def test_quitting(snap_compare):
    gate = UntilExit()
    app, holder = make_app(stop_gate=gate)
    gate.app = app

    async def run_before(pilot):
        # The dashboard drawn as it is first: under the quit screen it is no longer laid out.
        await settle(app, pilot)
        log, header = app.log_view.output, app.header
        await pilot.press("q")
        await asyncio.to_thread(holder["session"].stopping.wait, 10)

        def progress_shown() -> bool:
            screen = app.screen
            if not isinstance(screen, QuitScreen):
                return False
            shown = str(screen.query_one("#quit-progress").render())
            return "web.1: stopped" in shown and header.status == "stopping web.1, worker.1…"

        await drawn(pilot, log, progress_shown)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def everything_at_once():
    """The dashboard with all it may show above the log: the URLs, prod parity, the
    onboarding's progress, the drift banner and a notice; each a part of the layout."""
    from tests.test_tui_drift import LOCK_DRIFT

    app, _ = make_app()

    async def run_before(pilot):
        await settle(app, pilot)
        app._event_from_core(LOCK_DRIFT)
        app.header.parity = (
            ("postgres", "15", "ok", ""),
            ("redis", "7.0 (dev 6.2)", "minor", "dev runs 6.2"),
            ("python", "3.11", "ok", ""),
        )
        app.header.onboarding = (
            "onboarding: 3/10 done · next: Git hooks installed (lint on commit)"
            " · o continues (your progress is kept)"
        )
        app.notify("web.1 restarted", timeout=60)
        await pilot.pause()
        app.flush_logs()
        await drawn(pilot, app.log_view.output, lambda: app.drift_banner.has_class("-shown"))

    return app, run_before


def test_everything_above_the_log_80x24(snap_compare):
    app, run_before = everything_at_once()
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_everything_above_the_log_60x20(snap_compare):
    """Each header line cut at the width, not wrapped: the table keeps its rows."""
    app, run_before = everything_at_once()
    assert snap_compare(app, terminal_size=(60, 20), run_before=run_before)
