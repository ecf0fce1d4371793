"""devenv.tui.column_widths reaches into DataTable's private state (Textual has no public
call to resize a column): these tests fail when a Textual upgrade changes it."""

from __future__ import annotations

import asyncio

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from devenv.tui.column_widths import set_column_widths


def test_datatable_still_has_the_private_state_the_adapter_sets():
    table = DataTable()
    assert isinstance(getattr(table, "_require_update_dimensions", None), bool), (
        "Textual's DataTable no longer has _require_update_dimensions: "
        "update devenv/tui/column_widths.py"
    )
    assert callable(getattr(table, "_clear_caches", None)), (
        "Textual's DataTable no longer has _clear_caches(): update devenv/tui/column_widths.py"
    )


class _Table(App):
    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("a", key="a", width=4)
        table.add_column("b", key="b", width=4)
        table.add_row("x" * 30, "y", key="row")


def test_a_new_width_lays_the_table_out_again_and_repaints_it():
    async def run() -> None:
        app = _Table()
        async with app.run_test(size=(80, 10)) as pilot:
            table = app.query_one(DataTable)
            await pilot.pause()
            before = table.virtual_size.width
            shown = table.render_line(1).text  # the row, under the header

            assert set_column_widths(table, {"a": 20})
            await pilot.pause()

            assert table.virtual_size.width == before + 16
            assert table.render_line(1).text.count("x") == 20 > shown.count("x")
            assert not set_column_widths(table, {"a": 20})  # unchanged: nothing to do

    asyncio.run(run())
