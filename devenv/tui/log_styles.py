"""How the log pane's lines look: each source in its own colour, devenv's own lines set apart,
the filter's matches marked.

The pane keeps plain strings (Textual's ``Log``), and ``LineStyles`` styles only the
lines on screen, when they are drawn: a flood costs nothing here. It reads the line's
layout, which ``LogView`` writes and tells it about (``combined``, ``width``):

    combined:  "09:30:01 web.1    | GET / 200"      an app's line
               "09:30:01 postgres » ready in 40 ms" devenv's own line about postgres
    one source: "09:30:01 GET / 200" and "09:30:01 » started (pid 12)"

The ``»`` marker and a dim style tell devenv's lines from the app's (not colour alone);
the filter's matches are shown reversed, which needs no colour either (NO_COLOR).
"""

from __future__ import annotations

import zlib

from rich.highlighter import Highlighter
from rich.style import Style
from rich.text import Text

OWN = "»"
"""The marker of devenv's own lines, where an app's line has ``|`` (or nothing)."""

# Terminal colours, not theme colours: they follow the terminal's palette. No red: it
# would read as an error.
PALETTE = (
    "cyan",
    "magenta",
    "green",
    "yellow",
    "blue",
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "bright_yellow",
    "bright_blue",
)
OWN_STYLE = Style(dim=True, italic=True)
MARKER_STYLE = Style(bold=True)
MATCH_STYLE = Style(reverse=True, bold=True)
STAMP = 9  # "09:30:01 "


def colour_of(name: str) -> str:
    """The colour of a source: the same for a name in every run, whatever else runs."""
    return PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


def stamped(line: str) -> bool:
    return len(line) > STAMP and line[2] == ":" and line[5] == ":" and line[8] == " "


class LineStyles(Highlighter):
    """Styles one line of the log pane as it is drawn (Textual's ``Log.highlighter``)."""

    def __init__(self) -> None:
        self.combined = True
        """The lines carry a name column (the "all" view)."""
        self.width = 6
        """The name column's width in the combined view."""
        self.needle = ""
        """The filter's text, lower case: its matches are marked."""
        self._styles: dict[str, Style] = {}

    def highlight(self, text: Text) -> None:
        line = text.plain
        start = STAMP if stamped(line) else 0
        if self.combined:
            marker = start + self.width + 1
            name = line[start:marker].rstrip()
            if name:
                text.stylize(self._style_of(name), start, start + len(name))
        else:
            marker = start
        if line[marker : marker + 2] == f"{OWN} ":
            text.stylize(MARKER_STYLE, marker, marker + 1)
            text.stylize(OWN_STYLE, marker + 2, len(line))
        if self.needle:
            lowered, size = line.lower(), len(self.needle)
            at = lowered.find(self.needle)
            while at >= 0:
                text.stylize(MATCH_STYLE, at, at + size)
                at = lowered.find(self.needle, at + size)

    def _style_of(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = Style(color=colour_of(name))
        return style
