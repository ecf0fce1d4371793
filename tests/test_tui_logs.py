"""The log pane, driven by Pilot on the fake session of tests/test_tui.py: colours by source,
devenv's own lines set apart, the filter's highlight and its no-match message, the new-lines
marker and End, following through a resize, Ctrl+L, the focus after the filter's Enter, and a
service's log merged with devenv's lines by time."""

from __future__ import annotations

import datetime

from devenv.tui.log_styles import MATCH_STYLE, OWN_STYLE, colour_of
from tests.test_tui import T0, asynctest, log_lines, make_app, select, settle, shown


def on_screen(app) -> list:
    """The log pane's rows as drawn now: one Strip (its styled segments) a row."""
    log = app.log_view.output
    return [log.render_line(y) for y in range(log.size.height)]


def row_with(app, text: str):
    rows = [strip for strip in on_screen(app) if text in strip.text]
    assert rows, f"{text!r} not on screen: {[strip.text for strip in on_screen(app)]}"
    return rows[-1]


def style_of(strip, text: str):
    """The style of the segment that holds ``text`` (the segments are cut at style changes)."""
    for segment in strip:
        if text in segment.text:
            return segment.style
    raise AssertionError(f"{text!r} not in one segment of {[s.text for s in strip]}")


async def flush(app, pilot) -> None:
    app.flush_logs()
    await pilot.pause()
    await pilot.pause()


def note(app, which: str) -> str | None:
    """The text of the "#log-empty" or "#log-more" note, None while it is hidden."""
    label = app.log_view.query_one(f"#log-{which}")
    return str(label.render()) if label.has_class("-shown") else None


@asynctest
async def test_each_source_has_its_own_colour_the_same_for_a_name_everywhere():
    app, _ = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        web = style_of(row_with(app, "GET / 200"), "web.1")
        worker = style_of(row_with(app, "job 18 done"), "worker.1")
        assert web.color.name == colour_of("web.1")
        assert worker.color.name == colour_of("worker.1")
        assert web.color != worker.color
        # The same name, in another line, has the same colour; the app's text has none.
        assert style_of(row_with(app, "GET /health"), "web.1").color == web.color
        row = row_with(app, "GET / 200")
        assert style_of(row, "GET / 200").color == style_of(row, "09:30:02").color
    assert colour_of("web.1") == colour_of("web.1") and isinstance(colour_of("x"), str)


@asynctest
async def test_devenvs_own_lines_carry_a_marker_and_are_dim():
    app, holder = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        lines = shown(app)
        # ServiceReady is devenv's line about postgres; web.1's output is the app's (the
        # names are padded to the longest, migrate.1).
        assert "09:30:00 postgres  » ready in 40 ms (pid 4242, port 5432)" in lines
        assert "09:30:00 web.1     | Listening on http://127.0.0.1:5000" in lines
        ours = row_with(app, "ready in 40 ms")
        assert style_of(ours, "ready in 40 ms").dim and style_of(ours, "»").bold
        theirs = row_with(app, "Listening on")
        assert not style_of(theirs, "Listening on").dim
        assert OWN_STYLE.dim  # the difference is a style and a marker, not a colour
        # In one source's view the marker stays, without the name.
        await select(app, pilot, "postgres")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "09:30:00 » ready in 40 ms (pid 4242, port 5432)" in shown(app)
        assert style_of(row_with(app, "ready in 40 ms"), "ready in 40 ms").dim
        # The skipped-lines note is devenv's too.
        holder["session"].on_lines("web.1", [])
        app._buffer._dropped = 7
        await pilot.press("a")
        await flush(app, pilot)
        assert any("devenv    » … 7 lines skipped" in line for line in shown(app)), shown(app)


@asynctest
async def test_the_filters_matches_are_highlighted_and_no_match_says_so():
    app, _ = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert note(app, "empty") is None
        await pilot.press("slash", *"JOB")
        await pilot.pause()
        row = row_with(app, "job 17 done")
        match = style_of(row, "job")  # case-insensitive, the match only
        assert match.reverse == MATCH_STYLE.reverse and match.bold == MATCH_STYLE.bold
        assert not style_of(row, " 17 done").reverse
        await pilot.press("backspace", "backspace", "backspace", *"xyz")
        await pilot.pause()
        assert shown(app) == []
        assert note(app, "empty") == "no line matches `xyz`"
        await pilot.press("backspace", "backspace", "backspace")
        await pilot.pause()
        assert note(app, "empty") is None and shown(app)


@asynctest
async def test_new_lines_below_the_view_are_counted_and_end_reaches_the_last():
    app, holder = make_app(lines={})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        session, log = holder["session"], app.log_view.output
        session.on_lines("web.1", log_lines([f"a {i}" for i in range(100)]))
        await flush(app, pilot)
        assert note(app, "more") is None
        log.focus()
        await pilot.press("pageup")  # the person reads something older
        await pilot.pause()
        top = log.scroll_y
        session.on_lines("web.1", log_lines([f"b {i}" for i in range(5)]))
        await flush(app, pilot)
        assert log.scroll_y == top  # the view stays where the person is ...
        assert note(app, "more") == "5 new lines ↓ End"  # ... and says what came below
        session.on_lines("web.1", log_lines(["b 5"]))
        await flush(app, pilot)
        assert note(app, "more") == "6 new lines ↓ End"
        await pilot.press("end")
        await pilot.pause()
        assert log.is_vertical_scroll_end and row_with(app, "b 5")
        assert note(app, "more") is None
        session.on_lines("web.1", log_lines(["c 0"]))  # following again
        await flush(app, pilot)
        assert log.is_vertical_scroll_end and row_with(app, "c 0")
        assert note(app, "more") is None


