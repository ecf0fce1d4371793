"""The dashboard table's columns and how they give way to a narrow terminal: Textual-free, so
that the first paint (devenv.tui.first_paint) draws the same title row before Textual is loaded."""

from __future__ import annotations

# (key, label, width). Name, Health and Detail are sized to what they hold and the terminal
# by ``layout``; a terminal too narrow for every column drops the least useful ones whole
# (DROP_ORDER) rather than cut a value in the middle.
COLUMNS = (
    ("name", "Name", 9),
    ("state", "State", 9),
    ("health", "Health", 10),
    ("pid", "PID", 7),
    ("port", "Port", 5),
    ("cpu", "CPU", 5),
    ("rss", "RSS", 5),
    ("restarts", "Rst", 3),
    ("uptime", "Uptime", 6),
    ("detail", "Detail", 0),
)
HEALTH_WIDTH = (6, 32)  # narrowest (the label), widest
DETAIL_MIN = 12
DROP_ORDER = ("detail", "uptime", "restarts", "pid", "cpu")  # first dropped first
NUMERIC = frozenset({"pid", "port", "cpu", "rss", "restarts", "uptime"})


def layout(width: int, name_width: int, health_width: int, padding: int) -> dict[str, int]:
    """{key: width} of the columns to show in ``width`` cells, in COLUMNS order: Name as wide
    as ``name_width``, Health as ``health_width`` (what its longest text needs, within
    HEALTH_WIDTH), Detail the rest; when that is not enough, the columns of DROP_ORDER go
    whole, first Detail (below DETAIL_MIN), then Uptime, Rst, PID and CPU. ``padding``: the
    cells each shown column takes besides its width."""
    low, high = HEALTH_WIDTH
    widths = {key: w for key, _, w in COLUMNS}
    widths.update(name=name_width, health=max(low, min(health_width, high)), detail=DETAIL_MIN)
    shown = [key for key, _, _ in COLUMNS]

    def needed() -> int:
        return sum(widths[key] + padding for key in shown)

    for key in DROP_ORDER:
        if needed() <= width:
            break
        shown.remove(key)
    if needed() > width:  # still too narrow: Health gives way, down to its label
        widths["health"] = max(low, widths["health"] - (needed() - width))
    if "detail" in shown:
        widths["detail"] += width - needed()
    return {key: widths[key] for key in shown}


def title_row(width: int, padding: int = 1) -> str:
    """The table's title row as the table draws it in ``width`` cells (``padding``: the cells
    on each side of a column), cut or filled to ``width``."""
    widths = layout(width, COLUMNS[0][2], HEALTH_WIDTH[0], 2 * padding)
    pad = " " * padding
    cells = []
    for key, label, _ in COLUMNS:
        if key in widths:
            text = label.rjust(widths[key]) if key in NUMERIC else label.ljust(widths[key])
            cells.append(pad + text[: widths[key]] + pad)
    return "".join(cells)[:width].ljust(width)
