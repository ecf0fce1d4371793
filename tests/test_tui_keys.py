"""Keys are discoverable (issue 12, item 1): the help screen (? and F1) lists every binding,
Esc closes whatever is open, the footer shows the keys that apply to the selected row, most
useful first, as many as fit, and the command palette lists devenv's actions only.

Pilot on tests.test_tui's fake session; the help screen's snapshots at 120x36 and 80x24.
"""

from __future__ import annotations

import re
import threading

import pytest
from textual.app import App
from textual.binding import Binding
from textual.widgets import DataTable, Log

from devenv.errors import DevenvError
from devenv.events import ServiceFailed, ServiceStarting
from devenv.tui.app import DevenvApp
from devenv.tui.help_screen import HelpScreen
from devenv.tui.key_footer import KeyFooter
from devenv.tui.keys import SECTIONS, WIDGET_KEYS, Key, help_sections
from devenv.tui.quit_screen import QuitScreen
from tests.test_tui import asynctest, dashboard_row, drawn, make_app, select, settle

DISPLAY = App().get_key_display


def declared_bindings() -> list[Binding]:
    """Every key the dashboard's app binds: its BINDINGS and those it inherits (Textual's
    ctrl+q), one Binding per key, as Textual expands them."""
    found = []
    for cls in DevenvApp.__mro__:
        for binding in Binding.make_bindings(vars(cls).get("BINDINGS", [])):
            if not binding.system:
                found.append(binding)
    return found


def help_keys() -> dict[str, str]:
    """Each key shown on the help screen -> what the help says it does."""
    shown = {}
    for _, entries in help_sections(DevenvApp.BINDINGS, DISPLAY):
        for entry in entries:
            for one in entry.keys.split(", "):
                shown[one] = entry.does
    return shown


# -- the help's table is the app's bindings --------------------------------------------


def test_every_binding_of_the_app_is_on_the_help_screen():
    shown = help_keys()
    missing = [b.key for b in declared_bindings() if DISPLAY(b) not in shown]
    assert missing == []


def test_every_binding_is_a_key_with_a_section_and_what_it_does():
    for binding in DevenvApp.BINDINGS:
        assert isinstance(binding, Key), f"{binding} is a plain Binding: make it a keys.key(...)"
        assert binding.section in SECTIONS, binding
        assert binding.tooltip or not binding.show, f"{binding.key}: say what it does"


def test_a_plain_binding_is_still_listed_under_other():
    sections = dict(help_sections([Binding("x", "explode", "Explode")], DISPLAY))
    assert [(e.keys, e.does) for e in sections["Other"]] == [("x", "Explode")]


def test_the_widget_keys_the_help_names_are_bound_by_those_widgets():
    for widget_key in WIDGET_KEYS:
        for binding in Binding.make_bindings([(widget_key.key, "-")]):
            if widget_key.widget == "App":
                assert binding.key == App.COMMAND_PALETTE_BINDING
                continue
            widget = {"DataTable": DataTable, "Log": Log}[widget_key.widget]
            bound = {  # its own and those it inherits (Log's End is ScrollableContainer's)
                b.key
                for cls in widget.__mro__
                for b in Binding.make_bindings(vars(cls).get("BINDINGS", []))
            }
            assert binding.key in bound, (widget_key, sorted(bound))


def test_the_help_groups_keys_of_one_action_and_keeps_the_sections_order():
    sections = help_sections(DevenvApp.BINDINGS, DISPLAY)
    titles = [title for title, _ in sections]
    assert titles == ["Processes and services", "Services", "Logs", "Data", "devenv"]
    shown = help_keys()
    assert shown["?"] == shown["f1"] == "this help"
    assert shown["q"] == shown["^c"] == shown["^q"] == "stop all and quit"
    assert shown["r"] == "restart it" and shown["⏎"] == "the row's log"


# -- ?, F1 and Esc ------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["question_mark", "f1"])
@asynctest
async def test_help_opens_with_every_key_and_closes(key):
    app, holder = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        assert await settle(app, pilot)
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        words = " ".join(str(label.render()) for label in app.screen.query(".help-does"))
        assert "restart it" in words and "psql on PostgreSQL" in words
        # The dashboard's keys do not act on the rows the help hides; q still quits.
        await pilot.press("r")
        await pilot.pause()
        assert not [call for call in holder["session"].calls if call[0] == "restart"]
        await pilot.press(key)  # the key that opened it closes it
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.focused is app.table


