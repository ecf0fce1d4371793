"""The dashboard's first frame, drawn by devenv itself before Textual is imported.

Importing Textual takes ~180 ms of the ~330 ms until its first frame (README, Performance):
a screen that stays as it was that long looks like a hang. So ``paint`` draws, on the
terminal's alternate screen, what Textual's first frame shows: the header with the project
and "starting…", the table's column titles, the log pane's bar, blank log and footer rows,
in the colours of Textual's default theme as Textual draws them. Textual then draws the same
cells over it, and the footer's keys. tests/test_tui_first_paint.py holds ``frame`` to
Textual's first frame, cell by cell, at several sizes.

Keys typed meanwhile are neither echoed nor lost: echo and line editing are off until Textual
takes the terminal (it reads what was typed then). ``Painted.close`` puts the terminal's own
settings back once the app has run.

Nothing is drawn where Textual would draw something else: without 256 colours or true colour,
under NO_COLOR, or in a terminal too small to matter.
"""

from __future__ import annotations

import contextlib
import os
import termios

from devenv.tui.columns import title_row

# A span: (text, foreground, background, bold); a colour is "#rrggbb" or None (the
# terminal's own). The theme's colours, as Textual 8 draws them ("textual-dark").
Span = tuple[str, str | None, str, bool]
PANEL = "#242f38"  # header and footer
PROJECT = ("#ddedf9", "#0178d4")
STARTING = "#ffc473"  # the status while starting ($text-warning)
TEXT = "#e0e0e0"
TITLES = "#2d3740"  # the table's title row
RULE = "#0c304c"  # the log pane's top border
BACKGROUND = "#121212"
LOG_BAR = "#1b1b1b"
FILTER = ("#767676", "#232323")  # the filter box's placeholder

STATUS = "starting…"  # what the app's header says until the session reports
LOG_TITLE = " Logs: all "  # the log pane's title, padded
PLACEHOLDER = "/ filter"  # the filter box's
MIN_SIZE = (20, 6)  # columns, rows: below it, nothing is drawn

# These colours in the 256-colour palette, as Rich (Textual's renderer) downgrades them.
EIGHT_BIT = {
    PANEL: 17,
    PROJECT[0]: 195,
    PROJECT[1]: 32,
    STARTING: 222,
    TEXT: 253,
    TITLES: 23,
    RULE: 23,
    BACKGROUND: 233,
    LOG_BAR: 234,
    FILTER[0]: 243,
    FILTER[1]: 234,
}


def fits(project: str) -> int:
    """The narrowest terminal drawn for ``project``: its header holds the name and the status
    whole, the log bar its title and the filter box's placeholder (narrower, Textual's cuts
    are its own)."""
    return max(1 + len(project) + 2 + 1 + len(STATUS) + 1, len(LOG_TITLE) + len(PLACEHOLDER) + 2)


def frame(project: str, width: int, height: int) -> list[list[Span]]:
    """The rows of Textual's first frame of the dashboard for ``project`` in ``width`` x
    ``height`` cells (at least ``fits(project)`` x MIN_SIZE), before the session's first
    rows: spans whose texts fill each row."""
    name = f" {project} "
    rest = width - 1 - len(name) - 1 - len(STATUS)
    header: list[Span] = [(" ", None, PANEL, False), (name, *PROJECT, True)]
    header.append((" ", None, PANEL, False))
    header += [(STATUS, STARTING, PANEL, False), (" " * rest, None, PANEL, False)]
    box = width - len(LOG_TITLE) - len(PLACEHOLDER) - 2  # the filter box's blank
    log_bar: list[Span] = [(" ", None, LOG_BAR, False), (LOG_TITLE[1:-1], TEXT, LOG_BAR, True)]
    log_bar += [(" ", None, LOG_BAR, False), (" ", None, FILTER[1], False)]
    log_bar += [(PLACEHOLDER, *FILTER, False), (" " * box, TEXT, FILTER[1], False)]
    log_bar.append((" ", None, FILTER[1], False))
    rows: list[list[Span]] = [
        header,
        [(title_row(width), TEXT, TITLES, True)],
        [("─" * width, RULE, BACKGROUND, False)],
        log_bar,
    ]
    rows += [[(" " * width, TEXT, BACKGROUND, False)] for _ in range(height - 5)]
    rows.append([(" " * width, None, PANEL, False)])
    return [[span for span in row if span[0]] for row in rows[:height]]


def encode(rows: list[list[Span]], *, truecolor: bool) -> bytes:
    """Escape codes that draw ``rows`` from the top left corner, each span in its colours."""

    def colour(ground: int, value: str) -> str:
        if truecolor:
            red, green, blue = (int(value[i : i + 2], 16) for i in (1, 3, 5))
            return f"{ground};2;{red};{green};{blue}"
        return f"{ground};5;{EIGHT_BIT[value]}"

    out = ["\x1b[H"]
    for y, row in enumerate(rows):
        out.append(f"\x1b[{y + 1};1H")
        for text, foreground, background, bold in row:
            codes = ["0", "1"] if bold else ["0"]
            codes.append(colour(38, foreground) if foreground else "39")
            codes.append(colour(48, background))
            out.append(f"\x1b[{';'.join(codes)}m{text}")
    out.append("\x1b[0m")
    return "".join(out).encode()


class Painted:
    """A first frame on screen; ``close`` once the app has run (or failed to)."""

    def __init__(self, fd: int, attributes: list) -> None:
        self._fd = fd
        self._attributes = attributes

    def close(self, *, screen_left: bool) -> None:
        """Put back the terminal's settings as they were before ``paint``; also leave the
        alternate screen (and show the cursor) unless Textual did (``screen_left``)."""
        if not screen_left:
            _write_all(self._fd, b"\x1b[0m\x1b[?25h\x1b[?1049l")
        termios.tcsetattr(self._fd, termios.TCSADRAIN, self._attributes)


def paint(
    project: str, fd: int = 1, environ: os._Environ[str] | dict[str, str] = os.environ
) -> Painted | None:
    """Draw the first frame on terminal ``fd`` (a tty), keys neither echoed nor line-edited
    from then on; None, drawing nothing, where Textual would draw something else (see the
    module's docstring) or the terminal cannot be set."""
    term = environ.get("TERM", "")
    truecolor = environ.get("COLORTERM", "") in ("truecolor", "24bit")
    if environ.get("NO_COLOR") or not (truecolor or "256color" in term):
        return None
    try:
        width, height = os.get_terminal_size(fd)
        attributes = termios.tcgetattr(fd)
    except OSError:
        return None
    if width < max(MIN_SIZE[0], fits(project)) or height < MIN_SIZE[1]:
        return None
    quiet = list(attributes)
    quiet[3] &= ~(termios.ECHO | termios.ICANON)  # lflag
    quiet[6] = list(quiet[6])
    quiet[6][termios.VMIN], quiet[6][termios.VTIME] = 1, 0
    drawing = b"\x1b[?1049h\x1b[?25l" + encode(frame(project, width, height), truecolor=truecolor)
    painted = Painted(fd, attributes)
    try:
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
        _write_all(fd, drawing)
    except OSError:
        with contextlib.suppress(OSError):  # a terminal gone meanwhile: nothing to put back
            painted.close(screen_left=False)
        return None
    return painted


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
