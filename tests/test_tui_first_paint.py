"""The frame devenv draws before Textual is loaded (devenv.tui.first_paint): the same cells as
Textual's own first frame, on a real pty that gets its settings back."""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import select
import struct
import termios
import threading

import pytest
from rich.color import Color, ColorSystem

from devenv.tui import first_paint
from devenv.tui.first_paint import EIGHT_BIT, frame, paint

SIZES = [(120, 36), (80, 24), (60, 20)]
# Each project at each size, and at the narrowest and lowest terminal drawn for it.
CASES = [
    (project, *size)
    for project in ("demo", "customer-portal")
    for size in (*SIZES, (first_paint.fits(project), first_paint.MIN_SIZE[1]))
]


def normal(spans):
    """A row as the eye sees it: (character, foreground, bold, background) per cell, a blank's
    foreground and boldness not showing."""
    return [
        (char, foreground, bold, background) if char != " " else (char, None, False, background)
        for text, foreground, background, bold in spans
        for char in text
    ]


def hexed(color) -> str | None:
    return color.get_truecolor().hex if color is not None else None


async def textuals_first_frame(project: str, width: int, height: int) -> list[list]:
    """The dashboard Textual draws for ``project`` before the session says anything: the
    session's making waits until the frame was read."""
    from devenv.tui.app import DevenvApp
    from tests.test_tui import FakeSession

    read = threading.Event()

    def make_session(**callbacks):
        read.wait(30)
        return FakeSession(**callbacks)

    app = DevenvApp(project, make_session)
    async with app.run_test(size=(width, height)) as pilot:
        await pilot.pause()
        strips = app.screen._compositor.render_strips()
        read.set()
        await pilot.pause()
    rows = []
    for strip in strips:
        spans = []
        for segment in strip:
            style = segment.style
            foreground = hexed(style.color) if style else None
            background = hexed(style.bgcolor) if style else None
            spans.append((segment.text, foreground, background, bool(style and style.bold)))
        rows.append(normal(spans))
    return rows


@pytest.mark.parametrize(("project", "width", "height"), CASES)
def test_the_first_paint_is_textuals_first_frame_cell_for_cell(project, width, height):
    textual = asyncio.run(textuals_first_frame(project, width, height))
    ours = [normal(row) for row in frame(project, width, height)]
    assert len(ours) == len(textual) == height
    for y, (mine, theirs) in enumerate(zip(ours[:-1], textual[:-1], strict=True)):
        assert mine == theirs, f"row {y}: {''.join(c[0] for c in theirs)!r}"
    # The footer: Textual draws its keys a moment later; the row's colour is the same.
    assert {cell[3] for cell in ours[-1]} == {cell[3] for cell in textual[-1]}
    assert "".join(cell[0] for cell in ours[-1]).strip() == ""


def test_the_256_colour_palette_is_riches_downgrade_of_each_colour():
    for colour, number in EIGHT_BIT.items():
        assert Color.parse(colour).downgrade(ColorSystem.EIGHT_BIT).number == number, colour


def drain(leader: int) -> str:
    """Everything written to the pty so far (it comes out in pieces)."""
    chunks = []
    while select.select([leader], [], [], 0.2)[0]:
        try:
            chunks.append(os.read(leader, 65536))
        except BlockingIOError:
            break
    return b"".join(chunks).decode()


def test_on_a_pty_it_draws_keeps_keys_quiet_then_gives_the_settings_back():
    leader, follower = os.openpty()
    try:
        os.set_blocking(leader, False)
        termios.tcsetattr(follower, termios.TCSANOW, termios.tcgetattr(follower))
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        before = termios.tcgetattr(follower)
        assert before[3] & termios.ECHO and before[3] & termios.ICANON

        painted = paint("shop", follower, {"TERM": "xterm-256color"})
        assert painted is not None
        drawn = drain(leader)
        assert drawn.startswith("\x1b[?1049h\x1b[?25l")  # the alternate screen, no cursor
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn)
        assert " shop  starting…" in text
        assert " Name       State      Health      PID   Port    CPU    RSS " in text
        assert "Logs: all" in text
        # 256 colours where the terminal says nothing of true colour
        assert "\x1b[0;38;5;222;48;5;17mstarting…" in drawn

        during = termios.tcgetattr(follower)
        assert not during[3] & (termios.ECHO | termios.ICANON)
        os.write(leader, b"q")  # a key typed before Textual reads: kept, not echoed
        assert os.read(follower, 10) == b"q"
        assert drain(leader) == ""

        painted.close(screen_left=False)  # Textual never ran: devenv leaves the screen
        assert drain(leader).endswith("\x1b[?25h\x1b[?1049l")
        assert termios.tcgetattr(follower) == before
    finally:
        os.close(leader)
        os.close(follower)


def test_true_colour_where_the_terminal_says_so_and_nothing_where_textual_draws_otherwise():
    leader, follower = os.openpty()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.set_blocking(leader, False)
        before = termios.tcgetattr(follower)
        painted = paint("shop", follower, {"TERM": "xterm", "COLORTERM": "truecolor"})
        assert painted is not None
        assert "\x1b[0;38;2;255;196;115;48;2;36;47;56mstarting…" in drain(leader)
        painted.close(screen_left=True)  # Textual left the screen: nothing more is written
        assert drain(leader) == ""
        assert termios.tcgetattr(follower) == before

        for environ in (
            {"TERM": "xterm-256color", "NO_COLOR": "1"},  # Textual draws without colour
            {"TERM": "xterm"},  # 16 colours
            {"TERM": "dumb"},
        ):
            assert paint("shop", follower, environ) is None, environ
        long_name = "a-project-whose-name-is-longer-than-the-terminal-is-wide-" * 2
        assert paint(long_name, follower, {"TERM": "xterm-256color"}) is None
        assert drain(leader) == ""  # none of them drew anything
        assert termios.tcgetattr(follower) == before
    finally:
        os.close(leader)
        os.close(follower)


def test_not_a_terminal_draws_nothing(tmp_path):
    with (tmp_path / "out").open("w") as out:
        assert paint("shop", out.fileno(), {"TERM": "xterm-256color"}) is None
    assert (tmp_path / "out").read_text() == ""