@asynctest
async def test_after_a_resize_the_log_keeps_following():
    app, holder = make_app(lines={})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        session = holder["session"]
        session.on_lines("web.1", log_lines([f"a {i}" for i in range(40)]))
        await flush(app, pilot)
        tick = 0
        for size in [(80, 24), (60, 20), (120, 50), (100, 30), (120, 36)]:
            await pilot.resize_terminal(*size)
            for _ in range(5):  # five lines, one at a time, after each resize
                session.on_lines("web.1", log_lines([f"tick {tick}"]))
                tick += 1
                await flush(app, pilot)
            last = f"tick {tick - 1}"
            assert on_screen(app)[-1].text.rstrip().endswith(last) or row_with(app, last), size
            assert app.log_view.output.is_vertical_scroll_end, size
            assert note(app, "more") is None, size


@asynctest
async def test_ctrl_l_clears_the_filter_first_then_the_view_never_the_data():
    app, holder = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        everything = shown(app)
        await pilot.press("slash", *"job", "enter")
        await pilot.pause()
        assert len(shown(app)) == 2
        await pilot.press("ctrl+l")  # first: the filter goes
        await pilot.pause()
        assert app.log_view.filter_text == ""
        assert app.log_view.query_one("#log-filter").value == ""
        assert shown(app) == everything
        await pilot.press("ctrl+l")  # then: the view
        await pilot.pause()
        assert shown(app) == []
        holder["session"].on_lines("worker.1", log_lines(["job 19 done"], start=T0 + 10))
        await flush(app, pilot)
        assert shown(app) == ["09:30:10 worker.1  | job 19 done"]  # new lines show
        await pilot.press("slash", *"job")  # the filter reads every kept line
        await pilot.pause()
        assert len(shown(app)) == 3
        await pilot.press("ctrl+l")  # and its clearing comes back to the cleared view
        await pilot.pause()
        assert shown(app) == ["09:30:10 worker.1  | job 19 done"]


@asynctest
async def test_enter_in_the_filter_gives_the_focus_back_and_arrows_do_their_job():
    app, _ = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        table = app.table
        assert app.focused is table
        row = table.cursor_row
        await pilot.press("slash", *"job", "enter")
        await pilot.pause()
        assert app.focused is table  # back where it was
        assert app.log_view.filter_text == "job"
        await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == row + 1  # arrows select rows again
        await pilot.press("slash")  # / edits the filter again, where it was left
        await pilot.pause()
        box = app.log_view.query_one("#log-filter")
        assert app.focused is box and box.value == "job" and box.cursor_position == 3
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is table
        # From the log, Enter goes back to the log, and arrows scroll it.
        log = app.log_view.output
        log.focus()
        await pilot.press("slash", "backspace", "backspace", "backspace", "enter")
        await pilot.pause()
        assert app.focused is log
        app._buffer.put("web.1", log_lines([f"more {i}" for i in range(60)]))
        await flush(app, pilot)
        end = log.scroll_y
        assert end > 0 and log.is_vertical_scroll_end
        await pilot.press("up", "up")
        await pilot.pause()
        assert log.scroll_y == end - 2


# Real lines of a devenv-started PostgreSQL's log (tests/test_logstamps.py has more).
PG_UTC = datetime.datetime.fromtimestamp(T0, datetime.UTC)


def pg_line(seconds: float, text: str) -> str:
    when = PG_UTC + datetime.timedelta(seconds=seconds)
    return f"{when:%Y-%m-%d %H:%M:%S}.{when.microsecond // 1000:03d} GMT [4242] {text}"


@asynctest
async def test_a_services_log_merges_its_file_and_devenvs_lines_by_time():
    app, holder = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        file = [
            pg_line(-5, "LOG:  starting PostgreSQL 15.4"),
            pg_line(0.5, "LOG:  database system is ready to accept connections"),
            "\tcontinued without a stamp",
            pg_line(3, "LOG:  checkpoint starting: time"),
        ]
        holder["session"].tail = lambda name, n=500: file
        await select(app, pilot, "postgres")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert shown(app) == [
            "09:29:55 [4242] LOG:  starting PostgreSQL 15.4",
            "09:30:00 » starting (PostgreSQL 15.4)",
            "09:30:00 » template copy (76 ms)",
            "09:30:00 » ready in 40 ms (pid 4242, port 5432)",
            "09:30:00 [4242] LOG:  database system is ready to accept connections",
            "09:30:00 \tcontinued without a stamp",
            "09:30:03 [4242] LOG:  checkpoint starting: time",
        ]
        # A line the file has no stamp for, first, is shown as it is.
        file.insert(0, "no stamp at all")
        await select(app, pilot, "redis")
        await select(app, pilot, "postgres")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert shown(app)[0] == "no stamp at all"


@asynctest
async def test_keys_typed_right_after_slash_go_to_the_filter_not_the_table():
    """A fast typist (or a terminal sending "/restart" at once): the keys after "/" are queued
    before "/" is acted on; they must reach the filter, where "r" is a letter, not a restart.
    A "/" typed in the filter is a letter too."""
    from textual import events
    from textual.widgets import Input

    app, holder = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        for name, character in [("slash", "/"), *((c, c) for c in "restart"), ("slash", "/")]:
            app.post_message(events.Key(name, character))
        await pilot.pause(0.2)
        box = app.query_one("#log-filter", Input)
        assert app.focused is box
        assert box.value == "restart/"
        assert not [call for call in holder["session"].calls if call[0] == "restart"]