@asynctest
async def test_the_help_at_60_columns_is_one_column_that_scrolls_with_its_hint_in_sight():
    app, _ = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        await pilot.pause()  # laid out again in one column
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        assert screen.query_one("#help-columns").has_class("-narrow")
        body, hint = screen.query_one("#help-body"), screen.query_one("#help-hint")
        assert body.max_scroll_y > 0  # the rest is a scroll away, by the keys too
        assert body.region.bottom <= hint.region.y < 19  # above the dialog's border
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 0
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert not screen.query_one("#help-columns").has_class("-narrow")


@asynctest
async def test_esc_closes_the_quit_dialog_and_the_stop_goes_on():
    gate = threading.Event()
    app, holder = make_app(stop_gate=gate)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, QuitScreen)
        assert app.header.state == "stopping" and app.is_running
        gate.set()
        for _ in range(500):
            if not app.is_running:
                break
            await pilot.pause(0.01)
    assert ("stop",) in holder["session"].calls
    assert ("force_stop",) not in holder["session"].calls
    assert app.return_code == 0


@asynctest
async def test_esc_closes_the_error_panel():
    app, _ = make_app(start_error=DevenvError("postgres: port 5432 is taken"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.error_panel.has_class("-shown")
        await pilot.press("escape")
        await pilot.pause()
        assert not app.error_panel.has_class("-shown")
        assert app.header.state == "failed"  # the header still says so


@asynctest
async def test_esc_leaves_the_filter_then_closes_the_error_panel():
    app, _ = make_app(start_error=DevenvError("postgres: port 5432 is taken"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        await pilot.pause()
        assert app.focused is not app.table
        await pilot.press("escape")  # the innermost first: the filter
        await pilot.pause()
        assert app.focused is app.table and app.error_panel.has_class("-shown")
        await pilot.press("escape")
        await pilot.pause()
        assert not app.error_panel.has_class("-shown")


# -- the footer -------------------------------------------------------------------------


def footer_keys(app) -> list[str]:
    """The footer's keys as shown, left to right ("r Restart"), the palette's last."""
    footer = app.query_one(KeyFooter)
    return [f"{key.key_display} {key.description}" for key in footer.children]


async def footer_after(app, pilot, row: str) -> list[str]:
    await select(app, pilot, row)
    # The footer is rebuilt after the bindings refresh: wait for it to hold still.
    await drawn(pilot, app.log_view.output, also=lambda: tuple(footer_keys(app)))
    return footer_keys(app)


FOOTERS = {
    # (width, row): the footer, most useful first, as much as fits.
    (120, "web.1"): "q ? r s / a d p c R y",
    (80, "web.1"): "q ? r s / a d p",
    (60, "web.1"): "q ? r s /",
    (120, "mailer.1"): "q ? r t / a d p c R y",  # crashed: t starts it, nothing to stop
    (80, "mailer.1"): "q ? r t / a d p",
    (60, "mailer.1"): "q ? r t /",
    (120, "postgres"): "q ? r s / a d p c R y",  # a service: r, s and t work on it too
    (80, "postgres"): "q ? r s / a d p",
    (60, "postgres"): "q ? r s /",
}


@pytest.mark.parametrize("width", [120, 80, 60])
@asynctest
async def test_the_footer_shows_what_applies_to_the_row_most_useful_first(width):
    app, _ = make_app()
    async with app.run_test(size=(width, 30)) as pilot:
        assert await settle(app, pilot)
        for row in ("web.1", "mailer.1", "postgres"):
            keys = await footer_after(app, pilot, row)
            assert keys[-1] == "^p palette"
            shown = " ".join(key.split()[0] for key in keys[:-1])
            assert shown == FOOTERS[width, row], (width, row, keys)
        # What is shown fits: no key cut at the edge or under the palette's key.
        footer = app.query_one(KeyFooter)
        *shown_keys, palette = footer.children
        assert palette.region.right <= width
        assert all(key.region.right <= palette.region.x for key in shown_keys)


@pytest.mark.parametrize("width", [120, 80, 60])
@asynctest
async def test_after_a_failed_start_the_footer_offers_no_action_on_rows(width):
    rows = [
        dashboard_row("postgres", "service", "failed", None, 5432, None, None, None, None, "15"),
        dashboard_row("web.1", "process", "stopped", None, None, None, None, 0, None, "python"),
    ]
    app, _ = make_app(
        rows=rows,
        start_events=[ServiceStarting("postgres"), ServiceFailed("postgres", "port taken")],
        start_error=DevenvError("postgres: port 5432 is taken"),
    )
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(app, pilot)
        for row in ("postgres", "web.1"):
            keys = [key.split()[0] for key in await footer_after(app, pilot, row)]
            assert not {"r", "s", "t", "R", "p", "c"} & set(keys), (row, keys)
            assert keys[:2] == ["q", "?"]


@asynctest
async def test_the_footer_changes_with_the_rows_state_and_a_resize():
    from dataclasses import replace

    from devenv.state import State

    app, holder = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        assert await settle(app, pilot)
        assert "s Stop" in await footer_after(app, pilot, "web.1")
        session = holder["session"]
        session.current_rows = [  # web.1 stopped, as the next sample says
            replace(row, state=State.STOPPED, pid=None) if row.name == "web.1" else row
            for row in session.current_rows
        ]

        def stopped_shown() -> bool:
            return str(app.table.get_cell("web.1", "state")) == "stopped"

        assert await drawn(pilot, app.log_view.output, stopped_shown, lambda: footer_keys(app))
        assert "t Start" in footer_keys(app) and "s Stop" not in footer_keys(app)
        await pilot.resize_terminal(60, 30)
        await drawn(pilot, app.log_view.output, also=lambda: tuple(footer_keys(app)))
        assert [key.split()[0] for key in footer_keys(app)] == ["q", "?", "r", "t", "/", "^p"]


@asynctest
async def test_a_project_without_postgres_or_redis_has_no_p_or_c_in_the_footer():
    from tests.test_tui import ROWS

    rows = [row for row in ROWS if row.kind == "process"]
    app, _ = make_app(rows=rows)
    async with app.run_test(size=(160, 30)) as pilot:
        assert await settle(app, pilot)
        keys = [key.split()[0] for key in await footer_after(app, pilot, "web.1")]
        assert "p" not in keys and "c" not in keys and "y" in keys


# -- the command palette --------------------------------------------------------------


async def palette_titles(app, pilot) -> list[str]:
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    await pilot.press("ctrl+p")
    titles: list[str] = []
    for _ in range(200):
        await pilot.pause(0.01)
        if isinstance(app.screen, CommandPalette):
            options = app.screen.query_one(OptionList)
            titles = [
                str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
            ]
            if titles:
                break
    await pilot.press("escape")  # Esc closes the palette too
    await pilot.pause()
    assert not isinstance(app.screen, CommandPalette)
    return titles


@asynctest
async def test_the_palette_lists_devenvs_actions_that_apply_and_nothing_of_textuals():
    app, _ = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        assert await settle(app, pilot)
        await select(app, pilot, "web.1")
        titles = await palette_titles(app, pilot)
        firsts = {title.splitlines()[0] for title in titles}
        assert firsts == {
            "Quit",
            "Help: every key",
            "Restart process",
            "Stop process",
            "Filter logs",
            "Toggle all logs",
            "Show details",
            "Open psql",
            "Open redis-cli",
            "Restart all processes",
            "Copy URLs",
            "Show log file",
            "Clear logs",
            "Sync deps",  # it says so when nothing differs
            "Copy DATABASE_URL",
            "Copy REDIS_URL",
        }, sorted(firsts)
        text = "\n".join(titles)
        for textual_own in ("Theme", "Keys", "Screenshot", "Page Left", "super+c", "Maximize"):
            assert textual_own not in text
        assert not isinstance(app.screen, HelpScreen)


@asynctest
async def test_the_palettes_help_entry_opens_the_help():
    from devenv.tui.commands import DevenvCommands

    app, _ = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        assert await settle(app, pilot)
        hits = [hit async for hit in DevenvCommands(app.screen).search("help")]
        assert str(hits[0].text) == "Help: every key"
        assert hits[0].help == "?, f1 · this help"
        hits[0].command()
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


# -- how the help looks ---------------------------------------------------------------


@pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=["120x36", "80x24"])
def test_snapshot_the_help(snap_compare, size):
    app, _ = make_app()

    async def run_before(pilot):
        await settle(app, pilot)
        # The log behind the help at its end, as it is meant to be: whether it got there by
        # itself is the log pane's business (it sometimes does not, before its first layout).
        app.log_view.output.scroll_end(animate=False, immediate=True)
        await pilot.press("question_mark")
        await drawn(pilot, app.log_view.output, lambda: isinstance(app.screen, HelpScreen))

    assert snap_compare(app, terminal_size=size, run_before=run_before)


README_NAMES = {"⏎": "Enter", "esc": "Esc", "f1": "F1", "end": "End"}


def test_the_readme_key_table_names_every_key_of_the_help():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The terminal UI") :]
    start = section.index("| key | action |")
    rows = section[start : section.index("\n\n", start)].splitlines()
    named = {name for row in rows for name in re.findall(r"`([^`]+)`", row.split(" | ")[0])}

    def readme_name(shown: str) -> str:
        if shown.startswith("^"):
            return f"Ctrl+{shown[1:].upper()}"
        return README_NAMES.get(shown, shown)

    assert sorted(readme_name(k) for k in help_keys() if readme_name(k) not in named) == []
