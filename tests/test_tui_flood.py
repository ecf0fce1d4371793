"""The log pane under a flood (issue 12: a key shows in < 50 ms while a process writes 100k
lines a second): what it draws at once, what it only counts, and that nothing is lost.

The timing itself is benchmarks/tui.py's; these pin down what the pane does.
"""

from __future__ import annotations

import time

from devenv.supervisor.proclog import LogLine, OwnLine
from devenv.tui.log_view import DRAWN_AT_ONCE, MAX_LINES, REFILL_AT_ONCE
from tests.test_tui import SETTLE_DEADLINE, T0, asynctest, log_lines, make_app, settle, shown


def numbered(count: int, start: int = 0) -> list[LogLine]:
    return log_lines([f"line {i}" for i in range(start, start + count)])


async def until(pilot, check, what: str) -> None:
    deadline = time.monotonic() + SETTLE_DEADLINE
    while not check():
        assert time.monotonic() < deadline, what
        await pilot.pause(0.01)


@asynctest
async def test_a_batch_past_the_cap_draws_its_last_lines_and_counts_the_rest():
    app, _ = make_app(lines={})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        before = len(shown(app))
        extra = 2_500
        lines = numbered(DRAWN_AT_ONCE + extra)
        lines.insert(10, OwnLine(T0, "web.1 exited with code 1"))  # devenv's: always drawn
        app.log_view.add_lines([("web.1", line) for line in lines])
        drawn = shown(app)[before:]
        assert len(drawn) == DRAWN_AT_ONCE + 2
        assert "web.1 exited with code 1" in drawn[0]
        assert f"… {extra:,} lines not drawn, too many at once" in drawn[1]
        assert drawn[2].endswith(f"line {extra}") and drawn[-1].endswith(f"line {extra + 999}")
        # Kept all the same: the view shown again has every line.
        assert len(app.log_view.texts("web.1")) == DRAWN_AT_ONCE + extra + 1
        app.log_view.source = "web.1"
        await until(
            pilot,
            lambda: sum("line " in line for line in shown(app)) == DRAWN_AT_ONCE + extra,
            "the view shown again lacks lines",
        )
        assert not any("not drawn" in line for line in shown(app))


@asynctest
async def test_lines_not_drawn_count_as_new_while_scrolled_up():
    app, _ = make_app(lines={})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        view = app.log_view
        view.add_lines([("web.1", line) for line in numbered(200)])
        await pilot.pause()
        view.output.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        view.add_lines([("web.1", line) for line in numbered(DRAWN_AT_ONCE + 500, 200)])
        await pilot.pause()
        more = app.query_one("#log-more")
        assert f"{DRAWN_AT_ONCE + 500} new lines" in str(more.render())


@asynctest
async def test_a_filter_draws_only_matches_and_counts_the_matches_it_skips():
    app, _ = make_app(lines={})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        view = app.log_view
        view.filter_text = "odd"
        texts = [f"{'odd' if i % 2 else 'even'} {i}" for i in range(3 * DRAWN_AT_ONCE)]
        before = len(shown(app))
        view.add_lines([("web.1", line) for line in log_lines(texts)])
        drawn = shown(app)[before:]
        assert f"… {DRAWN_AT_ONCE // 2:,} lines not drawn" in drawn[0]
        assert all("odd" in line for line in drawn[1:]) and len(drawn) == DRAWN_AT_ONCE + 1


@asynctest
async def test_a_view_shown_again_draws_its_end_first_then_every_line():
    app, _ = make_app(lines={})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        view = app.log_view
        for start in range(0, 5 * DRAWN_AT_ONCE, DRAWN_AT_ONCE):
            view.add_lines([("web.1", line) for line in numbered(DRAWN_AT_ONCE, start)])
        view.source = "web.1"
        first = shown(app)
        assert len(first) == REFILL_AT_ONCE  # at once: the end of the view
        assert first[-1].endswith(f"line {5 * DRAWN_AT_ONCE - 1}")
        await until(
            pilot, lambda: len(shown(app)) == 5 * DRAWN_AT_ONCE, "the view never got every line"
        )
        assert shown(app)[0].endswith("line 0")
        await until(pilot, lambda: view.output.is_vertical_scroll_end, "not at the end")
        # A refill that comes before the rest is written replaces it: the latest view wins.
        view.source = None
        view.source = "web.1"
        await until(pilot, lambda: len(shown(app)) == 5 * DRAWN_AT_ONCE, "the last view")
        assert len(view.output.lines) <= MAX_LINES


@asynctest
async def test_the_log_measures_its_widest_line_at_once():
    app, _ = make_app(lines={})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        log = app.log_view.output
        log.clear()
        log.write_lines(["short", "x" * 300, "tab\there"])
        assert log.virtual_size.width == 300
        log.write_lines(["界" * 200])  # two cells a character
        assert log.virtual_size.width == 400
