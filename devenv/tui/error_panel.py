"""Where a problem that stops devenv (missing binary, taken port, bad config) is shown."""

from __future__ import annotations

from rich.cells import cell_len
from textual.content import Content
from textual.geometry import Size
from textual.widgets import Static

FRAME = (4, 2)  # the columns and rows the border and padding take (app.tcss, #error)


class ErrorPanel(Static):
    """Hidden until ``show``; the message is the core's own, which says what to do.

    The panel takes at most half the screen (app.tcss). A message taller than that keeps its
    first line (what failed, and why: devenv's errors say it there) and as many of its last
    lines as fit (a log's tail ends with the cause), with a line saying how many were left out;
    the title and the hint (what to do, q quits) always show. The whole message is printed
    when devenv exits.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[str, str, str] | None = None

    def show(self, title: str, message: str, hint: str = "") -> None:
        self._shown = (title, message, hint)
        self._draw(self.app.size)
        self.add_class("-shown")

    def refit(self, screen: Size) -> None:
        """Fit what is shown to a screen of this size (the app calls it on a resize: the
        panel's own size may not change, its room does)."""
        if self._shown is not None:
            self._draw(screen)

    def _draw(self, screen: Size) -> None:
        assert self._shown is not None
        title, message, hint = self._shown
        width = max(screen.width - FRAME[0], 1)
        # max-height: 50% of the screen less the footer's docked row; less the title's row.
        room = (screen.height - 1) // 2 - FRAME[1] - 1
        if hint:
            room -= 1 + rows(hint, width)
        parts = [Content.styled(title, "bold"), Content("\n")]
        parts.append(Content("\n".join(fit(message.splitlines(), room, width))))
        if hint:
            parts += [Content("\n\n"), Content.styled(hint, "italic")]
        self.update(Content.assemble(*parts))


def rows(text: str, width: int) -> int:
    """The rows ``text`` takes wrapped at ``width`` columns."""
    return sum(max(1, -(-cell_len(line) // width)) for line in text.splitlines() or [""])


def fit(lines: list[str], room: int, width: int) -> list[str]:
    """``lines`` as they fit in ``room`` rows of ``width`` columns: all of them, or the first,
    a line saying how many were left out, and as many of the last as fit."""
    if sum(rows(line, width) for line in lines) <= room or len(lines) < 3:
        return lines
    budget = room - rows(lines[0], width) - 1
    tail: list[str] = []
    for line in reversed(lines[1:]):
        if rows(line, width) > budget:
            break
        tail.insert(0, line)
        budget -= rows(line, width)
    left_out = len(lines) - 1 - len(tail)
    return [lines[0], f"  … {left_out} more lines (all of them are printed when you quit)", *tail]
