"""The details pane (d): open, follow the selection, close with Esc; the graphs fed by the
samples, the exits from the core's events, what a row runs with its secrets masked, and a
server's figures asked only while the pane is open on it. Pilot on tests.test_tui's fake."""

from __future__ import annotations

from dataclasses import replace

from devenv.supervisor.events import ProcessExited, ProcessRestarting
from devenv.tui.details_pane import happening
from devenv.tui.messages import CoreEvent, RowsSampled
from tests.test_tui import PASSWORD, ROWS, asynctest, make_app, settle

SIZE = (120, 36)


def pane_text(app) -> str:
    """Everything the pane shows in words: its title, the graphs' values and its body."""
    pane = app.details
    parts = [pane.query_one("#details-title").render(), pane.query_one("#details-body").render()]
    parts += [label.render() for label in pane.query(".graph-value")]
    return "\n".join(str(part) for part in parts)


async def select(app, pilot, name: str) -> None:
    app.table.move_cursor(row=app.table.get_row_index(name))
    await pilot.pause()


async def until(pilot, check, what: str) -> None:
    for _ in range(500):
        if check():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"not shown: {what}")


@asynctest
async def test_d_opens_the_pane_in_place_of_the_log_and_esc_closes_it():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert await settle(app, pilot)
        assert not app.details.is_open
        assert app.log_view.display
        await select(app, pilot, "web.1")
        await pilot.press("d")
        assert app.details.is_open and app.details.shown == "web.1"
        assert app.details.region.height > 10  # it has the log's room
        assert not app.log_view.display
        await pilot.press("escape")
        assert not app.details.is_open
        assert app.log_view.display
        assert app.details.region.height == 0
        await pilot.press("d")
        assert app.details.is_open
        await pilot.press("d")  # d toggles too
        assert not app.details.is_open and app.log_view.display


@asynctest
async def test_a_process_row_shows_its_command_ports_log_and_env_with_secrets_masked():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert await settle(app, pilot)
        await select(app, pilot, "web.1")
        await pilot.press("d")
        await until(pilot, lambda: "SECRET_KEY" in pane_text(app), "the env")
        text = pane_text(app)
        assert "web.1 · process · ready" in text
        assert "python -m app.web" in text
        assert "none seen listening (given PORT=5000)" in text  # the fake's rows have no ports
        assert "/work/shop/.devenv/logs/web.1.log" in text
        assert "SECRET_KEY=***" in text and "STRIPE_TOKEN=***" in text
        assert "DATABASE_URL=postgresql://shop:***@127.0.0.1:5432/shop" in text
        assert "MODE=dev" in text
        assert PASSWORD not in text and "django-insecure" not in text and "tok_live" not in text
        assert "Conns" not in text  # no server figures for a process

        web = next(row for row in ROWS if row.name == "web.1")
        app.post_message(RowsSampled([replace(web, ports=(5000, 5001))]))
        await until(pilot, lambda: "Ports    5000, 5001" in pane_text(app), "its ports")


@asynctest
async def test_the_pane_follows_the_selection_and_asks_a_server_only_while_open_on_it():
    app, holder = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert await settle(app, pilot)
        session = holder["session"]
        await select(app, pilot, "postgres")
        assert ("insight", "postgres") not in session.calls  # closed: never asked
        await pilot.press("d")
        await until(pilot, lambda: "Conns" in pane_text(app), "postgres's figures")
        text = pane_text(app)
        assert "3/100 (idle 2, active 1)" in text
        assert "shop 8.7M" in text and "postgres 7.2M" in text
        assert "84.2 ms × 12" in text and "SELECT * FROM orders WHERE total > $1" in text
        assert "PGPASSWORD=***" in text and PASSWORD not in text

        await pilot.press("down")  # redis: the pane follows
        await until(pilot, lambda: "Keys" in pane_text(app), "redis's figures")
        text = pane_text(app)
        assert app.details.shown == "redis"
        assert "db0 42 · db3 1" in text and "14 · 2 clients" in text and "1.1M" in text
        assert "Conns" not in text

        await pilot.press("escape")
        await app.workers.wait_for_complete()
        asked = len(session.calls)
        app.post_message(RowsSampled(session.rows()))  # a second later, and later again
        app.post_message(RowsSampled(session.rows()))
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert len(session.calls) == asked  # closed: no more questions


@asynctest
async def test_a_server_is_asked_at_most_once_every_insight_every():
    app, holder = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert await settle(app, pilot)
        app.details.INSIGHT_EVERY = 3600  # (2 s in use: a slow test run must not ask twice)
        await select(app, pilot, "redis")
        await pilot.press("d")
        for _ in range(5):  # five samples in a row, as fast as the app takes them
            app.post_message(RowsSampled(holder["session"].rows()))
            await pilot.pause()
            await app.workers.wait_for_complete()
        assert holder["session"].calls.count(("insight", "redis")) == 1


