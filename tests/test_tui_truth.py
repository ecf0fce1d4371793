"""The dashboard says nothing its rows contradict: Health agrees with State, the Port column is
what a server or process listens on. Pure functions of the table, and a real Session."""

from __future__ import annotations

from dataclasses import replace

from devenv.config import load_config
from devenv.session import Session
from devenv.state import State, Status
from devenv.tui.status_table import COLUMNS, NONE, agreeing_health, port_of
from tests.test_tui import asynctest, make_app, settle


def test_health_that_the_state_contradicts_is_not_shown():
    assert agreeing_health("stopped", "starting") == ""
    assert agreeing_health("running", "ready 0.3s") == ""
    assert agreeing_health("ready", "ready 0.3s") == "ready 0.3s"
    assert agreeing_health("running", "up") == "up"
    assert agreeing_health("ready", "up") == ""
    assert agreeing_health("backoff", "retry 2s #1") == "retry 2s #1"
    assert agreeing_health("running", "retry 2s #1") == ""
    assert agreeing_health("crashed", "gave up") == "gave up"
    assert agreeing_health("ready", "ok 40ms") == "ok 40ms"
    assert agreeing_health("starting", "initdb") == "initdb"  # a setup step: any state
    assert agreeing_health("failed", "port 5432 is taken") == "port 5432 is taken"
    assert agreeing_health("stopped", "") == ""


def test_the_port_column_is_what_is_listened_on():
    web = Status("web.1", "process", State.RUNNING, pid=10, port=5000)
    assert port_of(web) == NONE  # given PORT=5000, not seen listening on it (yet)
    assert port_of(replace(web, ports=(5000,))) == "5000"
    assert port_of(replace(web, ports=(8001, 5000))) == "5000+"
    postgres = Status("postgres", "service", State.READY, pid=20, port=5433)
    assert port_of(postgres) == "5433"
    assert port_of(replace(postgres, pid=None)) == NONE  # no server: no port yet


def test_a_service_whose_server_does_not_run_shows_no_port(reachable_dir):
    (reachable_dir / "devenv.toml").write_text('[project]\nname = "p"\n\n[services.redis]\n')
    session = Session(
        load_config(reachable_dir / "devenv.toml"), on_event=lambda e: None, on_lines=print
    )
    (redis,) = session.rows()
    assert (redis.state, redis.pid, redis.port) == (State.STOPPED, None, None)


@asynctest
async def test_t_on_a_running_process_says_it_runs_already():
    app, holder = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        assert await settle(app, pilot)
        app.table.move_cursor(row=app.table.get_row_index("web.1"))  # ready
        await pilot.press("t")
        for _ in range(40):
            notes = [n.message for n in app.notices]
            if notes:
                break
            await pilot.pause(0.05)
        assert "web.1 runs already" in notes
        assert "web.1 started" not in notes
        assert ("start_process", "web.1") in holder["session"].calls


def test_columns_give_way_whole_by_priority():
    from devenv.tui.status_table import layout

    wide = layout(160, 9, 10, 2)
    assert list(wide) == [key for key, _, _ in COLUMNS]
    assert wide["health"] == 10  # what its longest text needs; Detail gets the rest
    assert sum(w + 2 for w in wide.values()) == 160
    assert "detail" not in layout(80, 9, 10, 2)
    narrow = layout(60, 9, 10, 2)
    assert list(narrow) == ["name", "state", "health", "port", "cpu", "rss"]
    assert sum(w + 2 for w in narrow.values()) <= 60
    assert layout(120, 9, 50, 2)["health"] == 32  # a long message is cut at 32, not the rest


@asynctest
async def test_a_narrow_dashboard_shows_whole_values_and_widens_again():
    app, _ = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        assert await settle(app, pilot)
        assert [str(c.label) for c in app.table.columns.values()] == [
            "Name",
            "State",
            "Health",
            "Port",
            "CPU",
            "RSS",
        ]
        assert str(app.table.get_cell("web.1", "rss")) == "39.1M"  # whole
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        assert "Detail" in [str(c.label) for c in app.table.columns.values()]
        assert "python -m app.web" in str(app.table.get_cell("web.1", "detail"))


