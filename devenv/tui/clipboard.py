"""Copying for the dashboard, saying truly whether it was copied.

A terminal program has two ways to the clipboard: the system's own tool
(pbcopy on macOS, wl-copy under Wayland, xclip or xsel under X11), which says
whether it worked, and the terminal's OSC 52 sequence (what Textual's
``copy_to_clipboard`` sends), which many terminals take but none confirm, and
tmux drops unless ``set-clipboard`` is on. The tool is used when there is one;
otherwise the sequence is sent and the person is told that it was only sent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable

TOOL_SECONDS = 2.0  # a clipboard tool answers at once; one that hangs is not waited for


def system_tool() -> list[str] | None:
    """The argv of this desktop's clipboard tool (text on its stdin), or None."""
    if sys.platform == "darwin":
        candidates = [["pbcopy"]]
    else:
        candidates = []
        if os.environ.get("WAYLAND_DISPLAY"):
            candidates.append(["wl-copy"])
        if os.environ.get("DISPLAY"):
            candidates += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    for argv in candidates:
        found = shutil.which(argv[0])
        if found:
            return [found, *argv[1:]]
    return None


def copy(text: str, osc52: Callable[[str], object]) -> bool:
    """Copy ``text``: True when the system's tool took it; else send it with ``osc52`` (the
    terminal may or may not take it) and False."""
    tool = system_tool()
    if tool is not None:
        try:
            done = subprocess.run(
                tool,
                input=text.encode(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=TOOL_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            done = None
        if done is not None and done.returncode == 0:
            return True
    osc52(text)
    return False


SENT = "sent to the terminal's clipboard (OSC 52), which not every terminal takes"
