"""Resizing a DataTable's columns after they were added.

Textual (8.x) has no public call for it: ``Column.width`` is public, but the table
lays itself out again only when its private ``_require_update_dimensions`` flag is
set, and its row caches hold the old widths until ``_clear_caches()``. This module
is the one place devenv reaches into DataTable's private state;
tests/test_tui_column_widths.py fails when Textual renames either.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey


def set_column_widths(table: DataTable, widths: Mapping[str, int]) -> bool:
    """Give the columns keyed in ``widths`` those widths; return whether any changed.

    The table lays itself out again (and repaints) only when one did.
    """
    changed = False
    for key, width in widths.items():
        column = table.columns[ColumnKey(key)]
        if column.width != width:
            column.width = width
            changed = True
    if changed:
        table._require_update_dimensions = True
        table._clear_caches()
        table.refresh()
    return changed