@asynctest
async def test_the_start_notices_are_gathered_into_one_notice():
    from devenv.events import Notice
    from tests.test_tui import START_EVENTS

    notices = [
        Notice("devenv", "running as root: services run as user 'postgres'"),
        Notice("postgres", "port 5432 is taken: using 5433 for this run"),
    ]
    app, _ = make_app(start_events=[*notices, *START_EVENTS])
    async with app.run_test(size=(120, 36)) as pilot:
        assert await settle(app, pilot)
        toasts = list(app.notices)
        assert len(toasts) == 1
        assert toasts[0].title == "while starting"
        assert "devenv: running as root" in toasts[0].message
        assert "postgres: port 5432 is taken" in toasts[0].message


@asynctest
async def test_a_failed_start_clears_the_notices():
    from devenv.errors import DevenvError
    from devenv.events import Notice
    from tests.test_tui import START_EVENTS

    app, _ = make_app(
        start_events=[Notice("devenv", "running as root"), *START_EVENTS],
        start_error=DevenvError("port 5432 is taken by nginx (pid 77)"),
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        for _ in range(40):
            if app.error_panel.display:
                break
            await pilot.pause(0.05)
        assert app.error_panel.display
        assert list(app.notices) == []


@asynctest
async def test_a_notice_covers_nothing_it_takes_its_place_in_the_layout():
    """What devenv says in passing sits in a bar between the table and the log pane: no
    toast floats over the table, the details pane or the newest log lines."""
    from textual.widgets._toast import Toast

    app, _ = make_app()
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        assert await settle(app, pilot)
        log_before = app.log_view.region
        bar = app.query_one("#notices")
        app.notify("web.1 restarted")
        app.notify("Copied DATABASE_URL", timeout=0.3)
        for _ in range(40):
            if bar.region.height == 2:
                break
            await pilot.pause(0.05)
        assert bar.region.height == 2, bar.region  # one line each
        assert [n.message for n in app.notices] == ["web.1 restarted", "Copied DATABASE_URL"]
        assert not list(app.screen.query(Toast))
        for widget in (app.header, app.table, app.log_view):
            assert not bar.region.overlaps(widget.region), (bar.region, widget)
        assert app.log_view.region.height == log_before.height - 2  # shorter, not covered
        assert app.log_view.output.is_vertical_scroll_end  # its newest line still in view
        # The same words again are shown once; the short one goes on its own.
        app.notify("web.1 restarted")
        for _ in range(40):
            if [n.message for n in app.notices] == ["web.1 restarted"]:
                break
            await pilot.pause(0.05)
        assert [n.message for n in app.notices] == ["web.1 restarted"]
        # With the details pane open it sits between the pane and the log, over neither.
        await pilot.press("d")
        await pilot.pause()
        assert app.details.is_open
        for widget in (app.details, app.log_view):
            assert not bar.region.overlaps(widget.region), (bar.region, widget)
        app.clear_notifications()
        await pilot.pause()
        assert app.notices == [] and not bar.display


@asynctest
async def test_notices_are_few_and_over_another_screen_a_toast_says_it():
    from textual.widgets._toast import Toast

    from devenv.tui.notice_bar import MAX_SHOWN

    app, _ = make_app()
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        assert await settle(app, pilot)
        for n in range(MAX_SHOWN + 2):
            app.notify(f"notice {n}", severity="warning" if n % 2 else "information")
        await pilot.pause()
        shown = [n.message for n in app.notices]
        assert shown == [f"notice {n}" for n in range(2, MAX_SHOWN + 2)]  # the oldest went
        assert app.query_one("#notices").region.height == MAX_SHOWN
        await pilot.press("question_mark")  # the help screen: the dashboard's bar is hidden
        await pilot.pause()
        app.notify("said over the help")
        for _ in range(40):
            if list(app.screen.query(Toast)):
                break
            await pilot.pause(0.05)
        assert "said over the help" in [str(t.render()) for t in app.screen.query(Toast)]
        assert "said over the help" not in [n.message for n in app.notices]