@asynctest
async def test_the_sparklines_are_fed_by_the_samples_and_the_exits_by_the_events():
    app, _ = make_app()
    app.SAMPLE_EVERY = 3600  # the samples are the ones given here, none of the timer's
    async with app.run_test(size=SIZE) as pilot:
        assert await settle(app, pilot)
        before = len(app.details.history("worker.1")[0])
        worker = next(row for row in ROWS if row.name == "worker.1")
        for i, cpu in enumerate([5.0, 40.0, 12.5]):
            sample = replace(worker, cpu_percent=cpu, rss=30_000_000 + i * 1_000_000)
            app.post_message(RowsSampled([sample]))
        await pilot.pause()
        cpu, rss = app.details.history("worker.1")
        assert cpu[before:] == [5.0, 40.0, 12.5]
        assert rss[before:] == [30_000_000, 31_000_000, 32_000_000]

        await select(app, pilot, "worker.1")
        await pilot.press("d")
        spark = app.details.query_one("#details-cpu")
        # The last 5 minutes, one value a column: the newest at the right, the peak kept.
        assert max(spark.data) == 40.0 and spark.data[-1] in (40.0, 12.5)
        assert spark.data[0] == min(app.details.history("worker.1")[0])
        assert "now, max 40.0%" in pane_text(app)

        app.post_message(CoreEvent(ProcessExited("worker.1", pid=5002, returncode=-9)))
        app.post_message(CoreEvent(ProcessRestarting("worker.1", attempt=2, delay=0.5)))
        app.post_message(RowsSampled([replace(worker, restarts=2)]))
        await pilot.pause()
        text = pane_text(app)
        assert "1 exits, 2 restarts" in text
        assert "killed by SIGKILL" in text and "restart 2" in text
        bars = list(app.details.query_one("#details-exits").data)
        assert bars[-1] == 1 and sum(bars) == 1  # the exit, in the last 10 s


def test_the_graphs_axis_columns_and_picture():
    from devenv.tui.details_pane import HISTORY, columns, picture, timeline

    line = timeline([3.0, 9.0, 4.0])
    assert len(line) == HISTORY and line[-3:] == [3.0, 9.0, 4.0] and set(line[:-3]) == {3.0}
    assert columns([1.0, 7.0, 2.0, 2.0, 5.0, 1.0], 3) == [7.0, 2.0, 5.0]  # each column's peak
    assert columns([1.0, 2.0], 80) == [1.0, 2.0]
    assert len(columns(line, 80)) == 80 and max(columns(line, 80)) == 9.0
    assert picture([5.0, 5.0, 5.0]) == (0, 0, 0)  # flat: the same picture however it fills
    assert picture([0.0, 10.0, 5.0]) == (0, 7, 3)


def test_what_counts_as_an_exit_or_a_restart():
    assert happening(ProcessExited("w", pid=1, returncode=3)) == ("exit", "exited 3")
    assert happening(ProcessRestarting("w", attempt=1, delay=0.1)) == ("restart", "restart 1")
    assert happening(ProcessExited("w", pid=None, returncode=-15)) == (
        "exit",
        "killed by SIGTERM",
    )
    from devenv.events import ServiceExited, ServiceReady

    exited = ServiceExited("pg", "killed", pid=4, returncode=-9, restart_in=0.5, attempt=1)
    assert happening(exited) == ("exit", "killed by SIGKILL, restarting")
    assert happening(ServiceReady("pg", 4, 5432, 0.1)) is None


@asynctest
async def test_a_row_the_session_cannot_say_says_why_in_the_pane():
    from devenv.errors import DevenvError

    app, holder = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert await settle(app, pilot)

        def refuse(name: str):
            raise DevenvError(f"no process or service named {name}")

        holder["session"].launch = refuse  # gone from the session since the table showed it
        await select(app, pilot, "worker.1")
        await pilot.press("d")
        await until(pilot, lambda: "no process or service named" in pane_text(app), "why")
        assert "python -m wrk" in pane_text(app)  # the row's own words stand in


def test_snapshot_the_pane_on_postgres_120x36(snap_compare):
    from devenv.events import ServiceExited
    from tests.test_tui import T0, drawn

    app, _ = make_app()
    app.SAMPLE_EVERY = 3600  # the picture's samples are the ones given here, none of the timer's
    postgres = next(row for row in ROWS if row.name == "postgres")

    async def run_before(pilot):
        await settle(app, pilot)
        for i in range(90):  # a minute and a half: a busy start, then quieter
            cpu = 30.0 - i * 0.3 if i < 60 else 2.0 + (i % 7)
            rss = 20_000_000 + min(i, 40) * 200_000
            app.post_message(RowsSampled([replace(postgres, cpu_percent=cpu, rss=rss)]))
        died = ServiceExited("postgres", "killed", pid=4241, returncode=-9, restart_in=0.5)
        app.post_message(CoreEvent(died))
        # The start's two samples, these 90, and the one the exit asks for (a service changed).
        await until(pilot, lambda: len(app.details.history("postgres")[0]) == 93, "samples")
        await select(app, pilot, "postgres")
        await pilot.press("d")
        await until(pilot, lambda: "Conns" in pane_text(app), "postgres's figures")
        assert app.now() == T0
        await drawn(pilot, app.log_view.output, lambda: "PGPASSWORD" in pane_text(app))

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
