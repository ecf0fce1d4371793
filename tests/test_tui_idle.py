"""What the dashboard does while nothing happens: nothing (issue 12's idle CPU goal).

The CPU figure itself is benchmarks/tui.py's; these pin down the mechanisms it rests on:
log lines are drained when they come (no poll), no timer runs faster than the rows' sample,
and a hidden progress bar runs no animation.
"""

from __future__ import annotations

import threading
import time

from devenv.supervisor.proclog import LogLine
from devenv.tui.line_buffer import LineBuffer
from tests.test_tui import SETTLE_DEADLINE, asynctest, log_lines, make_app, settle, shown

# -- the buffer says when lines wait -------------------------------------------------------


def test_the_buffer_calls_once_when_lines_wait_until_they_are_drained():
    calls = []
    buffer: LineBuffer[str] = LineBuffer(maxlen=10, on_waiting=lambda: calls.append(len(buffer)))
    buffer.put("web", [])
    assert calls == []  # nothing waits
    buffer.put("web", ["a", "b"])
    buffer.put("worker", ["c"])
    assert calls == [2]  # the first put only: one drain takes both
    assert buffer.drain() == ([("web", "a"), ("web", "b"), ("worker", "c")], 0)
    buffer.put("web", ["d"])
    assert calls == [2, 1]
    assert buffer.drain() == ([("web", "d")], 0)
    assert buffer.drain() == ([], 0)
    assert calls == [2, 1]


