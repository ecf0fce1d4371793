"""The TUI and the project's packages, with a real Session on a real project: the first install's
progress, the drift banner, the sync key, a failed sync.

The projects have no services; their requirements.lock pins small wheels built by
tests/wheels.py into a local folder that pip's settings point at (devenv hands them to
uv): real virtualenvs, no network. Waits poll the app with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from pathlib import Path

import pytest

from devenv.config import load_config
from devenv.events import (
    DriftFound,
    Notice,
    SyncFinished,
    SyncOutput,
    SyncStarted,
    SyncStepStarted,
)
from devenv.session import Session
from devenv.tui.messages import CoreEvent
from tests.test_tui import asynctest

DEADLINE = 60  # seconds for anything to show up

# Prints which alpha it imported, and from which environment, then idles.
APP = (
    "app: python -c \"import alpha, sys, time; print('alpha', alpha.__version__, sys.prefix, "
    "flush=True); exec('while True: time.sleep(1)')\"\n"
)


@pytest.fixture
def offline_here(offline, monkeypatch):
    """This process's environment set like the ``offline`` fixture's (the Session runs here)."""
    for key in list(os.environ):
        if key.startswith(("PIP_", "UV_")):
            monkeypatch.delenv(key)
    for key, value in offline.items():
        monkeypatch.setenv(key, value)


def make_project(root: Path, lock: str, toml: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "devenv.toml").write_text(f'[project]\nname = "drifty"\n{toml}')
    (root / "Procfile").write_text(APP)
    (root / "requirements.lock").write_text(lock)
    return root


@contextlib.asynccontextmanager
async def running(root: Path, *, observe=None, size=(100, 30)):
    """The app on a real Session for ``root``; quits it (stopping everything) on the way out.

    Yields (app, pilot, messages): the messages the app handled, in order. ``observe(app,
    message)`` is called before each is handled (Textual's message hook).
    """
    from devenv.tui.app import DevenvApp

    config = load_config(root / "devenv.toml")
    sessions: list[Session] = []

    def make_session(**callbacks):
        sessions.append(Session(config, interactive=True, **callbacks))
        return sessions[0]

    app = DevenvApp(config.project.name, make_session, services=(), check_parity=Session.parity)
    messages: list = []

    def hook(message) -> None:
        messages.append(message)
        if observe is not None:
            observe(app, message)

    try:
        async with app.run_test(size=size, message_hook=hook) as pilot:
            yield app, pilot, messages
            await pilot.press("q")
            await until(pilot, lambda: not app.is_running, "the app to quit")
    finally:
        if sessions and sessions[0]._lock is not None:
            await asyncio.to_thread(sessions[0].stop)  # a failed test: nothing outlives it


async def until(pilot, check, what: str, timeout: float = DEADLINE):
    """Poll ``check()`` between the app's own turns until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"not after {timeout} s: {what}")
        await pilot.pause(0.05)
    return found


def core_events(messages: list, kind: type) -> list:
    return [m.event for m in messages if isinstance(m, CoreEvent) and isinstance(m.event, kind)]


def process(app, name: str = "app.1"):
    return next((row for row in app.session.rows() if row.name == name), None)


def running_pid(app, name: str = "app.1") -> int | None:
    row = process(app, name)
    return row.pid if row is not None and row.state == "running" else None


def sync_workers(app) -> list:
    return [w for w in app.workers if w.group == "sync" and not w.is_finished]


def logged(app, name: str, text: str) -> bool:
    return any(text in line for line in app.log_view.texts(name))


def banner_text(app) -> str:
    banner = app.drift_banner
    return "\n".join(
        str(banner.query_one(f"#{part}").render())
        for part in ("drift-title", "drift-lines", "drift-error")
    )


async def started(app, pilot) -> int:
    """Wait until the session started and app.1 runs; return its pid."""
    await until(pilot, lambda: app._started or app._start_failed, "the session to start")
    assert not app._start_failed, app.exit_message
    return await until(pilot, lambda: running_pid(app), "app.1 running")


async def drift_shown(app, pilot, text: str) -> None:
    await until(
        pilot,
        lambda: app.drift_banner.has_class("-shown") and text in banner_text(app),
        f"the drift banner naming {text!r}",
    )


@asynctest
async def test_first_start_shows_the_install_then_runs_the_process_from_the_venv(
    tmp_path, offline_here
):
    root = make_project(tmp_path / "app", "alpha==1.0\nbeta==1.0\n")
    seen: list[tuple[bool, bool, str]] = []

    def look(app, message) -> None:
        # Called before each message is handled: at the SyncFinished, the screen still
        # shows the install's last step. Record what it showed.
        if isinstance(getattr(message, "event", None), SyncFinished):
            banner = app.drift_banner
            step = str(banner.progress.query_one("#sync-step").render())
            seen.append((banner.display, banner.progress.display, step, app._started))

    async with running(root, observe=look) as (app, pilot, messages):
        pid = await started(app, pilot)
        await until(pilot, lambda: logged(app, "app.1", "alpha 1.0"), "the app's first line")

        assert logged(app, "app.1", f"alpha 1.0 {root / '.venv'}")  # the project's venv
        steps = core_events(messages, SyncStepStarted)
        assert [(s.index, s.total) for s in steps] == [(0, 2), (1, 2)]
        assert steps[0].command.startswith("uv venv") and steps[1].command.startswith("uv pip")
        assert "first start" in app.log_view.texts("deps")[0]
        assert logged(app, "deps", "alpha==1.0")  # uv's own output, under "deps"
        assert any("deps" in line and "alpha==1.0" in line for line in app.log_view.output.lines)
        assert not app.drift_banner.has_class("-shown")  # installed: nothing left to show
        assert pid == running_pid(app)

        await pilot.press("S")  # nothing drifted: it says so, and runs nothing
        await pilot.pause()
        assert any("Nothing to sync" in n.message for n in app.notices)
        assert not any(w.group == "sync" for w in app.workers)

        from devenv.tui.commands import DevenvCommands

        hits = [hit async for hit in DevenvCommands(app.screen).search("sync deps")]
        assert hits and str(hits[0].text) == "Sync deps"  # the palette has it too
    assert len(seen) == 1, "one install, one SyncFinished"
    shown, progress_shown, step, after_start = seen[0]
    assert shown and progress_shown and not after_start  # on the bootstrapping screen
    assert step.startswith("2/2 uv pip sync")


@asynctest
async def test_a_lockfile_change_shows_the_banner_and_S_syncs_and_restarts(tmp_path, offline_here):
    root = make_project(tmp_path / "app", "alpha==1.0\n")
    async with running(root) as (app, pilot, messages):
        pid = await started(app, pilot)
        banner = app.drift_banner
        assert not banner.has_class("-shown")

        (root / "requirements.lock").write_text("alpha==2.0\n")  # a version bump, from git pull
        await drift_shown(app, pilot, "alpha 2.0 locked, 1.0 installed")
        assert "requirements.lock" in banner_text(app)
        assert " S  sync deps" in banner_text(app)  # on_drift unset in the TUI: ask
        assert not banner.progress.display

        await pilot.press("S")
        await until(pilot, lambda: not banner.has_class("-shown"), "the banner to go")
        await until(
            pilot, lambda: running_pid(app) not in (None, pid), "app.1 restarted with a new pid"
        )
        await until(pilot, lambda: logged(app, "app.1", "alpha 2.0"), "the new alpha imported")
        await app.workers.wait_for_complete()
        await pilot.pause()
        notices = [
            m.event.message for m in messages if isinstance(getattr(m, "event", None), Notice)
        ]
        assert "restarting after the sync: app.1" in notices
        notes = [n.message for n in app.notices]
        assert "restarting after the sync: app.1" in notes
        assert banner.error == "" and not banner.syncing
        assert logged(app, "deps", "alpha==2.0")


@asynctest
async def test_a_failed_sync_keeps_the_banner_with_the_error_and_the_process_running(
    tmp_path, offline_here
):
    root = make_project(tmp_path / "app", "alpha==1.0\n")
    async with running(root) as (app, pilot, messages):
        pid = await started(app, pilot)
        banner = app.drift_banner
        (root / "requirements.lock").write_text("alpha==9.9\n")  # no such version anywhere
        await drift_shown(app, pilot, "alpha 9.9 locked, 1.0 installed")

        await pilot.press("S")
        await until(pilot, lambda: banner.has_class("-failed"), "the sync to fail")
        # Not workers.wait_for_complete(): it raises the failed worker's error again.
        await until(pilot, lambda: not sync_workers(app), "the sync worker to finish")
        await pilot.pause()

        text = banner_text(app)
        assert banner.has_class("-shown") and not banner.progress.display
        assert "The sync failed" in text and " S  try again" in text
        assert "failed with exit code" in text and "the environment is as it was before" in text
        assert "alpha 9.9 locked, 1.0 installed" in text  # what still differs
        assert "Traceback" not in text
        assert not any(n.severity == "error" for n in app.notices)  # the banner says it
        assert running_pid(app) == pid  # never stopped
        assert process(app).restarts == 0
        assert len(core_events(messages, DriftFound)) == 1  # no drift reported twice


@asynctest
async def test_on_drift_warn_shows_the_banner_without_the_key(tmp_path, offline_here):
    root = make_project(tmp_path / "app", "alpha==1.0\n", '\n[environment]\non_drift = "warn"\n')
    async with running(root) as (app, pilot, _):
        await started(app, pilot)
        (root / "requirements.lock").write_text("alpha==2.0\n")
        await drift_shown(app, pilot, "alpha 2.0 locked, 1.0 installed")
        assert "Dependencies differ from the lockfiles" in banner_text(app)
        assert " S " not in banner_text(app)


@asynctest
async def test_on_drift_sync_shows_the_install_in_the_banner_then_clears_it(tmp_path, offline_here):
    root = make_project(tmp_path / "app", "alpha==1.0\n", '\n[environment]\non_drift = "sync"\n')
    seen: list[tuple[bool, bool, str]] = []

    def look(app, message) -> None:
        if isinstance(getattr(message, "event", None), SyncFinished) and app._started:
            banner = app.drift_banner  # before the SyncFinished is handled: still installing
            seen.append((banner.has_class("-syncing"), banner.progress.display, banner_text(app)))

    async with running(root, observe=look) as (app, pilot, _):
        pid = await started(app, pilot)
        (root / "requirements.lock").write_text("alpha==2.0\n")
        await until(pilot, lambda: logged(app, "app.1", "alpha 2.0"), "the restarted app")
        await until(pilot, lambda: not app.drift_banner.has_class("-shown"), "the banner to go")
        assert running_pid(app) != pid
    assert len(seen) == 1
    syncing, progress_shown, text = seen[0]
    assert syncing and progress_shown
    assert "Installing the project's packages" in text
    assert "alpha 2.0 locked, 1.0 installed" in text
    assert " S " not in text  # nothing to press: it syncs by itself


@pytest.mark.parametrize(
    ("prod", "shown"),
    [("3", "prod: python 3 ok"), ("2.7", "prod: python 2.7 (dev 3.")],
)
@asynctest
async def test_the_header_compares_the_venvs_python_with_prods(tmp_path, offline_here, prod, shown):
    # The virtualenv gets any Python 3 ([prod] python would otherwise choose it).
    toml = f'\n[environment]\npython = "3"\n\n[prod]\npython = "{prod}"\n'
    root = make_project(tmp_path / "app", "alpha==1.0\n", toml)
    async with running(root) as (app, pilot, _):
        await started(app, pilot)
        line = app.header.query_one("#parity")
        await until(pilot, lambda: line.display, "the parity line")
        text = str(line.render())
        assert text.startswith(shown), text
        state = app.header.parity[0][2]
        assert state == ("ok" if prod == "3" else "major")
        assert text.endswith(f" {state}")
        assert "prod runs" in str(line.tooltip)  # parity's own message, with its hint


# -- the log pane around the banner ------------------------------------------------------------


@asynctest
async def test_the_log_keeps_following_when_the_banner_takes_its_room():
    from tests.test_tui import log_lines, make_app, settle

    app, holder = make_app(lines={})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        log = app.log_view.output
        holder["session"].on_lines("web.1", log_lines([f"a {i}" for i in range(200)]))
        app.flush_logs()
        await pilot.pause()
        assert log.is_vertical_scroll_end
        height = log.size.height

        holder["session"].drift_action = "ask"
        app._event_from_core(LOCK_DRIFT)  # three rows more above the log: it shrinks
        await until(pilot, lambda: log.size.height < height, "the log pane to shrink")
        holder["session"].on_lines("web.1", log_lines(["b last"]))
        app.flush_logs()
        await until(pilot, lambda: log.is_vertical_scroll_end, "the log at its end")
        assert log.lines[-1].endswith("b last")


@asynctest
async def test_a_longer_name_lines_up_the_earlier_lines_again():
    from devenv.supervisor.proclog import LogLine
    from tests.test_tui import T0, make_app, settle

    app, _ = make_app(lines={})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        view = app.log_view
        view.add_lines([("deps", LogLine(T0, "installing"))])
        view.add_lines([("a-much-longer-name.1", LogLine(T0 + 1, "hello"))])
        await pilot.pause()
        # "|" before an app's text, "»" before devenv's own
        bars = {re.search(" [|»] ", line).start() for line in view.output.lines}
        assert len(bars) == 1, list(view.output.lines)


# -- how the banner looks (snapshots, on test_tui's fake session) -----------------------------

LOCK_DRIFT = DriftFound(
    "deps",
    (
        "requirements.lock: 1 missing (gamma), 1 wrong (alpha 2.0 locked, 1.0 installed)",
        "requirements-dev.lock: 3 wrong (pytest 8.3.4 locked, 8.2.0 installed; ruff 0.8.4 "
        "locked, 0.6.1 installed; mypy 1.13.0 locked, 1.11.2 installed)",
    ),
    ("requirements.lock", "requirements-dev.lock"),
)
SYNC_STEPS = (
    "uv pip sync --python .venv/bin/python requirements.lock",
    "uv pip sync --python .venv/bin/python requirements-dev.lock",
)


def fake_app_with(*events, action: str = "ask"):
    """test_tui's fake dashboard, then ``events`` from the core once it has started."""
    from tests.test_tui import drawn, make_app, settle

    app, holder = make_app()

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        holder["session"].drift_action = action
        for event in events:
            app._event_from_core(event)
        await pilot.pause()
        app.flush_logs()
        # The log scrolls to its end once the layout has made room for the banner. No
        # pytest.fail in here (the screenshot's app would never exit): a picture taken
        # before that fails the comparison instead.
        await drawn(pilot, app.log_view.output, lambda: app.drift_banner.has_class("-shown"))

    return app, run_before


def test_snapshot_drift_banner_asks(snap_compare):
    app, run_before = fake_app_with(LOCK_DRIFT)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_drift_banner_syncing(snap_compare):
    app, run_before = fake_app_with(
        LOCK_DRIFT,
        SyncStarted("deps", SYNC_STEPS, "sync: requirements.lock, requirements-dev.lock"),
        SyncStepStarted("deps", 0, 2, SYNC_STEPS[0]),
        SyncOutput("deps", "Resolved 12 packages in 140ms"),
        SyncStepStarted("deps", 1, 2, SYNC_STEPS[1]),
    )
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_drift_banner_after_a_failed_sync(snap_compare):
    failure = (
        "`uv pip sync --python .venv/bin/python requirements.lock` failed with exit code 1; "
        "the environment is as it was before. Its output: `devenv logs deps`"
    )
    app, run_before = fake_app_with(
        LOCK_DRIFT,
        SyncStarted("deps", SYNC_STEPS[:1], "sync: requirements.lock"),
        SyncStepStarted("deps", 0, 1, SYNC_STEPS[0]),
        SyncOutput("deps", "error: No solution found when resolving dependencies"),
        SyncFinished("deps", False, 0.2, failure),
    )
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