def test_the_buffer_calls_once_from_many_threads():
    calls = []
    buffer: LineBuffer[int] = LineBuffer(maxlen=100_000, on_waiting=lambda: calls.append(1))
    threads = [
        threading.Thread(target=lambda: [buffer.put("x", [i]) for i in range(1000)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    lines, dropped = buffer.drain()
    assert (len(lines), dropped) == (4000, 0)


def test_the_buffer_still_counts_what_it_dropped():
    calls = []
    buffer: LineBuffer[int] = LineBuffer(maxlen=3, on_waiting=lambda: calls.append(1))
    buffer.put("x", range(5))
    assert buffer.drain() == ([("x", 2), ("x", 3), ("x", 4)], 2)
    assert calls == [1]


# -- the app ---------------------------------------------------------------------------------


@asynctest
async def test_lines_from_another_thread_show_without_a_poll_or_a_flush():
    app, holder = make_app()
    app.SAMPLE_EVERY = 3600  # no tick takes them either
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        session = holder["session"]
        for n in range(3):
            text = f"late line {n}"
            put = threading.Thread(target=session.on_lines, args=("web.1", log_lines([text])))
            put.start()
            put.join()
            deadline = time.monotonic() + SETTLE_DEADLINE
            while not any(text in line for line in shown(app)):
                assert time.monotonic() < deadline, f"never shown: {text!r}"
                await pilot.pause(0.01)


@asynctest
async def test_a_flood_is_drained_in_batches():
    app, holder = make_app()
    app.SAMPLE_EVERY = 3600
    drains = []
    flush = app.flush_logs

    def counted() -> None:
        drains.append(len(app._buffer))
        flush()

    app.flush_logs = counted
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        drains.clear()
        session = holder["session"]
        start = time.monotonic()
        for i in range(200):
            session.on_lines("web.1", [LogLine(time.time(), f"flood {i}")])
            await pilot.pause(0.002)
        elapsed = time.monotonic() - start
        deadline = time.monotonic() + SETTLE_DEADLINE
        while not any("flood 199" in line for line in shown(app)):
            assert time.monotonic() < deadline, "the last line never showed"
            await pilot.pause(0.01)
        # At most one drain each DRAIN_EVERY (and the one at once after a quiet spell).
        assert 1 <= len(drains) <= elapsed / app.DRAIN_EVERY + 2, (drains, elapsed)
        assert sum(drains) == 200


@asynctest
async def test_the_idle_dashboard_runs_no_timer_faster_than_its_sample():
    app, _ = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.pause(0.2)
        running = []
        for screen in app.screen_stack:
            for node in [app, *screen.walk_children(with_self=True)]:
                for timer in node._timers:
                    # Textual's screen update timer is paused between updates; a paused
                    # timer costs nothing.
                    if timer._active.is_set() and timer._interval < app.SAMPLE_EVERY:
                        running.append(f"{node!r}: {timer.name} every {timer._interval:g} s")
        assert running == []


@asynctest
async def test_the_sync_bar_is_there_only_while_its_banner_shows():
    from textual.widgets import ProgressBar

    from devenv.events import DriftCleared, SyncFinished, SyncStarted, SyncStepStarted
    from tests.test_tui_drift import LOCK_DRIFT, SYNC_STEPS, fake_app_with

    events = (
        LOCK_DRIFT,
        SyncStarted("deps", SYNC_STEPS, "sync"),
        SyncStepStarted("deps", 1, 2, SYNC_STEPS[1]),
    )
    app, run_before = fake_app_with(*events)
    async with app.run_test(size=(120, 36)) as pilot:
        assert not app.query(ProgressBar)  # hidden at first: no bar, no animation
        await run_before(pilot)
        bars = app.query(ProgressBar)
        assert len(bars) == 1
        assert (bars.first().total, bars.first().progress) == (2, 1)
        for event in (SyncFinished("deps", True, 0.1, ""), DriftCleared("deps")):
            app._event_from_core(event)
        deadline = time.monotonic() + SETTLE_DEADLINE
        while app.query(ProgressBar) or app.drift_banner.has_class("-shown"):
            assert time.monotonic() < deadline, "the bar stayed"
            await pilot.pause(0.01)


@asynctest
async def test_the_details_pane_builds_its_widgets_on_its_first_open():
    app, _ = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert not app.details.children  # off the first frame: a third of the dashboard
        await pilot.press("d")
        name = app.table.selected_name
        deadline = time.monotonic() + SETTLE_DEADLINE
        while not app.query("#details-title") or f"{name} ·" not in str(
            app.query_one("#details-title").render()
        ):
            assert time.monotonic() < deadline, "the pane never showed its row"
            await pilot.pause(0.01)


@asynctest
async def test_a_flush_between_drains_leaves_one_drain_due():
    # A flush called while a drain's timer waits (the tick, a test) must not start a second
    # chain of drains: each would add one, and a flood would be drained ever more often.
    app, holder = make_app()
    app.SAMPLE_EVERY = 3600
    drains = []
    flush = app.flush_logs

    def counted() -> None:
        drains.append(1)
        flush()

    app.flush_logs = counted
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        drains.clear()
        session = holder["session"]
        start = time.monotonic()
        flushes = 0
        for i in range(300):
            session.on_lines("web.1", [LogLine(time.time(), f"flood {i}")])
            if i % 30 == 15:
                app.flush_logs()
                flushes += 1
            await pilot.pause(0.002)
        elapsed = time.monotonic() - start
        assert len(drains) <= elapsed / app.DRAIN_EVERY + 2 * flushes + 2, (len(drains), elapsed)


@asynctest
async def test_a_drain_due_in_a_moment_comes():
    # A drain due a microsecond from now: Textual's one-shot timers skip a turn that comes
    # past its time, and a skipped drain held back every later one.
    app, holder = make_app()
    app.SAMPLE_EVERY = 3600  # no tick to catch up
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        session = holder["session"]
        for n in range(20):
            app._drained_at = time.monotonic() - app.DRAIN_EVERY + 1e-6
            session.on_lines("web.1", log_lines([f"soon {n}"]))
            deadline = time.monotonic() + SETTLE_DEADLINE
            while not any(f"soon {n}" in line for line in shown(app)):
                assert time.monotonic() < deadline, f"soon {n} never drained"
                await pilot.pause(0.005)


@asynctest
async def test_the_tick_drains_what_an_overdue_drain_left():
    app, holder = make_app()
    app.SAMPLE_EVERY = 3600
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        app._drain_due, app._drain_due_at = True, time.monotonic() - 5  # a drain never seen
        holder["session"].on_lines("web.1", log_lines(["held back"]))
        await pilot.pause(0.2)
        assert not any("held back" in line for line in shown(app))  # nothing else drains it
        app._tick()
        assert any("held back" in line for line in shown(app))
        holder["session"].on_lines("web.1", log_lines(["and after"]))  # drains run again
        deadline = time.monotonic() + SETTLE_DEADLINE
        while not any("and after" in line for line in shown(app)):
            assert time.monotonic() < deadline, "no drain after the tick's"
            await pilot.pause(0.01)
